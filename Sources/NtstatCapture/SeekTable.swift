/// An index of a compressed capture's zstd frames, written at a clean close in a zstd skippable
/// frame at the very end of the file, so that slicing can start decompressing near the wanted
/// time instead of at the beginning. Readers that do not know it skip it (zstd skips skippable
/// frames). Layout (all little-endian), docs/capture-format.md:
///
///     u32 0x184D2A5E                 skippable-frame magic
///     u32 size                       of what follows
///     entries × 40 bytes:            u64 compressed offset, u64 uncompressed offset,
///                                    u64 first frame timestamp, u64 first frame index,
///                                    u32 frame count, u32 reserved (0)
///     u64 capture length             compressed bytes from the section start to the end of
///                                    this table (equals the file size unless concatenated)
///     u64 header length              compressed bytes of the leading zstd frame(s) that hold
///                                    the section header and interfaces
///     u32 entry count
///     u32 0x4B53544E ("NTSK")        footer magic, last 4 bytes of the file
public struct SeekTable: Hashable, Sendable {
  public struct Entry: Hashable, Sendable {
    public var compressedOffset: UInt64
    public var uncompressedOffset: UInt64
    public var firstTimestamp: UInt64
    public var firstFrameIndex: UInt64
    public var frameCount: UInt32
  }

  public static let skippableMagic: UInt32 = 0x184D_2A5E
  public static let footerMagic: UInt32 = 0x4B53_544E
  /// The footer: capture length, header length, entry count, magic.
  public static let footerSize = 24
  public static let entrySize = 40
  /// Largest table read (a capture of 10 million frames ends about 2.5 million zstd frames).
  public static let maximumEntries = 1 << 24

  public var entries: [Entry]
  public var captureLength: UInt64
  public var headerLength: UInt64

  public init(entries: [Entry], captureLength: UInt64, headerLength: UInt64) {
    self.entries = entries
    self.captureLength = captureLength
    self.headerLength = headerLength
  }

  /// The skippable frame holding the table. `captureLength` must already count the frame itself.
  public func encoded() -> [UInt8] {
    var out = Bytes()
    out.u32(Self.skippableMagic)
    out.u32(UInt32(entries.count * Self.entrySize + Self.footerSize))
    for e in entries {
      out.u64(e.compressedOffset)
      out.u64(e.uncompressedOffset)
      out.u64(e.firstTimestamp)
      out.u64(e.firstFrameIndex)
      out.u32(e.frameCount)
      out.u32(0)
    }
    out.u64(captureLength)
    out.u64(headerLength)
    out.u32(UInt32(entries.count))
    out.u32(Self.footerMagic)
    return out.bytes
  }

  /// Bytes the encoded table takes for `count` entries.
  public static func encodedSize(entries count: Int) -> Int { 8 + count * entrySize + footerSize }

  /// Parses the footer (the last ``footerSize`` bytes of a file): entry count, or nil if absent.
  public static func entryCount(footer: [UInt8]) -> (captureLength: UInt64, headerLength: UInt64, count: Int)? {
    guard footer.count == footerSize else { return nil }
    return footer.withUnsafeBytes { bytes -> (UInt64, UInt64, Int)? in
      let reader = Reader(bytes: bytes, bigEndian: false)
      guard reader.u32(20) == footerMagic else { return nil }
      let count = Int(reader.u32(16))
      guard count <= maximumEntries else { return nil }
      return (reader.u64(0), reader.u64(8), count)
    }
  }

  /// Parses the whole skippable frame (as located from the footer).
  public static func decode(_ bytes: [UInt8]) -> SeekTable? {
    guard bytes.count >= 8 + footerSize else { return nil }
    return bytes.withUnsafeBytes { raw -> SeekTable? in
      let r = Reader(bytes: raw, bigEndian: false)
      guard r.u32(0) == skippableMagic, Int(r.u32(4)) == bytes.count - 8 else { return nil }
      let footer = bytes.count - footerSize
      let count = Int(r.u32(footer + 16))
      guard r.u32(footer + 20) == footerMagic, count <= maximumEntries, 8 + count * entrySize == footer else {
        return nil
      }
      var entries: [Entry] = []
      entries.reserveCapacity(count)
      for index in 0..<count {
        let at = 8 + index * entrySize
        entries.append(
          Entry(
            compressedOffset: r.u64(at), uncompressedOffset: r.u64(at + 8), firstTimestamp: r.u64(at + 16),
            firstFrameIndex: r.u64(at + 24), frameCount: r.u32(at + 32)))
      }
      return SeekTable(entries: entries, captureLength: r.u64(footer), headerLength: r.u64(footer + 8))
    }
  }

  /// The entry to start reading at for a frame at or after `timestamp`: the last zstd frame
  /// whose first frame is not later than it.
  public func entry(atOrBeforeTimestamp timestamp: UInt64) -> Entry? {
    entries.last { $0.firstTimestamp <= timestamp && $0.frameCount > 0 } ?? entries.first { $0.frameCount > 0 }
  }

  /// The entry holding frame number `index`.
  public func entry(containingFrame index: UInt64) -> Entry? {
    entries.last { $0.firstFrameIndex <= index && $0.frameCount > 0 }
  }
}
