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
    emit(event, origin: origin, into: &b)
    return b.object
  }

  /// One event as a JSON Lines line (without its newline), appended to `bytes`: the same bytes
  /// as `fields(event, origin:).jsonText`, written straight into a reusable buffer (no field
  /// tree, no intermediate strings for numbers): replay to JSON Lines runs at this speed.
  public static func appendJSONLine(_ event: ClientEvent, origin: MonotonicTime, to bytes: inout [UInt8]) {
    var buffer = TextBuffer(capacity: 1024)
    defer { buffer.deallocate() }
    appendJSONLine(event, origin: origin, to: &buffer)
    bytes.append(contentsOf: buffer.bytes)
  }

  /// The same line appended to an output buffer (`ntstat replay` writes this way).
  package static func appendJSONLine(_ event: ClientEvent, origin: MonotonicTime, to buffer: inout TextBuffer) {
    var writer = JSONObjectWriter(appendingTo: buffer)
    emit(event, origin: origin, into: &writer)
    buffer = writer.finish()
  }

  /// One event as ``CanonicalEventFile`` holds a parsed line: the same fields and values as
  /// parsing `fields(event, origin:).jsonText`, without writing or parsing any text.
  public static func flatFields(_ event: ClientEvent, origin: MonotonicTime) -> CanonicalEventFile.Fields {
    var sink = FlatFieldsSink()
    emit(event, origin: origin, into: &sink)
    return sink.fields
  }

  /// The one list of a canonical event's fields, in order, for every output (field tree or bytes).
  static func emit<Sink: CanonicalFieldSink>(_ event: ClientEvent, origin: MonotonicTime, into b: inout Sink) {
    func stream(_ name: StaticString, _ stream: NetworkStream, at time: MonotonicTime) {
      b.add("event", name)
      b.add("time_ns", time.since(origin))
      add(stream, to: &b)
    }
    switch event {
    case .streamAdded(let s): stream("added", s, at: s.firstSeen)
    case .streamStatsUpdated(let s): stream("updated", s, at: s.lastUpdated)
    case .streamRemoved(let s): stream("removed", s, at: s.lastUpdated)
    case .notice(let notice):
      b.add("event", "notice" as StaticString)
      b.add("time_ns", notice.time.since(origin))
      b.add("kind", notice.kind.rawValue)
      b.add("detail", notice.detail)
    }
  }

  static func add<Sink: CanonicalFieldSink>(_ stream: NetworkStream, to b: inout Sink) {
    // Every descriptor-derived field from one read of the descriptor, each taken out alone: a
    // copy of them all, then of the key and the process, retained and released every string in
    // them three times (`callgrind`: 600 instructions a JSON line).
    let (local, remote, ifindex, interface, pid, epid, upid, name, uuid, state, isListener, windows) =
      stream.withDerivedFields { d in
        (
          d.key.local, d.key.remote, d.key.interfaceIndex, d.interfaceClass, d.process.pid, d.process.epid,
          d.process.upid, d.process.name, d.process.uuid, d.tcpState, d.isListener, d.tcpWindows
        )
      }
    // Names from enumerations go as static text: a `String` each was a retain, a release and a
    // scan for characters to escape.
    b.add("id", stream.id.rawValue)
    b.add("provider", stream.provider.rawValueText)
    b.add("protocol", stream.provider.protocolNameText)
    b.add("family", StreamKey.addressFamilyText(local, remote))
    b.add("local", local)
    b.add("remote", remote)
    b.add("ifindex", UInt64(ifindex))
    b.add("interface", interface.rawValueText)
    b.add("pid", UInt64(pid))
    b.add("epid", epid.map(UInt64.init))
    b.add("upid", upid)
    b.add("process", name)
    b.add("uuid", uuid)
    if let text = state?.nameText { b.add("state", text) } else { b.add("state", state?.description) }
    b.add("listener", isListener)
    b.add("failed", stream.connectionFailed)
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
    b.add("rx_duplicate_bytes", UInt64(c.rxDuplicateBytes))
    b.add("rx_out_of_order_bytes", UInt64(c.rxOutOfOrderBytes))
    b.add("tx_retransmit", UInt64(c.txRetransmit))
    b.add("connect_attempts", UInt64(c.connectAttempts))
    b.add("connect_successes", UInt64(c.connectSuccesses))
    b.add("min_rtt", UInt64(c.minRTT))
    b.add("avg_rtt", UInt64(c.avgRTT))
    b.add("var_rtt", UInt64(c.varRTT))
    if let w = windows {
      b.add("tx_window", UInt64(w.txWindow))
      b.add("tx_cwnd", UInt64(w.txCongestionWindow))
    }
    if let detailed = stream.detailedCounts { CanonicalDetailFields.add(detailed, to: &b) }
    b.add("removal", stream.removal?.rawValue)
  }
}
