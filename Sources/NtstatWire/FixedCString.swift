/// A fixed-size C `char[N]` field (`pname`, `cc_algo`, interface names, domain names).
///
/// Holds the field's bytes with trailing zero bytes removed, so that bytes after the first NUL
/// survive a decode/encode round trip exactly; ``string`` is the text before the first NUL.
public struct FixedCString: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
  /// The field's bytes without its trailing zeros.
  public var bytes: [UInt8]

  public init(bytes: [UInt8]) {
    var bytes = bytes
    while bytes.last == 0 { bytes.removeLast() }
    self.bytes = bytes
  }

  public init(_ string: String) {
    self.init(bytes: Array(string.utf8))
  }

  public init(stringLiteral value: String) {
    self.init(value)
  }

  init(field: UnsafeRawBufferPointer) {
    var end = field.count
    while end > 0, field[end - 1] == 0 { end -= 1 }
    bytes = end == 0 ? [] : Array(field[0..<end])
  }

  /// The text up to the first NUL, decoded as UTF-8 (invalid sequences become U+FFFD).
  public var string: String {
    let terminated = bytes.firstIndex(of: 0).map { bytes[..<$0] } ?? bytes[...]
    return String(decoding: terminated, as: UTF8.self)
  }

  public var description: String { string }
}
