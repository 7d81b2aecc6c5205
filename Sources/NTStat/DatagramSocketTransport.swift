import NtstatWire

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#endif

/// A transport over any connected datagram descriptor: the kernel control socket on macOS, or
/// one end of a `socketpair` whose other end is served by the simulator.
public final class DatagramSocketTransport: ClientTransport {
  public let family: LayoutFamily
  public let descriptor: Int32
  private let ownsDescriptor: Bool
  // 64 KiB: larger than any datagram the kernel sends (packed ≤ 4096, extended updates
  // ≤ 65532), so `recv` never truncates.
  private var buffer = [UInt8](repeating: 0, count: 65_536)
  private var closed = false
  private var waitHandler: (() -> Void)?
  /// What the kernel said of itself when the control was opened (nil for other descriptors).
  public internal(set) var kernelVersion: KernelVersion?

  /// Uses `descriptor` (closed by ``close()`` when `ownsDescriptor`).
  public init(descriptor: Int32, family: LayoutFamily, ownsDescriptor: Bool = true, receiveBufferSize: Int? = nil) {
    self.descriptor = descriptor
    self.family = family
    self.ownsDescriptor = ownsDescriptor
    if let receiveBufferSize { SystemCalls.setReceiveBuffer(descriptor, bytes: receiveBufferSize) }
  }

  public var now: MonotonicTime { SystemCalls.monotonicNow() }

  /// The receive buffer the kernel granted (`getsockopt(SO_RCVBUF)`).
  public var grantedReceiveBufferSize: Int? { SystemCalls.receiveBuffer(descriptor) }

  public func send(_ datagram: [UInt8]) throws { try SystemCalls.send(descriptor, datagram) }

  public func setWaitHandler(_ handler: (() -> Void)?) { waitHandler = handler }
  public var waitsUninterruptibly: Bool { true }

  public func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    while true {
      // What is already queued is read without a wait; only an empty socket calls the wait
      // handler (a busy kernel would otherwise cost a flush per datagram).
      if let datagram = try SystemCalls.receive(descriptor, into: &buffer, wait: false) {
        if datagram.isEmpty { return .end(at: now) }
        return .datagram(datagram, at: now)
      }
      let current = now
      if let deadline, current >= deadline { return .timeout(at: current) }
      waitHandler?()
      _ = try SystemCalls.waitReadable(descriptor, timeout: deadline.map { $0.since(now) })
    }
  }

  public func close() {
    guard !closed else { return }
    closed = true
    if ownsDescriptor { _ = Glue.close(descriptor) }
  }

  deinit { close() }
}
