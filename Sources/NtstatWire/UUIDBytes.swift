/// A 16-byte `uuid_t` (process, effective, flow and connection UUIDs), kept without Foundation.
public struct UUIDBytes: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The first eight bytes, big-endian (as printed).
  public var high: UInt64
  /// The last eight bytes, big-endian.
  public var low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  /// The all-zero UUID the kernel writes when it has none.
  public static let zero = UUIDBytes(high: 0, low: 0)

  public var isZero: Bool { high == 0 && low == 0 }

  /// Parses `8-4-4-4-12` hexadecimal text; returns nil for anything else.
  public init?(_ text: String) {
    let hex = text.filter { $0 != "-" }
    guard hex.count == 32, text.count == 36 || text.count == 32,
      let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16)
    else { return nil }
    self.init(high: high, low: low)
  }

  /// Upper-case `8-4-4-4-12` form, as `uuidgen` prints. Written straight into the string's
  /// storage: every event printed carries one, so it is on the output path.
  public var description: String {
    String(unsafeUninitializedCapacity: Self.textLength) { writeText(at: $0.baseAddress!) }
  }

  /// The length of ``description``.
  @inlinable public static var textLength: Int { 36 }

  /// ``description``'s bytes, without a `String`: `body` gets them in a buffer on the stack.
  // Inlinable so that it is specialised where it is used: generic across modules, each call
  // instantiated `Result` metadata at run time (`callgrind`: 1.2 % of a `diff`).
  @inlinable public func withText<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.textLength) { buffer in
      _ = writeText(at: buffer.baseAddress!)
      return body(UnsafeRawBufferPointer(buffer))
    }
  }

  /// ``description`` appended as bytes.
  @inlinable public func appendText(to bytes: inout some TextSink) {
    bytes.append(atMost: Self.textLength) { writeText(at: $0) }
  }

  /// Writes ``description``'s ``textLength`` bytes at `buffer` and returns their count: each
  /// byte's two digits at a place fixed in advance, the dashes at theirs. Written out, not as a
  /// loop: a loop that kept a running position and tested for a dash at each byte cost 460
  /// instructions a UUID, and one that worked the place out from the index without a branch
  /// was not unrolled and cost 180 (`callgrind`; a `diff` hashes two UUIDs' text an event).
  @inlinable public func writeText(at buffer: UnsafeMutablePointer<UInt8>) -> Int {
    @inline(__always) func byte(_ word: UInt64, _ shift: UInt64, at place: Int) {
      TextBytes.writeHexByte(UInt8(truncatingIfNeeded: word >> shift), at: buffer + place)
    }
    let dash = UInt8(ascii: "-")
    byte(high, 56, at: 0)
    byte(high, 48, at: 2)
    byte(high, 40, at: 4)
    byte(high, 32, at: 6)
    buffer[8] = dash
    byte(high, 24, at: 9)
    byte(high, 16, at: 11)
    buffer[13] = dash
    byte(high, 8, at: 14)
    byte(high, 0, at: 16)
    buffer[18] = dash
    byte(low, 56, at: 19)
    byte(low, 48, at: 21)
    buffer[23] = dash
    byte(low, 40, at: 24)
    byte(low, 32, at: 26)
    byte(low, 24, at: 28)
    byte(low, 16, at: 30)
    byte(low, 8, at: 32)
    byte(low, 0, at: 34)
    return Self.textLength
  }

  public static func < (lhs: UUIDBytes, rhs: UUIDBytes) -> Bool {
    (lhs.high, lhs.low) < (rhs.high, rhs.low)
  }
}

/// Zero-padded upper-case hexadecimal of `value` in `digits` characters.
func hex(_ value: UInt64, _ digits: Int) -> String {
  let text = String(value, radix: 16, uppercase: true)
  return String(repeating: "0", count: max(0, digits - text.count)) + text
}
