import NTStat
import NtstatSimulator
import NtstatTestSupport
import Testing

@testable import NtstatReplay

/// The two-pass diff (hashes first, events only where hashes differ) reports exactly what a
/// comparison of both files held whole reports: the whole-file algorithm it replaced is kept
/// here as the oracle, and both run over random pairs of event files.
@Suite(.hangLimit) struct StreamingDiffOracleTests {
  /// The comparison as it was written when both sides were held whole.
  enum WholeFileDiff {
    struct Change: Equatable {
      var stream: StreamIdentity
      var eventsA: [String]
      var eventsB: [String]
      var fields: [FieldChange]
    }

    struct Result: Equatable {
      var onlyInA: [String] = []
      var onlyInB: [String] = []
      var changed: [Change] = []
      var same = 0
      var noticesA: [String] = []
      var noticesB: [String] = []
    }

    static func compare(_ a: CanonicalEventFile, _ b: CanonicalEventFile, options: EventDiffOptions) -> Result {
      var result = Result()
      let (streamsA, noticesA) = group(a, ignoring: options.ignoredFields)
      let (streamsB, noticesB) = group(b, ignoring: options.ignoredFields)
      for identity in streamsA.keys.sorted() {
        let x = streamsA[identity]!
        guard let y = streamsB[identity] else {
          result.onlyInA.append("\(identity) \(x.count)")
          continue
        }
        var changes: [FieldChange] = []
        for index in 0..<min(x.count, y.count) {
          var fields: [String] = x[index].fields.map(\.0)
          for (key, _) in y[index].fields where !fields.contains(key) { fields.append(key) }
          for field in fields where !options.ignoredFields.contains(field) {
            if !options.equalForOracle(field, x[index][field], y[index][field]) {
              changes.append(
                FieldChange(
                  eventIndex: index, event: x[index].kind, field: field, a: x[index][field], b: y[index][field]))
            }
          }
        }
        if changes.isEmpty, x.count == y.count {
          result.same += 1
        } else {
          result.changed.append(
            Change(stream: identity, eventsA: x.map(\.kind), eventsB: y.map(\.kind), fields: changes))
        }
      }
      for identity in streamsB.keys.sorted() where streamsA[identity] == nil {
        result.onlyInB.append("\(identity) \(streamsB[identity]!.count)")
      }
      var counts: [String: Int] = [:]
      for notice in noticesA { counts[notice, default: 0] += 1 }
      for notice in noticesB {
        if let n = counts[notice], n > 0 { counts[notice] = n - 1 } else { result.noticesB.append(notice) }
      }
      for notice in noticesA where (counts[notice] ?? 0) > 0 {
        result.noticesA.append(notice)
        counts[notice]! -= 1
      }
      return result
    }

    static func group(
      _ file: CanonicalEventFile, ignoring ignored: Set<String>
    ) -> ([StreamIdentity: [CanonicalEventFile.Event]], [String]) {
      var streams: [StreamIdentity: [CanonicalEventFile.Event]] = [:]
      var current: [String: StreamIdentity] = [:]
      var occurrences: [String: Int] = [:]
      var notices: [String] = []
      func field(_ event: CanonicalEventFile.Event, _ name: String) -> String {
        ignored.contains(name) ? "" : event[name]?.description ?? ""
      }
      for event in file.events {
        if event.kind == "notice" {
          notices.append("\(event["kind"]?.description ?? "?"): \(event["detail"]?.description ?? "")")
          continue
        }
        let base = ["id", "protocol", "local", "remote", "pid"].map { field(event, $0) }.joined(separator: "|")
        if event.kind == "added" || current[base] == nil {
          let occurrence = occurrences[base, default: 0]
          occurrences[base] = occurrence + 1
          current[base] = StreamIdentity(
            id: field(event, "id"), protocolName: field(event, "protocol"), local: field(event, "local"),
            remote: field(event, "remote"), pid: field(event, "pid"), process: field(event, "process"),
            occurrence: occurrence)
        }
        streams[current[base]!, default: []].append(event)
      }
      return (streams, notices)
    }
  }

  /// A random event file: a few streams (refs reused), a few values per field, notices; `b` is
  /// `a` with some events changed, dropped or added.
  static func files(seed: UInt64) -> (CanonicalEventFile, CanonicalEventFile) {
    var random = SeededRandom(seed: seed)
    func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
    var events: [CanonicalEventFile.Event] = []
    for line in 0..<Int.random(in: 0...80, using: &random) {
      if Int.random(in: 0..<15, using: &random) == 0 {
        events.append(
          .init(
            line: line,
            fields: [
              ("event", .string("notice")), ("kind", .string(pick(["kernel-dropped", "resync"]))),
              ("detail", .string(pick(["x", "y"]))),
            ]))
        continue
      }
      var fields: CanonicalEventFile.Fields = [
        ("event", .string(pick(["added", "updated", "updated", "removed"]))),
        ("time_ns", .integer(Int64(line) * 1000)), ("id", .integer(Int64.random(in: 1...4, using: &random))),
        ("protocol", .string("tcp")), ("local", .string(pick(["10.0.0.1:1", "10.0.0.1:2"]))),
        ("remote", .string("10.0.0.2:80")), ("pid", .integer(7)), ("process", .string("curl")),
        ("rx_bytes", .integer(Int64.random(in: 1000...1003, using: &random))),
      ]
      if Bool.random(using: &random) { fields.append(("state", pick([.null, .string("ESTABLISHED")]))) }
      events.append(.init(line: line, fields: fields))
    }
    var other: [CanonicalEventFile.Event] = []
    for event in events {
      switch Int.random(in: 0..<12, using: &random) {
      case 0: continue  // dropped
      case 1:
        var changed = event
        if let index = changed.fields.firstIndex(where: { $0.0 == "rx_bytes" }) {
          changed.fields[index].1 = .integer(Int64.random(in: 1000...1003, using: &random))
        }
        other.append(changed)
      case 2:
        other.append(event)
        other.append(event)  // duplicated
      default: other.append(event)
      }
    }
    let header: [String: FlatJSONValue] = ["event": .string("header"), "schema": .integer(1)]
    return (
      CanonicalEventFile(name: "a", header: header, events: events),
      CanonicalEventFile(name: "b", header: header, events: other)
    )
  }

  @Test(arguments: 0..<300) func twoPassDiffReportsWhatTheWholeFileDiffDid(seed: UInt64) {
    let (a, b) = Self.files(seed: seed)
    var options = EventDiffOptions()
    switch seed % 4 {
    case 1: options.ignoredFields = ["time_ns"]
    case 2: options.tolerance = 2
    case 3:
      options.ignoredFields = ["local", "time_ns"]
      options.tolerance = 0.001
      options.relative = true
    default: break
    }
    for (x, y) in [(a, b), (b, a), (a, a)] {
      let expected = WholeFileDiff.compare(x, y, options: options)
      let got = EventDiff.compare(x, y, options: options)
      #expect(got.onlyInA.map { "\($0.0) \($0.1)" } == expected.onlyInA, "seed \(seed)")
      #expect(got.onlyInB.map { "\($0.0) \($0.1)" } == expected.onlyInB, "seed \(seed)")
      #expect(got.sameStreams == expected.same, "seed \(seed)")
      #expect(
        got.changed.map {
          WholeFileDiff.Change(stream: $0.stream, eventsA: $0.eventsA, eventsB: $0.eventsB, fields: $0.fieldChanges)
        } == expected.changed, "seed \(seed)")
      #expect(got.noticesOnlyInA == expected.noticesA && got.noticesOnlyInB == expected.noticesB, "seed \(seed)")
    }
  }
}

extension EventDiffOptions {
  /// The tolerance rule as the whole-file diff applied it.
  func equalForOracle(_ field: String, _ a: FlatJSONValue?, _ b: FlatJSONValue?) -> Bool {
    if a == b { return true }
    let counter =
      ["tx_retransmit", "tx_window", "tx_cwnd", "connect_attempts", "connect_successes"].contains(field)
      || ["_bytes", "_packets", "_rtt"].contains { field.hasSuffix($0) }
    guard tolerance > 0, counter, let x = a?.numeric, let y = b?.numeric else { return false }
    let limit = relative ? tolerance * max(abs(x), abs(y)) : tolerance
    return abs(x - y) <= limit
  }
}
