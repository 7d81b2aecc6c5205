import NTStat
import NtstatWire

/// The recorded requests a replay has read and the client has not yet matched, in capture
/// order, with every operation in constant amortised time: the first one with a given key, the
/// oldest one, whether one carries a context, and ageing out those older than the match window.
///
/// A capture recorded by another client (older versions, other configurations, libntstat) has
/// thousands of requests that never match; a scan of all of them per frame made such replays
/// quadratic. Matched entries are left in place as tombstones and skipped lazily.
struct RecordedRequests {
  struct Request {
    var index: UInt64
    var time: MonotonicTime
    var key: RequestKey
    var context: UInt64
  }

  private var items: [Request] = []
  private var matched: [Bool] = []
  /// Position in `items` of the oldest entry still held.
  private var head = 0
  /// Positions (in `items`, ascending) of the entries with each key, from `start` on.
  private var byKey: [RequestKey: (positions: [Int], start: Int)] = [:]
  /// Unmatched entries per context.
  private var contexts: [UInt64: Int] = [:]
  private(set) var count = 0

  var isEmpty: Bool { count == 0 }

  mutating func append(_ request: Request) {
    let position = items.count
    items.append(request)
    matched.append(false)
    byKey[request.key, default: ([], 0)].positions.append(position)
    contexts[request.context, default: 0] += 1
    count += 1
  }

  /// The oldest unmatched request.
  mutating func first() -> Request? {
    skipMatched()
    return head < items.count ? items[head] : nil
  }

  /// Takes the oldest unmatched request with `key`, if any.
  mutating func take(_ key: RequestKey) -> Request? {
    guard var entry = byKey[key] else { return nil }
    while entry.start < entry.positions.count, matched[entry.positions[entry.start]] { entry.start += 1 }
    guard entry.start < entry.positions.count else {
      byKey[key] = nil
      return nil
    }
    let position = entry.positions[entry.start]
    entry.start += 1
    if entry.start == entry.positions.count {
      byKey[key] = nil
    } else {
      if entry.start >= 64, entry.start * 2 >= entry.positions.count {
        entry.positions.removeFirst(entry.start)
        entry.start = 0
      }
      byKey[key] = entry
    }
    markMatched(position)
    return items[position]
  }

  /// Whether an unmatched request carries `context`.
  func contains(context: UInt64) -> Bool { contexts[context, default: 0] > 0 }

  /// Removes, oldest first, the unmatched requests `expired` says are too old, handing each to
  /// `report`. Stops at the first one that is not (requests are held in capture order).
  mutating func expire(where expired: (Request) -> Bool, report: (Request) -> Void) {
    while true {
      skipMatched()
      guard head < items.count, expired(items[head]) else { break }
      let request = items[head]
      markMatched(head)
      report(request)
    }
    compact()
  }

  /// Removes every unmatched request, handing each to `report`, oldest first.
  mutating func removeAll(report: (Request) -> Void) {
    expire(where: { _ in true }, report: report)
  }

  private mutating func markMatched(_ position: Int) {
    guard !matched[position] else { return }
    matched[position] = true
    count -= 1
    let context = items[position].context
    if let left = contexts[context], left > 1 { contexts[context] = left - 1 } else { contexts[context] = nil }
  }

  private mutating func skipMatched() {
    while head < items.count, matched[head] { head += 1 }
  }

  /// Drops the consumed prefix now and then; positions in `byKey` shift with it.
  private mutating func compact() {
    guard head >= 1024, head * 2 >= items.count else { return }
    let shift = head
    items.removeFirst(shift)
    matched.removeFirst(shift)
    head = 0
    for (key, entry) in byKey {
      let live = entry.positions[entry.start...].filter { $0 >= shift }.map { $0 - shift }
      byKey[key] = live.isEmpty ? nil : (live, 0)
    }
  }
}
