/// The bytes of one datagram: either an array of its own, or a range of a ``ByteSlab`` shared
/// with the datagrams read next to it.
///
/// A capture reader decompresses into slabs and hands out datagrams as ranges of them, so that
/// reading a frame allocates, copies and frees nothing of its own (a frame's array and its free
/// were the largest single cost of a replay after zstd). Datagrams from a socket or the
/// simulator keep the array they were read into. Either way the bytes never change: a slab's
/// bytes are written once, before any datagram of them is handed out, and a slab is written
/// again only when nothing refers to it any more (``ByteSlab/isUnused``).
///
/// Indices run from 0 to `count` whatever the storage, as an array's do.
public struct DatagramBytes: Sendable {
  @usableFromInline enum Storage: Sendable {
    case array([UInt8])
    case slab(ByteSlab, start: Int, count: Int)
  }
  @usableFromInline var storage: Storage

  /// The datagram held in `bytes` (not copied).
  @inlinable public init(_ bytes: [UInt8]) { storage = .array(bytes) }

  /// `count` bytes of `slab` from `start`, which must have been written.
  @inlinable public init(slab: ByteSlab, start: Int, count: Int) {
    precondition(start >= 0 && count >= 0 && start <= slab.capacity - count, "a datagram must lie inside its slab")
    storage = .slab(slab, start: start, count: count)
  }

  /// Calls `body` with the datagram's bytes, valid only during the call.
  @inlinable public func withUnsafeBytes<Result, Failure>(
    _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    switch storage {
    case .array(let bytes):
      // Through a Result: `Array.withUnsafeBytes` rethrows untyped errors.
      let outcome: Swift.Result<Result, Failure> = bytes.withUnsafeBytes { buffer in
        do throws(Failure) { return .success(try body(buffer)) } catch { return .failure(error) }
      }
      return try outcome.get()
    case .slab(let slab, let start, let count):
      return try withExtendedLifetime(slab) { () throws(Failure) -> Result in
        try body(UnsafeRawBufferPointer(start: slab.base + start, count: count))
      }
    }
  }

  /// The bytes as an array: the datagram's own, or a copy of its range of the slab.
  @inlinable public var array: [UInt8] {
    switch storage {
    case .array(let bytes): return bytes
    case .slab: return withUnsafeBytes { Array($0) }
    }
  }
}

extension DatagramBytes: RandomAccessCollection, MutableCollection {
  @inlinable public var startIndex: Int { 0 }
  @inlinable public var endIndex: Int {
    switch storage {
    case .array(let bytes): return bytes.count
    case .slab(_, _, let count): return count
    }
  }
  /// A byte; setting one gives the datagram an array of its own first (a slab's bytes are
  /// shared with other datagrams and never change).
  @inlinable public subscript(position: Int) -> UInt8 {
    get {
      switch storage {
      case .array(let bytes): return bytes[position]
      case .slab(let slab, let start, let count):
        precondition(position >= 0 && position < count, "index out of range")
        return withExtendedLifetime(slab) { slab.base.load(fromByteOffset: start + position, as: UInt8.self) }
      }
    }
    set {
      var bytes: [UInt8]
      switch storage {
      case .array(let own):
        bytes = own
        storage = .array([])  // so that `bytes` is the array's only reference and is not copied
      case .slab: bytes = array
      }
      bytes[position] = newValue
      storage = .array(bytes)
    }
  }
  @inlinable public func withContiguousStorageIfAvailable<Result>(
    _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result? {
    switch storage {
    case .array(let bytes): return try bytes.withUnsafeBufferPointer(body)
    case .slab(let slab, let start, let count):
      return try withExtendedLifetime(slab) {
        try body(UnsafeBufferPointer(start: (slab.base + start).assumingMemoryBound(to: UInt8.self), count: count))
      }
    }
  }
}

extension DatagramBytes: ExpressibleByArrayLiteral {
  @inlinable public init(arrayLiteral elements: UInt8...) { self.init(elements) }
}

extension DatagramBytes: Hashable {
  /// Equal when the bytes are, wherever they are stored.
  @inlinable public static func == (lhs: DatagramBytes, rhs: DatagramBytes) -> Bool {
    lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in a.elementsEqual(b) } }
  }
  @inlinable public func hash(into hasher: inout Hasher) {
    withUnsafeBytes { hasher.combine(bytes: $0) }
  }
}

extension DatagramBytes: CustomStringConvertible {
  public var description: String { array.description }
}

/// A fixed block of memory that a reader fills with datagrams and hands out in ranges
/// (``DatagramBytes``), then reuses once no datagram refers to it.
public final class ByteSlab: @unchecked Sendable {
  // Unchecked: the bytes are written by one thread, and only where no datagram has been handed
  // out yet (before the range is published through a lock, or when the slab is unused).
  public let base: UnsafeMutableRawPointer
  public let capacity: Int

  /// A slab of `capacity` bytes (uninitialised).
  public init(capacity: Int) {
    precondition(capacity > 0, "a slab holds at least one byte")
    self.capacity = capacity
    base = .allocate(byteCount: capacity, alignment: 16)
  }

  deinit { base.deallocate() }

  /// Whether `slab` is referred to by nothing but the variable passed: no datagram of it is
  /// alive on any thread, so its bytes may be written again. Reference counts are atomic, and
  /// a datagram's last release happens after its last read.
  public static func isUnused(_ slab: inout ByteSlab) -> Bool {
    isKnownUniquelyReferenced(&slab)
  }
}
