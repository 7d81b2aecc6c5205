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

  /// A request, whether it was matched (or aged out), and the position of the next request
  /// with the same key (-1: none yet).
  private struct Entry {
    var request: Request
    var matched = false
    var nextWithKey = -1
  }

  /// The requests from `base` on, by position: a request's position is its place in the order
  /// they were appended, which compaction never changes, so `byKey` is never rewritten.
  private var items: [Entry] = []
  /// Position of `items[0]`: everything before it was matched or aged out, and dropped.
  private var base = 0
  /// Position of the oldest entry still held.
  private var head = 0
  /// The first and last unmatched requests with each key; the rest of them are chained through
  /// their entries' `nextWithKey`, oldest first (no array per key). A key leaves when its last
  /// request is taken or ages out, so this holds no more keys than there are unmatched
  /// requests (a capture whose every request diverges has a key per source ref).
  private var byKey: [RequestKey: (first: Int, last: Int)] = [:]
  /// Unmatched entries per context.
  private var contexts: [UInt64: Int] = [:]
  private(set) var count = 0

  var isEmpty: Bool { count == 0 }
  /// Keys held in the index (tests: it must not outgrow ``count``).
  var indexedKeys: Int { byKey.count }

  mutating func append(_ request: Request) {
    let position = base + items.count
    items.append(Entry(request: request))
    if let slot = byKey.index(forKey: request.key) {
      items[byKey.values[slot].last - base].nextWithKey = position
      byKey.values[slot].last = position
    } else {
      byKey[request.key] = (position, position)
    }
    contexts[request.context, default: 0] += 1
    count += 1
  }

  /// The oldest unmatched request.
  mutating func first() -> Request? {
    skipMatched()
    return head - base < items.count ? items[head - base].request : nil
  }

  /// Takes the oldest unmatched request with `key`, if any.
  mutating func take(_ key: RequestKey) -> Request? {
    guard let position = removeFirstPosition(of: key) else { return nil }
    markMatched(position)
    return items[position - base].request
  }

  /// Whether an unmatched request carries `context`.
  func contains(context: UInt64) -> Bool { contexts[context, default: 0] > 0 }

  /// Removes, oldest first, the unmatched requests `expired` says are too old, handing each to
  /// `report`. Stops at the first one that is not (requests are held in capture order).
  mutating func expire(where expired: (Request) -> Bool, report: (Request) -> Void) {
    while let request = popExpired(where: expired) { report(request) }
  }

  /// Removes and returns the oldest unmatched request if `expired` says it is too old; nil once
  /// the oldest is not.
  mutating func popExpired(where expired: (Request) -> Bool) -> Request? {
    skipMatched()
    guard head - base < items.count, expired(items[head - base].request) else {
      compact()
      return nil
    }
    let request = items[head - base].request
    // The oldest unmatched request is the oldest unmatched one of its key too.
    _ = removeFirstPosition(of: request.key)
    markMatched(head)
    return request
  }

  /// Removes every unmatched request, handing each to `report`, oldest first.
  mutating func removeAll(report: (Request) -> Void) {
    expire(where: { _ in true }, report: report)
  }

  /// The position of the oldest unmatched request with `key`, unchained from the index. Every
  /// request leaves its key's chain when it is matched or ages out, so the first is unmatched.
  private mutating func removeFirstPosition(of key: RequestKey) -> Int? {
    guard let slot = byKey.index(forKey: key) else { return nil }
    let (first, last) = byKey.values[slot]
    if first == last {
      byKey.remove(at: slot)
    } else {
      byKey.values[slot].first = items[first - base].nextWithKey
    }
    return first
  }

  private mutating func markMatched(_ position: Int) {
    guard position >= base, !items[position - base].matched else { return }
    items[position - base].matched = true
    count -= 1
    let context = items[position - base].request.context
    if let left = contexts[context], left > 1 { contexts[context] = left - 1 } else { contexts[context] = nil }
  }

  private mutating func skipMatched() {
    while head - base < items.count, items[head - base].matched { head += 1 }
  }

  /// Drops the consumed prefix now and then.
  private mutating func compact() {
    let consumed = head - base
    guard consumed >= 1024, consumed * 2 >= items.count else { return }
    items.removeFirst(consumed)
    base = head
  }
}
