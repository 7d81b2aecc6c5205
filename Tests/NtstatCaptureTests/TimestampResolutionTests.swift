import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// Timestamps in whatever resolution an interface declares (`if_tsresol`), as other recorders
/// write them, come out in nanoseconds: resolutions that divide a second into a power of ten of
/// nanoseconds by multiplication, the rest (binary, or finer than a nanosecond) by a full-width
/// division, and a time too large for 64 bits of nanoseconds as the largest.
@Suite struct TimestampResolutionTests {
  /// One interface with `resolution` as its `if_tsresol` byte, and one packet at `ticks`.
  static func capture(resolution: UInt8, ticks: UInt64) -> [UInt8] {
    typealias P = PcapngBlocks
    let interface = P.block(
      PcapngFormat.interfaceDescriptionType,
      P.le16(PcapngFormat.ntstatLinkType) + P.le16(0) + P.le32(0) + P.le16(9) + P.le16(1) + [resolution, 0, 0, 0]
        + P.le32(0))
    let packet = P.block(
      PcapngFormat.enhancedPacketType,
      P.le32(0) + P.le32(UInt32(truncatingIfNeeded: ticks >> 32)) + P.le32(UInt32(truncatingIfNeeded: ticks))
        + P.le32(4) + P.le32(4) + [1, 2, 3, 4])
    return P.sectionHeader() + interface + packet
  }

  static func timestamp(resolution: UInt8, ticks: UInt64) throws -> UInt64? {
    var decoder = PcapngDecoder()
    var records: [CaptureRecord] = []
    try capture(resolution: resolution, ticks: ticks).withUnsafeBytes { try decoder.push($0, into: &records) }
    for case .frame(let frame) in records { return frame.timestamp }
    return nil
  }

  /// (`if_tsresol`, ticks, nanoseconds).
  static let cases: [(resolution: UInt8, ticks: UInt64, nanoseconds: UInt64)] = [
    (9, 1_234_567_891, 1_234_567_891),
    (6, 1_234_567, 1_234_567_000),  // microseconds, pcapng's default
    (3, 1_234, 1_234_000_000),
    (0, 7, 7_000_000_000),
    (0x80 | 10, 1_024, 1_000_000_000),  // 2^-10 s
    (0x80 | 1, 3, 1_500_000_000),
    (12, 5_000_000_000, 5_000_000),  // picoseconds: finer than a nanosecond
    (6, UInt64.max / 1_000, UInt64.max / 1_000 * 1_000),  // the largest that fits
    (6, UInt64.max / 1_000 + 1, UInt64.max),  // past it
    (0, UInt64.max, UInt64.max),
  ]

  @Test func timestampsComeOutInNanoseconds() throws {
    for (resolution, ticks, nanoseconds) in Self.cases {
      #expect(try Self.timestamp(resolution: resolution, ticks: ticks) == nanoseconds, "\(resolution) \(ticks)")
    }
  }
}
