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

  /// Upper-case `8-4-4-4-12` form, as `uuidgen` prints.
  public var description: String {
    let h = hex(high, 16)
    let l = hex(low, 16)
    let all = h + l
    let chars = Array(all)
    return String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-" + String(chars[12..<16]) + "-"
      + String(chars[16..<20]) + "-" + String(chars[20..<32])
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
