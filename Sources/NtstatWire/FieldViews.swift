/// Zero-copy views of the two structs every monitor reads on every frame: a source's counters
/// and its TCP/UDP descriptor. A view holds the datagram's address and the family's layout;
/// each property is one load at the family's offset. The whole struct was bounds-checked when
/// the view was made, so the loads cannot leave the message. Valid only inside
/// ``MessageDecoder/forEachView(in:direction:_:)``.
public struct CountsView {
  /// The struct's first byte; `layout.size` bytes from here were checked to be in the message.
  @usableFromInline let base: UnsafeRawPointer
  @usableFromInline let layout: StructLayout<CountsField>
  /// The family's table is ``isPacked(_:)``: the counters lie at fixed offsets.
  @usableFromInline let packed: Bool

  @inlinable
  init(base: UnsafeRawPointer, layout: StructLayout<CountsField>, packed: Bool) {
    self.base = base
    self.layout = layout
    self.packed = packed
  }

  /// Whether a family's `nstat_counts` is the one of xnu-4570 on: every field present, the ten
  /// 64-bit counters from offset 0 and the eight 32-bit ones from offset 80, in ``CountsField``
  /// order (112 bytes). Decided from the family's table, so a family that differs takes the
  /// table's offsets.
  static func isPacked(_ layout: StructLayout<CountsField>) -> Bool {
    layout.size == 112
      && CountsField.allCases.allSatisfy { field in
        let index = field.rawValue
        return layout[field] == (index < 10 ? FieldSlot(index * 8, 8) : FieldSlot(80 + (index - 10) * 4, 4))
      }
  }

  @inlinable func u64(_ field: CountsField) -> UInt64 {
    UInt64(littleEndian: base.loadUnaligned(fromByteOffset: layout.required(field).offset, as: UInt64.self))
  }
  @inlinable func u32(_ field: CountsField) -> UInt32 {
    UInt32(littleEndian: base.loadUnaligned(fromByteOffset: layout.required(field).offset, as: UInt32.self))
  }
  @inlinable func optional(_ field: CountsField) -> UInt64? {
    layout[field].map { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: $0.offset, as: UInt64.self)) }
  }

  @inlinable public var rxPackets: UInt64 { u64(.rxPackets) }
  @inlinable public var rxBytes: UInt64 { u64(.rxBytes) }
  @inlinable public var txPackets: UInt64 { u64(.txPackets) }
  @inlinable public var txBytes: UInt64 { u64(.txBytes) }
  @inlinable public var cellRxBytes: UInt64? { optional(.cellRxBytes) }
  @inlinable public var cellTxBytes: UInt64? { optional(.cellTxBytes) }
  @inlinable public var wifiRxBytes: UInt64? { optional(.wifiRxBytes) }
  @inlinable public var wifiTxBytes: UInt64? { optional(.wifiTxBytes) }
  @inlinable public var wiredRxBytes: UInt64? { optional(.wiredRxBytes) }
  @inlinable public var wiredTxBytes: UInt64? { optional(.wiredTxBytes) }
  @inlinable public var rxDuplicateBytes: UInt32 { u32(.rxDuplicateBytes) }
  @inlinable public var rxOutOfOrderBytes: UInt32 { u32(.rxOutOfOrderBytes) }
  @inlinable public var txRetransmit: UInt32 { u32(.txRetransmit) }
  @inlinable public var connectAttempts: UInt32 { u32(.connectAttempts) }
  @inlinable public var connectSuccesses: UInt32 { u32(.connectSuccesses) }
  @inlinable public var minRTT: UInt32 { u32(.minRTT) }
  @inlinable public var avgRTT: UInt32 { u32(.avgRTT) }
  @inlinable public var varRTT: UInt32 { u32(.varRTT) }

  /// All counters as a value.
  @inlinable
  public var counts: Counts {
    packed ? packedCounts : countsFromTable
  }

  /// ``counts`` of a family whose table ``isPacked(_:)``: loads at constant offsets, about 20
  /// instructions against 160 reading each offset from the table (`callgrind`).
  @inlinable
  var packedCounts: Counts {
    @inline(__always) func u64(_ offset: Int) -> UInt64 {
      UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    @inline(__always) func u32(_ offset: Int) -> UInt32 {
      UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    var c = Counts()
    c.rxPackets = u64(0)
    c.rxBytes = u64(8)
    c.txPackets = u64(16)
    c.txBytes = u64(24)
    c.medium = (u64(32), u64(40), u64(48), u64(56), u64(64), u64(72))
    c.mediumPresent = 0x3f
    c.rxDuplicateBytes = u32(80)
    c.rxOutOfOrderBytes = u32(84)
    c.txRetransmit = u32(88)
    c.connectAttempts = u32(92)
    c.connectSuccesses = u32(96)
    c.minRTT = u32(100)
    c.avgRTT = u32(104)
    c.varRTT = u32(108)
    return c
  }

  @inlinable
  var countsFromTable: Counts {
    var c = Counts()
    c.rxPackets = rxPackets
    c.rxBytes = rxBytes
    c.txPackets = txPackets
    c.txBytes = txBytes
    // The per-medium counters straight into their storage: through the optional setters, each
    // was a call (`callgrind`: a fifth of the engine's work on an update).
    var present: UInt8 = 0
    func medium(_ field: CountsField, _ bit: UInt8) -> UInt64 {
      guard let slot = layout[field] else { return 0 }
      present |= 1 << bit
      return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: slot.offset, as: UInt64.self))
    }
    c.medium = (
      medium(.cellRxBytes, 0), medium(.cellTxBytes, 1), medium(.wifiRxBytes, 2), medium(.wifiTxBytes, 3),
      medium(.wiredRxBytes, 4), medium(.wiredTxBytes, 5)
    )
    c.mediumPresent = present
    c.rxDuplicateBytes = rxDuplicateBytes
    c.rxOutOfOrderBytes = rxOutOfOrderBytes
    c.txRetransmit = txRetransmit
    c.connectAttempts = connectAttempts
    c.connectSuccesses = connectSuccesses
    c.minRTT = minRTT
    c.avgRTT = avgRTT
    c.varRTT = varRTT
    return c
  }
}

/// A zero-copy view of an `nstat_tcp_descriptor` (TCP and QUIC sources) or
/// `nstat_udp_descriptor` (UDP sources and subflows): the fields a monitor keys and labels
/// flows by. Use ``MessageView/decode()`` for every field.
public struct SocketDescriptorView {
  @usableFromInline let reader: StructReader
  @usableFromInline let tcp: StructLayout<TCPDescriptorField>?
  @usableFromInline let udp: StructLayout<UDPDescriptorField>?

  @inlinable
  init(reader: StructReader, tcp: StructLayout<TCPDescriptorField>?, udp: StructLayout<UDPDescriptorField>?) {
    self.reader = reader
    self.tcp = tcp
    self.udp = udp
  }

  @inlinable func slot(_ t: TCPDescriptorField, _ u: UDPDescriptorField) -> FieldSlot? {
    if let tcp { return tcp[t] }
    return udp?[u]
  }

  /// True for `nstat_tcp_descriptor` (TCP, QUIC), false for `nstat_udp_descriptor`.
  @inlinable public var isTCP: Bool { tcp != nil }
  @inlinable public var pid: UInt32 { slot(.pid, .pid).map { reader.u32(checked: $0.offset) } ?? 0 }
  @inlinable public var epid: UInt32? { slot(.epid, .epid).map { reader.u32(checked: $0.offset) } }
  @inlinable public var upid: UInt64 { slot(.upid, .upid).map { reader.u64(checked: $0.offset) } ?? 0 }
  @inlinable public var eupid: UInt64? { slot(.eupid, .eupid).map { reader.u64(checked: $0.offset) } }
  @inlinable public var ifindex: UInt32 { slot(.ifindex, .ifindex).map { reader.u32(checked: $0.offset) } ?? 0 }
  /// TCP only.
  @inlinable public var state: TCPState? {
    tcp.map { TCPState(rawValue: reader.u32(checked: $0.required(.state).offset)) }
  }
  @inlinable public var interfaceProperties: InterfaceProperties? {
    slot(.interfaceProperties, .interfaceProperties).map {
      InterfaceProperties(rawValue: UInt32(truncatingIfNeeded: reader.uint(checked: $0)))
    }
  }
  @inlinable public var uuid: UUIDBytes? { slot(.uuid, .uuid).map { reader.uuid(checked: $0.offset) } }
  @inlinable public var euuid: UUIDBytes? { slot(.euuid, .euuid).map { reader.uuid(checked: $0.offset) } }
  /// A TCP descriptor's 32-bit field (the windows and buffers); nil for UDP.
  @inlinable public func tcpField(_ field: TCPDescriptorField) -> UInt32? {
    tcp?[field].map { reader.u32(checked: $0.offset) }
  }
  /// The local port, without parsing the whole address.
  @inlinable public var localPort: UInt16? { slot(.local, .local).flatMap { port(at: $0.offset) } }
  @inlinable public var remotePort: UInt16? { slot(.remote, .remote).flatMap { port(at: $0.offset) } }
  public var local: SocketAddress { slot(.local, .local).map { reader.socketAddress(checked: $0) } ?? .unspecified }
  public var remote: SocketAddress { slot(.remote, .remote).map { reader.socketAddress(checked: $0) } ?? .unspecified }
  /// The process name (allocates its bytes).
  public var processName: FixedCString {
    slot(.processName, .processName).map { reader.cString(checked: $0) } ?? FixedCString(bytes: [])
  }
  /// The process name as text, up to its first zero byte: `hint` itself when it has exactly
  /// those bytes (a stream's name rarely changes between updates, and a name longer than 15
  /// bytes costs an allocation to make), else a new string.
  public func processName(reusing hint: String?) -> String {
    guard let slot = slot(.processName, .processName) else { return "" }
    let field = UnsafeRawBufferPointer(
      rebasing: reader.buffer[(reader.start + slot.offset)..<(reader.start + slot.offset + slot.width)])
    let text = UnsafeRawBufferPointer(rebasing: field[..<TextBytes.lengthBeforeZero(field)])
    // The hint's bytes borrowed where they lie: a `var` copy of it retained and released a
    // name longer than 15 bytes (two atomic operations a descriptor).
    if let same = hint?.utf8.withContiguousStorageIfAvailable({ TextBytes.equal(UnsafeRawBufferPointer($0), text) }),
      same
    {
      return hint.unsafelyUnwrapped
    }
    return String(decoding: text, as: UTF8.self)
  }
  /// The first byte of the process name (0 if empty), without allocating.
  @inlinable public var processNameFirstByte: UInt8 {
    slot(.processName, .processName).map { reader.u8(checked: $0.offset) } ?? 0
  }

  @inlinable func port(at offset: Int) -> UInt16? {
    let family = reader.u8(checked: offset + 1)
    guard family == SocketAddress.darwinAFInet || family == SocketAddress.darwinAFInet6 else { return nil }
    return UInt16(reader.u8(checked: offset + 2)) << 8 | UInt16(reader.u8(checked: offset + 3))
  }
}

extension MessageView {
  /// The counters of SRC_COUNTS, SRC_UPDATE and SRC_EXTENDED_UPDATE, read in place.
  @inlinable
  public func countsView() throws(WireError) -> CountsView? {
    let h = hot
    let offset: Int
    let size: Int
    switch header.type {
    case .sourceCounts: (offset, size) = (h.pointee.countsInCountsMessage, h.pointee.countsMessageSize)
    case .sourceUpdate, .sourceExtendedUpdate:
      guard h.pointee.updateData >= 0 else { return nil }
      (offset, size) = (h.pointee.updateCounts, h.pointee.updateData)
    default: return nil
    }
    try need(size)
    return countsView(at: offset)
  }

  /// The counters at `offset` of the message, after a length check that covered them.
  @inlinable @inline(__always)
  func countsView(at offset: Int) -> CountsView {
    let h = hot
    return CountsView(
      base: buffer.baseAddress!.advanced(by: start + offset), layout: h.pointee.counts,
      packed: h.pointee.countsArePacked)
  }

  /// The detailed counters of SRC_DETAILS and SRC_EXTENDED_DETAILS (xnu-12377+), read in place.
  public func detailedCountsView() throws(WireError) -> DetailedCountsView? {
    let h = hot
    guard header.type == .sourceDetails || header.type == .sourceExtendedDetails, h.pointee.detailsData >= 0 else {
      return nil
    }
    try need(h.pointee.detailsData)
    let l = tables.layouts
    return DetailedCountsView(
      base: buffer.baseAddress!.advanced(by: start + h.pointee.detailsCounts), layout: l.detailedCounts!,
      media: l.mediaStats!, traffic: l.trafficStats!)
  }

  /// The TCP/UDP descriptor of SRC_DESC, SRC_UPDATE, SRC_EXTENDED_UPDATE and SRC_DETAILS, read in place;
  /// nil for other messages and other providers (route, ifnet, conn).
  @inlinable
  public func socketDescriptorView() throws(WireError) -> SocketDescriptorView? {
    let h = hot
    guard let (data, providerOffset) = try descriptorPlacement() else { return nil }
    let code = h.pointee.descriptorCode(provider: reader.u32(checked: providerOffset))
    switch code {
    case 1:
      try need(data + h.pointee.tcp.size)
      return SocketDescriptorView(reader: reader.nested(at: data), tcp: h.pointee.tcp, udp: nil)
    case 2:
      try need(data + h.pointee.udp.size)
      return SocketDescriptorView(reader: reader.nested(at: data), tcp: nil, udp: h.pointee.udp)
    default:
      return nil
    }
  }
}

extension MessageView {
  /// Where a description's or update's descriptor starts and where its provider id is, after
  /// checking the message holds the header up to the descriptor; nil for other messages.
  @inlinable
  func descriptorPlacement() throws(WireError) -> (data: Int, provider: Int)? {
    let h = hot
    let placement: (Int, Int)
    switch header.type {
    case .sourceDescription: placement = (h.pointee.descriptionData, h.pointee.descriptionProvider)
    case .sourceUpdate, .sourceExtendedUpdate:
      guard h.pointee.updateData >= 0 else { return nil }
      placement = (h.pointee.updateData, h.pointee.updateProvider)
    case .sourceDetails, .sourceExtendedDetails:
      guard h.pointee.detailsData >= 0 else { return nil }
      placement = (h.pointee.detailsData, h.pointee.detailsProvider)
    default: return nil
    }
    try need(placement.0)
    return placement
  }

  /// The provider and a copy of the descriptor bytes of SRC_DESC, SRC_UPDATE or
  /// SRC_EXTENDED_UPDATE, for decoding later (``MessageDecoder/decodeDescriptor(_:provider:)``)
  /// only if someone asks; nil for other messages or a provider the family lacks.
  public func descriptorBytes() throws(WireError) -> (provider: ProviderID, bytes: [UInt8])? {
    guard let (provider, region) = try descriptorRegion() else { return nil }
    return (provider, Array(region))
  }

  /// Like ``descriptorBytes()``, without the copy: the descriptor's bytes where they lie in the
  /// buffer the view reads, valid only as long as that buffer is.
  public func descriptorRegion() throws(WireError) -> (provider: ProviderID, bytes: UnsafeRawBufferPointer)? {
    guard let (data, providerOffset) = try descriptorPlacement() else { return nil }
    let provider = ProviderID(rawValue: reader.u32(checked: providerOffset))
    let decoder = MessageDecoder(tables: tables)
    guard let kind = decoder.providerKind(provider)?.descriptorKind, let size = decoder.descriptorSize(kind) else {
      return nil
    }
    try need(data + size)
    let from = start + data
    return (provider, UnsafeRawBufferPointer(rebasing: buffer[from..<(from + size)]))
  }
}

extension MessageView {
  /// ``descriptorRegion()`` and, for a TCP descriptor, its state (`t_state`), from one lookup of
  /// the descriptor: the engine reads both for every update, and making a
  /// ``socketDescriptorView()`` for the state alone placed and checked the descriptor again.
  public func descriptorRegionAndState() throws(WireError) -> (
    provider: ProviderID, bytes: UnsafeRawBufferPointer, state: TCPState?
  )? {
    let h = hot
    // TCP and UDP, nearly every descriptor, are placed from the hot table alone; the rest
    // through the family's layouts, as ``descriptorRegion()`` places them.
    guard let (data, providerOffset) = try descriptorPlacement() else { return nil }
    let provider = ProviderID(rawValue: reader.u32(checked: providerOffset))
    guard let (isTCP, size) = h.pointee.socketDescriptor(provider: provider.rawValue) else {
      guard let (provider, bytes) = try descriptorRegion() else { return nil }
      return (provider, bytes, nil)
    }
    try need(data + size)
    let from = start + data
    let bytes = UnsafeRawBufferPointer(rebasing: buffer[from..<(from + size)])
    let offset = h.pointee.tcp.required(.state).offset
    guard isTCP, offset + 4 <= size else { return (provider, bytes, nil) }
    let state = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    return (provider, bytes, TCPState(rawValue: state))
  }
}

/// Zero-copy view of `nstat_detailed_counts` (xnu-12377+): each property is one load at the
/// family's offset. The whole struct was bounds-checked when the view was made. Valid only
/// inside ``MessageDecoder/forEachView(in:direction:_:)``.
public struct DetailedCountsView {
  @usableFromInline let base: UnsafeRawPointer
  @usableFromInline let layout: StructLayout<DetailedCountsField>
  @usableFromInline let media: StructLayout<MediaStatsField>
  @usableFromInline let traffic: StructLayout<TrafficStatsField>

  init(
    base: UnsafeRawPointer, layout: StructLayout<DetailedCountsField>, media: StructLayout<MediaStatsField>,
    traffic: StructLayout<TrafficStatsField>
  ) {
    self.base = base
    self.layout = layout
    self.media = media
    self.traffic = traffic
  }

  @inlinable func u64(at offset: Int) -> UInt64 {
    UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
  }
  @inlinable func u32(_ field: DetailedCountsField) -> UInt32 {
    UInt32(littleEndian: base.loadUnaligned(fromByteOffset: layout.required(field).offset, as: UInt32.self))
  }
  @inlinable func offset(_ medium: Medium, _ field: TrafficStatsField) -> Int {
    layout.required(.mediaStats).offset + media.required(medium.field).offset + traffic.required(field).offset
  }

  @inlinable public func rxPackets(_ medium: Medium) -> UInt64 { u64(at: offset(medium, .rxPackets)) }
  @inlinable public func rxBytes(_ medium: Medium) -> UInt64 { u64(at: offset(medium, .rxBytes)) }
  @inlinable public func txPackets(_ medium: Medium) -> UInt64 { u64(at: offset(medium, .txPackets)) }
  @inlinable public func txBytes(_ medium: Medium) -> UInt64 { u64(at: offset(medium, .txBytes)) }
  public func activity(_ medium: Medium) -> ActivityBitmap {
    let at = offset(medium, .activityBitmap)
    return ActivityBitmap(start: u64(at: at), bitmap: (u64(at: at + 8), u64(at: at + 16)))
  }
  @inlinable public var rxDuplicateBytes: UInt64 { u64(at: layout.required(.rxDuplicateBytes).offset) }
  @inlinable public var rxOutOfOrderBytes: UInt64 { u64(at: layout.required(.rxOutOfOrderBytes).offset) }
  @inlinable public var txRetransmit: UInt64 { u64(at: layout.required(.txRetransmit).offset) }
  @inlinable public var minRTT: UInt32 { u32(.minRTT) }
  @inlinable public var avgRTT: UInt32 { u32(.avgRTT) }
  @inlinable public var varRTT: UInt32 { u32(.varRTT) }

  /// All counters as a value.
  public var counts: DetailedCounts {
    DetailedCounts(
      media: Medium.allCases.map {
        TrafficStats(
          rxPackets: rxPackets($0), rxBytes: rxBytes($0), txPackets: txPackets($0), txBytes: txBytes($0),
          activity: activity($0))
      }, rxDuplicateBytes: rxDuplicateBytes, rxOutOfOrderBytes: rxOutOfOrderBytes, txRetransmit: txRetransmit,
      minRTT: minRTT, avgRTT: avgRTT, varRTT: varRTT, extraFlags: u32(.extraFlags),
      extraUUID: UUIDBytes(
        high: UInt64(
          bigEndian: base.loadUnaligned(fromByteOffset: layout.required(.extraUUID).offset, as: UInt64.self)),
        low: UInt64(
          bigEndian: base.loadUnaligned(fromByteOffset: layout.required(.extraUUID).offset + 8, as: UInt64.self))))
  }
}
