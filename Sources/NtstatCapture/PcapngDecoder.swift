import NtstatWire

/// Parses a pcapng byte stream incrementally into ``CaptureRecord``s; does no I/O.
///
/// The stream is written into slabs of memory (``ByteSlab``) and parsed where it lies: a frame's
/// bytes are a range of a slab (``DatagramBytes``), not an array of their own. A slab is reused
/// once no frame of it is alive, so a long replay allocates, copies and frees nothing per frame
/// and touches the same pages over and over. Memory is what the frames alive hold, in whole
/// slabs, plus one slab being written; an incomplete block waits at the end of the slab until the
/// rest arrives. Unknown block types and options are skipped. Frames of interfaces that are not
/// ntstat's link type are counted in ``foreignFrames`` and not returned.
///
/// Not copyable: two copies would write into the same slab, over each other's frames.
public struct PcapngDecoder: ~Copyable {
  /// A slab's size: at least the largest block, so that an incomplete block always fits in a new
  /// one, and a multiple of a huge page, so that it is mapped as huge pages
  /// (``ByteSlab/makeLarge(size:)``).
  static let slabCapacity = max(PcapngFormat.maximumBlockLength, ByteSlab.hugePageSize)
  /// Less room than this left in a slab, the next bytes go to a new one (zstd writes in pieces
  /// of up to 128 KiB, and many tiny writes at a slab's end would cost more than the move).
  static let minimumSpace = 64 << 10
  /// Slab bytes kept for reuse: what a replay holds at once (a zstd frame of up to 32 MiB being
  /// decoded, one waiting, one being replayed: three slabs for whole frames, or 50 slabs of
  /// 2 MiB) with room to spare. Past it, slabs are freed.
  static let pooledBytes = 512 << 20
  /// The size of the slabs whole zstd frames are decoded into (``wholeFrameSpace(capacity:)``),
  /// unless a frame needs more.
  let frameSlabSize: Int

  /// Bytes of the stream fully parsed (the offset of the next block).
  public private(set) var consumed: UInt64 = 0
  /// Enhanced/simple packet blocks skipped because their interface is not an ntstat one.
  public private(set) var foreignFrames: UInt64 = 0
  /// The slab being written: bytes before `parsed` are parsed blocks, `parsed..<filled` an
  /// incomplete block, and from `filled` on the slab is free. Bytes before `filled` are never
  /// written again while this slab is current: frames handed out point into them.
  private var slab: ByteSlab?
  private var parsed = 0
  private var filled = 0
  /// Every slab allocated (up to ``pooledBytes`` of them), the current one among them.
  private var pool: [ByteSlab] = []
  private var pooled = 0
  /// Everything parsing changes, as it was at ``wholeFrameSpace(capacity:)``, until
  /// ``wholeFrameEnded()``: the frame may have to be written again.
  private var beforeWholeFrame: Checkpoint?

  private struct Checkpoint {
    var slab: ByteSlab?
    var parsed: Int
    var filled: Int
    var consumed: UInt64
    var foreignFrames: UInt64
    var bigEndian: Bool
    var inSection: Bool
    var interfaces: [CaptureInterface]
  }
  private var bigEndian = false
  private var inSection = false
  private var interfaces: [CaptureInterface] = []

  public init() { self.init(frameSlabSize: Self.slabCapacity + CaptureStreamReader.defaultUnsizedFrameRoom) }

  /// `frameSlabSize`: see ``frameSlabSize``, rounded up to a huge page.
  init(frameSlabSize: Int) {
    self.frameSlabSize = Self.wholeHugePages(frameSlabSize)
  }

  /// Continues at another block boundary of the same section (after a seek).
  mutating func restart(at offset: UInt64) {
    parsed = filled
    consumed = offset
  }

  /// True when bytes of an incomplete block are waiting.
  public var hasPartialBlock: Bool { filled > parsed }

  /// Feeds the next bytes of the stream and appends every record completed by them.
  public mutating func push(
    _ input: UnsafeRawBufferPointer, into records: inout [CaptureRecord]
  ) throws(CaptureError) {
    var input = input
    while !input.isEmpty {
      let space = writableSpace()
      let count = min(space.count, input.count)
      space.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: count)
      input = UnsafeRawBufferPointer(rebasing: input[count...])
      try didWrite(count, into: &records)
    }
  }

  /// Where the next bytes of the stream are to be written (at least one byte, usually
  /// ``minimumSpace`` or more); then call ``didWrite(_:into:)`` or ``didWriteUnparsed(_:)``.
  mutating func writableSpace() -> UnsafeMutableRawBufferPointer {
    if let slab, slab.size - filled >= Self.minimumSpace || (parsed == 0 && filled < slab.size) {
      return UnsafeMutableRawBufferPointer(start: slab.base + filled, count: slab.size - filled)
    }
    // With room after the incomplete block whatever its size, so that no write is ever offered
    // nothing.
    return spaceInFreeSlab(capacity: max(Self.slabCapacity, filled - parsed + Self.minimumSpace))
  }

  /// The free part of a slab of at least `capacity` bytes that no frame refers to (or a new
  /// one), made the slab being written, with the incomplete block moved to its start.
  private mutating func spaceInFreeSlab(capacity: Int) -> UnsafeMutableRawBufferPointer {
    let next = freeSlab(capacity: capacity)
    if let slab, filled > parsed {
      next.base.copyMemory(from: slab.base + parsed, byteCount: filled - parsed)
    }
    (slab, parsed, filled) = (next, 0, filled - parsed)
    return UnsafeMutableRawBufferPointer(start: next.base + filled, count: next.size - filled)
  }

  /// Where a whole zstd frame of up to `capacity` bytes is to be written, in one piece: the
  /// rest of the slab being written if it has that room, or else a slab of ``frameSlabSize``
  /// (or more if need be) with the incomplete block moved to its start, as ``writableSpace()``
  /// does. Then call ``didWrite(_:into:)`` as it is written, and at its end
  /// ``wholeFrameEnded()``, or ``abandonWholeFrameSpace()`` to undo it all. At least
  /// `capacity` bytes; most often more.
  mutating func wholeFrameSpace(capacity: Int) -> UnsafeMutableRawBufferPointer {
    beforeWholeFrame = Checkpoint(
      slab: slab, parsed: parsed, filled: filled, consumed: consumed, foreignFrames: foreignFrames,
      bigEndian: bigEndian, inSection: inSection, interfaces: interfaces)
    if let slab, slab.size - filled >= capacity {
      return UnsafeMutableRawBufferPointer(start: slab.base + filled, count: slab.size - filled)
    }
    return spaceInFreeSlab(capacity: max(frameSlabSize, Self.wholeHugePages(filled - parsed + capacity)))
  }

  /// `bytes` rounded up to a whole number of huge pages, the unit ``ByteSlab/makeLarge(size:)``
  /// maps.
  static func wholeHugePages(_ bytes: Int) -> Int {
    (bytes + ByteSlab.hugePageSize - 1) & ~(ByteSlab.hugePageSize - 1)
  }

  /// Back to where the stream was before ``wholeFrameSpace(capacity:)``, as if nothing of the
  /// frame had been written or parsed: it did not fit, and is to be written again in pieces.
  mutating func abandonWholeFrameSpace() {
    guard let before = beforeWholeFrame else { return }
    (slab, parsed, filled, consumed) = (before.slab, before.parsed, before.filled, before.consumed)
    (foreignFrames, bigEndian, inSection, interfaces) =
      (before.foreignFrames, before.bigEndian, before.inSection, before.interfaces)
    beforeWholeFrame = nil
  }

  /// The frame begun with ``wholeFrameSpace(capacity:)`` is written and parsed for good.
  mutating func wholeFrameEnded() {
    beforeWholeFrame = nil
  }

  /// `count` bytes were written at ``writableSpace()``: parses every block they complete.
  mutating func didWrite(_ count: Int, into records: inout [CaptureRecord]) throws(CaptureError) {
    filled += count
    guard let slab else { return }
    while true {
      let available = filled - parsed
      let block = UnsafeRawBufferPointer(start: slab.base + parsed, count: available)
      guard let length = try blockLength(block), length <= available else { return }
      try parseBlock(slab, at: parsed, length: length, into: &records)
      parsed += length
      consumed += UInt64(length)
    }
  }

  /// `count` bytes were written at ``writableSpace()`` and are to be dropped unparsed (what
  /// follows a damaged block in the same zstd frame).
  mutating func didWriteUnparsed(_ count: Int) {
    filled += count
    parsed = filled
  }

  /// A slab of at least `capacity` bytes that no frame refers to any more, or a new one.
  private mutating func freeSlab(capacity: Int) -> ByteSlab {
    // The smallest that fits: a frame's slab taken for a piece leaves the next frame none.
    var best: Int?
    for index in pool.indices
    where pool[index].size >= capacity && best.map({ pool[index].size < pool[$0].size }) ?? true {
      if ByteSlab.isUnused(&pool[index]) { best = index }
    }
    if let best { return pool[best] }
    let fresh = ByteSlab.makeLarge(size: capacity)
    if pooled + capacity <= Self.pooledBytes {
      pool.append(fresh)
      pooled += capacity
    }
    return fresh
  }

  /// The total length of the block starting at `p`, or nil if fewer than 12 bytes are there.
  private func blockLength(_ p: UnsafeRawBufferPointer) throws(CaptureError) -> Int? {
    guard p.count >= 12 else { return nil }
    let type = UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))
    var big = bigEndian
    if type == PcapngFormat.sectionHeaderType {
      let magic = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
      if magic == PcapngFormat.byteOrderMagic.littleEndian {
        big = false
      } else if magic == PcapngFormat.byteOrderMagic.bigEndian {
        big = true
      } else {
        throw corrupt(0, "section header with an unknown byte-order magic")
      }
    } else if !inSection {
      throw CaptureError(
        .notACapture, uncompressedOffset: consumed, reason: "the stream does not start with a pcapng section header")
    }
    let raw = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    let length = Int(big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw))
    guard length >= 12, length % 4 == 0 else {
      throw corrupt(4, "block length \(length) is not a multiple of 4 of at least 12")
    }
    guard length <= PcapngFormat.maximumBlockLength else {
      throw CaptureError(
        .limitExceeded, uncompressedOffset: consumed + 4,
        reason: "block of \(length) bytes exceeds the \(PcapngFormat.maximumBlockLength)-byte limit")
    }
    return length
  }

  private func corrupt(_ at: Int, _ reason: String) -> CaptureError {
    CaptureError(.corrupt, uncompressedOffset: consumed + UInt64(at), reason: reason)
  }

  /// Parses the block of `length` bytes at `offset` of `slab`.
  private mutating func parseBlock(
    _ slab: ByteSlab, at offset: Int, length: Int, into records: inout [CaptureRecord]
  ) throws(CaptureError) {
    let p = UnsafeRawBufferPointer(start: slab.base + offset, count: length)
    var r = Reader(bytes: p, bigEndian: bigEndian)
    let type = r.u32(0)
    if type == PcapngFormat.sectionHeaderType {
      bigEndian = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == PcapngFormat.byteOrderMagic.bigEndian
      r.bigEndian = bigEndian
    }
    guard r.u32(length - 4) == UInt32(length) else {
      throw corrupt(length - 4, "trailing block length does not match the leading one (\(length))")
    }
    let body = 8..<(length - 4)
    switch type {
    case PcapngFormat.sectionHeaderType:
      guard body.count >= 16 else { throw corrupt(8, "section header too short") }
      let major = r.u16(12)
      guard major == 1 else { throw corrupt(12, "pcapng major version \(major) is not 1") }
      inSection = true
      interfaces = []
      var metadata = CaptureMetadata()
      metadata.recorderName = ""
      try forEachOption(r, from: 24, to: body.upperBound) { code, value in
        let text = String(decoding: value, as: UTF8.self)
        switch code {
        case PcapngFormat.comment:
          if let equals = text.firstIndex(of: "=") {
            metadata.apply(key: String(text[..<equals]), value: String(text[text.index(after: equals)...]))
          }
        case PcapngFormat.shbHardware: if metadata.hardware == nil { metadata.hardware = text }
        case PcapngFormat.shbUserApplication: metadata.extra["shb_userappl"] = text
        case PcapngFormat.shbOS: metadata.extra["shb_os"] = text
        default: break
        }
      }
      if metadata.recorderName.isEmpty { metadata.recorderName = metadata.extra["shb_userappl"] ?? "unknown" }
      records.append(.section(metadata))
    case PcapngFormat.interfaceDescriptionType:
      guard body.count >= 8 else { throw corrupt(8, "interface description too short") }
      var name: String?
      var description: String?
      var perSecond: UInt64 = 1_000_000
      try forEachOption(r, from: 16, to: body.upperBound) { code, value in
        switch code {
        case PcapngFormat.ifName: name = String(decoding: value, as: UTF8.self)
        case PcapngFormat.ifDescription: description = String(decoding: value, as: UTF8.self)
        case PcapngFormat.ifTimestampResolution:
          if let byte = value.first {
            let exponent = UInt64(byte & 0x7f)
            if byte & 0x80 == 0 {
              perSecond = exponent <= 19 ? (0..<exponent).reduce(1) { acc, _ in acc * 10 } : 0
            } else {
              perSecond = exponent < 64 ? 1 << exponent : 0
            }
          }
        default: break
        }
      }
      guard perSecond > 0 else { throw corrupt(16, "unsupported if_tsresol") }
      let interface = CaptureInterface(
        linkType: r.u16(8), name: name, description: description, timestampsPerSecond: perSecond)
      interfaces.append(interface)
      records.append(.interface(interface))
    case PcapngFormat.enhancedPacketType:
      guard body.count >= 20 else { throw corrupt(8, "enhanced packet block too short") }
      let interfaceID = r.u32(8)
      guard Int(interfaceID) < interfaces.count else {
        throw corrupt(8, "packet for interface \(interfaceID), but only \(interfaces.count) described")
      }
      let captured = Int(r.u32(20))
      let dataEnd = 28 + captured
      guard dataEnd <= body.upperBound else {
        throw corrupt(20, "captured length \(captured) runs past the block")
      }
      // Its two numbers, not the interface: a copy of it retained and released its names.
      let (linkType, perSecond) = interfaces.withUnsafeBufferPointer {
        ($0[Int(interfaceID)].linkType, $0[Int(interfaceID)].timestampsPerSecond)
      }
      guard linkType == PcapngFormat.ntstatLinkType else {
        foreignFrames += 1
        return
      }
      let ticks = UInt64(r.u32(12)) << 32 | UInt64(r.u32(16))
      let optionsStart = (dataEnd + 3) & ~3
      let direction: Direction
      let drops: UInt64
      // Fast path for what ntstat writes: exactly epb_flags then opt_endofopt.
      if body.upperBound - optionsStart == 12, r.u16(optionsStart) == PcapngFormat.epbFlags,
        r.u16(optionsStart + 2) == 4, r.u32(optionsStart + 8) == 0
      {
        direction = r.u32(optionsStart + 4) & 3 == 2 ? .toKernel : .fromKernel
        drops = 0
      } else {
        (direction, drops) = try packetOptions(r, from: optionsStart, to: body.upperBound)
      }
      // Noted here, where the bytes were just written and are still in this thread's cache;
      // read where they lie, and the frame made whole and appended (a frame noted through its
      // bytes once made was copied into the records, its slab retained and released).
      let contexts = PackedContexts(
        datagram: UnsafeRawBufferPointer(start: slab.base + offset + 28, count: captured), direction: direction)
      records.append(
        .frame(
          CapturedFrame(
            timestamp: nanoseconds(ticks, perSecond), direction: direction,
            interfaceID: interfaceID, bytes: DatagramBytes(slab: slab, start: offset + 28, count: captured),
            dropsBefore: drops, packedContexts: contexts)))
    case PcapngFormat.interfaceStatisticsType:
      guard body.count >= 12 else { throw corrupt(8, "interface statistics too short") }
      let interfaceID = r.u32(8)
      let perSecond =
        Int(interfaceID) < interfaces.count ? interfaces[Int(interfaceID)].timestampsPerSecond : 1_000_000_000
      var statistics = CaptureStatistics()
      try forEachOption(r, from: 20, to: body.upperBound) { code, value in
        let v = Reader(bytes: value, bigEndian: r.bigEndian)
        guard value.count == 8 else { return }
        switch code {
        case PcapngFormat.isbStartTime:
          statistics.startTime = nanoseconds(UInt64(v.u32(0)) << 32 | UInt64(v.u32(4)), perSecond)
        case PcapngFormat.isbEndTime:
          statistics.endTime = nanoseconds(UInt64(v.u32(0)) << 32 | UInt64(v.u32(4)), perSecond)
        case PcapngFormat.isbInterfaceReceived: statistics.framesReceived = v.u64(0)
        case PcapngFormat.isbInterfaceDropped: statistics.drops = v.u64(0)
        case PcapngFormat.isbUserDelivered: statistics.framesDelivered = v.u64(0)
        default: break
        }
      }
      records.append(.statistics(interfaceID: interfaceID, statistics))
    default:
      break  // unknown block: skipped
    }
  }

  /// An enhanced packet block's direction (`epb_flags`) and drop count (`epb_dropcount`). A
  /// function of its own: the variables its closure sets were boxed, and each frame's access
  /// to them checked at run time, even on the fast path that never calls the closure
  /// (`callgrind`: 90 instructions a frame).
  private func packetOptions(
    _ r: Reader, from start: Int, to end: Int
  ) throws(CaptureError) -> (Direction, UInt64) {
    var direction = Direction.fromKernel
    var drops: UInt64 = 0
    try forEachOption(r, from: start, to: end) { code, value in
      if code == PcapngFormat.epbFlags, value.count == 4 {
        let flags = Reader(bytes: value, bigEndian: r.bigEndian).u32(0)
        if flags & 3 == 2 { direction = .toKernel }
      } else if code == PcapngFormat.epbDropCount, value.count == 8 {
        drops = Reader(bytes: value, bigEndian: r.bigEndian).u64(0)
      }
    }
    return (direction, drops)
  }

  /// Walks an options list; a list that runs past its block is corrupt.
  private func forEachOption(
    _ r: Reader, from start: Int, to end: Int, _ body: (UInt16, UnsafeRawBufferPointer) -> Void
  ) throws(CaptureError) {
    var offset = start
    while offset + 4 <= end {
      let code = r.u16(offset)
      let length = Int(r.u16(offset + 2))
      if code == PcapngFormat.endOfOptions { return }
      guard offset + 4 + length <= end else {
        throw corrupt(offset + 2, "option \(code) of length \(length) runs past its block")
      }
      body(code, UnsafeRawBufferPointer(rebasing: r.bytes[(offset + 4)..<(offset + 4 + length)]))
      offset += 4 + ((length + 3) & ~3)
    }
  }

  private func nanoseconds(_ ticks: UInt64, _ perSecond: UInt64) -> UInt64 {
    if perSecond == 1_000_000_000 { return ticks }
    // Microseconds (pcapng's default), milliseconds, …: a multiplication, where the general
    // case below is a call to a 128-bit division for every frame.
    if 1_000_000_000 % perSecond == 0 {
      let (product, overflow) = ticks.multipliedReportingOverflow(by: 1_000_000_000 / perSecond)
      return overflow ? .max : product
    }
    let (high, low) = ticks.multipliedFullWidth(by: 1_000_000_000)
    guard high < perSecond else { return .max }
    return perSecond.dividingFullWidth((high, low)).quotient
  }
}

/// Reads integers of either byte order; callers have checked the ranges.
struct Reader {
  let bytes: UnsafeRawBufferPointer
  var bigEndian: Bool
  func u16(_ at: Int) -> UInt16 {
    let raw = bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)
    return bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
  }
  func u32(_ at: Int) -> UInt32 {
    let raw = bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)
    return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
  }
  func u64(_ at: Int) -> UInt64 {
    let raw = bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)
    return bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
  }
}
