import NTStat
import NtstatReplay
import NtstatTestSupport
import NtstatWire
import Testing

@Suite(.hangLimit) struct EventDiffTests {
  static let header = #"{"event":"header","schema":1,"family":"xnu-11215","source":"x"}"#

  static func line(_ event: String, id: Int, rx: Int, time: Int = 0, local: String = "10.0.0.1:1000") -> String {
    #"{"event":"\#(event)","time_ns":\#(time),"id":\#(id),"provider":"tcp","protocol":"tcp","family":"ipv4","local":"\#(local)","remote":"10.0.0.2:80","pid":7,"process":"curl","rx_bytes":\#(rx),"tx_bytes":5}"#
  }

  static func file(_ lines: [String], name: String = "f") throws -> CanonicalEventFile {
    try CanonicalEventFile.parse(([header] + lines).joined(separator: "\n") + "\n", name: name)
  }

  @Test func identicalFilesAreTheSame() throws {
    let lines = [
      Self.line("added", id: 1, rx: 0), Self.line("updated", id: 1, rx: 10), Self.line("removed", id: 1, rx: 20),
    ]
    let result = EventDiff.compare(try Self.file(lines), try Self.file(lines))
    #expect(result.isSame)
    #expect(result.sameStreams == 1)
  }

  @Test func changedFieldsOnlyInAAndOnlyInB() throws {
    let a = try Self.file([
      Self.line("added", id: 1, rx: 0), Self.line("updated", id: 1, rx: 10), Self.line("added", id: 2, rx: 0),
    ])
    let b = try Self.file([
      Self.line("added", id: 1, rx: 0), Self.line("updated", id: 1, rx: 12), Self.line("added", id: 3, rx: 0),
    ])
    let result = EventDiff.compare(a, b)
    #expect(!result.isSame)
    #expect(result.onlyInA.map(\.0.id) == ["2"])
    #expect(result.onlyInB.map(\.0.id) == ["3"])
    #expect(result.changed.count == 1)
    let change = try #require(result.changed.first?.fieldChanges.first)
    #expect(
      change.field == "rx_bytes" && change.a == .integer(10) && change.b == .integer(12) && change.eventIndex == 1)
  }

  /// Digests this large are freed on another thread after the comparison
  /// (`EventDiff.streamsFreedInBackground`); what is reported must not depend on it.
  @Test func largeComparisonsReportAsSmallOnesDo() throws {
    let streams = EventDiff.streamsFreedInBackground / 2 + 10
    func lines(changing changed: Int, dropping dropped: Int) -> [String] {
      (1...streams).compactMap { id in
        id == dropped ? nil : Self.line("added", id: id, rx: id == changed ? 1 : 0, local: "10.0.0.1:\(id)")
      }
    }
    let a = try Self.file(lines(changing: 0, dropping: 2))
    let b = try Self.file(lines(changing: 5, dropping: 3))
    #expect(a.events.count + b.events.count >= EventDiff.streamsFreedInBackground)
    let result = EventDiff.compare(a, b)
    #expect(result.onlyInA.map(\.0.id) == ["3"])
    #expect(result.onlyInB.map(\.0.id) == ["2"])
    #expect(result.changed.map(\.stream.id) == ["5"])
    #expect(result.changed.first?.fieldChanges.map(\.field) == ["rx_bytes"])
    #expect(result.sameStreams == streams - 3)
    #expect(EventDiff.compare(a, a).isSame)
  }

  @Test func toleranceAndIgnoredFields() throws {
    let a = try Self.file([Self.line("added", id: 1, rx: 1000, time: 5)])
    let b = try Self.file([Self.line("added", id: 1, rx: 1040, time: 6)])
    var options = EventDiffOptions()
    #expect(!EventDiff.compare(a, b, options: options).isSame)
    options.ignoredFields = ["time_ns"]
    #expect(!EventDiff.compare(a, b, options: options).isSame)
    options.tolerance = 50
    #expect(EventDiff.compare(a, b, options: options).isSame)
    options.tolerance = 0.05
    options.relative = true
    #expect(EventDiff.compare(a, b, options: options).isSame)
    options.tolerance = 0.01
    #expect(!EventDiff.compare(a, b, options: options).isSame)
    // Tolerance never applies to identity fields.
    let c = try Self.file([Self.line("added", id: 1, rx: 1000, local: "10.0.0.1:1001")])
    options.tolerance = 1e9
    options.relative = false
    #expect(EventDiff.compare(a, c, options: options).onlyInA.count == 1)
  }

  @Test func reusedRefsAreSeparateStreams() throws {
    // ≤ xnu-3248 reuses refs: the second `added` for id 1 starts a second stream.
    let a = try Self.file([
      Self.line("added", id: 1, rx: 0), Self.line("removed", id: 1, rx: 5), Self.line("added", id: 1, rx: 0),
      Self.line("removed", id: 1, rx: 9),
    ])
    let b = try Self.file([Self.line("added", id: 1, rx: 0), Self.line("removed", id: 1, rx: 5)])
    let result = EventDiff.compare(a, b)
    #expect(result.onlyInA.map(\.0.occurrence) == [1])
    #expect(result.sameStreams == 1)
  }

  @Test func eventCountDifferencesAndNotices() throws {
    let notice = #"{"event":"notice","time_ns":1,"kind":"kernel-dropped","detail":"GET_UPDATE ALL answered ENOBUFS"}"#
    let a = try Self.file([Self.line("added", id: 1, rx: 0), Self.line("updated", id: 1, rx: 3), notice])
    let b = try Self.file([Self.line("added", id: 1, rx: 0)])
    let result = EventDiff.compare(a, b)
    #expect(result.changed.first?.eventsA == ["added", "updated"])
    #expect(result.changed.first?.eventsB == ["added"])
    #expect(result.noticesOnlyInA == ["kernel-dropped: GET_UPDATE ALL answered ENOBUFS"])
  }

  @Test func malformedLinesNameFileLineAndByte() {
    for (text, expected) in [
      ("{\"event\":\"added\",\"id\":}", "f:1: at byte 22: unexpected character"),
      ("\(Self.header)\n{\"id\":1}", "f:2: no \"event\" field: not a canonical event line"),
      ("{\"event\":[1]}", "f:1: at byte 9: nested values are not part of a canonical event"),
      ("{\"event\":\"a\"} x", "f:1: at byte 14: trailing characters after the object"),
      ("{\"event\":\"a\\q\"}", "f:1: at byte 13: unknown escape"),
    ] {
      do {
        _ = try CanonicalEventFile.parse(text, name: "f")
        Issue.record("parsed: \(text)")
      } catch {
        #expect("\(error)" == expected)
      }
    }
  }

  @Test func arbitraryBytesNeverTrap() {
    var state: UInt64 = 99
    let alphabet = Array(#"{}[]":,\ -.0123456789eEtruefalsnl"abc"#.utf8)
    for _ in 0..<20_000 {
      state = state &* 6_364_136_223_846_793_005 &+ 1
      let length = Int(state >> 58)
      var bytes: [UInt8] = [UInt8(ascii: "{")]
      for i in 0..<length {
        state = state &* 6_364_136_223_846_793_005 &+ UInt64(i)
        bytes.append(alphabet[Int(state >> 40) % alphabet.count])
      }
      _ = try? CanonicalEventFile.parse(String(decoding: bytes, as: UTF8.self), name: "fuzz")
    }
  }

  @Test func escapesRoundTrip() throws {
    let value = FieldValue.object([Field("event", .string("notice")), Field("detail", .string("a\"b\\c\nd\u{1}é"))])
    let parsed = try CanonicalEventFile.parse(Self.header + "\n" + value.jsonText, name: "f")
    #expect(parsed.events.first?["detail"] == .string("a\"b\\c\nd\u{1}é"))
  }
}
