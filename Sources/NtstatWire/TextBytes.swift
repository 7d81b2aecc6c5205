/// Where text is appended as UTF-8 bytes: a byte array, or the output writers' ``TextBuffer``.
/// The formatters (numbers, addresses, UUIDs) are generic over it, so one formatter serves both.
public protocol TextSink {
  mutating func appendByte(_ byte: UInt8)
  mutating func appendBytes(_ bytes: UnsafeRawBufferPointer)
  /// Appends what `write` writes at the pointer it is given, with room for `maxCount` bytes;
  /// `write` returns how many it wrote. One capacity check for a run of small pieces (a JSON
  /// key and its punctuation, a number's digits), where an append each was a call and a check
  /// each.
  mutating func append(atMost maxCount: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Int)
}

extension Array: TextSink where Element == UInt8 {
  @inlinable public mutating func appendByte(_ byte: UInt8) { append(byte) }
  @inlinable public mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }
  @inlinable public mutating func append(atMost maxCount: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Int) {
    let start = count
    append(contentsOf: repeatElement(0, count: maxCount))
    let written = withUnsafeMutableBufferPointer { write($0.baseAddress! + start) }
    precondition(written <= maxCount, "wrote past the room asked for")
    removeLast(maxCount - written)
  }
}

/// Bytes appended through a pointer into memory the buffer manages: no copy-on-write check per
/// append (an array checks its uniqueness and capacity on each, which was a fifth of a JSON
/// Lines replay). A copy shares the memory: only one copy may be written at a time and the
/// owner frees it once (``deallocate()``).
///
/// Public rather than `package`, like ``TextBytes``: the Swift 6.3 compiler does not inline
/// `@inlinable package` members into other modules of the package, so every append from the
/// output writers was a call (a sixth of a JSON Lines replay, `perf`).
public struct TextBuffer: TextSink {
  @usableFromInline var base: UnsafeMutablePointer<UInt8>
  @usableFromInline var capacity: Int
  @usableFromInline var used = 0

  /// An empty buffer with room for `capacity` bytes before it first grows.
  public init(capacity: Int) {
    self.capacity = max(capacity, 16)
    base = .allocate(capacity: self.capacity)
  }

  /// How many bytes the buffer holds.
  public var count: Int { used }
  /// The bytes written so far; valid until the buffer next grows or is freed.
  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: used) }

  /// Appends one byte.
  @inlinable @inline(__always) public mutating func appendByte(_ byte: UInt8) {
    if used == capacity { grow(toHold: 1) }
    base[used] = byte
    used += 1
  }

  /// Appends a copy of `bytes`. Most appends are a few bytes (a literal, a name), which an
  /// inline copy moves for less than the call to `memmove` costs (`callgrind`: 30 instructions
  /// an append of a text replay).
  @inlinable @inline(__always) public mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
    if capacity - used < bytes.count { grow(toHold: bytes.count) }
    if let source = bytes.baseAddress {
      let from = source.assumingMemoryBound(to: UInt8.self)
      if bytes.count <= 32 {
        TextBytes.copy(from, count: bytes.count, to: base + used)
      } else {
        (base + used).initialize(from: from, count: bytes.count)
      }
    }
    used += bytes.count
  }

  /// Appends what `write` writes, with room for `maxCount` bytes (``TextSink``).
  @inlinable @inline(__always) public mutating func append(
    atMost maxCount: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Int
  ) {
    commit(write(reserve(maxCount)))
  }

  /// Room for `maxCount` more bytes, to be written at the pointer returned and then counted
  /// with ``commit(_:)``: ``append(atMost:_:)`` without a closure, for writers that fill
  /// several pieces at once.
  @inlinable @inline(__always) public mutating func reserve(_ maxCount: Int) -> UnsafeMutablePointer<UInt8> {
    if capacity - used < maxCount { grow(toHold: maxCount) }
    return base + used
  }

  /// Counts `written` bytes written at the pointer ``reserve(_:)`` returned.
  @inlinable @inline(__always) public mutating func commit(_ written: Int) {
    assert(used + written <= capacity, "wrote past the room reserved")
    used += written
  }

  @usableFromInline mutating func grow(toHold extra: Int) {
    let larger = max(capacity * 2, used + extra)
    let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
    moved.moveInitialize(from: base, count: used)
    base.deallocate()
    (base, capacity) = (moved, larger)
  }

  /// Empties the buffer, keeping its memory.
  public mutating func removeAll() { used = 0 }

  /// Frees the buffer's memory; no copy of it may be used after.
  public func deallocate() { base.deallocate() }
}

/// Pieces of text written one after another into room reserved once (``TextBuffer/reserve(_:)``),
/// with no capacity check or call per piece: an output line made of a dozen pieces, each
/// appended on its own, spent more on appending than on formatting (`callgrind`, text replay).
/// The writer reserves room for the most its pieces can take.
public struct TextRun {
  @usableFromInline let start: UnsafeMutablePointer<UInt8>
  @usableFromInline var written = 0
  /// How many bytes have been written.
  @inlinable public var count: Int { written }

  @inlinable public init(at start: UnsafeMutablePointer<UInt8>) { self.start = start }

  @inlinable @inline(__always) public mutating func put(byte: UInt8) {
    start[written] = byte
    written &+= 1
  }

  @inlinable @inline(__always) public mutating func put(_ text: StaticString) {
    TextBytes.copy(text.utf8Start, count: text.utf8CodeUnitCount, to: start + written)
    written &+= text.utf8CodeUnitCount
  }

  /// ASCII `text` in upper case.
  @inlinable public mutating func put(uppercased text: StaticString) {
    for index in 0..<text.utf8CodeUnitCount {
      let byte = text.utf8Start[index]
      start[written &+ index] = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte &- 0x20 : byte
    }
    written &+= text.utf8CodeUnitCount
  }

  /// A string's UTF-8 bytes (`text.utf8.count` of room).
  @inlinable @inline(__always) public mutating func put(string text: String) {
    var text = text
    text.withUTF8 { utf8 in
      if let base = utf8.baseAddress { TextBytes.copy(base, count: utf8.count, to: start + written) }
      written &+= utf8.count
    }
  }

  /// Decimal digits (20 of room).
  @inlinable @inline(__always) public mutating func put(decimal value: UInt64) {
    written &+= TextBytes.writeDecimal(value, at: start + written)
  }

  /// What `write` writes at the next byte, returning how many.
  @inlinable @inline(__always) public mutating func put(_ write: (UnsafeMutablePointer<UInt8>) -> Int) {
    written &+= write(start + written)
  }
}

extension TextBuffer {
  /// Appends the pieces `body` puts in a ``TextRun``, with room for `maxCount` bytes reserved
  /// for them all.
  @inlinable @inline(__always) public mutating func appendRun(atMost maxCount: Int, _ body: (inout TextRun) -> Void) {
    var run = TextRun(at: reserve(maxCount))
    body(&run)
    precondition(run.count <= maxCount, "a text run wrote past the room reserved for it")
    commit(run.count)
  }
}

/// Numbers and text appended as UTF-8 bytes, without the `String`s that interpolation allocates:
/// the output writers (JSON Lines, CSV, text) print millions of numbers and addresses, and the
/// `description`s of addresses are these bytes made into a `String` once.
public enum TextBytes {
  /// Decimal digits.
  @inlinable public static func appendDecimal(_ value: UInt64, to bytes: inout some TextSink) {
    bytes.append(atMost: 20) { writeDecimal(value, at: $0) }
  }

  /// Writes `value`'s decimal digits (20 at most) at `out` and returns how many: the length is
  /// found first (``decimalCount(_:)``), so the digits go straight to their places, two at a
  /// time from a table (one division per pair; a JSON Lines replay writes a million numbers a
  /// minute of capture).
  @inlinable @inline(__always) public static func writeDecimal(
    _ value: UInt64, at out: UnsafeMutablePointer<UInt8>
  )
    -> Int
  {
    let count = decimalCount(value)
    var rest = value
    var index = count
    while rest >= 100 {
      index &-= 2
      writeTwoDigits(Int(truncatingIfNeeded: rest % 100), at: out + index)
      rest /= 100
    }
    if rest >= 10 {
      writeTwoDigits(Int(truncatingIfNeeded: rest), at: out)
    } else {
      out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest)
    }
    return count
  }

  /// How many decimal digits `value` has, in at most five comparisons: a loop over the powers
  /// of ten took one per digit, for each of the two dozen numbers of a JSON line.
  @inlinable @inline(__always) public static func decimalCount(_ value: UInt64) -> Int {
    if value < 100_000_000 {
      if value < 10_000 {
        if value < 100 { return value < 10 ? 1 : 2 }
        return value < 1_000 ? 3 : 4
      }
      if value < 1_000_000 { return value < 100_000 ? 5 : 6 }
      return value < 10_000_000 ? 7 : 8
    }
    if value < 10_000_000_000_000_000 {
      if value < 1_000_000_000_000 {
        if value < 10_000_000_000 { return value < 1_000_000_000 ? 9 : 10 }
        return value < 100_000_000_000 ? 11 : 12
      }
      if value < 100_000_000_000_000 { return value < 10_000_000_000_000 ? 13 : 14 }
      return value < 1_000_000_000_000_000 ? 15 : 16
    }
    if value < 1_000_000_000_000_000_000 { return value < 100_000_000_000_000_000 ? 17 : 18 }
    return value < 10_000_000_000_000_000_000 ? 19 : 20
  }

  /// Writes `value` (0 to 99) as two digits at `out`, from ``digitPairs``.
  @inlinable @inline(__always) public static func writeTwoDigits(_ value: Int, at out: UnsafeMutablePointer<UInt8>) {
    let pairs = digitPairs.utf8Start
    out[0] = pairs[value &* 2]
    out[1] = pairs[value &* 2 &+ 1]
  }

  /// `00` to `99`, for ``writeDecimal(_:at:)``.
  @usableFromInline static let digitPairs: StaticString = """
    00010203040506070809101112131415161718192021222324252627282930313233343536373839\
    40414243444546474849505152535455565758596061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899
    """

  /// Copies `count` bytes with a few word stores, the last one overlapping the one before it
  /// where `count` is not a multiple of the word: for the short pieces of an output line (field
  /// names, addresses) this is cheaper than a call to `memmove` or a loop over the tail.
  @inlinable @inline(__always) public static func copy(
    _ source: UnsafePointer<UInt8>, count: Int, to out: UnsafeMutablePointer<UInt8>
  ) {
    let from = UnsafeRawPointer(source)
    let to = UnsafeMutableRawPointer(out)
    if count >= 8 {
      var index = 0
      while index &+ 8 < count {
        to.storeBytes(
          of: from.loadUnaligned(fromByteOffset: index, as: UInt64.self), toByteOffset: index, as: UInt64.self)
        index &+= 8
      }
      let last = count &- 8
      to.storeBytes(of: from.loadUnaligned(fromByteOffset: last, as: UInt64.self), toByteOffset: last, as: UInt64.self)
    } else if count >= 4 {
      let last = count &- 4
      let head = from.loadUnaligned(as: UInt32.self)
      let tail = from.loadUnaligned(fromByteOffset: last, as: UInt32.self)
      to.storeBytes(of: head, as: UInt32.self)
      to.storeBytes(of: tail, toByteOffset: last, as: UInt32.self)
    } else if count > 0 {
      // One to three bytes: the first, the middle and the last cover them all.
      let middle = count >> 1
      let (first, centre, final) = (source[0], source[middle], source[count &- 1])
      out[0] = first
      out[middle] = centre
      out[count &- 1] = final
    }
  }

  /// Hexadecimal digits without leading zeros (`0` for zero).
  @inlinable public static func appendHex(_ value: UInt64, to bytes: inout some TextSink, uppercase: Bool = false) {
    bytes.append(atMost: 16) { writeHex(value, at: $0, uppercase: uppercase) }
  }

  /// Writes ``appendHex(_:to:uppercase:)``'s digits (16 at most) at `out` and returns how many.
  @inlinable @inline(__always) public static func writeHex(
    _ value: UInt64, at out: UnsafeMutablePointer<UInt8>, uppercase: Bool = false
  ) -> Int {
    let table = hexDigits.utf8Start + (uppercase ? 16 : 0)
    // The first nibble that is not zero, found at once rather than a nibble at a time.
    var shift = value == 0 ? 0 : (63 - value.leadingZeroBitCount) / 4 * 4
    var count = 0
    while shift >= 0 {
      out[count] = table[Int(truncatingIfNeeded: value >> UInt64(shift) & 0xF)]
      count &+= 1
      shift -= 4
    }
    return count
  }

  /// Writes `byte` as two upper-case hexadecimal digits at `out`.
  @inlinable @inline(__always) public static func writeHexByte(_ byte: UInt8, at out: UnsafeMutablePointer<UInt8>) {
    let table = hexDigits.utf8Start + 16
    out[0] = table[Int(byte >> 4)]
    out[1] = table[Int(byte & 0xF)]
  }

  /// Lower-case digits, then upper-case.
  @usableFromInline static let hexDigits: StaticString = "0123456789abcdef0123456789ABCDEF"

  /// Static text.
  @inlinable public static func append(_ text: StaticString, to bytes: inout some TextSink) {
    text.withUTF8Buffer { bytes.appendBytes(UnsafeRawBufferPointer($0)) }
  }

  /// A string's UTF-8 bytes, copied whole.
  @inlinable public static func append(_ text: String, to bytes: inout some TextSink) {
    var text = text
    text.withUTF8 { bytes.appendBytes(UnsafeRawBufferPointer($0)) }
  }

  /// How many bytes come before the first zero (all of them if none is): a C string's length
  /// in a fixed field, found eight bytes at a time (`firstIndex(of:)` went a byte at a time
  /// through the generic collection, most of reading a process name).
  @inlinable public static func lengthBeforeZero(_ bytes: UnsafeRawBufferPointer) -> Int {
    var offset = 0
    while offset + 8 <= bytes.count {
      let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      // A zero byte sets the high bit of its lane here (the classic "has zero byte" test).
      let zeros = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
      if zeros != 0 { return offset + zeros.trailingZeroBitCount / 8 }
      offset += 8
    }
    while offset < bytes.count, bytes[offset] != 0 { offset += 1 }
    return offset
  }

  /// Whether two byte buffers hold the same bytes, compared eight at a time: `elementsEqual`
  /// goes a byte at a time through the generic iterator, which was most of a `diff`'s stream
  /// lookup (`callgrind`).
  @inlinable public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var offset = 0
    while offset + 8 <= a.count {
      if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      {
        return false
      }
      offset += 8
    }
    while offset < a.count {
      if a[offset] != b[offset] { return false }
      offset += 1
    }
    return true
  }

  /// The text `body` appends, as a `String`.
  public static func string(_ body: (inout [UInt8]) -> Void) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(48)
    body(&bytes)
    return String(decoding: bytes, as: UTF8.self)
  }
}
