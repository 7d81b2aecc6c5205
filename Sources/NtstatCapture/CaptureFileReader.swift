import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a capture file (`.pcapng.zst` or `.pcapng`, detected by magic) record by record, in
/// memory bounded by one zstd frame plus one block whatever the file's size.
///
/// ``next()`` returns every record before any damage, then throws the ``CaptureError``
/// (truncated or corrupt, naming the file and offsets); a clean end returns nil.
public final class CaptureFileReader {
  public let path: String
  public let stream: CaptureStreamReader
  private let descriptor: Int32
  private var buffer = [UInt8](repeating: 0, count: 1 << 18)
  private var atEnd = false
  private var finished = false

  public init(path: String) throws {
    self.path = path
    stream = CaptureStreamReader(file: path)
    let fd = InputFile.open(path)
    guard fd >= 0 else {
      throw CaptureError(.io, file: path, errno: errno, reason: String(cString: strerror(errno)))
    }
    var status = stat()
    if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
      closeDescriptor(fd)
      throw CaptureError(.io, file: path, errno: EISDIR, reason: "is a directory")
    }
    descriptor = fd
  }

  deinit { closeDescriptor(descriptor) }

  /// The next record; nil at a clean end; throws at the first damage, after every record before it.
  public func next() throws -> CaptureRecord? {
    while true {
      if let record = stream.nextRecord() { return record }
      if stream.decodeNextFrame() { continue }
      guard try readMore() else { return nil }
    }
  }

  /// The next records, as many as are ready at once (about a zstd frame's worth), replacing
  /// what `records` held: one call per batch instead of one per record on a replay's hot path.
  /// The outcomes are those of ``next()``: false at a clean end; throws at the first damage,
  /// after every record before it has been returned.
  public func nextRecords(_ records: inout [CaptureRecord]) throws -> Bool {
    while true {
      if stream.takeRecords(&records) { return true }
      if stream.decodeNextFrame() { continue }
      guard try readMore() else { return false }
    }
  }

  /// Hands the next read of the file to the stream, which decodes it a zstd frame at a time as
  /// records are asked for: false at the end with nothing pending.
  private func readMore() throws -> Bool {
    if let error = stream.error { throw error }
    if atEnd {
      // Every whole zstd frame has been taken, a frame at a time: now the end's checks, and the
      // blocks an unfinished frame leaves.
      guard !finished else { return false }
      finished = true
      stream.finish()
      return true
    }
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw CaptureError(
          .io, file: path, compressedOffset: stream.compressedBytes, errno: errno,
          reason: String(cString: strerror(errno)))
      }
      if count == 0 {
        atEnd = true
        stream.endInput()
      } else {
        buffer.withUnsafeBytes { stream.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
      }
      return true
    }
  }

  /// The file's seek table, if it ends with one that covers the whole file (a concatenated file's
  /// table covers only its last capture and is not used). Reads only the end of the file.
  public func seekTable() -> SeekTable? {
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { return nil }
    let size = UInt64(status.st_size)
    guard size >= UInt64(SeekTable.footerSize) else { return nil }
    var footer = [UInt8](repeating: 0, count: SeekTable.footerSize)
    guard readFully(&footer, at: size - UInt64(SeekTable.footerSize)),
      let (captureLength, _, count) = SeekTable.entryCount(footer: footer), captureLength == size
    else { return nil }
    let tableSize = SeekTable.encodedSize(entries: count)
    guard UInt64(tableSize) <= size else { return nil }
    var bytes = [UInt8](repeating: 0, count: tableSize)
    guard readFully(&bytes, at: size - UInt64(tableSize)) else { return nil }
    return SeekTable.decode(bytes)
  }

  /// Positions the reader at a seek-table entry: reads the section header and interfaces, then
  /// continues at the entry's zstd frame. Call before ``next()`` has returned any frame.
  /// Returns false (and changes nothing) when that is not possible.
  @discardableResult
  public func seek(to entry: SeekTable.Entry, in table: SeekTable) throws -> Bool {
    guard stream.compressedBytes == 0, entry.compressedOffset >= table.headerLength else { return false }
    var header = [UInt8](repeating: 0, count: Int(table.headerLength))
    guard readFully(&header, at: 0) else { return false }
    header.withUnsafeBytes { stream.push($0) }
    if let error = stream.error { throw error }
    guard stream.jump(compressedOffset: entry.compressedOffset, uncompressedOffset: entry.uncompressedOffset),
      lseek(descriptor, off_t(entry.compressedOffset), SEEK_SET) >= 0
    else { return false }
    return true
  }

  private func readFully(_ buffer: inout [UInt8], at offset: UInt64) -> Bool {
    let count = buffer.count
    let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
    return got == count
  }

  /// All records as an asynchronous sequence. Reading happens as it is iterated, a batch
  /// (about a zstd frame) at a time, on a dispatch queue of its own: `pread` and decompression
  /// block, so they stay off the cooperative pool, whose few threads every task shares.
  public var records: AsyncThrowingStream<CaptureRecord, Error> {
    let batches = RecordBatches(reader: self)
    return AsyncThrowingStream { try await batches.next() }
  }
}

/// The state behind ``CaptureFileReader/records``.
// `batch`, `position` and `finished` belong to the iterating task (an async iterator's `next`
// is never re-entered); the queue's block touches only `reader`, one block at a time, and hands
// each batch back through the continuation.
private final class RecordBatches: @unchecked Sendable {
  private let reader: CaptureFileReader
  private let queue = DispatchQueue(label: "ntstat capture reader")
  private var batch: [CaptureRecord] = []
  private var position = 0
  private var finished = false

  init(reader: CaptureFileReader) { self.reader = reader }

  func next() async throws -> CaptureRecord? {
    while position == batch.count {
      guard !finished else { return nil }
      let reader = self.reader
      let (more, records): (Bool, [CaptureRecord]) = try await withCheckedThrowingContinuation { continuation in
        queue.async {
          continuation.resume(
            with: Result {
              var records: [CaptureRecord] = []
              let more = try reader.nextRecords(&records)
              return (more, records)
            })
        }
      }
      batch = records
      position = 0
      if !more {
        finished = true
        batch = []
      }
    }
    position += 1
    return batch[position - 1]
  }
}

// Not thread-safe: one thread at a time. Sendable so that it can be handed over (to the replay's
// read-ahead thread, which then owns it, or into an async stream's task) and used by the
// receiver alone from then on.
extension CaptureFileReader: @unchecked Sendable {}

/// `open(path, O_RDONLY)` that cannot hang: a FIFO without a writer would block `open` itself,
/// so it is opened non-blocking and switched back once open (a read then sees the end at once
/// if nobody writes, or waits for a writer that exists, as `<(zstdcat …)` does).
public enum InputFile {
  public static func open(_ path: String) -> Int32 {
    let fd = openDescriptor(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    if fd >= 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
    return fd
  }
}
