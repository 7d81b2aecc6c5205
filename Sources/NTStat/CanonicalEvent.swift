import NtstatWire

/// The canonical, documented form of a client event (`docs/events.md`): stable field names
/// in a fixed order, integers only, so the same events always print as the same JSON Lines
/// bytes, whatever the speed of the run that produced them.
public enum CanonicalEvent {
  /// The schema version written by ``header(family:source:)``.
  public static let schemaVersion: UInt64 = 1

  /// The first line of a canonical event file: what produced it.
  public static func header(family: LayoutFamily, source: String) -> FieldValue {
    var b = FieldBuilder()
    b.add("event", "header")
    b.add("schema", schemaVersion)
    b.add("family", family.name)
    b.add("source", source)
    return b.object
  }

  /// One event; times are nanoseconds since `origin` (the start of the run).
  public static func fields(_ event: ClientEvent, origin: MonotonicTime) -> FieldValue {
    var b = FieldBuilder()
    func stream(_ name: String, _ stream: NetworkStream, at time: MonotonicTime) {
      b.add("event", name)
      b.add("time_ns", time.since(origin))
      add(stream, to: &b)
    }
    switch event {
    case .streamAdded(let s): stream("added", s, at: s.firstSeen)
    case .streamStatsUpdated(let s): stream("updated", s, at: s.lastUpdated)
    case .streamRemoved(let s): stream("removed", s, at: s.lastUpdated)
    case .notice(let notice):
      b.add("event", "notice")
      b.add("time_ns", notice.time.since(origin))
      b.add("kind", notice.kind.rawValue)
      b.add("detail", notice.detail)
    }
    return b.object
  }

  static func add(_ stream: NetworkStream, to b: inout FieldBuilder) {
    b.add("id", stream.id.rawValue)
    b.add("provider", stream.provider.rawValue)
    b.add("protocol", stream.key.protocolName)
    b.add("family", stream.key.addressFamily)
    b.add("local", stream.key.local.description)
    b.add("remote", stream.key.remote.description)
    b.add("ifindex", stream.key.interfaceIndex)
    b.add("interface", stream.interfaceClass.rawValue)
    b.add("pid", stream.process.pid)
    b.add("epid", stream.process.epid)
    b.add("upid", stream.process.upid)
    b.add("process", stream.process.name)
    b.add("uuid", stream.process.uuid)
    b.add("state", stream.tcpState?.description)
    b.add("listener", .bool(stream.isListener))
    b.add("failed", .bool(stream.connectionFailed))
    let c = stream.counts
    b.add("rx_packets", c.rxPackets)
    b.add("rx_bytes", c.rxBytes)
    b.add("tx_packets", c.txPackets)
    b.add("tx_bytes", c.txBytes)
    b.add("cell_rx_bytes", c.cellRxBytes)
    b.add("cell_tx_bytes", c.cellTxBytes)
    b.add("wifi_rx_bytes", c.wifiRxBytes)
    b.add("wifi_tx_bytes", c.wifiTxBytes)
    b.add("wired_rx_bytes", c.wiredRxBytes)
    b.add("wired_tx_bytes", c.wiredTxBytes)
    b.add("rx_duplicate_bytes", c.rxDuplicateBytes)
    b.add("rx_out_of_order_bytes", c.rxOutOfOrderBytes)
    b.add("tx_retransmit", c.txRetransmit)
    b.add("connect_attempts", c.connectAttempts)
    b.add("connect_successes", c.connectSuccesses)
    b.add("min_rtt", c.minRTT)
    b.add("avg_rtt", c.avgRTT)
    b.add("var_rtt", c.varRTT)
    if let w = stream.tcpWindows {
      b.add("tx_window", w.txWindow)
      b.add("tx_cwnd", w.txCongestionWindow)
    }
    b.add("removal", stream.removal?.rawValue)
  }
}
