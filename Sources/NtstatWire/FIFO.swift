/// A first-in, first-out queue: the client engine's requests and events, the replay's
/// request-matching lookahead.
///
/// A ring buffer whose elements are moved in and moved out, never copied: a queue over an array
/// copied each element out and destroyed it again when the array was cleared, about 300
/// instructions for each event of a replay (`callgrind`). A value, like an array: copies share
/// their storage until one of them changes.
///
/// Public and inlinable, not `package`: the Swift 6.3 compiler neither inlines nor specialises
/// `@inlinable package` members in the package's other modules, so the replay's lookahead
/// called the unspecialised generic `pop` (runtime metadata for every tuple it moved).
// Unchecked: its storage is a class (`ManagedBuffer` is never Sendable), which a queue writes
// only while no other queue shares it, copying it first otherwise, as an array does.
public struct FIFO<Element: Sendable>: @unchecked Sendable {
  /// Nil until the first push: an empty queue allocates nothing.
  @usableFromInline var buffer: FIFOBuffer<Element>?

  /// An empty queue.
  @inlinable public init() {}

  /// How many elements are queued.
  @inlinable public var count: Int {
    buffer?.withUnsafeMutablePointerToHeader { $0.pointee.count } ?? 0
  }

  /// Whether nothing is queued.
  @inlinable public var isEmpty: Bool { count == 0 }

  /// The element ``pop()`` would return next.
  @inlinable public var first: Element? {
    guard let buffer else { return nil }
    return buffer.withUnsafeMutablePointers { header, elements in
      header.pointee.count > 0 ? elements[header.pointee.head] : nil
    }
  }

  /// Queues `element` last.
  @inlinable public mutating func push(_ element: consuming Element) {
    appendSlot().initialize(to: element)
  }

  /// Queues last the element `make` returns, made where it is stored. For large elements made
  /// from parts: queued with ``push(_:)``, an update's event (176 bytes when it carried its
  /// stream by value) was assembled on the stack and then copied into the ring (`callgrind`: 28
  /// instructions a message more).
  @inlinable @inline(__always) public mutating func push(making make: () -> Element) {
    appendSlot().initialize(to: make())
  }

  /// The slot after the last element, already counted: initialise it before anything else.
  @inlinable @inline(__always) mutating func appendSlot() -> UnsafeMutablePointer<Element> {
    makeUnique(room: 1)
    let (header, elements) = buffer.unsafelyUnwrapped.pointers
    let slot = (header.pointee.head &+ header.pointee.count) & (header.pointee.capacity &- 1)
    header.pointee.count &+= 1
    return elements + slot
  }

  /// Puts an element back at the head.
  @inlinable public mutating func pushFront(_ element: consuming Element) {
    makeUnique(room: 1)
    let (header, elements) = buffer.unsafelyUnwrapped.pointers
    let head = (header.pointee.head &- 1) & (header.pointee.capacity &- 1)
    (elements + head).initialize(to: element)
    header.pointee.head = head
    header.pointee.count &+= 1
  }

  /// The first element, moved out of the queue; nil when empty.
  @inlinable public mutating func pop() -> Element? {
    guard !isEmpty else { return nil }
    makeUnique(room: 0)
    let (header, elements) = buffer.unsafelyUnwrapped.pointers
    let head = header.pointee.head
    header.pointee.head = (head &+ 1) & (header.pointee.capacity &- 1)
    header.pointee.count &-= 1
    return (elements + head).move()
  }

  /// Makes the storage this queue's alone, with room for `room` more elements: copied if
  /// another queue shares it, grown (the elements moved) if full. The usual case (the storage
  /// is ours and has room) is checked inline; the rest is a call.
  @inlinable @inline(__always) mutating func makeUnique(room: Int) {
    if isKnownUniquelyReferenced(&buffer) {
      let (count, capacity) = buffer.unsafelyUnwrapped.withUnsafeMutablePointerToHeader {
        ($0.pointee.count, $0.pointee.capacity)
      }
      if count &+ room <= capacity { return }
    }
    reallocate(room: room)
  }

  @inlinable @inline(never) mutating func reallocate(room: Int) {
    if isKnownUniquelyReferenced(&buffer) {
      let (count, capacity) = buffer.unsafelyUnwrapped.withUnsafeMutablePointerToHeader {
        ($0.pointee.count, $0.pointee.capacity)
      }
      if count &+ room > capacity { buffer = buffer.unsafelyUnwrapped.moved(capacity: capacity &* 2) }
    } else if let shared = buffer {
      let (count, capacity) = shared.withUnsafeMutablePointerToHeader { ($0.pointee.count, $0.pointee.capacity) }
      buffer = shared.copied(capacity: count &+ room <= capacity ? capacity : capacity &* 2)
    } else {
      buffer = FIFOBuffer.make(capacity: 16)
    }
  }
}

/// Where a ring starts, how many elements it holds, and its capacity (a power of two).
@usableFromInline
struct FIFOHeader {
  @usableFromInline var head: Int
  @usableFromInline var count: Int
  @usableFromInline let capacity: Int

  @inlinable init(capacity: Int) {
    head = 0
    count = 0
    self.capacity = capacity
  }
}

/// A ``FIFO``'s ring of elements.
@usableFromInline
final class FIFOBuffer<Element>: ManagedBuffer<FIFOHeader, Element> {
  /// The header and the elements. Their addresses are fixed for the object's life (both are
  /// inside it), and the queue holds the object across each use of them; handing them out
  /// lets an element be moved in without a closure capturing it.
  @inlinable var pointers: (header: UnsafeMutablePointer<FIFOHeader>, elements: UnsafeMutablePointer<Element>) {
    withUnsafeMutablePointers { ($0, $1) }
  }

  @inlinable static func make(capacity: Int) -> FIFOBuffer {
    let buffer = create(minimumCapacity: capacity) { _ in FIFOHeader(capacity: capacity) }
    return unsafeDowncast(buffer, to: FIFOBuffer.self)
  }

  /// A new ring of `capacity` holding copies of this one's elements, in order.
  @inlinable func copied(capacity: Int) -> FIFOBuffer {
    transferred(capacity: capacity) { target, source, count in target.initialize(from: source, count: count) }
  }

  /// A new ring of `capacity` holding this one's elements, moved out of it, in order.
  @inlinable func moved(capacity: Int) -> FIFOBuffer {
    let result = transferred(capacity: capacity) { target, source, count in
      target.moveInitialize(from: source, count: count)
    }
    withUnsafeMutablePointerToHeader { $0.pointee.count = 0 }
    return result
  }

  /// Both halves of the ring, oldest first, handed to `transfer` into a new ring's start.
  @inlinable func transferred(
    capacity: Int,
    _ transfer: (UnsafeMutablePointer<Element>, UnsafeMutablePointer<Element>, Int) -> Void
  ) -> FIFOBuffer {
    let result = FIFOBuffer.make(capacity: capacity)
    withUnsafeMutablePointers { header, elements in
      let (head, count) = (header.pointee.head, header.pointee.count)
      let firstHalf = min(count, header.pointee.capacity &- head)
      result.withUnsafeMutablePointers { targetHeader, target in
        transfer(target, elements + head, firstHalf)
        transfer(target + firstHalf, elements, count &- firstHalf)
        targetHeader.pointee.count = count
      }
    }
    return result
  }

  deinit {
    withUnsafeMutablePointers { header, elements in
      let (head, count) = (header.pointee.head, header.pointee.count)
      let firstHalf = min(count, header.pointee.capacity &- head)
      (elements + head).deinitialize(count: firstHalf)
      elements.deinitialize(count: count &- firstHalf)
    }
  }
}
