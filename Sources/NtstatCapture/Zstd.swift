import CZstd

/// A streaming zstd compressor whose frames each end where the caller says: ntstat captures end
/// a frame only between whole pcapng blocks, so a crash loses at most the frame being built.
/// Every frame carries zstd's content checksum.
final class ZstdCompressor {
  private let context: OpaquePointer
  private var output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())

  init(level: Int32) throws {
    guard let context = ZSTD_createCCtx() else {
      throw CaptureError(.io, reason: "zstd: cannot allocate a compression context")
    }
    self.context = context
    try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level))
    try check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1))
  }

  deinit { ZSTD_freeCCtx(context) }

  /// How far ``compress(_:_:into:)`` goes.
  enum Directive {
    /// Only compresses: zstd may keep some output back.
    case `continue`
    /// Writes out everything so far as complete blocks, keeping the frame (and its history)
    /// open: what was written decodes even if nothing follows.
    case flush
    /// Closes the frame with its checksum.
    case end
  }

  /// Compresses `input` as `directive` says.
  func compress(_ input: [UInt8], _ directive: Directive, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
    try input.withUnsafeBytes { source in
      var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
      let mode: ZSTD_EndDirective
      switch directive {
      case .continue: mode = ZSTD_e_continue
      case .flush: mode = ZSTD_e_flush
      case .end: mode = ZSTD_e_end
      }
      while true {
        let remaining = try output.withUnsafeMutableBytes { out -> Int in
          var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
          let result = ZSTD_compressStream2(context, &outBuffer, &inBuffer, mode)
          try check(result)
          if outBuffer.pos > 0 { try sink(UnsafeRawBufferPointer(rebasing: out[0..<outBuffer.pos])) }
          return result
        }
        if directive == .continue ? inBuffer.pos == inBuffer.size : remaining == 0 { break }
      }
    }
  }

  private func check(_ code: Int) throws {
    if ZSTD_isError(code) != 0 {
      throw CaptureError(.io, reason: "zstd: " + String(cString: ZSTD_getErrorName(code)))
    }
  }
}

/// Result of feeding compressed bytes to ``ZstdDecompressor``.
struct ZstdProgress {
  /// Input bytes consumed.
  var consumed: Int
  /// True when a frame (data or skippable) ended exactly at `consumed`.
  var frameEnded: Bool
}

/// A streaming zstd decompressor that reports frame ends, so that the reader can release a
/// frame's blocks only once its checksum has been verified.
final class ZstdDecompressor {
  private let context: OpaquePointer
  /// True between a frame's first byte and its end.
  private(set) var inFrame = false

  init() throws {
    guard let context = ZSTD_createDCtx() else {
      throw CaptureError(.io, reason: "zstd: cannot allocate a decompression context")
    }
    self.context = context
  }

  deinit { ZSTD_freeDCtx(context) }

  /// Decompresses from `input` until it is used up or a frame ends (whichever is first),
  /// writing where `space` says and telling `wrote` how much it wrote there each time. Errors
  /// (corrupt data, checksum mismatch) throw with zstd's message.
  func decompress(
    _ input: UnsafeRawBufferPointer, space: () -> UnsafeMutableRawBufferPointer, wrote: (Int) -> Void
  ) throws(CaptureError) -> ZstdProgress {
    var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
    if inBuffer.size > 0 { inFrame = true }
    while true {
      let before = inBuffer.pos
      let out = space()
      var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
      let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
      if ZSTD_isError(result) != 0 {
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        inFrame = false
        throw CaptureError(.corrupt, reason: "zstd: " + String(cString: ZSTD_getErrorName(result)))
      }
      if outBuffer.pos > 0 { wrote(outBuffer.pos) }
      if result == 0 {
        // The frame is decoded and fully flushed (and its checksum, if any, verified).
        inFrame = false
        return ZstdProgress(consumed: inBuffer.pos, frameEnded: true)
      }
      // Stop when the input is used up and zstd has nothing more to flush; go on while the
      // output space came back full (more may be waiting) or input remains.
      if inBuffer.pos == inBuffer.size && outBuffer.pos < outBuffer.size { break }
      if inBuffer.pos == before && outBuffer.pos == 0 {
        inFrame = false
        throw CaptureError(.corrupt, reason: "zstd made no progress on the input")
      }
    }
    return ZstdProgress(consumed: inBuffer.pos, frameEnded: false)
  }
}

/// How a capture's bytes are stored, detected from the first bytes (never from the file name).
public enum CaptureCompression: Hashable, Sendable {
  case none
  case zstd(level: Int32)

  /// The default for `.pcapng.zst`: level 6, chosen by measurement (docs/performance.md, "Capture
  /// size at real recording rates"): with the stream flushed every 250 ms it writes files no
  /// larger than `zstd -3` of the same pcapng as one stream, at a fraction of a core.
  public static let defaultZstd = CaptureCompression.zstd(level: defaultLevel)
  public static let defaultLevel: Int32 = 6

  /// Detects zstd (frame or skippable-frame magic) or plain pcapng (section header magic).
  public static func detect(_ prefix: [UInt8]) -> CaptureCompression? {
    guard prefix.count >= 4 else { return nil }
    let magic = UInt32(prefix[0]) | UInt32(prefix[1]) << 8 | UInt32(prefix[2]) << 16 | UInt32(prefix[3]) << 24
    if magic == 0xFD2F_B528 || magic & 0xFFFF_FFF0 == 0x184D_2A50 { return .zstd(level: 0) }
    if magic == PcapngFormat.sectionHeaderType { return CaptureCompression.none }
    return nil
  }
}
