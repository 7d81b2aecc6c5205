/// An error reading or writing a capture. Names the file (when known), the compressed byte
/// offset (the zstd frame that failed, or the file offset of an uncompressed capture) and the
/// uncompressed offset (the pcapng byte stream).
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
  public enum Kind: String, Hashable, Sendable {
    /// The input ended inside a block or a zstd frame: everything before was returned.
    case truncated
    /// A checksum, zstd or pcapng structure check failed.
    case corrupt
    /// Not a capture: neither zstd nor pcapng magic, or a pcapng without our interface.
    case notACapture = "not a capture"
    /// A block or value too large for the limits this reader keeps memory within.
    case limitExceeded = "limit exceeded"
    /// The operating system refused (open, read, write, fsync): `errno` is set.
    case io
  }

  /// Damage to the capture itself (truncated or corrupt), after which every record before it
  /// was still returned: a result to report, unlike an I/O failure.
  public var isDamage: Bool { kind == .truncated || kind == .corrupt }

  public var kind: Kind
  public var file: String?
  public var compressedOffset: UInt64?
  public var uncompressedOffset: UInt64?
  public var errno: Int32?
  public var reason: String

  public init(
    _ kind: Kind, file: String? = nil, compressedOffset: UInt64? = nil, uncompressedOffset: UInt64? = nil,
    errno: Int32? = nil, reason: String
  ) {
    self.kind = kind
    self.file = file
    self.compressedOffset = compressedOffset
    self.uncompressedOffset = uncompressedOffset
    self.errno = errno
    self.reason = reason
  }

  public var description: String {
    var text = (file.map { "\($0): " } ?? "") + kind.rawValue
    var at: [String] = []
    if let compressedOffset { at.append("compressed byte \(compressedOffset)") }
    if let uncompressedOffset { at.append("uncompressed byte \(uncompressedOffset)") }
    if !at.isEmpty { text += " at " + at.joined(separator: ", ") }
    return text + ": " + reason
  }
}
