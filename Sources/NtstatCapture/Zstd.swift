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
  var stop: ZstdStop
  /// For a frame decoded whole (``ZstdDecompressor/beginFrame(into:)``), the bytes this call
  /// wrote to its buffer, after those of the calls before.
  var wrote = 0
}

/// Why ``ZstdDecompressor`` handed control back.
enum ZstdStop {
  /// The input is used up, the frame not yet ended.
  case needsInput
  /// A frame (data or skippable) ended exactly at the bytes consumed, its checksum verified.
  case frameEnded
  /// The frame does not fit the one buffer it is being decoded into (decoding it with
  /// ``ZstdDecompressor/beginFrame(into:)``): the frame is abandoned, to be decoded again from
  /// its start in pieces.
  case outputFull
}

/// What a zstd frame header says of the frame's decompressed size.
enum ZstdContentSize: Equatable {
  /// Written by a compressor that knew its input (`zstd FILE`): exactly this many bytes.
  case known(UInt64)
  /// Written by a streaming compressor (ntstat's recorder, `zstd < FILE`): not said.
  case unknown
  /// Not a data frame's header, or too few of its bytes are at hand.
  case unreadable

  /// The size declared by the header at the start of `bytes`.
  init(ofFrameStartingAt bytes: UnsafeRawBufferPointer) {
    let size = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
    // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR (zstd.h): the two largest values.
    switch size {
    case UInt64.max: self = .unknown
    case UInt64.max - 1: self = .unreadable
    default: self = .known(size)
    }
  }
}

/// A streaming zstd decompressor that reports frame ends, so that the reader can release a
/// frame's blocks only once its checksum has been verified.
///
/// A frame is decoded either in pieces, into whatever space the caller offers each time (zstd
/// decodes into a window of its own and copies out), or, after ``beginFrame(into:)``, straight
/// into one buffer that takes the whole frame (`ZSTD_d_stableOutBuffer`): no window, no copy.
/// For a reader that holds each frame whole until its checksum is verified, the second takes
/// no more memory, and the copy out of the window, which wrote every byte once more to memory
/// far from any cache, was a quarter of the reading thread's instructions on the simulated
/// captures (docs/performance.md, "Frames decoded in place").
final class ZstdDecompressor {
  private let context: OpaquePointer
  /// True between a frame's first byte and its end.
  private(set) var inFrame = false
  /// The buffer the frame being decoded goes to whole, and how much of it is written; nil when
  /// the frame is decoded in pieces.
  private var stable: (output: UnsafeMutableRawBufferPointer, written: Int)?

  init() throws {
    guard let context = ZSTD_createDCtx() else {
      throw CaptureError(.io, reason: "zstd: cannot allocate a decompression context")
    }
    self.context = context
  }

  deinit { ZSTD_freeDCtx(context) }

  /// Decodes the next frame (between frames only) into `output` alone, which must hold all of
  /// it: ``decompressWhole(_:)`` then writes it there. False, and the frame is decoded in
  /// pieces, if this zstd cannot (older than 1.4.4).
  func beginFrame(into output: UnsafeMutableRawBufferPointer) -> Bool {
    precondition(!inFrame, "a frame's buffer is chosen before its first byte")
    ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
    guard ZSTD_isError(ZSTD_DCtx_setParameter(context, ntstat_zstd_stable_output_parameter(), 1)) == 0 else {
      stable = nil
      return false
    }
    stable = (output, 0)
    return true
  }

  /// Decompresses from `input` into the buffer given to ``beginFrame(into:)``, until the input
  /// is used up, the frame ends, or the buffer turns out too small for it. Errors (corrupt
  /// data, checksum mismatch) throw with zstd's message.
  func decompressWhole(_ input: UnsafeRawBufferPointer) throws(CaptureError) -> ZstdProgress {
    guard let (output, written) = stable else { preconditionFailure("decompressWhole without beginFrame(into:)") }
    var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
    if inBuffer.size > 0 { inFrame = true }
    // zstd checks that the buffer and position are what it left the last time.
    var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: written)
    while true {
      let before = (inBuffer.pos, outBuffer.pos)
      let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
      stable?.written = outBuffer.pos
      if ZSTD_isError(result) != 0 {
        let full = ZSTD_getErrorCode(result) == ZSTD_error_dstSize_tooSmall
        endFrame()
        if full { return ZstdProgress(consumed: inBuffer.pos, stop: .outputFull) }
        throw Self.corruption(result)
      }
      if result == 0 {
        endFrame()
        return ZstdProgress(consumed: inBuffer.pos, stop: .frameEnded, wrote: outBuffer.pos - written)
      }
      if inBuffer.pos == inBuffer.size {
        return ZstdProgress(consumed: inBuffer.pos, stop: .needsInput, wrote: outBuffer.pos - written)
      }
      if (inBuffer.pos, outBuffer.pos) == before {
        endFrame()
        if outBuffer.pos == outBuffer.size { return ZstdProgress(consumed: inBuffer.pos, stop: .outputFull) }
        throw Self.noProgress()
      }
    }
  }

  /// zstd's verdict on corrupt input (or a checksum mismatch), in its words.
  private static func corruption(_ result: Int) -> CaptureError {
    CaptureError(.corrupt, reason: "zstd: " + String(cString: ZSTD_getErrorName(result)))
  }

  /// Input zstd neither consumed nor decoded anything of.
  private static func noProgress() -> CaptureError {
    CaptureError(.corrupt, reason: "zstd made no progress on the input")
  }

  /// Between frames again, decoding in pieces unless the next frame is begun otherwise.
  private func endFrame() {
    ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
    if stable != nil {
      _ = ZSTD_DCtx_setParameter(context, ntstat_zstd_stable_output_parameter(), 0)
      stable = nil
    }
    inFrame = false
  }

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
        endFrame()
        throw Self.corruption(result)
      }
      if outBuffer.pos > 0 { wrote(outBuffer.pos) }
      if result == 0 {
        // The frame is decoded and fully flushed (and its checksum, if any, verified).
        inFrame = false
        return ZstdProgress(consumed: inBuffer.pos, stop: .frameEnded)
      }
      // Stop when the input is used up and zstd has nothing more to flush; go on while the
      // output space came back full (more may be waiting) or input remains.
      if inBuffer.pos == inBuffer.size && outBuffer.pos < outBuffer.size { break }
      if inBuffer.pos == before && outBuffer.pos == 0 {
        inFrame = false
        throw Self.noProgress()
      }
    }
    return ZstdProgress(consumed: inBuffer.pos, stop: .needsInput)
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
