import NtstatWire

/// The engine's sources: records in an array, found by ref through one hash lookup, then
/// updated in place (a record is a few hundred bytes; copying it out and back on every
/// message was the engine's largest cost).
struct SourceTable: Sendable {
  private(set) var records: [TrackedSource] = []
  private var slots: [SourceRef: Int] = [:]

  var count: Int { records.count }
  var refs: Dictionary<SourceRef, Int>.Keys { slots.keys }

  func slot(of ref: SourceRef) -> Int? { slots[ref] }

  subscript(slot slot: Int) -> TrackedSource {
    _read { yield records[slot] }
    _modify { yield &records[slot] }
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

  /// Swap-removes, keeping every other record's slot right.
  private mutating func remove(at slot: Int) {
    let ref = records[slot].ref
    let last = records.count - 1
    if slot != last {
      records.swapAt(slot, last)
      slots[records[slot].ref] = slot
    }
    records.removeLast()
    slots[ref] = nil
  }
}
