/// An error found while decoding or encoding ntstat messages.
///
/// Every error names the byte offset in the datagram where it was found and, when known, the type
/// of the message being read. Decoding never traps on malformed input: it throws one of these.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What went wrong.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    let name: String
    /// The input ended before a field or structure was complete.
    public static let truncated = Code(name: "truncated")
    /// A length (header `length`, item `length`, datagram size) disagrees with this family's layout.
    public static let lengthMismatch = Code(name: "length mismatch")
    /// A provider id that the selected layout family does not define.
    public static let unknownProvider = Code(name: "unknown provider")
    /// A field holds a value that cannot be represented (e.g. a 64-bit source ref in a 32-bit family).
    public static let invalidField = Code(name: "invalid field")
    /// A message type that is not valid in this direction or family for the operation asked.
    public static let unsupportedMessage = Code(name: "unsupported message")
    public var description: String { name }
  }

  public var code: Code
  /// Byte offset from the start of the datagram.
  public var offset: Int
  /// The message being decoded or encoded, when the header had been read.
  public var messageType: MessageType?
  /// A human-readable reason.
  public var reason: String

  public init(_ code: Code, offset: Int, messageType: MessageType? = nil, reason: String) {
    self.code = code
    self.offset = offset
    self.messageType = messageType
    self.reason = reason
  }

  public var description: String {
    var text = "\(code) at byte \(offset)"
    if let messageType { text += " in \(messageType)" }
    return text + ": " + reason
  }
}
