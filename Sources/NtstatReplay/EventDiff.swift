import Foundation
import NTStat
import NtstatWire

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

  /// The id, remote address and occurrence, which almost always tell two streams apart
  /// already: hashing all six strings was most of matching a side's streams by identity
  /// (`callgrind`). Equality still compares every field.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(id)
    hasher.combine(remote)
    hasher.combine(occurrence)
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

/// An event as a side of a comparison hands it over.
public enum EventDiffInput {
  /// Parsed from an event file.
  case parsed(CanonicalEventFile.Event)
  /// From a client (a capture replayed); times since `origin`.
  case live(ClientEvent, origin: MonotonicTime)

  /// The event's digest, its stream's identity written to `keyText`.
  func digest(ignoring ignored: Set<String>, keyText: StreamKeyText) -> EventDigest.Parts {
    switch self {
    case .parsed(let event): return EventDigest.parts(fields: event.fields, ignoring: ignored, keyText: keyText)
    case .live(let event, let origin):
      return CanonicalEvent.digest(event, origin: origin, ignoring: ignored, keyText: keyText)
    }
  }

  var fields: CanonicalEventFile.Event {
    switch self {
    case .parsed(let event): return event
    case .live(let event, let origin): return .init(line: 0, fields: CanonicalEvent.flatFields(event, origin: origin))
    }
  }
}

/// One side of a comparison: a capture replayed, an event file read line by line, events in
/// memory. ``read`` hands over every event in order and may be called twice: the comparison
/// reads each side once, and a second time only when streams differ.
public struct EventDiffSide {
  public typealias Reader = (_ header: inout [String: FlatJSONValue], _ each: (EventDiffInput) throws -> Void) throws
    -> Void

  public var name: String
  /// Reads the side: its header fields (set as they are found), then each event in order.
  public var read: Reader

  public init(name: String, read: @escaping Reader) {
    self.name = name
    self.read = read
  }

  /// A file already in memory.
  public init(_ file: CanonicalEventFile) {
    name = file.name
    read = { header, each in
      header = file.header
      for event in file.events { try each(.parsed(event)) }
    }
  }
}

/// What one reading of a side left: its header and size, for the report.
public struct EventDiffSideSummary: Sendable {
  public var name: String
  public var header: [String: FlatJSONValue] = [:]
  public var eventCount = 0
}

/// Semantic, stream-keyed comparison of two event streams, in memory bounded by streams rather
/// than events.
///
/// The first pass reads each side once and keeps, per stream, its event kinds (run-length) and
/// one 64-bit hash per event of the fields compared (ignored fields left out): eight bytes an
/// event instead of the event. Streams whose hashes agree are the same (a SipHash collision
/// between two different events is the only way to miss a difference). Only if some stream
/// differs is each side read again, keeping just the events at the indices whose hashes differ,
/// which are then compared field by field as the report shows them (tolerances apply there).
public enum EventDiff {
  /// Compares two files held in memory.
  public static func compare(
    _ a: CanonicalEventFile, _ b: CanonicalEventFile, options: EventDiffOptions = EventDiffOptions()
  ) -> EventDiffResult {
    // Reading memory cannot fail.
    (try? compare(EventDiffSide(a), EventDiffSide(b), options: options).result) ?? EventDiffResult()
  }

  /// Compares two sides, reading each once, or twice when streams differ.
  public static func compare(
    _ a: EventDiffSide, _ b: EventDiffSide, options: EventDiffOptions = EventDiffOptions()
  ) throws -> (result: EventDiffResult, a: EventDiffSideSummary, b: EventDiffSideSummary) {
    let (first, second) = try StreamDigest.both(a, b, options: options)
    var result = EventDiffResult()
    for key in ["schema", "family"]
    where !options.ignoredFields.contains(key) && first.summary.header[key] != second.summary.header[key] {
      result.headerChanges.append((key, first.summary.header[key], second.summary.header[key]))
    }
    // Each stream of the first side is looked up in the second once, and every stream is then
    // read where it lies, by position: looked up by identity and copied out at each step (four
    // lookups and five copies of six strings and two arrays a stream), the comparison after
    // both sides were read was a fifth of a `diff`'s time, most of it retains and releases.
    let counterparts = first.list.indices.map { second.index[first.list[$0].identity] }
    var matchedInSecond = [Bool](repeating: false, count: second.list.count)
    // Streams in both whose hashes differ somewhere, and where (by position in the first side).
    var differingAt: [Int: [Int]] = [:]
    for (position, counterpart) in counterparts.enumerated() {
      guard let counterpart else { continue }
      matchedInSecond[counterpart] = true
      let (x, y) = (first.list[position].hashes, second.list[counterpart].hashes)
      guard x != y else { continue }
      let indices = (0..<min(x.count, y.count)).filter { x[$0] != y[$0] }
      if !indices.isEmpty { differingAt[position] = indices }
    }
    var eventsA: [StreamIdentity: [Int: CanonicalEventFile.Event]] = [:]
    var eventsB: [StreamIdentity: [Int: CanonicalEventFile.Event]] = [:]
    if !differingAt.isEmpty {
      let differing = Dictionary(uniqueKeysWithValues: differingAt.map { (first.list[$0.key].identity, $0.value) })
      eventsA = try StreamDigest.collect(a, at: differing, options: options)
      eventsB = try StreamDigest.collect(b, at: differing, options: options)
    }
    for position in first.sortedPositions() {
      let count = first.list[position].hashes.count
      guard let counterpart = counterparts[position] else {
        result.onlyInA.append((first.list[position].identity, count))
        continue
      }
      var changes: [FieldChange] = []
      if let indices = differingAt[position] {
        let identity = first.list[position].identity
        for index in indices {
          guard let p = eventsA[identity]?[index], let q = eventsB[identity]?[index] else { continue }
          var fields: [String] = p.fields.map(\.0)
          for (key, _) in q.fields where !fields.contains(key) { fields.append(key) }
          for field in fields where !options.ignoredFields.contains(field) {
            if !options.equal(field, p[field], q[field]) {
              changes.append(FieldChange(eventIndex: index, event: p.kind, field: field, a: p[field], b: q[field]))
            }
          }
        }
      }
      if changes.isEmpty, count == second.list[counterpart].hashes.count {
        result.sameStreams += 1
      } else {
        result.changed.append(
          StreamChange(
            stream: first.list[position].identity, eventsA: first.list[position].kinds.expanded,
            eventsB: second.list[counterpart].kinds.expanded, fieldChanges: changes))
      }
    }
    for position in second.sortedPositions() where !matchedInSecond[position] {
      result.onlyInB.append((second.list[position].identity, second.list[position].hashes.count))
    }
    (result.noticesOnlyInA, result.noticesOnlyInB) = multisetDifference(first.notices, second.notices)
    let summaries = (first.summary, second.summary)
    let streams = first.list.count + second.list.count
    release((consume first, consume second), holding: streams)
    return (result, summaries.0, summaries.1)
  }

  /// How many streams, both sides together, make a comparison's digests or report worth freeing
  /// on a thread of their own (the million-event pair of docs/performance.md has 248,000, the
  /// 20-minute pair 99,000, the 2-minute pair 9,500).
  package static let streamsFreedInBackground = 10_000

  /// Ends `value`'s life, on another thread if it holds ``streamsFreedInBackground`` streams or
  /// more, while the caller reports: on the million-event pair, freeing the digests and the
  /// report was most of the 0.4 s the main thread ran alone after both sides were read. Smaller
  /// ones cost less to free than a thread to start.
  package static func release<Value>(_ value: consuming Value, holding streams: Int) {
    if streams >= streamsFreedInBackground { releaseInBackground(value) }
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

/// Event kinds as runs (`added`, 1,000 × `updated`, `removed`): a stream's history in a few words.
struct KindRuns {
  private var runs: [(kind: String, count: Int)] = []

  mutating func append(_ kind: String) {
    if let last = runs.last, last.kind == kind {
      runs[runs.count - 1].count += 1
    } else {
      runs.append((kind, 1))
    }
  }

  var expanded: [String] { runs.flatMap { Array(repeating: $0.kind, count: $0.count) } }
}

/// One side read once: per stream, its event kinds and a hash of each event's compared fields.
struct StreamDigest {
  struct Stream {
    var identity: StreamIdentity
    var kinds = KindRuns()
    var hashes: [Int] = []
  }

  var summary: EventDiffSideSummary
  /// Streams in order of appearance; ``index`` finds one by identity.
  var list: [Stream] = []
  var index: [StreamIdentity: Int] = [:]
  var notices: [String] = []

  /// The positions of ``list`` in the order streams are reported (``StreamIdentity``'s `<`), with
  /// each id parsed once per stream, not at every comparison (sorting a side's 50,000 streams
  /// parsed ids 1.6 million times): by id and occurrence, and by the whole identity where those
  /// tie.
  func sortedPositions() -> [Int] {
    list.indices.map { (id: UInt64(list[$0].identity.id) ?? 0, occurrence: list[$0].identity.occurrence, position: $0) }
      .sorted { a, b in
        if (a.id, a.occurrence) != (b.id, b.occurrence) { return (a.id, a.occurrence) < (b.id, b.occurrence) }
        return list[a.position].identity < list[b.position].identity
      }
      .map(\.position)
  }

  init(_ side: EventDiffSide, options: EventDiffOptions) throws {
    summary = EventDiffSideSummary(name: side.name)
    var identities = StreamIdentities()
    var list: [Stream] = []
    var notices: [String] = []
    var count = 0
    let keyText = StreamKeyText()
    try side.read(&summary.header) { event in
      count += 1
      let digest = event.digest(ignoring: options.ignoredFields, keyText: keyText)
      guard let (position, new) = identities.identify(digest, keyText) else {
        notices.append(digest.notice)
        return
      }
      if let new {
        var stream = Stream(identity: new)
        // Most streams have a few events: grown from empty, each array was reallocated twice.
        stream.hashes.reserveCapacity(4)
        list.append(stream)
      }
      list[position].kinds.append(digest.kind)
      list[position].hashes.append(digest.hash)
    }
    summary.eventCount = count
    self.list = list
    index.reserveCapacity(list.count)  // grown step by step, it rehashed every identity's strings
    for (position, stream) in list.enumerated() { index[stream.identity] = position }
    self.notices = notices
  }

  /// Both sides' digests, B's read on a thread of its own meanwhile: the two sides share
  /// nothing (each reads its own file or capture), and on two cores a diff takes about as long
  /// as its longer side.
  static func both(
    _ a: EventDiffSide, _ b: EventDiffSide, options: EventDiffOptions
  ) throws -> (StreamDigest, StreamDigest) {
    let second = ThreadedWork { try StreamDigest(b, options: options) }
    let first = Result { try StreamDigest(a, options: options) }
    let secondDigest = Result { try second.value() }
    return (try first.get(), try secondDigest.get())
  }

  /// Reads `side` again, keeping the events of `wanted` streams at the indices given.
  static func collect(
    _ side: EventDiffSide, at wanted: [StreamIdentity: [Int]], options: EventDiffOptions
  ) throws -> [StreamIdentity: [Int: CanonicalEventFile.Event]] {
    let sets = wanted.mapValues(Set.init)
    var identities = StreamIdentities()
    var seen: [Int: Int] = [:]
    var kept: [StreamIdentity: [Int: CanonicalEventFile.Event]] = [:]
    var header: [String: FlatJSONValue] = [:]
    let keyText = StreamKeyText()
    try side.read(&header) { event in
      let digest = event.digest(ignoring: options.ignoredFields, keyText: keyText)
      guard let (position, _) = identities.identify(digest, keyText) else { return }
      let identity = identities[position]
      guard let indices = sets[identity] else { return }
      let index = seen[position, default: 0]
      seen[position] = index + 1
      if indices.contains(index) { kept[identity, default: [:]][index] = event.fields }
    }
    return kept
  }
}

/// Which stream an event belongs to. A stream is known by its id, protocol, addresses and pid,
/// less any of those the comparison ignores (a redacted capture's addresses are pseudonyms:
/// ignoring `local` and `remote` pairs its streams with the original's by id); a new
/// occurrence starts at each `added` (a ref can be reused up to xnu-3248).
struct StreamIdentities {
  /// Per identity key: the stream it is in now (a new occurrence starts at each `added`) and
  /// how many streams it has had.
  private var streams: [Key: (position: Int, occurrences: Int)] = [:]
  /// Every stream's identity, by position.
  private var identities: [StreamIdentity] = []

  /// An identity key: the text of id, protocol, addresses and pid, each ended by 0xFF (a byte
  /// UTF-8 never holds), hashed once with ``DigestHasher`` rather than at every dictionary probe
  /// with `Hasher`. The process is left out: it names a stream, as its first event gave it, but
  /// does not tell two apart. A lookup borrows the event's bytes; only a stored key owns a copy,
  /// so an event of a known stream makes neither strings nor arrays.
  private struct Key: Hashable {
    enum Bytes {
      case owned([UInt8])
      case borrowed(UnsafeRawBufferPointer)
    }
    var bytes: Bytes
    var hash: Int

    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
      switch bytes {
      case .owned(let array): return array.withUnsafeBytes(body)
      case .borrowed(let pointer): return body(pointer)
      }
    }

    static func == (a: Key, b: Key) -> Bool {
      a.hash == b.hash && a.withBytes { x in b.withBytes { y in TextBytes.equal(x, y) } }
    }
    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    /// The stored hash mixed with the table's seed, not run through `Hasher` again: a SipHash
    /// per lookup was a tenth of identifying an event's stream (`callgrind`).
    func _rawHashValue(seed: Int) -> Int { hash ^ seed }
  }

  private static let keyFields: [StreamKeyText.Field] = [.id, .protocolName, .local, .remote, .pid]

  /// The stream at `position`.
  subscript(position: Int) -> StreamIdentity { identities[position] }

  /// The event's stream, numbered in order of appearance from 0, and its identity if the event
  /// begins it (a stream's identity is copied out once, not per event); nil for a notice.
  mutating func identify(
    _ event: EventDigest.Parts, _ keyText: StreamKeyText
  ) -> (position: Int, new: StreamIdentity?)? {
    guard event.kind != "notice" else { return nil }
    return keyText.withKey(Self.keyFields) { bytes in
      var hasher = DigestHasher()
      hasher.combine(bytes: bytes)
      let hash = hasher.finalize()
      let known = streams[Key(bytes: .borrowed(bytes), hash: hash)]
      if event.kind != "added", let known { return (known.position, nil) }
      let occurrence = known?.occurrences ?? 0
      let identity = StreamIdentity(
        id: keyText.string(.id), protocolName: keyText.string(.protocolName), local: keyText.string(.local),
        remote: keyText.string(.remote), pid: keyText.string(.pid), process: keyText.string(.process),
        occurrence: occurrence)
      streams[Key(bytes: .owned(Array(bytes)), hash: hash)] = (identities.count, occurrence + 1)
      identities.append(identity)
      return (identities.count - 1, identity)
    }
  }
}
