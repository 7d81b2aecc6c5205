import Foundation

/// Reads a capture file on a thread of its own, a few batches (zstd frames) ahead of the
/// replay, so that decompression and parsing overlap with the client's work.
///
/// The records and their order are exactly the reader's: batches are handed over whole and in
/// order, and damage is reported after every batch before it, as ``CaptureFileReader`` does.
/// Memory is bounded by `depth` batches. Dropping the last reference stops the thread (a replay
/// that ends early at `--to` does not read the rest of the file).
package final class CaptureReadAhead {
  private let shared: Shared
  /// The reading thread, joined on deinit; nil if it could not be started (then the records
  /// are read on the caller's thread).
  private let thread: pthread_t?
  private let directReader: CaptureFileReader?

  /// - Parameters:
  ///   - depth: how many batches may wait (each about one zstd frame of the capture). One: the
  ///     reading thread decodes the next frame while the replay works through the one before,
  ///     and more waiting frames only held more memory (a replay ran as fast with one as with
  ///     three, in 70 MiB less, much of it memory touched for the first time; docs/performance.md).
  ///   - threaded: whether to read on a thread of its own. By default, only when the process
  ///     may run on more than one CPU: on one, the two threads would only take turns (a replay
  ///     pinned to one core ran about a tenth faster reading on its own thread;
  ///     docs/performance.md).
  package init(reader: CaptureFileReader, depth: Int = 1, threaded: Bool = AvailableCPUs.count > 1) {
    shared = Shared(depth: max(1, depth))
    guard threaded else {
      thread = nil
      directReader = reader
      return
    }
    let job = Unmanaged.passRetained(Job(shared: shared, reader: reader))
    var started: pthread_t?
    #if canImport(Glibc)
      var handle = pthread_t()
      let status = pthread_create(
        &handle, nil, { Unmanaged<Job>.fromOpaque($0!).takeRetainedValue().run() }, job.toOpaque())
      if status == 0 { started = handle }
    #else
      var handle: pthread_t?
      let status = pthread_create(
        &handle, nil, { Unmanaged<Job>.fromOpaque($0).takeRetainedValue().run() }, job.toOpaque())
      if status == 0 { started = handle }
    #endif
    if started == nil { job.release() }
    thread = started
    directReader = started == nil ? reader : nil
  }

  // Joined, not just told to stop: once the replay is gone, no thread reads on and nothing the
  // thread held (the reader, a batch in hand) outlives it.
  deinit {
    shared.cancel()
    if let thread { pthread_join(thread, nil) }
  }

  /// What the reading thread runs, holding the reader and the shared state.
  private final class Job {
    let shared: Shared
    let reader: CaptureFileReader
    init(shared: Shared, reader: CaptureFileReader) {
      self.shared = shared
      self.reader = reader
    }
    func run() -> UnsafeMutableRawPointer? {
      shared.produce(from: reader)
      return nil
    }
  }

  /// The next batch of records, replacing what `records` held (its storage goes back to the
  /// reading thread, which also frees the old records there). False at a clean end; throws
  /// the reader's error once every batch before it has been taken.
  package func nextRecords(_ records: inout [CaptureRecord]) throws -> Bool {
    if let directReader {
      defer { compressedBytes = directReader.stream.compressedBytes }
      return try directReader.nextRecords(&records)
    }
    let (more, bytes) = try shared.consume(&records)
    compressedBytes = bytes
    return more
  }

  /// Bytes of the file read up to the end of the last batch taken (for progress reports).
  package private(set) var compressedBytes: UInt64 = 0

  /// State shared by the two threads, guarded by `condition`.
  private final class Shared: @unchecked Sendable {
    private let condition = NSCondition()
    private let depth: Int
    /// Batches waiting, each with the file offset the reader had reached after it.
    private var ready: [(records: [CaptureRecord], compressedBytes: UInt64)] = []
    private var lastCompressedBytes: UInt64 = 0
    private var returned: [[CaptureRecord]] = []
    private var finished = false
    private var failure: Error?
    private var cancelled = false

    init(depth: Int) { self.depth = depth }

    func produce(from reader: CaptureFileReader) {
      while true {
        var batch = takeReturned()
        let more: Bool
        var error: Error?
        do {
          more = try reader.nextRecords(&batch)
        } catch let caught {
          more = false
          error = caught
        }
        condition.lock()
        defer { condition.unlock() }
        if !more {
          failure = error
          finished = true
          condition.broadcast()
          return
        }
        while ready.count >= depth, !cancelled { condition.wait() }
        if cancelled { return }
        // Moved, not copied: a reference left in this loop until its next turn could make the
        // consumer, which moves the records out, copy the whole batch first.
        ready.append((consume batch, reader.stream.compressedBytes))
        condition.broadcast()
      }
    }

    /// An array the consumer gave back (its old records freed here, off the replay's thread),
    /// or a new one.
    private func takeReturned() -> [CaptureRecord] {
      condition.lock()
      var batch = returned.popLast() ?? []
      condition.unlock()
      batch.removeAll(keepingCapacity: true)
      return batch
    }

    /// The next batch and the file offset after it; false at the end.
    func consume(_ records: inout [CaptureRecord]) throws -> (Bool, UInt64) {
      condition.lock()
      defer { condition.unlock() }
      if records.capacity > 0, returned.count < depth {
        returned.append(records)
      }
      records = []
      while ready.isEmpty, !finished { condition.wait() }
      if !ready.isEmpty {
        let next = ready.removeFirst()
        records = next.records
        lastCompressedBytes = next.compressedBytes
        condition.broadcast()
        return (true, lastCompressedBytes)
      }
      if let error = failure {
        failure = nil
        throw error
      }
      return (false, lastCompressedBytes)
    }

    func cancel() {
      condition.lock()
      cancelled = true
      condition.broadcast()
      condition.unlock()
    }
  }
}
