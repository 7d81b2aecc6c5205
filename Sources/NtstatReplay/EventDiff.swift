import NTStat

/// How two event files are compared.
public struct EventDiffOptions: Sendable {
  /// Fields left out of the comparison (e.g. `time_ns`).
  public var ignoredFields: Set<String> = []
  /// Counter differences up to this are not differences: an absolute amount, or a fraction of
  /// the larger value when `relative`.
  public var tolerance: Double = 0
  public var relative = false

  public init() {}

  static let counterSuffixes = ["_bytes", "_packets", "_rtt"]
  static let counters: Set<String> = ["tx_retransmit", "tx_window", "tx_cwnd", "connect_attempts", "connect_successes"]

  func isCounter(_ field: String) -> Bool {
    Self.counters.contains(field) || Self.counterSuffixes.contains { field.hasSuffix($0) }
  }

  func equal(_ field: String, _ a: FlatJSONValue?, _ b: FlatJSONValue?) -> Bool {
    if a == b { return true }
    guard tolerance > 0, isCounter(field), let x = a?.numeric, let y = b?.numeric else { return false }
    let limit = relative ? tolerance * max(abs(x), abs(y)) : tolerance
    return abs(x - y) <= limit
  }
}

/// A stream as the diff identifies it: source ref, 5-tuple and pid, and which occurrence (a ref
/// can be reused up to xnu-3248).
public struct StreamIdentity: Hashable, Sendable, CustomStringConvertible, Comparable {
  public var id: String
  public var protocolName: String
  public var local: String
  public var remote: String
  public var pid: String
  public var process: String
  public var occurrence: Int

  public var description: String {
    "\(protocolName) \(local) → \(remote) pid \(pid) (\(process)) [id \(id)\(occurrence > 0 ? " #\(occurrence + 1)" : "")]"
  }

  public static func < (a: StreamIdentity, b: StreamIdentity) -> Bool {
    let x = (UInt64(a.id) ?? 0, a.occurrence, a.local, a.remote)
    let y = (UInt64(b.id) ?? 0, b.occurrence, b.local, b.remote)
    return x < y
  }
}

/// One field that differs between matched events.
public struct FieldChange: Hashable, Sendable {
  public var eventIndex: Int
  public var event: String
  public var field: String
  public var a: FlatJSONValue?
  public var b: FlatJSONValue?
}

/// A stream present on both sides whose events differ.
public struct StreamChange: Sendable {
  public var stream: StreamIdentity
  /// Event kinds on each side (`added`, `updated`, …).
  public var eventsA: [String]
  public var eventsB: [String]
  public var fieldChanges: [FieldChange]
}

/// The result of comparing two canonical event files.
public struct EventDiffResult: Sendable {
  public var onlyInA: [(StreamIdentity, Int)] = []
  public var onlyInB: [(StreamIdentity, Int)] = []
  public var changed: [StreamChange] = []
  public var sameStreams = 0
  /// Notices (kind: detail) present on one side only.
  public var noticesOnlyInA: [String] = []
  public var noticesOnlyInB: [String] = []
  /// Header fields that differ (family, schema).
  public var headerChanges: [(String, FlatJSONValue?, FlatJSONValue?)] = []

  public var isSame: Bool {
    onlyInA.isEmpty && onlyInB.isEmpty && changed.isEmpty && noticesOnlyInA.isEmpty && noticesOnlyInB.isEmpty
      && headerChanges.isEmpty
  }
}

/// Semantic, stream-keyed comparison of two event files.
public enum EventDiff {
  public static func compare(
    _ a: CanonicalEventFile, _ b: CanonicalEventFile, options: EventDiffOptions = EventDiffOptions()
  )
    -> EventDiffResult
  {
    var result = EventDiffResult()
    for key in ["schema", "family"] where !options.ignoredFields.contains(key) && a.header[key] != b.header[key] {
      result.headerChanges.append((key, a.header[key], b.header[key]))
    }
    let (streamsA, noticesA) = group(a, ignoring: options.ignoredFields)
    let (streamsB, noticesB) = group(b, ignoring: options.ignoredFields)
    for identity in streamsA.keys.sorted() {
      let eventsA = streamsA[identity]!
      guard let eventsB = streamsB[identity] else {
        result.onlyInA.append((identity, eventsA.count))
        continue
      }
      var changes: [FieldChange] = []
      for index in 0..<min(eventsA.count, eventsB.count) {
        let x = eventsA[index]
        let y = eventsB[index]
        var fields: [String] = x.fields.map(\.0)
        for (key, _) in y.fields where !fields.contains(key) { fields.append(key) }
        for field in fields where !options.ignoredFields.contains(field) {
          if !options.equal(field, x[field], y[field]) {
            changes.append(FieldChange(eventIndex: index, event: x.kind, field: field, a: x[field], b: y[field]))
          }
        }
      }
      if changes.isEmpty, eventsA.count == eventsB.count {
        result.sameStreams += 1
      } else {
        result.changed.append(
          StreamChange(
            stream: identity, eventsA: eventsA.map(\.kind), eventsB: eventsB.map(\.kind), fieldChanges: changes))
      }
    }
    for identity in streamsB.keys.sorted() where streamsA[identity] == nil {
      result.onlyInB.append((identity, streamsB[identity]!.count))
    }
    (result.noticesOnlyInA, result.noticesOnlyInB) = multisetDifference(noticesA, noticesB)
    return result
  }

  /// Events by stream, in order; a new occurrence starts at each `added`.
  /// Events by stream. A stream is known by its id, protocol, addresses and pid, less any of
  /// those the comparison ignores (a redacted capture's addresses are pseudonyms: ignoring
  /// `local` and `remote` pairs its streams with the original's by id).
  static func group(
    _ file: CanonicalEventFile, ignoring ignored: Set<String> = []
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

  static func multisetDifference(_ a: [String], _ b: [String]) -> ([String], [String]) {
    var counts: [String: Int] = [:]
    for item in a { counts[item, default: 0] += 1 }
    var onlyB: [String] = []
    for item in b {
      if let n = counts[item], n > 0 { counts[item] = n - 1 } else { onlyB.append(item) }
    }
    var onlyA: [String] = []
    for item in a where (counts[item] ?? 0) > 0 {
      onlyA.append(item)
      counts[item]! -= 1
    }
    return (onlyA, onlyB)
  }
}
