import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Records frames into a capture file without ever blocking the caller on the disk.
///
/// ``enqueue(_:)`` puts a frame on a bounded in-memory queue and returns at once; a background
/// thread compresses and writes. If the queue is full the frame is dropped and counted, and the
/// count is written as `epb_dropcount` on the next frame that gets in. The zstd stream is
/// flushed every 250 ms (also from a 50 ms idle tick), so a recorder killed with SIGKILL leaves a
/// file readable up to its last flush. ``close(statistics:)`` drains the queue, writes the
/// interface statistics, ends the last frame and `fsync`s.
// The queue, counters, failure and closing state are read and written under `condition` (and
// `finished` under `done`); `writer` belongs to the writer thread while it runs, then to `close`.
public final class CaptureFileWriter: @unchecked Sendable {
  public let path: String
  private let descriptor: Int32
  private var writer: CaptureWriter!
  private let condition = NSCondition()
  private var queue: [CapturedFrame] = []
  private var queuedBytes = 0
  private let queueLimit: Int
  private var overflowDrops: UInt64 = 0
  /// Frames dropped because the queue was full.
  public private(set) var totalOverflowDrops: UInt64 = 0
  private var closing = false
  private var thread: Thread?
  private var failure: Error?
  private let done = NSCondition()
  private var finished = false

  /// Which clock times the writer's flushes (``CaptureWriter``).
  public enum FlushClock: Sendable {
    /// The monotonic clock: a live recorder loses at most 250 ms of frames to a crash.
    case monotonic
    /// The frames' own timestamps: a simulated session, however fast it runs, is written as a
    /// real recording of it would be (a flush every 250 ms of capture time).
    case frameTimestamps
  }

  private let flushClock: FlushClock
  private var lastFrameTimestamp: UInt64 = 0

  /// Creates `path` under `policy` (by default private, 0600, and never replacing anything or
  /// writing through a link: ``OutputFile``) and writes the section header.
  public init(
    path: String, metadata: CaptureMetadata, compression: CaptureCompression = .defaultZstd,
    queueLimit: Int = 16 << 20, interfaces: [String?] = [nil], policy: OutputFilePolicy = OutputFilePolicy(),
    flushClock: FlushClock = .monotonic
  ) throws {
    self.path = path
    self.queueLimit = queueLimit
    self.flushClock = flushClock
    let fd = try OutputFile.open(path, policy: policy)
    descriptor = fd
    let file = path
    writer = try CaptureWriter(metadata: metadata, compression: compression) { bytes in
      try Self.writeAll(fd, bytes, file: file)
    }
    let now = Self.monotonicNow()
    for description in interfaces { _ = try writer.addInterface(description: description, now: now) }
    try writer.endFrame()
    let thread = Thread { [unowned self] in self.run() }
    thread.name = "ntstat capture writer"
    self.thread = thread
    thread.start()
  }

  deinit { closeDescriptor(descriptor) }

  /// Queues a frame; returns false (and counts a drop) if the queue is full.
  @discardableResult
  public func enqueue(_ frame: CapturedFrame) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    guard !closing, queuedBytes + frame.bytes.count <= queueLimit else {
      overflowDrops += 1
      totalOverflowDrops += 1
      return false
    }
    var frame = frame
    frame.dropsBefore += overflowDrops
    overflowDrops = 0
    queue.append(frame)
    queuedBytes += frame.bytes.count
    condition.signal()
    return true
  }

  /// Drains the queue, writes statistics, ends the last frame, fsyncs and closes.
  /// Throws the first write error the background thread met (e.g. ENOSPC).
  public func close(statistics: [UInt32: CaptureStatistics] = [:]) throws {
    condition.lock()
    closing = true
    condition.signal()
    condition.unlock()
    done.lock()
    while !finished { done.wait() }
    done.unlock()
    if let failure { throw failure }
    try writer.close(statistics: statistics, now: Self.monotonicNow(), wallClock: Self.wallClockNow())
    // The writer thread has ended: the writer is this thread's now.
    publishCounters()
    if fsync(descriptor) != 0 {
      throw CaptureError(.io, file: path, errno: errno, reason: "fsync: " + String(cString: strerror(errno)))
    }
  }

  private var signalSources: [DispatchSourceSignal] = []

  /// Closes the capture cleanly (statistics, last frame, seek table, fsync) when the process gets
  /// one of `signals`, then calls `then` with the signal (which should exit). The signals'
  /// default actions are replaced for the rest of the process.
  public func closeOnSignals(
    _ signals: [Int32] = [SIGINT, SIGTERM], statistics: @escaping @Sendable () -> [UInt32: CaptureStatistics] = { [:] },
    then: @escaping @Sendable (Int32) -> Void
  ) {
    for number in signals {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [self] in
        do {
          try self.close(statistics: statistics())
        } catch {
          FileHandle.standardError.write(Data("ntstat: closing \(self.path): \(error)\n".utf8))
        }
        then(number)
      }
      source.resume()
      signalSources.append(source)
    }
  }

  /// Uncompressed and written byte counts, frames written: as of the writer thread's last batch
  /// (it publishes them under `condition`; the writer itself is the thread's alone).
  public var counters: (uncompressed: UInt64, written: UInt64, frames: UInt64) {
    condition.lock()
    defer { condition.unlock() }
    return published
  }
  private var published: (uncompressed: UInt64, written: UInt64, frames: UInt64) = (0, 0, 0)

  /// Called on the writer thread after it wrote (and by `close` once it has ended): what
  /// ``counters`` reads.
  private func publishCounters() {
    let current = (writer.uncompressedBytes, writer.writtenBytes, writer.framesWritten)
    condition.lock()
    published = current
    condition.unlock()
  }

  private func run() {
    while true {
      condition.lock()
      while queue.isEmpty && !closing {
        // Wake when the next flush is due (so a crash loses at most the flush interval), and
        // every 50 ms regardless.
        var wait = 0.05
        if flushClock == .monotonic, let due = writer.nextFlushDue {
          wait = min(wait, max(0.001, Double(Int64(bitPattern: due &- Self.monotonicNow())) / 1e9))
        }
        _ = condition.wait(until: Date(timeIntervalSinceNow: wait))
        if queue.isEmpty && !closing {
          condition.unlock()
          flushIfDue()
          condition.lock()
        }
      }
      let batch = queue
      queue.removeAll(keepingCapacity: true)
      queuedBytes = 0
      let stop = closing
      condition.unlock()
      do {
        for frame in batch { try writer.write(frame, now: now(frame)) }
        try writer.flushIfDue(now: now(nil))
      } catch {
        failure = failure ?? error
      }
      publishCounters()
      if stop && batch.isEmpty || stop {
        condition.lock()
        let empty = queue.isEmpty
        condition.unlock()
        if empty { break }
      }
    }
    done.lock()
    finished = true
    done.signal()
    done.unlock()
  }

  private func flushIfDue() {
    do { try writer.flushIfDue(now: now(nil)) } catch { failure = failure ?? error }
  }

  /// The time on the flush clock: for frame timestamps, the frame's (or the last one's when idle).
  private func now(_ frame: CapturedFrame?) -> UInt64 {
    switch flushClock {
    case .monotonic: return Self.monotonicNow()
    case .frameTimestamps:
      if let frame { lastFrameTimestamp = max(lastFrameTimestamp, frame.timestamp) }
      return lastFrameTimestamp
    }
  }

  static func writeAll(_ fd: Int32, _ bytes: [UInt8], file: String) throws {
    var offset = 0
    while offset < bytes.count {
      let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if count < 0 {
        if errno == EINTR { continue }
        throw CaptureError(.io, file: file, errno: errno, reason: "write: " + String(cString: strerror(errno)))
      }
      offset += count
    }
  }

  /// Nanoseconds of a monotonic clock.
  public static func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  /// Nanoseconds since the Unix epoch.
  public static func wallClockNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }
}

/// Wall-clock nanoseconds derived from a monotonic clock anchored once, so that timestamps in a
/// capture never go backwards even if the system clock is stepped.
public struct AnchoredClock: Sendable {
  public let wallAnchor: UInt64
  public let monotonicAnchor: UInt64

  public init() {
    monotonicAnchor = CaptureFileWriter.monotonicNow()
    wallAnchor = CaptureFileWriter.wallClockNow()
  }

  public func now() -> UInt64 { wallAnchor &+ (CaptureFileWriter.monotonicNow() &- monotonicAnchor) }
}

func closeDescriptor(_ fd: Int32) {
  #if canImport(Glibc)
    _ = Glibc.close(fd)
  #else
    _ = Darwin.close(fd)
  #endif
}
