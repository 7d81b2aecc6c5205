/// Rewrites the fields of an already encoded SRC_UPDATE that change from poll to poll
/// (header context and flags, counters, and the moving parts of a TCP or UDP descriptor),
/// leaving every other byte as encoded.
///
/// For producers of many updates (the simulator answers every poll with one per source): encode
/// a source's update once with ``MessageEncoder``, then patch a copy per poll. The result is
/// byte for byte what encoding the whole message again would give; a test checks that.
public struct UpdatePatcher: Sendable {
  let layouts: FamilyLayouts
  let counts: Int
  let eventFlags: FieldSlot?
  let data: Int

  /// Nil for families without SRC_UPDATE (before xnu-3247).
  public init?(family: LayoutFamily) {
    layouts = family.layouts
    guard let l = layouts.sourceUpdateMessage else { return nil }
    counts = l.required(.counts).offset
    eventFlags = l[.eventFlags]
    data = l.required(.data).offset
  }

  /// The TCP descriptor fields that move between polls.
  public struct TCPMoving: Sendable {
    public var timestamp: UInt64
    public var rxTransferSize: UInt64
    public var txTransferSize: UInt64
    public var activityBitmap: ActivityBitmap
    public var state: TCPState
    public var sendBufferUsed: UInt32
    public var txUnacked: UInt32
    public var txWindow: UInt32
    public var txCongestionWindow: UInt32

    public init(
      timestamp: UInt64, rxTransferSize: UInt64, txTransferSize: UInt64, activityBitmap: ActivityBitmap,
      state: TCPState, sendBufferUsed: UInt32, txUnacked: UInt32, txWindow: UInt32, txCongestionWindow: UInt32
    ) {
      self.timestamp = timestamp
      self.rxTransferSize = rxTransferSize
      self.txTransferSize = txTransferSize
      self.activityBitmap = activityBitmap
      self.state = state
      self.sendBufferUsed = sendBufferUsed
      self.txUnacked = txUnacked
      self.txWindow = txWindow
      self.txCongestionWindow = txCongestionWindow
    }
  }

  /// Patches the update that starts at `base` in `bytes`. `tcp`/`udp` describe the moving
  /// descriptor fields of a TCP- or UDP-descriptor update (pass the one that applies).
  public func patch(
    _ bytes: inout [UInt8], at base: Int, context: UInt64, flags: MessageFlags, counts: Counts,
    tcp: TCPMoving? = nil, udp: (timestamp: UInt64, activityBitmap: ActivityBitmap)? = nil
  ) {
    var w = ByteWriter(bytes: [])
    swap(&w.bytes, &bytes)
    defer { swap(&w.bytes, &bytes) }
    w.base = base
    w.set(context, at: 0)
    w.set(flags.rawValue, at: 14)
    w.base = base + self.counts
    counts.write(into: &w, layouts.counts)
    w.base = base + data
    if let tcp {
      let l = layouts.tcpDescriptor
      w.set(tcp.timestamp, in: l[.timestamp])
      w.set(tcp.rxTransferSize, in: l[.rxTransferSize])
      w.set(tcp.txTransferSize, in: l[.txTransferSize])
      if let slot = l[.activityBitmap] { tcp.activityBitmap.write(into: &w, at: slot.offset) }
      w.set(tcp.state.rawValue, at: l.required(.state).offset)
      w.set(tcp.sendBufferUsed, at: l.required(.sendBufferUsed).offset)
      w.set(tcp.txUnacked, at: l.required(.txUnacked).offset)
      w.set(tcp.txWindow, at: l.required(.txWindow).offset)
      w.set(tcp.txCongestionWindow, at: l.required(.txCongestionWindow).offset)
    }
    if let udp {
      let l = layouts.udpDescriptor
      w.set(udp.timestamp, in: l[.timestamp])
      if let slot = l[.activityBitmap] { udp.activityBitmap.write(into: &w, at: slot.offset) }
    }
  }
}
