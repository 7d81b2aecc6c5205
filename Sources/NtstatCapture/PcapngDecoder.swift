import NtstatWire

/// Parses a pcapng byte stream incrementally into ``CaptureRecord``s; does no I/O.
///
/// Memory is bounded by one block: bytes of an incomplete block wait in a buffer until the rest
/// arrives. Unknown block types and options are skipped. Frames of interfaces that are not
/// ntstat's link type are counted in ``foreignFrames`` and not returned.
public struct PcapngDecoder: Sendable {
  /// A frame's bytes as an array: `Array` of the raw buffer, not of a slice of it, which went
  /// through the generic slice copy (`callgrind`: 13 M fewer instructions for 200,000 frames;
  /// `[UInt8](unsafeUninitializedCapacity:)` was 75 M more, looking up array metadata each time).
  static func copy(_ bytes: Slice<UnsafeRawBufferPointer>) -> [UInt8] {
    Array(UnsafeRawBufferPointer(rebasing: bytes))
  }

  /// Bytes of the stream fully parsed (the offset of the next block).
  public private(set) var consumed: UInt64 = 0
  /// Enhanced/simple packet blocks skipped because their interface is not an ntstat one.
  public private(set) var foreignFrames: UInt64 = 0
  private var pending: [UInt8] = []
  private var bigEndian = false
  private var inSection = false
  private var interfaces: [CaptureInterface] = []

  public init() {}

  /// Continues at another block boundary of the same section (after a seek).
  mutating func restart(at offset: UInt64) {
    pending = []
    consumed = offset
  }

  /// True when bytes of an incomplete block are waiting.
  public var hasPartialBlock: Bool { !pending.isEmpty }

  /// Feeds the next bytes of the stream and appends every record completed by them.
  public mutating func push(
    _ input: UnsafeRawBufferPointer, into records: inout [CaptureRecord]
  ) throws(CaptureError) {
    var input = input
    while !input.isEmpty {
      if pending.isEmpty {
        // Parse whole blocks straight from the input; keep only a tail.
        var offset = 0
        while true {
          let available = input.count - offset
          guard let length = try blockLength(UnsafeRawBufferPointer(rebasing: input[offset...])) else { break }
          guard length <= available else { break }
          try parseBlock(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)]), into: &records)
          offset += length
          consumed += UInt64(length)
        }
        pending.append(contentsOf: input[offset...])
        return
      }
      // Complete the pending block.
      let need: Int
      if let length = try pendingBlockLength() {
        need = length - pending.count
      } else {
        need = 12 - pending.count
      }
      let take = min(max(need, 0), input.count)
      pending.append(contentsOf: input[..<take])
      input = UnsafeRawBufferPointer(rebasing: input[take...])
      if let length = try pendingBlockLength(), pending.count >= length {
        let block = pending
        pending = []
        var parsed: [CaptureRecord] = []
        let outcome: Result<PcapngDecoder, CaptureError> = block.withUnsafeBytes { bytes in
          var copy = self
          do throws(CaptureError) {
            try copy.parseBlock(bytes, into: &parsed)
          } catch {
            return .failure(error)
          }
          return .success(copy)
        }
        self = try outcome.get()
        records += parsed
        consumed += UInt64(length)
      } else if take == 0 {
        break
      }
    }
  }

  /// The total length of the block starting at `p`, or nil if fewer than 12 bytes are there.
  /// ``blockLength(_:)`` of the block being completed from `pending`.
  private func pendingBlockLength() throws(CaptureError) -> Int? {
    let outcome: Result<Int?, CaptureError> = pending.withUnsafeBytes { bytes in
      do throws(CaptureError) { return .success(try blockLength(bytes)) } catch { return .failure(error) }
    }
    return try outcome.get()
  }

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

  private mutating func parseBlock(
    _ p: UnsafeRawBufferPointer, into records: inout [CaptureRecord]
  ) throws(CaptureError) {
    var r = Reader(bytes: p, bigEndian: bigEndian)
    let type = r.u32(0)
    if type == PcapngFormat.sectionHeaderType {
      bigEndian = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == PcapngFormat.byteOrderMagic.bigEndian
      r.bigEndian = bigEndian
    }
    let length = Int(r.u32(4))
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
      let interface = interfaces[Int(interfaceID)]
      guard interface.isNtstat else {
        foreignFrames += 1
        return
      }
      let ticks = UInt64(r.u32(12)) << 32 | UInt64(r.u32(16))
      var direction = Direction.fromKernel
      var drops: UInt64 = 0
      let optionsStart = (dataEnd + 3) & ~3
      // Fast path for what ntstat writes: exactly epb_flags then opt_endofopt.
      if body.upperBound - optionsStart == 12, r.u16(optionsStart) == PcapngFormat.epbFlags,
        r.u16(optionsStart + 2) == 4, r.u32(optionsStart + 8) == 0
      {
        if r.u32(optionsStart + 4) & 3 == 2 { direction = .toKernel }
      } else {
        try forEachOption(r, from: optionsStart, to: body.upperBound) { code, value in
          if code == PcapngFormat.epbFlags, value.count == 4 {
            let flags = Reader(bytes: value, bigEndian: r.bigEndian).u32(0)
            if flags & 3 == 2 { direction = .toKernel }
          } else if code == PcapngFormat.epbDropCount, value.count == 8 {
            drops = Reader(bytes: value, bigEndian: r.bigEndian).u64(0)
          }
        }
      }
      records.append(
        .frame(
          CapturedFrame(
            timestamp: nanoseconds(ticks, interface.timestampsPerSecond), direction: direction,
            interfaceID: interfaceID, bytes: Self.copy(p[28..<dataEnd]), dropsBefore: drops)))
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
