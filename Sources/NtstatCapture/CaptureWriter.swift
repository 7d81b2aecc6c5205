/// Writes a capture as bytes handed to a sink; does no I/O and reads no clock (callers pass
/// the time, in nanoseconds, with every call: the monotonic clock live, capture time for a
/// simulated session).
///
/// For zstd: **crash safety by flush, integrity by frame.** Every `flushInterval` (250 ms) the
/// zstd stream is flushed: everything written so far decodes after a crash, and the frame keeps
/// its history, so a recorder at a few hundred datagrams a second compresses as well as one long
/// stream. A frame, with its checksum, ends once it holds `frameBytes` (16 MiB) uncompressed, is
/// `frameDuration` (10 minutes) old, or at ``close(statistics:now:wallClock:)``. Neither a flush
/// nor a frame end ever splits a block.
public final class CaptureWriter {
  public let compression: CaptureCompression
  public let frameDuration: UInt64
  public let frameBytes: Int
  public let flushInterval: UInt64
  /// When the stream was last flushed (or its frame began), and whether blocks came since.
  private var lastFlush: UInt64?
  private var unflushed = false
  private let sink: ([UInt8]) throws -> Void
  private let encoder = PcapngEncoder()
  private let compressor: ZstdCompressor?
  private var frameOpenedAt: UInt64?
  private var frameUncompressed = 0
  /// Seek-table entries of the frames ended so far, and the one being built.
  private var seekEntries: [SeekTable.Entry] = []
  private var openEntry: SeekTable.Entry?
  private var headerLength: UInt64?
  /// Whether ``close(statistics:now:wallClock:)`` appends a seek table (zstd only).
  public var writesSeekTable = true
  /// Blocks not yet handed to zstd: compressing in batches costs far less than per block.
  private var batch: [UInt8] = []
  private static let batchLimit = 64 << 10
  private var interfaceCount: UInt32 = 0
  /// Uncompressed pcapng bytes written.
  public private(set) var uncompressedBytes: UInt64 = 0
  /// Bytes handed to the sink.
  public private(set) var writtenBytes: UInt64 = 0
  public private(set) var framesWritten: UInt64 = 0

  /// The uncompressed bytes after which a zstd frame ends by default. A reader holds about three
  /// frames at once (one being decoded, one waiting, one being replayed; ``CaptureReadAhead``),
  /// and each page of them is new memory the kernel zeroes first: with 32 MiB frames, a third of
  /// the reading thread's time in a replay of a long capture, and 170 MiB of RSS. 16 MiB costs
  /// 1 % of size at real recording rates (docs/performance.md).
  public static let defaultFrameBytes = 16 << 20

  /// - Parameters:
  ///   - frameDuration: nanoseconds after which an open zstd frame is ended (default 10 minutes).
  ///   - frameBytes: uncompressed bytes after which an open zstd frame is ended (default 16 MiB;
  ///     each frame starts with an empty history, and a reader holds one whole frame until its
  ///     checksum is verified).
  ///   - flushInterval: nanoseconds between flushes of the zstd stream (default 250 ms: what a
  ///     crash can lose).
  public init(
    metadata: CaptureMetadata, compression: CaptureCompression = .defaultZstd,
    frameDuration: UInt64 = 600_000_000_000, frameBytes: Int = defaultFrameBytes, flushInterval: UInt64 = 250_000_000,
    sink: @escaping ([UInt8]) throws -> Void
  ) throws {
    self.compression = compression
    self.frameDuration = frameDuration
    self.frameBytes = frameBytes
    self.flushInterval = flushInterval
    self.sink = sink
    var metadata = metadata
    if case .zstd(let level) = compression {
      compressor = try ZstdCompressor(level: level)
      // How the file is laid out, for `ntstat inspect`.
      metadata.extra["ntstat.zstd.level"] = String(level)
      metadata.extra["ntstat.zstd.flush_ms"] = String(flushInterval / 1_000_000)
      metadata.extra["ntstat.zstd.frame_limit"] = "\(frameBytes >> 20) MiB or \(frameDuration / 1_000_000_000) s"
    } else {
      compressor = nil
    }
    try append(encoder.sectionHeader(metadata), now: nil)
  }

  /// Adds an interface (one per ntstat connection) and returns its id.
  public func addInterface(description: String?, now: UInt64) throws -> UInt32 {
    try append(encoder.interfaceDescription(description: description), now: now)
    defer { interfaceCount += 1 }
    return interfaceCount
  }

  /// Writes one datagram.
  public func write(_ frame: CapturedFrame, now: UInt64) throws {
    precondition(frame.interfaceID < interfaceCount, "frame for an interface that was not added")
    if compressor != nil {
      // The section header and interfaces get a zstd frame of their own, so that a reader
      // seeking by the table can decode them and then jump.
      if headerLength == nil {
        try endFrame()
        headerLength = writtenBytes
      }
      if openEntry == nil {
        openEntry = SeekTable.Entry(
          compressedOffset: writtenBytes, uncompressedOffset: uncompressedBytes, firstTimestamp: frame.timestamp,
          firstFrameIndex: framesWritten, frameCount: 0)
      }
      openEntry?.frameCount += 1
    }
    let before = batch.count
    encoder.appendEnhancedPacket(frame, to: &batch)
    try accept(batch.count - before, now: now)
    framesWritten += 1
  }

  /// Flushes the stream, or ends the frame, if a bound has passed (call from a timer too, so a
  /// quiet recorder does not sit on unflushed blocks).
  public func flushIfDue(now: UInt64) throws {
    if let opened = frameOpenedAt, now &- opened >= frameDuration {
      try endFrame()
    } else if unflushed, let last = lastFlush, now &- last >= flushInterval {
      try flush(now: now)
    }
  }

  /// When the next flush is due (nil: nothing waits to be flushed).
  public var nextFlushDue: UInt64? {
    guard compressor != nil, unflushed, let lastFlush else { return nil }
    return lastFlush &+ flushInterval
  }

  /// Writes out everything so far as complete zstd blocks, keeping the frame open: it all
  /// decodes even if the process dies now.
  public func flush(now: UInt64) throws {
    guard let compressor, frameOpenedAt != nil else { return }
    try compressor.compress(batch, .flush) { try emit(Array($0)) }
    batch.removeAll(keepingCapacity: true)
    lastFlush = now
    unflushed = false
  }

  /// Ends the open zstd frame now, with its checksum.
  public func endFrame() throws {
    guard let compressor, frameOpenedAt != nil else { return }
    try compressor.compress(batch, .end) { try emit(Array($0)) }
    batch.removeAll(keepingCapacity: true)
    frameOpenedAt = nil
    frameUncompressed = 0
    unflushed = false
    if let entry = openEntry {
      seekEntries.append(entry)
      openEntry = nil
    }
  }

  /// Writes the interface statistics and ends the last frame.
  public func close(statistics: [UInt32: CaptureStatistics] = [:], now: UInt64, wallClock: UInt64) throws {
    for id in statistics.keys.sorted() {
      if let stats = statistics[id] {
        try append(encoder.interfaceStatistics(interfaceID: id, timestamp: wallClock, stats), now: now)
      }
    }
    try endFrame()
    if compressor != nil, writesSeekTable, let headerLength {
      let size = SeekTable.encodedSize(entries: seekEntries.count)
      let table = SeekTable(
        entries: seekEntries, captureLength: writtenBytes + UInt64(size), headerLength: headerLength)
      try emit(table.encoded())
    }
  }

  private func append(_ block: [UInt8], now: UInt64?) throws {
    batch += block
    try accept(block.count, now: now)
  }

  /// Accounts for `count` bytes just added to `batch`; compresses the batch when it is large,
  /// and ends the zstd frame on the size or time bound.
  private func accept(_ count: Int, now: UInt64?) throws {
    uncompressedBytes += UInt64(count)
    guard let compressor else {
      try emit(batch)
      batch.removeAll(keepingCapacity: true)
      return
    }
    if frameOpenedAt == nil {
      frameOpenedAt = now ?? 0
      lastFlush = now ?? 0
    }
    frameUncompressed += count
    unflushed = true
    let end = frameUncompressed >= frameBytes || (now.map { $0 &- (frameOpenedAt ?? $0) >= frameDuration } ?? false)
    if end {
      try endFrame()
    } else if let now, now &- (lastFlush ?? now) >= flushInterval {
      try flush(now: now)
    } else if batch.count >= Self.batchLimit {
      try compressor.compress(batch, .continue) { try emit(Array($0)) }
      batch.removeAll(keepingCapacity: true)
    }
  }

  private func emit(_ bytes: [UInt8]) throws {
    guard !bytes.isEmpty else { return }
    writtenBytes += UInt64(bytes.count)
    try sink(bytes)
  }
}
