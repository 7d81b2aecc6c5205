import NtstatWire

/// Where a client's datagrams go and come from, and whose clock it runs on.
///
/// The engine never reads a clock: the transport says what time it is. A live socket answers
/// with the system's monotonic clock, the simulator and replay transports with a virtual one,
/// which is why a replay at any speed drives the engine through the same instants.
public protocol ClientTransport: AnyObject {
  /// The layout family of the kernel at the other end.
  var family: LayoutFamily { get }
  /// The current time on this transport's clock.
  var now: MonotonicTime { get }
  /// Sends one request datagram.
  func send(_ datagram: [UInt8]) throws
  /// Waits for the next datagram, until `deadline` at most (nil: no deadline).
  func receive(until deadline: MonotonicTime?) throws -> TransportInput
  /// Releases the transport's resources.
  func close()
  /// Ends a wait of ``receive(until:)`` on the transport's own clock; called from any thread by
  /// ``NetworkStatisticsClient/stop()``. A replay ends at once, even mid-way through a real-time
  /// pause. The default does nothing: a live socket's wait is already bounded by the client's
  /// check interval.
  func interrupt()
  /// Sets what the transport calls right before it blocks: waiting for the kernel, or pacing
  /// a replay or a simulation against the wall clock. A command that prints events flushes its
  /// output there, so a pipe sees each event as soon as nothing else is ready, while a run at
  /// top speed (which never waits) keeps its large buffer. The default does nothing.
  func setWaitHandler(_ handler: (() -> Void)?)
  /// What the kernel at the other end says of itself (`uname`), where known.
  var kernelVersion: KernelVersion? { get }
  /// Whether a wait in ``receive(until:)`` blocks on the wall clock in a way ``interrupt()``
  /// cannot end (a live socket in `poll`): the run loop then wakes every check interval to
  /// notice ``NetworkStatisticsClient/stop()``. The default is false.
  var waitsUninterruptibly: Bool { get }
}

extension ClientTransport {
  public func interrupt() {}
  public func setWaitHandler(_ handler: (() -> Void)?) {}
  public var kernelVersion: KernelVersion? { nil }
  public var waitsUninterruptibly: Bool { false }
}

/// What a transport's ``ClientTransport/receive(until:)`` returns.
public enum TransportInput: Sendable {
  case datagram(DatagramBytes, at: MonotonicTime)
  /// The deadline passed first.
  case timeout(at: MonotonicTime)
  /// Datagrams were lost on the way (socket or recorder overflow).
  case dropped(count: UInt64, at: MonotonicTime)
  /// No more input: the socket closed, the simulation or the capture ended.
  case end(at: MonotonicTime)
}

/// A failed system call, with its errno, as transports report it.
public struct TransportError: Error, Hashable, Sendable, CustomStringConvertible {
  public var operation: String
  /// The host's errno value.
  public var errno: Int32
  public var detail: String

  public init(operation: String, errno: Int32, detail: String = "") {
    self.operation = operation
    self.errno = errno
    self.detail = detail
  }

  public var description: String {
    let text = "\(operation) failed: \(SystemCalls.errorText(errno)) (errno \(errno))"
    return detail.isEmpty ? text : text + "; " + detail
  }
}
