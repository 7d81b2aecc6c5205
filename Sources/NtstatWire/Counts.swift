/// `nstat_counts`: a source's cumulative counters.
///
/// Per-medium byte counters appeared over time (cell and Wi-Fi in xnu-2422, wired in xnu-2782);
/// in older families they are `nil`, not zero.
public struct Counts: Hashable, Sendable {
  public var rxPackets: UInt64 = 0
  public var rxBytes: UInt64 = 0
  public var txPackets: UInt64 = 0
  public var txBytes: UInt64 = 0
  public var cellRxBytes: UInt64?
  public var cellTxBytes: UInt64?
  public var wifiRxBytes: UInt64?
  public var wifiTxBytes: UInt64?
  public var wiredRxBytes: UInt64?
  public var wiredTxBytes: UInt64?
  public var rxDuplicateBytes: UInt32 = 0
  public var rxOutOfOrderBytes: UInt32 = 0
  public var txRetransmit: UInt32 = 0
  /// TCP: 1 while `t_state >= SYN_SENT` (computed from the *current* state by the kernel).
  public var connectAttempts: UInt32 = 0
  /// TCP: 1 while `t_state >= ESTABLISHED`.
  public var connectSuccesses: UInt32 = 0
  /// Raw `t_rttbest`.
  public var minRTT: UInt32 = 0
  /// Raw `t_srtt`, scaled by `TCP_RTT_SCALE` (32).
  public var avgRTT: UInt32 = 0
  /// Raw `t_rttvar`.
  public var varRTT: UInt32 = 0

  public init() {}


  init(reading r: StructReader, _ layout: StructLayout<CountsField>) throws(WireError) {
    rxPackets = try r.u64(layout.required(.rxPackets).offset)
    rxBytes = try r.u64(layout.required(.rxBytes).offset)
    txPackets = try r.u64(layout.required(.txPackets).offset)
    txBytes = try r.u64(layout.required(.txBytes).offset)
    cellRxBytes = try r.u64(layout[.cellRxBytes])
    cellTxBytes = try r.u64(layout[.cellTxBytes])
    wifiRxBytes = try r.u64(layout[.wifiRxBytes])
    wifiTxBytes = try r.u64(layout[.wifiTxBytes])
    wiredRxBytes = try r.u64(layout[.wiredRxBytes])
    wiredTxBytes = try r.u64(layout[.wiredTxBytes])
    rxDuplicateBytes = try r.u32(layout.required(.rxDuplicateBytes).offset)
    rxOutOfOrderBytes = try r.u32(layout.required(.rxOutOfOrderBytes).offset)
    txRetransmit = try r.u32(layout.required(.txRetransmit).offset)
    connectAttempts = try r.u32(layout.required(.connectAttempts).offset)
    connectSuccesses = try r.u32(layout.required(.connectSuccesses).offset)
    minRTT = try r.u32(layout.required(.minRTT).offset)
    avgRTT = try r.u32(layout.required(.avgRTT).offset)
    varRTT = try r.u32(layout.required(.varRTT).offset)
  }

  func write(into w: inout ByteWriter, _ layout: StructLayout<CountsField>) {
    w.set(rxPackets, at: layout.required(.rxPackets).offset)
    w.set(rxBytes, at: layout.required(.rxBytes).offset)
    w.set(txPackets, at: layout.required(.txPackets).offset)
    w.set(txBytes, at: layout.required(.txBytes).offset)
    w.set(cellRxBytes, in: layout[.cellRxBytes])
    w.set(cellTxBytes, in: layout[.cellTxBytes])
    w.set(wifiRxBytes, in: layout[.wifiRxBytes])
    w.set(wifiTxBytes, in: layout[.wifiTxBytes])
    w.set(wiredRxBytes, in: layout[.wiredRxBytes])
    w.set(wiredTxBytes, in: layout[.wiredTxBytes])
    w.set(rxDuplicateBytes, at: layout.required(.rxDuplicateBytes).offset)
    w.set(rxOutOfOrderBytes, at: layout.required(.rxOutOfOrderBytes).offset)
    w.set(txRetransmit, at: layout.required(.txRetransmit).offset)
    w.set(connectAttempts, at: layout.required(.connectAttempts).offset)
    w.set(connectSuccesses, at: layout.required(.connectSuccesses).offset)
    w.set(minRTT, at: layout.required(.minRTT).offset)
    w.set(avgRTT, at: layout.required(.avgRTT).offset)
    w.set(varRTT, at: layout.required(.varRTT).offset)
  }
}

/// `nstat_interface_counts` (xnu-11215+): the payload of a BLUETOOTH_COUNTS extended item.
public struct InterfaceCounts: Hashable, Sendable {
  public var rxPackets: UInt64
  public var rxBytes: UInt64
  public var txPackets: UInt64
  public var txBytes: UInt64

  public init(rxPackets: UInt64 = 0, rxBytes: UInt64 = 0, txPackets: UInt64 = 0, txBytes: UInt64 = 0) {
    self.rxPackets = rxPackets
    self.rxBytes = rxBytes
    self.txPackets = txPackets
    self.txBytes = txBytes
  }

  init(reading r: StructReader, _ layout: StructLayout<InterfaceCountsField>) throws(WireError) {
    rxPackets = try r.u64(layout.required(.rxPackets).offset)
    rxBytes = try r.u64(layout.required(.rxBytes).offset)
    txPackets = try r.u64(layout.required(.txPackets).offset)
    txBytes = try r.u64(layout.required(.txBytes).offset)
  }

  func write(into w: inout ByteWriter, _ layout: StructLayout<InterfaceCountsField>) {
    w.set(rxPackets, at: layout.required(.rxPackets).offset)
    w.set(rxBytes, at: layout.required(.rxBytes).offset)
    w.set(txPackets, at: layout.required(.txPackets).offset)
    w.set(txBytes, at: layout.required(.txBytes).offset)
  }
}

/// `activity_bitmap_t` (xnu-4570+): a start time and 128 one-bit activity slots.
public struct ActivityBitmap: Hashable, Sendable {
  public var start: UInt64
  public var bitmap: (UInt64, UInt64)

  public init(start: UInt64 = 0, bitmap: (UInt64, UInt64) = (0, 0)) {
    self.start = start
    self.bitmap = bitmap
  }

  init(reading r: StructReader, at offset: Int) throws(WireError) {
    start = try r.u64(offset)
    bitmap = (try r.u64(offset + 8), try r.u64(offset + 16))
  }

  func write(into w: inout ByteWriter, at offset: Int) {
    w.set(start, at: offset)
    w.set(bitmap.0, at: offset + 8)
    w.set(bitmap.1, at: offset + 16)
  }

  public static func == (lhs: ActivityBitmap, rhs: ActivityBitmap) -> Bool {
    lhs.start == rhs.start && lhs.bitmap == rhs.bitmap
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(start)
    hasher.combine(bitmap.0)
    hasher.combine(bitmap.1)
  }
}
