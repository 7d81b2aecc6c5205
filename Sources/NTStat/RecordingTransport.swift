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
  public let writer: CaptureFileWriter
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
  }

  public var family: LayoutFamily { base.family }
  public var now: MonotonicTime { base.now }

  func timestamp(_ time: MonotonicTime) -> UInt64 { wallAnchor &+ time.since(clockAnchor) }

  private func record(_ bytes: [UInt8], _ direction: Direction, at time: MonotonicTime) {
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
    record(datagram, .toKernel, at: base.now)
  }

  public func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    let input = try base.receive(until: deadline)
    switch input {
    case .datagram(let bytes, let time):
      framesReceived += 1
      record(bytes, .fromKernel, at: time)
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
}
