/// The kernel control socket's receive buffer, as `ctl_enqueuembuf`/`ctl_rcvbspace` account
/// for it (`bsd/kern/kern_control.c`): datagrams wait here until the client reads them, and a
/// datagram that does not fit is refused with ENOBUFS.
///
/// `ctl_rcvbspace` (`xnu-11417.121.6:bsd/kern/kern_control.c:918-990`) with
/// `CTL_FLAG_REG_CRIT` (xnu-2782+):
/// - an ordinary message (SRC_ADDED, COUNTS, DESC, UPDATE) is refused once less than a quarter
///   of the buffer is free, or when it does not fit;
/// - a critical one (SUCCESS, ERROR, SRC_REMOVED) is taken whenever it fits; when it does not,
///   the buffer grows by what is missing plus an mbuf (256 bytes), up to
///   min(1.25 × the size the client asked for, `ctl_autorcvbuf_max` = 256 KiB). With a 1 MiB
///   buffer that limit is below the buffer, so it never grows: critical messages simply get
///   the whole megabyte.
///
/// Bytes are counted as datagram bytes; the kernel counts mbuf storage, which is somewhat
/// larger, so a real buffer fills a little sooner.
public struct ReceiveQueue: Sendable {
  /// `sb_hiwat`: the buffer's size now (grown by critical messages).
  public private(set) var capacity: Int
  /// `sb_idealsize`: the size the client asked for.
  public private(set) var idealSize: Int
  public let criticalReserve: Bool
  public private(set) var usedBytes = 0
  private var items: [[UInt8]] = []
  private var head = 0
  /// `ctl_autorcvbuf_max`.
  static let autoGrowthLimit = 256 * 1024
  /// `_MSIZE`, the leeway a growth adds.
  static let mbufSize = 256

  public init(capacity: Int, criticalReserve: Bool) {
    self.capacity = capacity
    idealSize = capacity
    self.criticalReserve = criticalReserve
  }

  public var count: Int { items.count - head }
  public var isEmpty: Bool { head == items.count }

  /// As `setsockopt(SO_RCVBUF)` on the client's socket would.
  public mutating func resize(to bytes: Int) {
    capacity = max(512, bytes)
    idealSize = capacity
  }

  /// Queues a datagram; false means ENOBUFS (nothing queued).
  public mutating func enqueue(_ datagram: [UInt8], critical: Bool) -> Bool {
    guard fits(datagram.count, critical: critical) else { return false }
    usedBytes += datagram.count
    items.append(datagram)
    return true
  }

  private mutating func fits(_ size: Int, critical: Bool) -> Bool {
    let space = capacity - usedBytes
    guard criticalReserve else { return size <= space }
    guard critical else { return space >= capacity / 4 && space >= size }
    if size <= space { return true }
    let limit = min(idealSize + idealSize / 4, Self.autoGrowthLimit)
    guard capacity < limit else { return false }
    capacity = min(capacity + size - space + Self.mbufSize, limit)
    return size <= capacity - usedBytes
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
