import NTStat
import NtstatSimulator
import NtstatWire

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#endif

/// Serves a ``SimulatedKernel`` to a client over a real `socketpair(AF_UNIX, SOCK_DGRAM)`:
/// every request and every reply crosses the socket, so the client's socket code is what
/// talks to the simulator.
///
/// Time is the simulator's: when the client waits and nothing is queued, the clock jumps to
/// the next thing that happens (a flow event, or the client's deadline), so a simulated hour
/// takes as long as its datagrams take to process. With `speed` set, each jump is paced
/// against the wall clock (1 = real time).
///
/// The kernel's receive buffer is the model's ``ReceiveQueue``; a datagram moves onto the
/// socket only when the client reads, so buffer accounting (and ENOBUFS) is the model's alone.
public final class SimulatorTransport: ClientTransport {
  public var family: LayoutFamily { kernel.family }
  public private(set) var kernel: SimulatedKernel
  public private(set) var now: MonotonicTime = .zero
  public let end: MonotonicTime
  private var pacer: WallClockPacer
  let clientSocket: Int32
  let kernelSocket: Int32
  private var buffer = [UInt8](repeating: 0, count: 65_536)
  private var closed = false

  /// - Parameters:
  ///   - receiveBufferSize: what the client sets with `SO_RCVBUF` (nil: the kernel default).
  ///   - speed: nil runs as fast as possible; otherwise simulated seconds per wall second.
  public init(kernel: SimulatedKernel, receiveBufferSize: Int? = nil, speed: Double? = nil) throws {
    self.kernel = kernel
    if let receiveBufferSize { self.kernel.setReceiveBufferSize(receiveBufferSize) }
    end = kernel.workload.duration
    pacer = WallClockPacer(control: ReplayControl(speed: speed.flatMap { $0 > 0 ? .factor($0) : nil } ?? .topSpeed))
    (clientSocket, kernelSocket) = try SystemCalls.datagramPair()
    // Room for the largest datagram in either direction.
    SystemCalls.setSendBuffer(clientSocket, bytes: 1 << 17)
    SystemCalls.setSendBuffer(kernelSocket, bytes: 1 << 17)
    SystemCalls.setReceiveBuffer(clientSocket, bytes: 1 << 17)
    SystemCalls.setReceiveBuffer(kernelSocket, bytes: 1 << 17)
  }

  deinit { close() }

  /// A stall of the client's thread: at its first `send()` at or after `at`, the client is held
  /// for `duration` of simulated time before the request reaches the kernel, as a client
  /// blocked writing to a slow terminal or pipe is. The host goes on meanwhile and fills the
  /// receive buffer, so the request meets a full buffer (and `send()` may fail, as
  /// `nstat_client_send` makes it when even the ERROR does not fit).
  public func stall(at time: MonotonicTime, for duration: Duration) {
    stalls.append((time, duration.wholeNanoseconds))
  }
  private var stalls: [(at: MonotonicTime, duration: UInt64)] = []

  public func send(_ datagram: [UInt8]) throws {
    if let index = stalls.firstIndex(where: { $0.at <= now }) {
      let stall = stalls.remove(at: index)
      now = now.adding(nanoseconds: stall.duration)
      kernel.advance(to: now)
    }
    try SystemCalls.send(clientSocket, datagram)
    // The kernel side reads it at once, as `ctl_send` runs in the sender's context.
    guard let request = try SystemCalls.receive(kernelSocket, into: &buffer, wait: false) else {
      throw TransportError(operation: "recv (simulator side)", errno: EAGAIN, detail: "request did not arrive")
    }
    // What the kernel's `ctl_send` returns is what `send()` returns, with the host's errno.
    let result = kernel.handleRequest(request.array, at: now)
    guard result == 0 else {
      throw TransportError(
        operation: "send", errno: SystemCalls.hostErrno(darwin: result),
        detail: "the simulated kernel could not queue the request's ERROR")
    }
  }

  public func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    while true {
      // The client's timers run before datagrams of the same instant (the replayer keeps the
      // same order, so a replay reproduces a simulated session exactly).
      if let deadline, VirtualClock.timerRunsFirst(deadline: deadline, datagramAt: now) { return .timeout(at: now) }
      if let datagram = kernel.receive() {
        try SystemCalls.send(kernelSocket, datagram)
        guard let bytes = try SystemCalls.receive(clientSocket, into: &buffer, wait: true) else { continue }
        return .datagram(bytes, at: now)
      }
      if now >= end { return .end(at: now) }
      var target = end
      if let deadline { target = min(target, deadline) }
      if let next = kernel.nextEventTime { target = min(target, max(next, now)) }
      _ = pacer.wait(from: now, to: target)
      now = target
      kernel.advance(to: target)
    }
  }

  public func setWaitHandler(_ handler: (() -> Void)?) { pacer.waitHandler = handler }

  /// What the simulated kernel's `uname` says (``KernelConfiguration/reportedRelease``).
  public var kernelVersion: KernelVersion? { kernel.reportedKernel }

  public func close() {
    guard !closed else { return }
    closed = true
    _ = Glue.close(clientSocket)
    _ = Glue.close(kernelSocket)
  }
}
