import NtstatWire

/// The engine's sources: records in an array, found by ref through one hash lookup, then
/// updated in place: copying a record out and back on every message was the engine's largest
/// cost when a record was a few hundred bytes, and a copy still held while the record is written
/// would now make its stream state be copied (``StreamState``).
struct SourceTable: Sendable {
  private(set) var records: [TrackedSource] = []
  private var slots = RefIndex()
  /// The states of removed records that nothing else held, for new records. With a thousand
  /// new connections a second, a state allocated for each new source and freed with it cost a
  /// replay whose requests diverge 6 % of its client thread's time: malloc there works on a heap
  /// that the requests it holds for matching leave fragmented.
  private var spareStates: [StreamState] = []
  static let spareStateLimit = 1024
  /// States waiting for a new record.
  var spareStateCount: Int { spareStates.count }

  /// Starts a record for `ref` (replacing any), first seen `now`.
  mutating func add(_ ref: SourceRef, provider: ProviderKind?, at now: MonotonicTime) {
    self[ref] = TrackedSource(
      ref: ref, provider: provider, firstSeen: now, lastUpdated: now, createdAt: now, reusing: spareStates.popLast())
  }

  var count: Int { records.count }
  var refs: [SourceRef] { records.map(\.ref) }

  func slot(of ref: SourceRef) -> Int? { slots[ref] }

  subscript(slot slot: Int) -> TrackedSource {
    _read { yield records[slot] }
    _modify { yield &records[slot] }
  }

  /// Runs `body` on a record in place (reading through ``subscript(slot:)`` copies the record).
  mutating func withRecord<Result>(slot: Int, _ body: (inout TrackedSource) -> Result) -> Result {
    body(&records[slot])
  }

  subscript(ref: SourceRef) -> TrackedSource? {
    get { slots[ref].map { records[$0] } }
    set {
      if let slot = slots[ref] {
        if let newValue {
          records[slot] = newValue
        } else {
          remove(at: slot)
        }
      } else if let newValue {
        slots[ref] = records.count
        records.append(newValue)
      }
    }
  }

  /// Removes by moving the last record into the slot, keeping every other record's slot right.
  /// Moved, not swapped: `swapAt` copied both records through the stack, three copies where one
  /// move does (`callgrind`, when a record was 208 bytes: 515 instructions a removal more).
  /// For a caller that has the slot already; ``subscript(_:)`` set to nil looks it up.
  mutating func remove(at slot: Int) {
    let ref = records[slot].ref
    if spareStates.count < Self.spareStateLimit, let spare = records[slot].spareState() {
      spareStates.append(spare)
    }
    if slot == records.count - 1 {
      records.removeLast()
    } else {
      records[slot] = records.removeLast()
      slots[records[slot].ref] = slot
    }
    slots[ref] = nil
  }
}

/// Source ref → record slot, open addressing with linear probing. A `Dictionary` hashes every
/// key with seeded SipHash, which showed up in profiles at one lookup per message; refs are
/// small integers, so a multiplicative mix spreads them well enough.
struct RefIndex: Sendable {
  private var keys: [UInt64] = []
  private var values: [Int32] = []  // -1: empty
  private var count = 0
  private var mask = 0

  @inline(__always) private func home(_ key: UInt64) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
  }

  subscript(ref: SourceRef) -> Int? {
    get {
      guard count > 0 else { return nil }
      var index = home(ref.rawValue)
      while values[index] >= 0 {
        if keys[index] == ref.rawValue { return Int(values[index]) }
        index = (index + 1) & mask
      }
      return nil
    }
    set {
      if let newValue { insert(ref.rawValue, Int32(newValue)) } else { remove(ref.rawValue) }
    }
  }

  private mutating func insert(_ key: UInt64, _ value: Int32) {
    if (count + 1) * 4 > keys.count * 3 { grow() }
    var index = home(key)
    while values[index] >= 0 {
      if keys[index] == key {
        values[index] = value
        return
      }
      index = (index + 1) & mask
    }
    keys[index] = key
    values[index] = value
    count += 1
  }

  private mutating func remove(_ key: UInt64) {
    guard count > 0 else { return }
    var index = home(key)
    while values[index] >= 0 {
      if keys[index] == key { break }
      index = (index + 1) & mask
    }
    guard values[index] >= 0 else { return }
    values[index] = -1
    count -= 1
    // Backward-shift the entries after it, so lookups never need tombstones.
    var hole = index
    var next = (index + 1) & mask
    while values[next] >= 0 {
      let want = home(keys[next])
      let distanceToHole = (hole - want) & mask
      let distanceToNext = (next - want) & mask
      if distanceToHole < distanceToNext {
        keys[hole] = keys[next]
        values[hole] = values[next]
        values[next] = -1
        hole = next
      }
      next = (next + 1) & mask
    }
  }

  private mutating func grow() {
    let oldKeys = keys
    let oldValues = values
    let capacity = max(16, keys.count * 2)
    keys = [UInt64](repeating: 0, count: capacity)
    values = [Int32](repeating: -1, count: capacity)
    mask = capacity - 1
    count = 0
    for (key, value) in zip(oldKeys, oldValues) where value >= 0 { insert(key, value) }
  }
}
