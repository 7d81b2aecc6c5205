import NtstatWire

/// Reads libntstat's recordings (`ntstat-xnu-<version>.bin`): records of `u32 seconds,
/// u32 length` (host order, little-endian on every Mac it ran on) followed by `length` bytes of
/// one datagram, both directions mixed. The direction is not recorded; it follows from the
/// message type (requests are 1001–1999). Does no I/O.
public struct LegacyRecordingDecoder: Sendable {
  /// Largest datagram accepted (libntstat read into 2 KiB buffers; ntstat messages fit in 64 KiB).
  public static let maximumLength = 1 << 16
  public private(set) var consumed: UInt64 = 0
  private var pending: [UInt8] = []

  public init() {}

  /// Feeds bytes; appends every complete record as a frame (interface 0).
  public mutating func push(_ input: UnsafeRawBufferPointer, into frames: inout [CapturedFrame]) throws {
    pending += input
    var offset = 0
    defer {
      pending.removeFirst(offset)
    }
    while pending.count - offset >= 8 {
      let seconds =
        UInt32(pending[offset]) | UInt32(pending[offset + 1]) << 8 | UInt32(pending[offset + 2]) << 16
        | UInt32(pending[offset + 3]) << 24
      let length = Int(
        UInt32(pending[offset + 4]) | UInt32(pending[offset + 5]) << 8 | UInt32(pending[offset + 6]) << 16
          | UInt32(pending[offset + 7]) << 24)
      guard length <= Self.maximumLength else {
        throw CaptureError(
          .corrupt, compressedOffset: consumed + 4, uncompressedOffset: consumed + 4,
          reason: "record length \(length) exceeds \(Self.maximumLength): not a libntstat recording, or damaged")
      }
      guard pending.count - offset - 8 >= length else { break }
      let bytes = Array(pending[(offset + 8)..<(offset + 8 + length)])
      frames.append(
        CapturedFrame(
          timestamp: UInt64(seconds) * 1_000_000_000, direction: Self.direction(of: bytes), bytes: bytes))
      offset += 8 + length
      consumed += UInt64(8 + length)
    }
  }

  /// True when a record is incomplete (call at the end of the input).
  public var hasPartialRecord: Bool { !pending.isEmpty }

  /// Requests (types 1001–1999) went to the kernel; everything else came from it.
  public static func direction(of datagram: [UInt8]) -> Direction {
    guard datagram.count >= 12 else { return .fromKernel }
    let type = UInt32(datagram[8]) | UInt32(datagram[9]) << 8 | UInt32(datagram[10]) << 16 | UInt32(datagram[11]) << 24
    return MessageType(rawValue: type).isRequest ? .toKernel : .fromKernel
  }

  /// The XNU version in a libntstat file name (`ntstat-xnu-3789.70.16.bin` → `3789.70.16`).
  public static func xnuVersion(fromFileName name: String) -> XNUVersion? {
    let base = name.split(separator: "/").last.map(String.init) ?? name
    guard let range = base.range(of: "xnu-") else { return nil }
    let digits = base[range.upperBound...].prefix { $0.isNumber || $0 == "." }
    return XNUVersion(String(digits.hasSuffix(".") ? digits.dropLast() : digits))
  }
}
