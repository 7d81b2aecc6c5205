/// A small first-in, first-out queue with amortised O(1) pops: the client engine's requests
/// and events, the replay's request-matching lookahead.
///
/// Public and inlinable, not `package`: the Swift 6.3 compiler neither inlines nor specialises
/// `@inlinable package` members in the package's other modules, so the replay's lookahead
/// called the unspecialised generic `pop` (runtime metadata for every tuple it moved).
public struct FIFO<Element: Sendable>: Sendable {
  @usableFromInline var items: [Element] = []
  @usableFromInline var head = 0

  /// An empty queue.
  @inlinable public init() {}

  /// Whether nothing is queued.
  @inlinable public var isEmpty: Bool { head == items.count }
  /// How many elements are queued.
  @inlinable public var count: Int { items.count - head }
  /// The element ``pop()`` would return next.
  @inlinable public var first: Element? { head < items.count ? items[head] : nil }

  /// Queues `element` last.
  @inlinable public mutating func push(_ element: Element) { items.append(element) }

  /// Puts an element back at the head.
  @inlinable public mutating func pushFront(_ element: Element) {
    if head > 0 {
      head -= 1
      items[head] = element
    } else {
      items.insert(element, at: 0)
    }
  }

  /// The first element, removed; nil when empty.
  @inlinable public mutating func pop() -> Element? {
    guard head < items.count else { return nil }
    let element = items[head]
    head += 1
    if head == items.count {
      // Drained: let go of the elements at once (an event holds its stream's descriptor box,
      // which the engine can reuse only when nothing else does).
      items.removeAll(keepingCapacity: true)
      head = 0
    } else if head >= 256, head * 2 >= items.count {
      items.removeFirst(head)
      head = 0
    }
    return element
  }
}
