import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat
@testable import NtstatReplay

/// JSON Lines are written as bytes straight from the events, and diff takes a capture's events
/// as fields without any text; the field tree stays the reference. All three must agree.
@Suite(.hangLimit) struct CanonicalJSONTests {
  @Test(arguments: [LayoutFamily.xnu2422, .xnu8019_61, .xnu11215])
  func bytesMatchTheFieldTree(family: LayoutFamily) throws {
    let workload = Workload.random(seed: 9, duration: .seconds(20), family: family)
    let run = try ClientVersusSimulatorTests.run(family: family, workload: workload, receiveBufferSize: 8192)
    #expect(run.events.count > 100)
    var buffer: [UInt8] = Array("previous line\n".utf8)
    for event in run.events {
      let before = buffer.count
      CanonicalEvent.appendJSONLine(event, origin: .zero, to: &buffer)
      let written = String(decoding: buffer[before...], as: UTF8.self)
      #expect(written == CanonicalEvent.fields(event, origin: .zero).jsonText)
      // What diff compares for a capture: the fields the line parses back to.
      let parsed = try FlatJSON.parseObject(written)
      let flat = CanonicalEvent.flatFields(event, origin: .zero)
      #expect(flat.map(\.0) == parsed.map(\.0) && flat.map(\.1) == parsed.map(\.1))
      // What diff keeps on its first pass: a live event and its parsed line digest alike,
      // with fields ignored or not; a changed field changes the hash.
      for ignored: Set<String> in [[], ["time_ns", "local"], ["id", "rx_bytes", "process"]] {
        let live = CanonicalEvent.digest(event, origin: .zero, ignoring: ignored)
        #expect(live == EventDigest(fields: parsed, ignoring: ignored))
        #expect(live.kind == (parsed.first { $0.0 == "event" }?.1.description ?? "?"))
      }
      var changed = parsed
      if let index = changed.firstIndex(where: { $0.0 == "time_ns" }) {
        changed[index].1 = .integer(-1)
        #expect(EventDigest(fields: changed, ignoring: []).hash != EventDigest(fields: parsed, ignoring: []).hash)
        #expect(
          EventDigest(fields: changed, ignoring: ["time_ns"]) == EventDigest(fields: parsed, ignoring: ["time_ns"]))
      }
      buffer.append(UInt8(ascii: "\n"))
    }
    #expect(buffer.starts(with: Array("previous line\n".utf8)))
  }

  @Test func stringsAreEscapedAlike() {
    let tricky = "quote \" backslash \\ newline \n tab \t return \r bell \u{07} escape \u{1B} é 漢 🙂 \u{7F}"
    let notice = ClientEvent.notice(ClientNotice(kind: .decodeFailed, time: .seconds(1), detail: tricky))
    var bytes: [UInt8] = []
    CanonicalEvent.appendJSONLine(notice, origin: .zero, to: &bytes)
    #expect(String(decoding: bytes, as: UTF8.self) == CanonicalEvent.fields(notice, origin: .zero).jsonText)
    #expect(String(decoding: bytes, as: UTF8.self).contains(#"bell \u0007 escape \u001b"#))
  }

  @Test func uuidTextIsUnchanged() {
    let uuid = UUIDBytes(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
    #expect(uuid.description == "01234567-89AB-CDEF-FEDC-BA9876543210")
    #expect(UUIDBytes.zero.description == "00000000-0000-0000-0000-000000000000")
    #expect(UUIDBytes(uuid.description) == uuid)
  }
}

extension CanonicalJSONTests {
  /// JSON lines write names from enumerations as static text; a `String` spells them for
  /// everyone else. The two spellings are written apart and must agree.
  @Test func enumerationNamesAreTheSameAsTextAndAsString() {
    for interface in InterfaceClass.allCases {
      #expect(interface.rawValue == interface.rawValueText.description)
    }
    let v4 = SocketAddress.ipv4(IPv4Address(rawValue: 1), port: 1)
    let v6 = SocketAddress.ipv6(IPv6Address(high: 1, low: 1), port: 1)
    for (local, remote) in [(v4, v4), (v6, .unspecified), (.unspecified, v4), (.unspecified, .unspecified)] {
      let key = StreamKey(protocolName: "tcp", local: local, remote: remote, interfaceIndex: 0)
      #expect(key.addressFamily == StreamKey.addressFamilyText(local, remote).description)
    }
  }
}
