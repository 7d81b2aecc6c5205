import NTStat
import NtstatCapture
import NtstatWire

/// Wraps any transport and copies every datagram, both directions, with its timestamp, to a
/// capture writer. The writer queues and writes on its own thread, so recording never blocks
/// the client; frames it cannot queue are counted as drops in the capture.
///
/// Timestamps are wall-clock nanoseconds derived from the transport's clock, anchored once:
/// they never go backwards, and a simulated run records simulated time.
public final class RecordingTransport: ClientTransport {
  public let base: ClientTransport
  public private(set) var writer: CaptureFileWriter
  /// Start a new file past a size or an age (nil: one file).
  public var rotation: Rotation?
  /// Every file written so far, in order (the current one last).
  public private(set) var files: [String]
  private var segmentStart: MonotonicTime
  let wallAnchor: UInt64
  let clockAnchor: MonotonicTime
  public private(set) var framesRecorded: UInt64 = 0
  public private(set) var framesReceived: UInt64 = 0
  /// Datagrams the transport reported lost (they are in no capture either).
  public private(set) var transportDrops: UInt64 = 0
  private var pendingDrops: UInt64 = 0
  public private(set) var firstTimestamp: UInt64?
  public private(set) var lastTimestamp: UInt64?

  public init(wrapping base: ClientTransport, writer: CaptureFileWriter, wallClockAnchor: UInt64? = nil) {
    self.base = base
    self.writer = writer
    wallAnchor = wallClockAnchor ?? SystemCalls.wallClockNow()
    clockAnchor = base.now
    segmentStart = base.now
    files = [writer.path]
  }

  /// When to start a new capture file, and how to open it. Each file is a complete capture
  /// with its own metadata; requests sent before a rotation are only in earlier files.
  public struct Rotation {
    /// Compressed bytes written to the current file.
    public var maxBytes: UInt64?
    /// Transport time since the current file was opened.
    public var maxDuration: Duration?
    /// Opens file number `index` (1 for the second file, …).
    public var open: (Int) throws -> CaptureFileWriter

    public init(
      maxBytes: UInt64? = nil, maxDuration: Duration? = nil, open: @escaping (Int) throws -> CaptureFileWriter
    ) {
      self.maxBytes = maxBytes
      self.maxDuration = maxDuration
      self.open = open
    }
  }

  private func rotateIfDue(at time: MonotonicTime) throws {
    guard let rotation else { return }
    let bySize = rotation.maxBytes.map { writer.counters.written >= $0 } ?? false
    let byAge = rotation.maxDuration.map { time.duration(since: segmentStart) >= $0 } ?? false
    guard bySize || byAge else { return }
    let next = try rotation.open(files.count)
    let finished = writer
    let statistics = captureStatistics
    writer = next
    files.append(next.path)
    segmentStart = time
    (firstTimestamp, lastTimestamp, framesReceived, transportDrops) = (nil, nil, 0, 0)
    try finished.close(statistics: [0: statistics])
  }

  public var family: LayoutFamily { base.family }
  public var now: MonotonicTime { base.now }

  func timestamp(_ time: MonotonicTime) -> UInt64 { wallAnchor &+ time.since(clockAnchor) }

  /// Rewrites each datagram before it is recorded (`record --anonymize` redacts here); a nil
  /// result records nothing for that datagram. The client always sees the real one.
  public var redaction: (([UInt8], Direction) -> [UInt8]?)?

  private func record(_ datagram: DatagramBytes, _ direction: Direction, at time: MonotonicTime) throws {
    var bytes = datagram
    if let redaction {
      guard let redacted = redaction(datagram.array, direction) else { return }
      bytes = DatagramBytes(redacted)
    }
    // Rotate before a frame, never after the last one: no file ends up empty.
    try rotateIfDue(at: time)
    let stamp = timestamp(time)
    if firstTimestamp == nil { firstTimestamp = stamp }
    lastTimestamp = stamp
    let frame = CapturedFrame(timestamp: stamp, direction: direction, bytes: bytes, dropsBefore: pendingDrops)
    if writer.enqueue(frame) {
      pendingDrops = 0
      framesRecorded += 1
    }
  }

  public func send(_ datagram: [UInt8]) throws {
    try base.send(datagram)
    try record(DatagramBytes(datagram), .toKernel, at: base.now)
  }

  public func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    let input = try base.receive(until: deadline)
    switch input {
    case .datagram(let bytes, let time):
      framesReceived += 1
      try record(bytes, .fromKernel, at: time)
    case .dropped(let count, _):
      transportDrops += count
      pendingDrops += count
    case .timeout, .end:
      break
    }
    return input
  }

  /// The interface statistics for the capture's clean close.
  public var captureStatistics: CaptureStatistics {
    CaptureStatistics(
      startTime: firstTimestamp, endTime: lastTimestamp, framesReceived: framesReceived,
      drops: transportDrops + writer.totalOverflowDrops)
  }

  public func close() { base.close() }
  public func interrupt() { base.interrupt() }
  public func setWaitHandler(_ handler: (() -> Void)?) { base.setWaitHandler(handler) }
  public var kernelVersion: KernelVersion? { base.kernelVersion }
  public var waitsUninterruptibly: Bool { base.waitsUninterruptibly }
}
