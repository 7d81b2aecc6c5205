import NtstatWire

/// A min-heap of timed world events, ordered by time then insertion, so events at the same
/// instant run in a fixed order and a seed reproduces the same datagrams.
struct EventHeap {
  struct Entry {
    var time: MonotonicTime
    var sequence: UInt64
    var event: WorldEvent
  }

  private var entries: [Entry] = []
  private var nextSequence: UInt64 = 0

  var isEmpty: Bool { entries.isEmpty }
  var earliest: MonotonicTime? { entries.first?.time }

  private static func before(_ a: Entry, _ b: Entry) -> Bool {
    (a.time, a.sequence) < (b.time, b.sequence)
  }

  mutating func push(_ event: WorldEvent, at time: MonotonicTime) {
    entries.append(Entry(time: time, sequence: nextSequence, event: event))
    nextSequence += 1
    var child = entries.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard Self.before(entries[child], entries[parent]) else { break }
      entries.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> Entry? {
    guard !entries.isEmpty else { return nil }
    entries.swapAt(0, entries.count - 1)
    let top = entries.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < entries.count, Self.before(entries[left], entries[smallest]) { smallest = left }
      if right < entries.count, Self.before(entries[right], entries[smallest]) { smallest = right }
      guard smallest != parent else { break }
      entries.swapAt(parent, smallest)
      parent = smallest
    }
    return top
  }
}

/// What changes in the simulated host at an instant.
enum WorldEvent {
  /// A flow's owner closes it (TCP: the pcb enters TIME_WAIT or CLOSED).
  case close(flowID: Int)
  /// The pcb or flow is freed and the kernel detaches its sources (`nstat_pcb_detach`).
  case detach(flowID: Int)
  /// `nstat_idle_check`, every 60 s.
  case idleCheck
}
