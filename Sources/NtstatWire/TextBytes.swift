/// Where text is appended as UTF-8 bytes: a byte array, or the output writers' ``TextBuffer``.
/// The formatters (numbers, addresses, UUIDs) are generic over it, so one formatter serves both.
public protocol TextSink {
  mutating func appendByte(_ byte: UInt8)
  mutating func appendBytes(_ bytes: UnsafeRawBufferPointer)
}

extension Array: TextSink where Element == UInt8 {
  @inlinable public mutating func appendByte(_ byte: UInt8) { append(byte) }
  @inlinable public mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }
}

/// Bytes appended through a pointer into memory the buffer manages: no copy-on-write check per
/// append (an array checks its uniqueness and capacity on each, which was a fifth of a JSON
/// Lines replay). A copy shares the memory: only one copy may be written at a time and the
/// owner frees it once (``deallocate()``).
package struct TextBuffer: TextSink {
  @usableFromInline var base: UnsafeMutablePointer<UInt8>
  @usableFromInline var capacity: Int
  @usableFromInline var used = 0

  package init(capacity: Int) {
    self.capacity = max(capacity, 16)
    base = .allocate(capacity: self.capacity)
  }

  package var count: Int { used }
  package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: used) }

  @inlinable @inline(__always) package mutating func appendByte(_ byte: UInt8) {
    if used == capacity { grow(toHold: 1) }
    base[used] = byte
    used += 1
  }

  @inlinable @inline(__always) package mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
    if capacity - used < bytes.count { grow(toHold: bytes.count) }
    if let source = bytes.baseAddress {
      (base + used).initialize(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }
    used += bytes.count
  }

  @usableFromInline mutating func grow(toHold extra: Int) {
    let larger = max(capacity * 2, used + extra)
    let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
    moved.moveInitialize(from: base, count: used)
    base.deallocate()
    (base, capacity) = (moved, larger)
  }

  package mutating func removeAll() { used = 0 }

  package func deallocate() { base.deallocate() }
}

/// Numbers and text appended as UTF-8 bytes, without the `String`s that interpolation allocates:
/// the output writers (JSON Lines, CSV, text) print millions of numbers and addresses, and the
/// `description`s of addresses are these bytes made into a `String` once.
@usableFromInline package enum TextBytes {
  /// Decimal digits.
  @inlinable package static func appendDecimal(_ value: UInt64, to bytes: inout some TextSink) {
    guard value >= 10 else {
      bytes.appendByte(UInt8(ascii: "0") + UInt8(value))
      return
    }
    // Written from the end of 24 bytes on the stack (20 digits at most), then appended in one
    // copy: an append per digit checked the array's uniqueness and capacity each time.
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var start = 24
    var rest = value
    withUnsafeMutableBytes(of: &digits) { buffer in
      while rest > 0 {
        start -= 1
        buffer[start] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
      }
      bytes.appendBytes(UnsafeRawBufferPointer(rebasing: buffer[start...]))
    }
  }

  /// Hexadecimal digits without leading zeros (`0` for zero).
  @inlinable package static func appendHex(_ value: UInt64, to bytes: inout some TextSink, uppercase: Bool = false) {
    let digits: StaticString = "0123456789abcdef0123456789ABCDEF"
    let base = uppercase ? 16 : 0
    var shift = 60
    while shift > 0, value >> UInt64(shift) == 0 { shift -= 4 }
    digits.withUTF8Buffer { table in
      while shift >= 0 {
        bytes.appendByte(table[base + Int(value >> UInt64(shift) & 0xF)])
        shift -= 4
      }
    }
  }

  /// Static text.
  @inlinable package static func append(_ text: StaticString, to bytes: inout some TextSink) {
    text.withUTF8Buffer { bytes.appendBytes(UnsafeRawBufferPointer($0)) }
  }

  /// A string's UTF-8 bytes, copied whole.
  @inlinable package static func append(_ text: String, to bytes: inout some TextSink) {
    var text = text
    text.withUTF8 { bytes.appendBytes(UnsafeRawBufferPointer($0)) }
  }

  /// The text `body` appends, as a `String`.
  package static func string(_ body: (inout [UInt8]) -> Void) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(48)
    body(&bytes)
    return String(decoding: bytes, as: UTF8.self)
  }
}
