import NtstatWire

/// The canonical fields of details mode (`docs/events.md`): per medium (`media_total_…`,
/// `media_wifi_infra_…`, …), packets and bytes each way and the activity bitmap (its start and
/// its 128 bits as 32 hex digits), then the TCP counters at their full 64 bits. Present only on streams that carry detailed counts, so
/// every other family's output is unchanged.
enum CanonicalDetailFields {
  /// Field names per medium, as static strings (the sinks take no built names).
  struct Names {
    let medium: Medium
    let rxPackets: StaticString
    let rxBytes: StaticString
    let txPackets: StaticString
    let txBytes: StaticString
    let activityStart: StaticString
    let activity: StaticString
  }

  static let media: [Names] = [
    Names(
      medium: .total, rxPackets: "media_total_rx_packets", rxBytes: "media_total_rx_bytes",
      txPackets: "media_total_tx_packets",
      txBytes: "media_total_tx_bytes", activityStart: "media_total_activity_start", activity: "media_total_activity"),
    Names(
      medium: .cellular, rxPackets: "media_cellular_rx_packets", rxBytes: "media_cellular_rx_bytes",
      txPackets: "media_cellular_tx_packets", txBytes: "media_cellular_tx_bytes",
      activityStart: "media_cellular_activity_start",
      activity: "media_cellular_activity"),
    Names(
      medium: .wifiInfra, rxPackets: "media_wifi_infra_rx_packets", rxBytes: "media_wifi_infra_rx_bytes",
      txPackets: "media_wifi_infra_tx_packets", txBytes: "media_wifi_infra_tx_bytes",
      activityStart: "media_wifi_infra_activity_start",
      activity: "media_wifi_infra_activity"),
    Names(
      medium: .wifiNonInfra, rxPackets: "media_wifi_non_infra_rx_packets", rxBytes: "media_wifi_non_infra_rx_bytes",
      txPackets: "media_wifi_non_infra_tx_packets", txBytes: "media_wifi_non_infra_tx_bytes",
      activityStart: "media_wifi_non_infra_activity_start", activity: "media_wifi_non_infra_activity"),
    Names(
      medium: .wired, rxPackets: "media_wired_rx_packets", rxBytes: "media_wired_rx_bytes",
      txPackets: "media_wired_tx_packets", txBytes: "media_wired_tx_bytes", activityStart: "media_wired_activity_start",
      activity: "media_wired_activity"),
    Names(
      medium: .bluetooth, rxPackets: "media_bluetooth_rx_packets", rxBytes: "media_bluetooth_rx_bytes",
      txPackets: "media_bluetooth_tx_packets", txBytes: "media_bluetooth_tx_bytes",
      activityStart: "media_bluetooth_activity_start",
      activity: "media_bluetooth_activity"),
    Names(
      medium: .alternate, rxPackets: "media_alternate_rx_packets", rxBytes: "media_alternate_rx_bytes",
      txPackets: "media_alternate_tx_packets", txBytes: "media_alternate_tx_bytes",
      activityStart: "media_alternate_activity_start",
      activity: "media_alternate_activity"),
  ]

  static func add<Sink: CanonicalFieldSink>(_ d: DetailedCounts, to b: inout Sink) {
    for names in media {
      let t = d[names.medium]
      b.add(names.rxPackets, t.rxPackets)
      b.add(names.rxBytes, t.rxBytes)
      b.add(names.txPackets, t.txPackets)
      b.add(names.txBytes, t.txBytes)
      b.add(names.activityStart, t.activity.start)
      b.add(names.activity, hex128(t.activity.bitmap))
    }
    b.add("rx_duplicate_bytes_64", d.rxDuplicateBytes)
    b.add("rx_out_of_order_bytes_64", d.rxOutOfOrderBytes)
    b.add("tx_retransmit_64", d.txRetransmit)
  }

  /// `bitmap[1]` then `bitmap[0]` as 32 lowercase hex digits (bit 0 is the last digit's lowest).
  static func hex128(_ words: (UInt64, UInt64)) -> String {
    func hex16(_ value: UInt64) -> String {
      let digits = String(value, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }
    return hex16(words.1) + hex16(words.0)
  }
}
