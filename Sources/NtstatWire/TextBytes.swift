/// Numbers and text appended as UTF-8 bytes, without the `String`s that interpolation allocates:
/// the output writers (JSON Lines, CSV, text) print millions of numbers and addresses, and the
/// `description`s of addresses are these bytes made into a `String` once.
package enum TextBytes {
  /// Decimal digits.
  package static func appendDecimal(_ value: UInt64, to bytes: inout [UInt8]) {
    guard value >= 10 else {
      bytes.append(UInt8(ascii: "0") + UInt8(value))
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
      bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
    }
  }

  /// Hexadecimal digits without leading zeros (`0` for zero).
  package static func appendHex(_ value: UInt64, to bytes: inout [UInt8], uppercase: Bool = false) {
    let digits: StaticString = "0123456789abcdef0123456789ABCDEF"
    let base = uppercase ? 16 : 0
    var shift = 60
    while shift > 0, value >> UInt64(shift) == 0 { shift -= 4 }
    digits.withUTF8Buffer { table in
      while shift >= 0 {
        bytes.append(table[base + Int(value >> UInt64(shift) & 0xF)])
        shift -= 4
      }
    }
  }

  /// The text `body` appends, as a `String`.
  package static func string(_ body: (inout [UInt8]) -> Void) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(48)
    body(&bytes)
    return String(decoding: bytes, as: UTF8.self)
  }
}
