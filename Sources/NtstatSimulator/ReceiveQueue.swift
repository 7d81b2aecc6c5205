/// The kernel control socket's receive buffer, as `ctl_enqueuembuf`/`ctl_rcvbspace` account
/// for it (`bsd/kern/kern_control.c`): datagrams wait here until the client reads them, and a
/// datagram that does not fit is refused with ENOBUFS.
///
/// With `CTL_FLAG_REG_CRIT` (xnu-2782+), ordinary messages must leave a quarter of the buffer
/// free; critical ones (SUCCESS, ERROR, SRC_REMOVED) may use the rest and may grow the buffer
/// to 1.25 × its size, at most 256 KiB. Bytes are counted as datagram bytes; the kernel counts
/// mbuf storage, which is somewhat larger, so a real buffer fills a little sooner.
public struct ReceiveQueue: Sendable {
  public private(set) var capacity: Int
  public let criticalReserve: Bool
  public private(set) var usedBytes = 0
  private var items: [[UInt8]] = []
  private var head = 0

  public init(capacity: Int, criticalReserve: Bool) {
    self.capacity = capacity
    self.criticalReserve = criticalReserve
  }

  public var count: Int { items.count - head }
  public var isEmpty: Bool { head == items.count }

  /// As `setsockopt(SO_RCVBUF)` on the client's socket would.
  public mutating func resize(to bytes: Int) { capacity = max(512, bytes) }

  /// Queues a datagram; false means ENOBUFS (nothing queued).
  public mutating func enqueue(_ datagram: [UInt8], critical: Bool) -> Bool {
    let free = capacity - usedBytes
    let fits: Bool
    if !criticalReserve {
      fits = datagram.count <= free
    } else if critical {
      fits = usedBytes + datagram.count <= min(capacity + capacity / 4, 256 * 1024)
    } else {
      fits = datagram.count <= free - capacity / 4
    }
    guard fits else { return false }
    usedBytes += datagram.count
    items.append(datagram)
    return true
  }

  /// The oldest datagram, as `recv()` would return it.
  public mutating func dequeue() -> [UInt8]? {
    guard head < items.count else { return nil }
    let datagram = items[head]
    items[head] = []
    head += 1
    usedBytes -= datagram.count
    if head > 1024, head * 2 > items.count {
      items.removeFirst(head)
      head = 0
    }
    return datagram
  }
}
