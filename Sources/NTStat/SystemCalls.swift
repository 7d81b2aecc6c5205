import NtstatWire

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The few system calls the transports make, wrapped so each failure is a ``TransportError``.
package enum SystemCalls {
  package static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

  /// A Darwin errno as this host numbers it (ENOBUFS is 55 on Darwin, 105 on Linux).
  package static func hostErrno(darwin: Int32) -> Int32 {
    switch darwin {
    case DarwinErrno.enobufs: return ENOBUFS
    case DarwinErrno.enomem: return ENOMEM
    case DarwinErrno.einval: return EINVAL
    case DarwinErrno.eagain: return EAGAIN
    default: return darwin
    }
  }

  /// Whether a failed `send()` means the kernel had no room: the request's ERROR did not fit
  /// the receive buffer (`nstat_client_send`), or no mbuf could be had. Both pass once the
  /// client has read what is queued.
  package static func isBufferShortage(_ error: TransportError) -> Bool {
    error.operation == "send" && (error.errno == ENOBUFS || error.errno == ENOMEM)
  }

  package static func monotonicNow() -> MonotonicTime {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return MonotonicTime(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
  }

  /// Sleeps until the monotonic clock reaches `due` (at once if it has).
  /// Sleeps until `due` on the monotonic clock; with `interrupted`, in slices of at most
  /// `slice` nanoseconds, returning early once it answers true.
  package static func sleep(
    until due: MonotonicTime, slice: UInt64 = .max, interrupted: (() -> Bool)? = nil
  ) {
    while true {
      let current = monotonicNow()
      guard due > current else { return }
      if let interrupted, interrupted() { return }
      let remaining = min(due.since(current), slice)
      var request = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
      var left = timespec()
      _ = nanosleep(&request, &left)
    }
  }

  package static func wallClockNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  /// `socketpair(AF_UNIX, SOCK_DGRAM)`: datagram boundaries kept, as on a kernel control.
  package static func datagramPair() throws(TransportError) -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    #if canImport(Darwin)
      let type = SOCK_DGRAM
    #else
      let type = Int32(SOCK_DGRAM.rawValue)
    #endif
    guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
      throw TransportError(operation: "socketpair(AF_UNIX, SOCK_DGRAM)", errno: errno)
    }
    return (fds[0], fds[1])
  }

  package static func setReceiveBuffer(_ fd: Int32, bytes: Int) {
    var value = Int32(clamping: bytes)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
  }

  /// `getsockopt(SO_RCVBUF)`: the receive buffer the kernel granted (nil if it would not say).
  package static func receiveBuffer(_ fd: Int32) -> Int? {
    var value: Int32 = 0
    var size = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &size) == 0 else { return nil }
    return Int(value)
  }

  package static func setSendBuffer(_ fd: Int32, bytes: Int) {
    var value = Int32(clamping: bytes)
    _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, socklen_t(MemoryLayout<Int32>.size))
  }

  package static func send(_ fd: Int32, _ datagram: [UInt8]) throws(TransportError) {
    while true {
      let sent = datagram.withUnsafeBytes { Glue.send(fd, $0.baseAddress, $0.count, 0) }
      if sent >= 0 { return }
      if errno == EINTR { continue }
      throw TransportError(operation: "send", errno: errno)
    }
  }

  /// One datagram (copied out of `buffer`; empty at the end of the stream), or nil if none is
  /// waiting (`MSG_DONTWAIT`).
  package static func receive(
    _ fd: Int32, into buffer: inout [UInt8], wait: Bool
  ) throws(TransportError) -> DatagramBytes? {
    while true {
      let count = buffer.withUnsafeMutableBytes {
        Glue.recv(fd, $0.baseAddress, $0.count, wait ? 0 : Int32(MSG_DONTWAIT))
      }
      if count >= 0 { return buffer.withUnsafeBytes { DatagramBytes(copying: .init(rebasing: $0[..<count])) } }
      if errno == EINTR { continue }
      if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
      throw TransportError(operation: "recv", errno: errno)
    }
  }

  /// Waits until `fd` is readable or `timeout` nanoseconds pass (nil: forever).
  package static func waitReadable(_ fd: Int32, timeout: UInt64?) throws(TransportError) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let milliseconds = timeout.map { Int32(clamping: ($0 + 999_999) / 1_000_000) } ?? -1
    while true {
      let ready = poll(&entry, 1, milliseconds)
      if ready >= 0 { return ready > 0 }
      if errno == EINTR { continue }
      throw TransportError(operation: "poll", errno: errno)
    }
  }
}

/// Unqualified libc names that collide with methods of the same name.
package enum Glue {
  package static func send(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    #if canImport(Darwin)
      return Darwin.send(fd, pointer, count, flags)
    #else
      return Glibc.send(fd, pointer, count, flags)
    #endif
  }

  package static func recv(_ fd: Int32, _ pointer: UnsafeMutableRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    #if canImport(Darwin)
      return Darwin.recv(fd, pointer, count, flags)
    #else
      return Glibc.recv(fd, pointer, count, flags)
    #endif
  }

  package static func close(_ fd: Int32) -> Int32 {
    #if canImport(Darwin)
      return Darwin.close(fd)
    #else
      return Glibc.close(fd)
    #endif
  }
}
