#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The bytes of one datagram: a range of a ``ByteSlab``, which it may share with the datagrams
/// read next to it.
///
/// A capture reader decompresses into slabs and hands out datagrams as ranges of them, so that
/// reading a frame allocates, copies and frees nothing of its own (a frame's array and its free
/// were the largest single cost of a replay's reading thread). A datagram read from a socket,
/// or made from an array, has a slab of its own size. The bytes never change: a slab's bytes
/// are written once, before any datagram of them is handed out, and a slab is written again
/// only when nothing refers to it any more (``ByteSlab/isUnused(_:)``).
///
/// Indices run from 0 to `count` whatever the storage, as an array's do.
public struct DatagramBytes: @unchecked Sendable {
  // Unchecked: `ManagedBuffer` (and so ``ByteSlab``) cannot be `Sendable`. A datagram's bytes
  // never change once it exists, so sharing one between threads is safe.
  // One reference, to a slab, whatever the origin: copying a frame is then one retain. An enum
  // of an array or a slab range, or an array beside an optional slab, made the compiler copy the
  // replay's (index, frame) pairs through the runtime's generic value witnesses (`callgrind`:
  // 330 instructions a frame more than an array alone). A datagram made from an array is
  // copied into a slab of its own size, once.
  @usableFromInline var slab: ByteSlab
  @usableFromInline var start: Int32
  @usableFromInline var length: Int32

  /// A datagram holding a copy of `bytes`.
  @inlinable public init(_ bytes: [UInt8]) {
    self = bytes.withUnsafeBytes { DatagramBytes(copying: $0) }
  }

  /// A datagram holding a copy of `bytes`.
  @inlinable public init(copying bytes: UnsafeRawBufferPointer) {
    precondition(bytes.count <= Int32.max, "a datagram is shorter than 2 GiB")
    slab = ByteSlab.make(size: bytes.count)
    start = 0
    length = Int32(bytes.count)
    if let from = bytes.baseAddress { slab.base.copyMemory(from: from, byteCount: bytes.count) }
  }

  /// `count` bytes of `slab` from `start`, which must have been written.
  @inlinable public init(slab: ByteSlab, start: Int, count: Int) {
    precondition(
      start >= 0 && count >= 0 && start <= slab.size - count && slab.size <= Int32.max,
      "a datagram must lie inside its slab")
    self.slab = slab
    self.start = Int32(start)
    length = Int32(count)
  }

  /// Calls `body` with the datagram's bytes, valid only during the call.
  @inlinable public func withUnsafeBytes<Result, Failure>(
    _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    try withExtendedLifetime(slab) { () throws(Failure) -> Result in
      try body(UnsafeRawBufferPointer(start: slab.base + Int(start), count: Int(length)))
    }
  }

  /// A copy of the bytes as an array.
  @inlinable public var array: [UInt8] { withUnsafeBytes { Array($0) } }
}

extension DatagramBytes: RandomAccessCollection, MutableCollection {
  @inlinable public var startIndex: Int { 0 }
  @inlinable public var endIndex: Int { Int(length) }

  /// A byte. Setting one first gives the datagram a slab of its own unless nothing else refers
  /// to its slab: slabs are shared with other datagrams, whose bytes never change.
  @inlinable public subscript(position: Int) -> UInt8 {
    get {
      precondition(position >= 0 && position < Int(length), "index out of range")
      return withExtendedLifetime(slab) { slab.base.load(fromByteOffset: Int(start) + position, as: UInt8.self) }
    }
    set {
      precondition(position >= 0 && position < Int(length), "index out of range")
      if !isKnownUniquelyReferenced(&slab) { self = DatagramBytes(array) }
      slab.base.storeBytes(of: newValue, toByteOffset: Int(start) + position, as: UInt8.self)
    }
  }

  @inlinable public func withContiguousStorageIfAvailable<Result>(
    _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result? {
    try withExtendedLifetime(slab) {
      try body(
        UnsafeBufferPointer(start: (slab.base + Int(start)).assumingMemoryBound(to: UInt8.self), count: Int(length)))
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

/// A block of memory that a reader fills with datagrams and hands out in ranges
/// (``DatagramBytes``), then reuses once no datagram refers to it. Made by ``make(size:)``, one
/// allocation: the bytes follow the object. Made by ``makeLarge(size:)``, a mapping of its own.
///
/// A slab is written by one thread, and only where no datagram has been handed out yet (before
/// the range is published through a lock, or when the slab is unused).
public final class ByteSlab: ManagedBuffer<ByteSlabHeader, UInt8> {
  /// A slab of `size` bytes (uninitialised), the bytes after the object.
  @inlinable public static func make(size: Int) -> ByteSlab {
    // `create` makes an instance of the class it is called on.
    let made = create(minimumCapacity: max(size, 1)) { buffer in
      ByteSlabHeader(size: size, base: buffer.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) })
    }
    return unsafeDowncast(made, to: ByteSlab.self)
  }

  /// The alignment and size unit of the slabs ``makeLarge(size:)`` maps: a transparent huge page.
  public static let hugePageSize = 2 << 20

  /// A slab of `size` bytes (uninitialised) for a reader that fills many: on Linux, when `size`
  /// is a multiple of ``hugePageSize``, a mapping of its own aligned to one and advised for
  /// transparent huge pages (`MADV_HUGEPAGE`), so that first touching it takes one page fault per
  /// 2 MiB instead of one per 4 KiB. A replay fills a few hundred MiB of slabs before it reuses
  /// them: 41,000 page faults for the steady capture of the divergent benchmark, 4,000 this way,
  /// its system time 107 → 63 ms (docs/performance.md). Elsewhere, ``make(size:)``.
  public static func makeLarge(size: Int) -> ByteSlab {
    #if os(Linux)
      if size > 0, size % hugePageSize == 0, let base = mapAligned(size) {
        let made = create(minimumCapacity: 0) { _ in ByteSlabHeader(size: size, base: base, mappedLength: size) }
        return unsafeDowncast(made, to: ByteSlab.self)
      }
    #endif
    return make(size: size)
  }

  #if os(Linux)
    /// `size` bytes mapped at an address aligned to ``hugePageSize``, advised for huge pages;
    /// nil if the mapping fails. Maps one huge page more than asked and unmaps what lies outside
    /// the aligned range.
    private static func mapAligned(_ size: Int) -> UnsafeMutableRawPointer? {
      let length = size + hugePageSize
      guard let raw = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        raw != MAP_FAILED
      else { return nil }
      let address = Int(bitPattern: raw)
      let aligned = (address + hugePageSize - 1) & ~(hugePageSize - 1)
      if aligned > address { munmap(raw, aligned - address) }
      let tail = address + length - (aligned + size)
      if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + size), tail) }
      let base = UnsafeMutableRawPointer(bitPattern: aligned)!
      // Advice only: without transparent huge pages the mapping works as any other.
      _ = madvise(base, size, MADV_HUGEPAGE)
      return base
    }
  #endif

  deinit {
    let (base, mapped) = withUnsafeMutablePointerToHeader { ($0.pointee.base, $0.pointee.mappedLength) }
    if mapped > 0 { munmap(base, mapped) }
  }

  /// How many bytes it holds. Read through its pointer: `header` is a stored property of a
  /// class, each read of it checked for exclusive access at run time (`callgrind`: 90
  /// instructions a frame read from a capture).
  @inlinable public var size: Int { withUnsafeMutablePointerToHeader { $0.pointee.size } }

  /// Its first byte; stable for the slab's life.
  @inlinable public var base: UnsafeMutableRawPointer { withUnsafeMutablePointerToHeader { $0.pointee.base } }

  /// Whether `slab` is referred to by nothing but the variable passed: no datagram of it is
  /// alive on any thread, so its bytes may be written again. Reference counts are atomic, and
  /// a datagram's last release happens after its last read.
  public static func isUnused(_ slab: inout ByteSlab) -> Bool {
    isKnownUniquelyReferenced(&slab)
  }
}

/// A ``ByteSlab``'s size and where its bytes are: after the object, or in a mapping of its own
/// (`mappedLength` bytes, unmapped when the slab goes).
public struct ByteSlabHeader {
  public let size: Int
  public let base: UnsafeMutableRawPointer
  public let mappedLength: Int

  @inlinable init(size: Int, base: UnsafeMutableRawPointer, mappedLength: Int = 0) {
    self.size = size
    self.base = base
    self.mappedLength = mappedLength
  }
}
