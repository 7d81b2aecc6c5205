import Testing

@testable import NTStat

/// A live event's digest takes each field name's word and role from ``FieldNameTable``; a
/// wrong entry would make a live event and its parsed JSON line digest apart (or two different
/// fields alike), so every lookup must give what working the name out afresh gives.
@Suite struct FieldNameTableTests {
  /// The canonical names and the special ones, more than a tiny table can hold.
  static let names: [StaticString] = [
    "id", "provider", "protocol", "family", "local", "remote", "ifindex", "interface", "pid", "epid", "upid",
    "process", "uuid", "state", "listener", "failed", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
    "cell_rx_bytes", "cell_tx_bytes", "wifi_rx_bytes", "wifi_tx_bytes", "wired_rx_bytes", "wired_tx_bytes",
    "rx_duplicate_bytes", "rx_out_of_order_bytes", "tx_retransmit", "connect_attempts", "connect_successes",
    "min_rtt", "avg_rtt", "var_rtt", "tx_window", "tx_cwnd", "removal", "event", "kind", "detail", "time_ns", "",
  ]

  static func expectFresh(_ name: EventDigest.Builder.FieldName, _ text: StaticString) {
    text.withUTF8Buffer { bytes in
      let fresh = EventDigest.Builder.FieldName(UnsafeRawBufferPointer(bytes))
      #expect(name.word == fresh.word, "\(text)")
      #expect(name.special == fresh.special, "\(text)")
      #expect(Array(name.text) == Array(UnsafeRawBufferPointer(bytes)), "\(text)")
    }
  }

  /// Each name looked up three times over, in tables from roomy to one slot: found at home,
  /// found further on, and (once the slots run out) worked out again each time.
  @Test(arguments: [512, 64, 8, 1])
  func everyLookupGivesTheFreshName(size: Int) {
    let table = FieldNameTable(size: size)
    for _ in 0..<3 {
      for text in Self.names { Self.expectFresh(table.name(text), text) }
    }
  }

  /// Names that differ only in length or in one byte get different words.
  @Test func namesThatDifferGetDifferentWords() {
    let table = FieldNameTable()
    var words: [UInt64: String] = [:]
    for text in Self.names {
      let word = table.name(text).word
      #expect(words[word] == nil, "\(text) and \(words[word] ?? "") share a word")
      words[word] = "\(text)"
    }
  }

  /// A one-scalar literal may be held without an address; it is worked out, not keyed.
  @Test func aOneScalarLiteralIsNamedToo() {
    let table = FieldNameTable(size: 1)
    let scalar: StaticString = "x"
    Self.expectFresh(table.name(scalar), scalar)
    Self.expectFresh(table.name(scalar), scalar)
  }
}
