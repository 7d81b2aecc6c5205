/// pcapng blocks built by hand, as other tools write them, little-endian: for tests of what the
/// reader makes of captures this project's writer never produces.
package enum PcapngBlocks {
  package static func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
  package static func le16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }

  /// A block of `type` around `body`, padded to 32 bits, its length before and after.
  package static func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
    let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
    let length = UInt32(12 + padded.count)
    return le32(type) + le32(length) + padded + le32(length)
  }

  /// A section header of version 1.0, section length unknown.
  package static func sectionHeader() -> [UInt8] {
    block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xFF, count: 8))
  }
}
