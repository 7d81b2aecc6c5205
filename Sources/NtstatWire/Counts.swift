/// `nstat_counts`: a source's cumulative counters.
///
/// Per-medium byte counters appeared over time (cell and Wi-Fi in xnu-2422, wired in xnu-2782);
/// in older families they are `nil`, not zero.
public struct Counts: Hashable, Sendable {
  public var rxPackets: UInt64 = 0
  public var rxBytes: UInt64 = 0
  public var txPackets: UInt64 = 0
  public var txBytes: UInt64 = 0
  // Per-medium counters are stored unboxed with a presence mask, which keeps the struct at
  // 120 bytes instead of 156: counts are copied on every frame.
  @usableFromInline var medium: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
  @usableFromInline var mediumPresent: UInt8 = 0
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

  /// Cellular bytes received (xnu-2422+).
  @inlinable public var cellRxBytes: UInt64? {
    get { mediumValue(0) }
    set { setMedium(0, newValue) }
  }
  /// Cellular bytes sent (xnu-2422+).
  @inlinable public var cellTxBytes: UInt64? {
    get { mediumValue(1) }
    set { setMedium(1, newValue) }
  }
  /// Wi-Fi bytes received (xnu-2422+).
  @inlinable public var wifiRxBytes: UInt64? {
    get { mediumValue(2) }
    set { setMedium(2, newValue) }
  }
  /// Wi-Fi bytes sent (xnu-2422+).
  @inlinable public var wifiTxBytes: UInt64? {
    get { mediumValue(3) }
    set { setMedium(3, newValue) }
  }
  /// Wired bytes received (xnu-2782+).
  @inlinable public var wiredRxBytes: UInt64? {
    get { mediumValue(4) }
    set { setMedium(4, newValue) }
  }
  /// Wired bytes sent (xnu-2782+).
  @inlinable public var wiredTxBytes: UInt64? {
    get { mediumValue(5) }
    set { setMedium(5, newValue) }
  }

  @inlinable func mediumValue(_ index: Int) -> UInt64? {
    guard mediumPresent & (1 << index) != 0 else { return nil }
    switch index {
    case 0: return medium.0
    case 1: return medium.1
    case 2: return medium.2
    case 3: return medium.3
    case 4: return medium.4
    default: return medium.5
    }
  }

  @inlinable mutating func setMedium(_ index: Int, _ value: UInt64?) {
    if value == nil { mediumPresent &= ~(1 << index) } else { mediumPresent |= 1 << index }
    let stored = value ?? 0
    switch index {
    case 0: medium.0 = stored
    case 1: medium.1 = stored
    case 2: medium.2 = stored
    case 3: medium.3 = stored
    case 4: medium.4 = stored
    default: medium.5 = stored
    }
  }

  public static func == (lhs: Counts, rhs: Counts) -> Bool {
    lhs.rxPackets == rhs.rxPackets && lhs.rxBytes == rhs.rxBytes && lhs.txPackets == rhs.txPackets
      && lhs.txBytes == rhs.txBytes && lhs.cellRxBytes == rhs.cellRxBytes && lhs.cellTxBytes == rhs.cellTxBytes
      && lhs.wifiRxBytes == rhs.wifiRxBytes && lhs.wifiTxBytes == rhs.wifiTxBytes
      && lhs.wiredRxBytes == rhs.wiredRxBytes && lhs.wiredTxBytes == rhs.wiredTxBytes
      && lhs.rxDuplicateBytes == rhs.rxDuplicateBytes && lhs.rxOutOfOrderBytes == rhs.rxOutOfOrderBytes
      && lhs.txRetransmit == rhs.txRetransmit && lhs.connectAttempts == rhs.connectAttempts
      && lhs.connectSuccesses == rhs.connectSuccesses && lhs.minRTT == rhs.minRTT && lhs.avgRTT == rhs.avgRTT
      && lhs.varRTT == rhs.varRTT
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(rxPackets)
    hasher.combine(rxBytes)
    hasher.combine(txPackets)
    hasher.combine(txBytes)
    hasher.combine(mediumPresent)
    hasher.combine(rxDuplicateBytes)
    hasher.combine(avgRTT)
  }

  public init() {}

  /// Reads a family's `nstat_counts` at the reader's start: one bounds check for the whole
  /// struct, then plain loads (every slot lies inside `layout.size`; the layout tests pin it).
  @inlinable
  init(reading r: StructReader, _ layout: StructLayout<CountsField>) throws(WireError) {
    try r.check(0, layout.size)
    func u64(_ field: CountsField) -> UInt64 { r.u64(checked: layout.required(field).offset) }
    func u32(_ field: CountsField) -> UInt32 { r.u32(checked: layout.required(field).offset) }
    func optional(_ field: CountsField) -> UInt64? { layout[field].map { r.u64(checked: $0.offset) } }
    rxPackets = u64(.rxPackets)
    rxBytes = u64(.rxBytes)
    txPackets = u64(.txPackets)
    txBytes = u64(.txBytes)
    cellRxBytes = optional(.cellRxBytes)
    cellTxBytes = optional(.cellTxBytes)
    wifiRxBytes = optional(.wifiRxBytes)
    wifiTxBytes = optional(.wifiTxBytes)
    wiredRxBytes = optional(.wiredRxBytes)
    wiredTxBytes = optional(.wiredTxBytes)
    rxDuplicateBytes = u32(.rxDuplicateBytes)
    rxOutOfOrderBytes = u32(.rxOutOfOrderBytes)
    txRetransmit = u32(.txRetransmit)
    connectAttempts = u32(.connectAttempts)
    connectSuccesses = u32(.connectSuccesses)
    minRTT = u32(.minRTT)
    avgRTT = u32(.avgRTT)
    varRTT = u32(.varRTT)
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
