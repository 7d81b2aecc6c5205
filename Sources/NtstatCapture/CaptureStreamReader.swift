/// Turns the bytes of a capture (zstd-compressed or plain pcapng, detected by magic) into
/// records; does no I/O. Push the file's bytes in order, pull records, then call ``finish()``.
///
/// Records are released only when they are known good: for zstd, when the frame holding them
/// has ended and its checksum verified. Memory is bounded by one zstd frame plus one block.
/// Damage is reported after every record before it has been pulled: ``nextRecord()`` returns nil
/// and ``error`` is set (``CaptureError/Kind-swift.enum/truncated`` or `corrupt`, with the
/// compressed offset of the zstd frame or block that failed and the uncompressed offset).
public final class CaptureStreamReader {
  public let file: String?
  public private(set) var compression: CaptureCompression?
  /// The first damage found; records before it have all been returned.
  public private(set) var error: CaptureError?
  /// Compressed (file) bytes pushed so far.
  public private(set) var compressedBytes: UInt64 = 0
  /// Uncompressed pcapng bytes decoded so far.
  public private(set) var uncompressedBytes: UInt64 = 0
  /// zstd frames completed (0 for plain pcapng).
  public private(set) var zstdFrames: UInt64 = 0

  private var decoder: PcapngDecoder
  private var decompressor: ZstdDecompressor?
  private var ready: [CaptureRecord] = []
  private var readyIndex = 0
  private var frameRecords: [CaptureRecord] = []
  private var frameStart: UInt64 = 0
  private var prefix: [UInt8] = []
  /// A pcapng error inside the zstd frame being decoded: reported when the frame ends (if the
  /// frame itself is intact), so that a damaged frame is reported as zstd corruption whatever
  /// the size of the reads.
  private var frameDecodeError: CaptureError?
  /// Compressed input waiting to be fed to zstd (`sliced[slicedStart...]`), in fixed slices: the
  /// one being fed ends at `sliceEnd`.
  private var sliced: [UInt8] = []
  private var slicedStart = 0
  private var sliceEnd = 0
  /// The input has ended: the last slice is shorter than the others.
  private var inputEnded = false
  static let sliceSize = 64 << 10
  /// The zstd frame being decoded whole into one slab (``ZstdDecompressor/beginFrame(into:)``):
  /// where its input starts in `sliced`, the slice that began it, and `compressedBytes` then, to
  /// decode it again in pieces if it turns out larger than the slab.
  private var wholeFrame: (inputStart: Int, sliceEnd: Int, compressedBytes: UInt64)?
  /// The frame starting at `slicedStart` did not fit a slab: decoded in pieces.
  private var piecewiseFrame = false
  /// Compressed bytes handed to zstd at a time while a frame is decoded whole, each piece's
  /// blocks parsed as soon as they are written: a 64 KiB slice of the simulated captures
  /// decodes to several MiB, which parsed after the whole slice had left the cache (fixed
  /// pieces of fixed slices: the input zstd sees still does not depend on read sizes).
  static let wholeFramePiece = 8 << 10
  /// The largest frame decoded whole when its header gives its size: larger ones (`zstd FILE`
  /// of a long capture) are decoded in pieces, into slabs of the usual size.
  static let largestWholeFrame = 256 << 20
  /// The room a frame that does not give its size (every frame ntstat's recorder writes) is
  /// started in; larger ones are decoded again in pieces. By default the 32 MiB after which
  /// the recorder ended a frame before 16 MiB became its default (so that captures recorded
  /// then still decode whole), and its last block. A whole-frame slab holds one such frame and
  /// the incomplete block before it: a slab is free again as soon as its frame has been replayed.
  /// Only the pages a frame is written to are touched: a 16 MiB frame's slab costs 16 MiB.
  let unsizedFrameRoom: Int
  public static let defaultUnsizedFrameRoom = (32 << 20) + PcapngFormat.maximumBlockLength
  /// zstd frames decoded again in pieces: they did not give their size and turned out larger
  /// than ``unsizedFrameRoom``.
  public private(set) var framesDecodedAgain: UInt64 = 0

  public convenience init(file: String? = nil) {
    self.init(file: file, unsizedFrameRoom: Self.defaultUnsizedFrameRoom)
  }

  /// `unsizedFrameRoom`: see ``unsizedFrameRoom``; tests make it small to reach its edges.
  init(file: String?, unsizedFrameRoom: Int) {
    self.file = file
    self.unsizedFrameRoom = unsizedFrameRoom
    decoder = PcapngDecoder(frameSlabSize: PcapngDecoder.slabCapacity + unsizedFrameRoom)
  }

  /// Frames skipped because their interface is not an ntstat interface.
  public var foreignFrames: UInt64 { decoder.foreignFrames }

  /// The next record, or nil when none is ready (push more, or stop: see ``error``).
  public func nextRecord() -> CaptureRecord? {
    guard readyIndex < ready.count else {
      if readyIndex > 0 {
        ready.removeAll(keepingCapacity: true)
        readyIndex = 0
      }
      return nil
    }
    defer { readyIndex += 1 }
    return ready[readyIndex]
  }

  /// Moves every record that is ready into `records`, replacing what it held: false (and
  /// `records` empty) when none is ready. For readers that take a zstd frame's worth at a time.
  public func takeRecords(_ records: inout [CaptureRecord]) -> Bool {
    records.removeAll(keepingCapacity: true)
    guard readyIndex < ready.count else { return false }
    if readyIndex == 0 {
      swap(&records, &ready)
    } else {
      records.append(contentsOf: ready[readyIndex...])
      ready.removeAll(keepingCapacity: true)
    }
    readyIndex = 0
    return true
  }

  /// Feeds the next bytes of the file and decodes all of them. After damage, further input is
  /// ignored.
  public func push(_ chunk: UnsafeRawBufferPointer) {
    append(chunk)
    while decodeNextFrame() {}
  }

  /// Takes the next bytes of the file without decoding more than plain pcapng needs: zstd input
  /// waits for ``decodeNextFrame()``, so that a reader takes the records a zstd frame at a time
  /// (a 256 KiB read of a simulated capture decompresses to tens of MiB, which decoding it at
  /// once held all together). After damage, further input is ignored.
  func append(_ chunk: UnsafeRawBufferPointer) {
    guard error == nil, !chunk.isEmpty else { return }
    var chunk = chunk
    if compression == nil {
      let need = 4 - prefix.count
      prefix += chunk.prefix(need)
      chunk = UnsafeRawBufferPointer(rebasing: chunk[min(need, chunk.count)...])
      guard prefix.count == 4 else { return }
      guard let detected = CaptureCompression.detect(prefix) else {
        fail(
          .notACapture, at: 0,
          "neither a zstd stream nor a pcapng section header (first bytes \(prefix.map { String($0, radix: 16) }))")
        return
      }
      compression = detected
      let first = prefix
      if case .zstd = detected {
        do { decompressor = try ZstdDecompressor() } catch { fail(.io, at: 0, "\(error)"); return }
      }
      first.withUnsafeBytes { consume($0) }
    }
    consume(chunk)
  }

  private func consume(_ chunk: UnsafeRawBufferPointer) {
    guard error == nil else { return }
    guard decompressor != nil else {
      // Plain pcapng: blocks are released as soon as they are complete.
      do throws(CaptureError) {
        try decoder.push(chunk, into: &ready)
        compressedBytes += UInt64(chunk.count)
        uncompressedBytes = decoder.consumed
      } catch {
        var failure = error
        failure.file = file
        failure.compressedOffset = failure.uncompressedOffset
        self.error = failure
      }
      return
    }
    // The input of a frame being decoded whole stays until the frame ends: it may be decoded
    // again.
    let done = wholeFrame?.inputStart ?? slicedStart
    if done > 0 && done * 2 >= sliced.count {
      sliced.removeFirst(done)
      sliceEnd -= done
      slicedStart -= done
      wholeFrame?.inputStart -= done
      wholeFrame?.sliceEnd -= done
    }
    sliced.append(contentsOf: chunk)
  }

  /// Decodes the zstd input taken so far up to the end of the next zstd frame: true if a frame
  /// ended (its records are ready) or damage was found, false once no whole slice is left.
  ///
  /// zstd is always fed the same slices of the file (fixed sizes at fixed offsets), whatever
  /// sizes the caller pushes: on malformed input zstd's verdict can depend on how much input it
  /// is given at once, and the outcome of reading a file must not depend on read sizes. Stopping
  /// at a frame's end and going on later with the rest of its slice gives zstd the same input.
  func decodeNextFrame() -> Bool {
    guard let decompressor else { return false }
    while error == nil {
      if slicedStart == sliceEnd { sliceEnd += Self.sliceSize }
      // At the end of the input the last slice is what is left.
      let end = inputEnded ? min(sliceEnd, sliced.count) : sliceEnd
      guard end <= sliced.count, slicedStart < end else { return false }
      if feed(upTo: end, decompressor) { return true }
    }
    return false
  }

  /// No more input follows (until a ``jump(compressedOffset:uncompressedOffset:)``): the last,
  /// short slice may be decoded too, still a frame at a time. ``finish()`` checks the end.
  func endInput() {
    inputEnded = true
  }

  /// Decodes all that is left of the input.
  private func feedRest() {
    inputEnded = true
    while decodeNextFrame() {}
  }

  /// Feeds `sliced[slicedStart..<end]` until it is used up or a zstd frame ends in it: true if a
  /// frame ended or damage was found.
  private func feed(upTo end: Int, _ decompressor: ZstdDecompressor) -> Bool {
    let start = slicedStart
    let (consumed, stopped) = sliced.withUnsafeBytes {
      feed(UnsafeRawBufferPointer(rebasing: $0[start..<end]), from: start, decompressor)
    }
    if let consumed { slicedStart += consumed }
    return stopped
  }

  /// Feeds `chunk` (which starts at `sliced[start]`) until it is used up or a zstd frame ends:
  /// the bytes consumed (nil when a frame too large for its slab sent the input back to its
  /// start), and whether a frame ended or damage was found.
  private func feed(
    _ chunk: UnsafeRawBufferPointer, from start: Int, _ decompressor: ZstdDecompressor
  ) -> (Int?, Bool) {
    var remaining = chunk
    while !remaining.isEmpty, error == nil {
      if !decompressor.inFrame { beginFrame(remaining, at: start + chunk.count - remaining.count, decompressor) }
      do throws(CaptureError) {
        let progress: ZstdProgress
        if wholeFrame != nil {
          progress = try decompressor.decompressWhole(
            UnsafeRawBufferPointer(rebasing: remaining.prefix(Self.wholeFramePiece)))
          if progress.stop != .outputFull { parse(progress.wrote) }
        } else {
          // zstd writes straight into the decoder's slab, where the blocks are parsed in place.
          progress = try decompressor.decompress(remaining, space: { decoder.writableSpace() }) { parse($0) }
        }
        compressedBytes += UInt64(progress.consumed)
        remaining = UnsafeRawBufferPointer(rebasing: remaining[progress.consumed...])
        switch progress.stop {
        case .needsInput:
          break
        case .outputFull:
          decodeInPiecesFromItsStart()
          return (nil, false)
        case .frameEnded:
          if wholeFrame != nil {
            wholeFrame = nil
            decoder.wholeFrameEnded()
          }
          uncompressedBytes = decoder.consumed
          zstdFrames += 1
          release()
          if let failure = frameDecodeError {
            // The frame is intact (its checksum matched) but its blocks are not pcapng.
            reportDecodeError(failure)
          } else {
            frameStart = compressedBytes
          }
          return (chunk.count - remaining.count, true)
        }
        uncompressedBytes = decoder.consumed
      } catch {
        // The frame being decoded is not trustworthy: drop what it produced.
        frameRecords.removeAll()
        var failure = error
        failure.file = file
        failure.compressedOffset = frameStart
        failure.uncompressedOffset = failure.uncompressedOffset ?? decoder.consumed
        self.error = failure
        return (chunk.count - remaining.count, true)
      }
    }
    return (chunk.count - remaining.count, false)
  }

  /// Parses `count` bytes just written to the decoder's slab, unless the frame they belong to
  /// is already known to be damaged.
  private func parse(_ count: Int) {
    guard frameDecodeError == nil else {
      decoder.didWriteUnparsed(count)
      return
    }
    do throws(CaptureError) {
      try decoder.didWrite(count, into: &frameRecords)
    } catch {
      frameDecodeError = error
      decoder.didWriteUnparsed(0)
    }
  }

  /// At a frame's first byte (`sliced[start]`, whose first bytes are `input`): decodes it whole
  /// into one slab if its size is known and not too large, or unknown, and this zstd can.
  private func beginFrame(_ input: UnsafeRawBufferPointer, at start: Int, _ decompressor: ZstdDecompressor) {
    guard !piecewiseFrame else {
      piecewiseFrame = false
      return
    }
    let room: Int
    switch ZstdContentSize(ofFrameStartingAt: input) {
    case .known(let size) where size > 0 && size <= Self.largestWholeFrame: room = Int(size)
    case .unknown: room = unsizedFrameRoom
    case .known, .unreadable: return
    }
    guard decompressor.beginFrame(into: decoder.wholeFrameSpace(capacity: room)) else {
      decoder.abandonWholeFrameSpace()
      return
    }
    wholeFrame = (start, sliceEnd, compressedBytes)
  }

  /// The frame being decoded whole does not fit its slab: back to its first byte and slice, to
  /// decode it in pieces, with what was parsed of it undone (its records are released only at
  /// its end, so none has left the reader).
  private func decodeInPiecesFromItsStart() {
    guard let frame = wholeFrame else { return }
    decoder.abandonWholeFrameSpace()
    frameRecords.removeAll()
    frameDecodeError = nil
    (slicedStart, sliceEnd, compressedBytes) = (frame.inputStart, frame.sliceEnd, frame.compressedBytes)
    wholeFrame = nil
    piecewiseFrame = true
    framesDecodedAgain += 1
  }

  private func reportDecodeError(_ failure: CaptureError) {
    var failure = failure
    failure.file = file
    failure.compressedOffset = frameStart
    error = failure
  }

  /// Continues at another place of the file (from a seek table): the next bytes pushed start the
  /// zstd frame at `compressedOffset`, whose blocks start at `uncompressedOffset`. Allowed only
  /// between zstd frames, once the section header and interfaces have been read.
  func jump(compressedOffset: UInt64, uncompressedOffset: UInt64) -> Bool {
    feedRest()
    guard error == nil, let decompressor, !decompressor.inFrame, !decoder.hasPartialBlock else { return false }
    sliced.removeAll()
    slicedStart = 0
    sliceEnd = 0
    piecewiseFrame = false
    inputEnded = false
    compressedBytes = compressedOffset
    frameStart = compressedOffset
    decoder.restart(at: uncompressedOffset)
    return true
  }

  /// Call at the end of the input: a stream that stops inside a zstd frame or a pcapng block is
  /// truncated. The complete blocks of an unfinished zstd frame are released first (what a
  /// recorder killed mid-frame leaves is readable up to its last whole block).
  public func finish() {
    feedRest()
    guard error == nil else { return }
    if compression == nil {
      fail(
        prefix.isEmpty ? .notACapture : .truncated, at: 0,
        prefix.isEmpty ? "the file is empty" : "the file ends after \(prefix.count) byte(s)")
      return
    }
    if let decompressor, decompressor.inFrame {
      if wholeFrame != nil {
        wholeFrame = nil
        decoder.wholeFrameEnded()
      }
      release()
      if let failure = frameDecodeError {
        reportDecodeError(failure)
        return
      }
      fail(
        .truncated, at: frameStart,
        "the last zstd frame is incomplete (\(compressedBytes - frameStart) compressed byte(s) of it present)")
      return
    }
    if decoder.hasPartialBlock {
      fail(.truncated, at: decompressor == nil ? decoder.consumed : frameStart, "the stream ends inside a pcapng block")
    }
  }

  /// Moves the verified frame's records to the ready list (a swap when nothing is waiting).
  private func release() {
    if readyIndex >= ready.count {
      ready.removeAll(keepingCapacity: true)
      readyIndex = 0
      swap(&ready, &frameRecords)
    } else {
      ready += frameRecords
      frameRecords.removeAll(keepingCapacity: true)
    }
  }

  private func fail(_ kind: CaptureError.Kind, at compressedOffset: UInt64, _ reason: String) {
    error = CaptureError(
      kind, file: file, compressedOffset: compressedOffset, uncompressedOffset: decoder.consumed, reason: reason)
  }
}
