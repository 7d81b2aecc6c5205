/// `nstat_tcp_descriptor`: a TCP (kernel or userland) or QUIC source. Fields a family lacks are nil.
public struct TCPDescriptor: Hashable, Sendable {
  public var upid: UInt64 = 0
  public var eupid: UInt64?
  /// Mach absolute time the flow started (xnu-4570+).
  public var startTimestamp: UInt64?
  /// Mach absolute time of this report (xnu-4570+).
  public var timestamp: UInt64?
  public var rxTransferSize: UInt64?
  public var txTransferSize: UInt64?
  public var activityBitmap: ActivityBitmap?
  public var ifindex: UInt32 = 0
  public var state: TCPState = .closed
  public var sendBufferSize: UInt32 = 0
  public var sendBufferUsed: UInt32 = 0
  public var receiveBufferSize: UInt32 = 0
  public var receiveBufferUsed: UInt32 = 0
  public var txUnacked: UInt32 = 0
  public var txWindow: UInt32 = 0
  public var txCongestionWindow: UInt32 = 0
  public var trafficClass: UInt32?
  public var trafficManagementFlags: UInt32?
  public var pid: UInt32 = 0
  public var epid: UInt32?
  public var local: SocketAddress = .unspecified
  public var remote: SocketAddress = .unspecified
  public var congestionAlgorithm: FixedCString?
  public var processName: FixedCString = FixedCString(bytes: [])
  public var uuid: UUIDBytes?
  public var euuid: UUIDBytes?
  public var vuuid: UUIDBytes?
  public var fuuid: UUIDBytes?
  public var personaID: UInt32?
  public var uid: UInt32?
  /// `tcp_conn_status` probe bits (xnu-3247+).
  public var connectionStatus: UInt32?
  /// 16-bit up to xnu-7195, 32-bit from xnu-8019.41.
  public var interfaceProperties: InterfaceProperties?
  public var fallbackMode: UInt8?
  /// Reserved fields and padding, when not all zero.
  public var opaque: [UInt8] = []

  public init() {}

  init(reading r: StructReader, _ l: StructLayout<TCPDescriptorField>) throws(WireError) {
    try r.check(0, l.size)
    upid = r.u64(checked: l.required(.upid).offset)
    eupid = l[.eupid].map { r.u64(checked: $0.offset) }
    startTimestamp = l[.startTimestamp].map { r.u64(checked: $0.offset) }
    timestamp = l[.timestamp].map { r.u64(checked: $0.offset) }
    rxTransferSize = l[.rxTransferSize].map { r.u64(checked: $0.offset) }
    txTransferSize = l[.txTransferSize].map { r.u64(checked: $0.offset) }
    if let slot = l[.activityBitmap] { activityBitmap = try ActivityBitmap(reading: r, at: slot.offset) }
    ifindex = r.u32(checked: l.required(.ifindex).offset)
    state = TCPState(rawValue: r.u32(checked: l.required(.state).offset))
    sendBufferSize = r.u32(checked: l.required(.sendBufferSize).offset)
    sendBufferUsed = r.u32(checked: l.required(.sendBufferUsed).offset)
    receiveBufferSize = r.u32(checked: l.required(.receiveBufferSize).offset)
    receiveBufferUsed = r.u32(checked: l.required(.receiveBufferUsed).offset)
    txUnacked = r.u32(checked: l.required(.txUnacked).offset)
    txWindow = r.u32(checked: l.required(.txWindow).offset)
    txCongestionWindow = r.u32(checked: l.required(.txCongestionWindow).offset)
    trafficClass = l[.trafficClass].map { r.u32(checked: $0.offset) }
    trafficManagementFlags = l[.trafficManagementFlags].map { r.u32(checked: $0.offset) }
    pid = r.u32(checked: l.required(.pid).offset)
    epid = l[.epid].map { r.u32(checked: $0.offset) }
    local = try r.socketAddress(l.required(.local))
    remote = try r.socketAddress(l.required(.remote))
    congestionAlgorithm = try r.cString(l[.congestionAlgorithm])
    processName = try r.cString(l.required(.processName))
    uuid = try r.uuid(l[.uuid])
    euuid = try r.uuid(l[.euuid])
    vuuid = try r.uuid(l[.vuuid])
    fuuid = try r.uuid(l[.fuuid])
    personaID = l[.personaID].map { r.u32(checked: $0.offset) }
    uid = l[.uid].map { r.u32(checked: $0.offset) }
    connectionStatus = l[.connectionStatus].map { r.u32(checked: $0.offset) }
    if let slot = l[.interfaceProperties] {
      interfaceProperties = InterfaceProperties(rawValue: UInt32(truncatingIfNeeded: r.uint(checked: slot)))
    }
    if let slot = l[.fallbackMode] { fallbackMode = r.u8(checked: slot.offset) }
    opaque = try r.opaque(l[.reserved], l.holes)
  }

  func write(into w: inout ByteWriter, _ l: StructLayout<TCPDescriptorField>) {
    w.set(upid, at: l.required(.upid).offset)
    w.set(eupid, in: l[.eupid])
    w.set(startTimestamp, in: l[.startTimestamp])
    w.set(timestamp, in: l[.timestamp])
    w.set(rxTransferSize, in: l[.rxTransferSize])
    w.set(txTransferSize, in: l[.txTransferSize])
    if let slot = l[.activityBitmap], let activityBitmap { activityBitmap.write(into: &w, at: slot.offset) }
    w.set(ifindex, at: l.required(.ifindex).offset)
    w.set(state.rawValue, at: l.required(.state).offset)
    w.set(sendBufferSize, at: l.required(.sendBufferSize).offset)
    w.set(sendBufferUsed, at: l.required(.sendBufferUsed).offset)
    w.set(receiveBufferSize, at: l.required(.receiveBufferSize).offset)
    w.set(receiveBufferUsed, at: l.required(.receiveBufferUsed).offset)
    w.set(txUnacked, at: l.required(.txUnacked).offset)
    w.set(txWindow, at: l.required(.txWindow).offset)
    w.set(txCongestionWindow, at: l.required(.txCongestionWindow).offset)
    w.set(trafficClass, in: l[.trafficClass])
    w.set(trafficManagementFlags, in: l[.trafficManagementFlags])
    w.set(pid, at: l.required(.pid).offset)
    w.set(epid, in: l[.epid])
    w.set(local, in: l.required(.local))
    w.set(remote, in: l.required(.remote))
    w.set(congestionAlgorithm, in: l[.congestionAlgorithm])
    w.set(processName, in: l.required(.processName))
    w.set(uuid, in: l[.uuid])
    w.set(euuid, in: l[.euuid])
    w.set(vuuid, in: l[.vuuid])
    w.set(fuuid, in: l[.fuuid])
    w.set(personaID, in: l[.personaID])
    w.set(uid, in: l[.uid])
    w.set(connectionStatus, in: l[.connectionStatus])
    if let slot = l[.interfaceProperties], let interfaceProperties {
      w.set(uint: UInt64(interfaceProperties.rawValue), in: slot)
    }
    if let slot = l[.fallbackMode], let fallbackMode { w.set(fallbackMode, at: slot.offset) }
    w.setOpaque(opaque, l[.reserved], l.holes)
  }
}

/// `nstat_udp_descriptor`: a UDP (kernel or userland) source or UDP subflow.
public struct UDPDescriptor: Hashable, Sendable {
  public var upid: UInt64 = 0
  public var eupid: UInt64?
  public var startTimestamp: UInt64?
  public var timestamp: UInt64?
  public var activityBitmap: ActivityBitmap?
  public var local: SocketAddress = .unspecified
  public var remote: SocketAddress = .unspecified
  public var ifindex: UInt32 = 0
  public var receiveBufferSize: UInt32 = 0
  public var receiveBufferUsed: UInt32 = 0
  public var trafficClass: UInt32?
  public var pid: UInt32 = 0
  public var processName: FixedCString = FixedCString(bytes: [])
  public var epid: UInt32?
  public var uuid: UUIDBytes?
  public var euuid: UUIDBytes?
  public var vuuid: UUIDBytes?
  public var fuuid: UUIDBytes?
  public var personaID: UInt32?
  public var uid: UInt32?
  public var interfaceProperties: InterfaceProperties?
  public var fallbackMode: UInt8?
  public var opaque: [UInt8] = []

  public init() {}

  init(reading r: StructReader, _ l: StructLayout<UDPDescriptorField>) throws(WireError) {
    try r.check(0, l.size)
    upid = r.u64(checked: l.required(.upid).offset)
    eupid = l[.eupid].map { r.u64(checked: $0.offset) }
    startTimestamp = l[.startTimestamp].map { r.u64(checked: $0.offset) }
    timestamp = l[.timestamp].map { r.u64(checked: $0.offset) }
    if let slot = l[.activityBitmap] { activityBitmap = try ActivityBitmap(reading: r, at: slot.offset) }
    local = try r.socketAddress(l.required(.local))
    remote = try r.socketAddress(l.required(.remote))
    ifindex = r.u32(checked: l.required(.ifindex).offset)
    receiveBufferSize = r.u32(checked: l.required(.receiveBufferSize).offset)
    receiveBufferUsed = r.u32(checked: l.required(.receiveBufferUsed).offset)
    trafficClass = l[.trafficClass].map { r.u32(checked: $0.offset) }
    pid = r.u32(checked: l.required(.pid).offset)
    processName = try r.cString(l.required(.processName))
    epid = l[.epid].map { r.u32(checked: $0.offset) }
    uuid = try r.uuid(l[.uuid])
    euuid = try r.uuid(l[.euuid])
    vuuid = try r.uuid(l[.vuuid])
    fuuid = try r.uuid(l[.fuuid])
    personaID = l[.personaID].map { r.u32(checked: $0.offset) }
    uid = l[.uid].map { r.u32(checked: $0.offset) }
    if let slot = l[.interfaceProperties] {
      interfaceProperties = InterfaceProperties(rawValue: UInt32(truncatingIfNeeded: r.uint(checked: slot)))
    }
    if let slot = l[.fallbackMode] { fallbackMode = r.u8(checked: slot.offset) }
    opaque = try r.opaque(l[.reserved], l.holes)
  }

  func write(into w: inout ByteWriter, _ l: StructLayout<UDPDescriptorField>) {
    w.set(upid, at: l.required(.upid).offset)
    w.set(eupid, in: l[.eupid])
    w.set(startTimestamp, in: l[.startTimestamp])
    w.set(timestamp, in: l[.timestamp])
    if let slot = l[.activityBitmap], let activityBitmap { activityBitmap.write(into: &w, at: slot.offset) }
    w.set(local, in: l.required(.local))
    w.set(remote, in: l.required(.remote))
    w.set(ifindex, at: l.required(.ifindex).offset)
    w.set(receiveBufferSize, at: l.required(.receiveBufferSize).offset)
    w.set(receiveBufferUsed, at: l.required(.receiveBufferUsed).offset)
    w.set(trafficClass, in: l[.trafficClass])
    w.set(pid, at: l.required(.pid).offset)
    w.set(processName, in: l.required(.processName))
    w.set(epid, in: l[.epid])
    w.set(uuid, in: l[.uuid])
    w.set(euuid, in: l[.euuid])
    w.set(vuuid, in: l[.vuuid])
    w.set(fuuid, in: l[.fuuid])
    w.set(personaID, in: l[.personaID])
    w.set(uid, in: l[.uid])
    if let slot = l[.interfaceProperties], let interfaceProperties {
      w.set(uint: UInt64(interfaceProperties.rawValue), in: slot)
    }
    if let slot = l[.fallbackMode], let fallbackMode { w.set(fallbackMode, at: slot.offset) }
    w.setOpaque(opaque, l[.reserved], l.holes)
  }
}

/// `nstat_route_descriptor`: a routing-table entry.
public struct RouteDescriptor: Hashable, Sendable {
  public var id: UInt64 = 0
  public var parentID: UInt64 = 0
  public var gatewayID: UInt64 = 0
  public var destination: SocketAddress = .unspecified
  public var mask: SocketAddress = .unspecified
  public var gateway: SocketAddress = .unspecified
  public var ifindex: UInt32 = 0
  public var flags: UInt32 = 0
  public var opaque: [UInt8] = []

  public init() {}

  init(reading r: StructReader, _ l: StructLayout<RouteDescriptorField>) throws(WireError) {
    try r.check(0, l.size)
    id = r.u64(checked: l.required(.id).offset)
    parentID = r.u64(checked: l.required(.parentID).offset)
    gatewayID = r.u64(checked: l.required(.gatewayID).offset)
    destination = try r.socketAddress(l.required(.destination))
    mask = try r.socketAddress(l.required(.mask))
    gateway = try r.socketAddress(l.required(.gateway))
    ifindex = r.u32(checked: l.required(.ifindex).offset)
    flags = r.u32(checked: l.required(.flags).offset)
    opaque = try r.opaque(l[.reserved], l.holes)
  }

  func write(into w: inout ByteWriter, _ l: StructLayout<RouteDescriptorField>) {
    w.set(id, at: l.required(.id).offset)
    w.set(parentID, at: l.required(.parentID).offset)
    w.set(gatewayID, at: l.required(.gatewayID).offset)
    w.set(destination, in: l.required(.destination))
    w.set(mask, in: l.required(.mask))
    w.set(gateway, in: l.required(.gateway))
    w.set(ifindex, at: l.required(.ifindex).offset)
    w.set(flags, at: l.required(.flags).offset)
    w.setOpaque(opaque, l[.reserved], l.holes)
  }
}

/// `nstat_ifnet_descriptor` (xnu-2422+): a network interface.
public struct InterfaceDescriptor: Hashable, Sendable {
  public var threshold: UInt64 = 0
  public var ifindex: UInt32 = 0
  /// `nstat_ifnet_desc_link_status` (xnu-3247+): kind and the raw cellular/Wi-Fi status words.
  public var linkStatus: LinkStatus?
  /// `IFT_*` interface type.
  public var type: UInt32 = 0
  public var interfaceDescription: FixedCString = FixedCString(bytes: [])
  public var name: FixedCString = FixedCString(bytes: [])
  public var opaque: [UInt8] = []

  public init() {}

  /// The link status union: `link_status_type` (0 none, 1 cellular, 2 Wi-Fi, 3 Ethernet) and
  /// the 80 bytes of the cellular/Wi-Fi status structs as little-endian 32-bit words.
  public struct LinkStatus: Hashable, Sendable {
    public var kind: UInt32
    public var words: [UInt32]
    public init(kind: UInt32, words: [UInt32]) {
      self.kind = kind
      self.words = words
    }
  }

  init(reading r: StructReader, _ l: StructLayout<InterfaceDescriptorField>) throws(WireError) {
    threshold = try r.u64(l.required(.threshold).offset)
    ifindex = try r.u32(l.required(.ifindex).offset)
    if let slot = l[.linkStatus] {
      let kind = try r.u32(slot.offset)
      var words: [UInt32] = []
      words.reserveCapacity((slot.width - 4) / 4)
      for index in 0..<((slot.width - 4) / 4) { words.append(try r.u32(slot.offset + 4 + 4 * index)) }
      linkStatus = LinkStatus(kind: kind, words: words)
    }
    type = try r.u32(l.required(.type).offset)
    interfaceDescription = try r.cString(l.required(.description))
    name = try r.cString(l.required(.name))
    opaque = try r.opaque(l[.reserved], l.holes)
  }

  func write(into w: inout ByteWriter, _ l: StructLayout<InterfaceDescriptorField>) {
    w.set(threshold, at: l.required(.threshold).offset)
    w.set(ifindex, at: l.required(.ifindex).offset)
    if let slot = l[.linkStatus], let linkStatus {
      w.set(linkStatus.kind, at: slot.offset)
      for (index, word) in linkStatus.words.prefix((slot.width - 4) / 4).enumerated() {
        w.set(word, at: slot.offset + 4 + 4 * index)
      }
    }
    w.set(type, at: l.required(.type).offset)
    w.set(interfaceDescription, in: l.required(.description))
    w.set(name, in: l.required(.name))
    w.setOpaque(opaque, l[.reserved], l.holes)
  }
}

/// `nstat_connection_descriptor` (xnu-8019.61+): a CONN_USERLAND flow.
public struct ConnectionDescriptor: Hashable, Sendable {
  public var startTimestamp: UInt64 = 0
  public var timestamp: UInt64 = 0
  public var upid: UInt64 = 0
  public var eupid: UInt64 = 0
  public var pid: UInt32 = 0
  public var epid: UInt32 = 0
  public var interfaceProperties: InterfaceProperties = []
  public var processName: FixedCString = FixedCString(bytes: [])
  public var uuid: UUIDBytes = .zero
  public var euuid: UUIDBytes = .zero
  public var cuuid: UUIDBytes = .zero
  public var puuid: UUIDBytes = .zero
  public var fuuid: UUIDBytes = .zero
  public var personaID: UInt32?
  public var uid: UInt32?
  public var opaque: [UInt8] = []

  public init() {}

  init(reading r: StructReader, _ l: StructLayout<ConnectionDescriptorField>) throws(WireError) {
    try r.check(0, l.size)
    startTimestamp = r.u64(checked: l.required(.startTimestamp).offset)
    timestamp = r.u64(checked: l.required(.timestamp).offset)
    upid = r.u64(checked: l.required(.upid).offset)
    eupid = r.u64(checked: l.required(.eupid).offset)
    pid = r.u32(checked: l.required(.pid).offset)
    epid = r.u32(checked: l.required(.epid).offset)
    interfaceProperties = InterfaceProperties(rawValue: r.u32(checked: l.required(.interfaceProperties).offset))
    processName = try r.cString(l.required(.processName))
    uuid = try r.uuid(l.required(.uuid).offset)
    euuid = try r.uuid(l.required(.euuid).offset)
    cuuid = try r.uuid(l.required(.cuuid).offset)
    puuid = try r.uuid(l.required(.puuid).offset)
    fuuid = try r.uuid(l.required(.fuuid).offset)
    personaID = l[.personaID].map { r.u32(checked: $0.offset) }
    uid = l[.uid].map { r.u32(checked: $0.offset) }
    opaque = try r.opaque(l[.reserved], l.holes)
  }

  func write(into w: inout ByteWriter, _ l: StructLayout<ConnectionDescriptorField>) {
    w.set(startTimestamp, at: l.required(.startTimestamp).offset)
    w.set(timestamp, at: l.required(.timestamp).offset)
    w.set(upid, at: l.required(.upid).offset)
    w.set(eupid, at: l.required(.eupid).offset)
    w.set(pid, at: l.required(.pid).offset)
    w.set(epid, at: l.required(.epid).offset)
    w.set(interfaceProperties.rawValue, at: l.required(.interfaceProperties).offset)
    w.set(processName, in: l.required(.processName))
    w.set(uuid, at: l.required(.uuid).offset)
    w.set(euuid, at: l.required(.euuid).offset)
    w.set(cuuid, at: l.required(.cuuid).offset)
    w.set(puuid, at: l.required(.puuid).offset)
    w.set(fuuid, at: l.required(.fuuid).offset)
    w.set(personaID, in: l[.personaID])
    w.set(uid, in: l[.uid])
    w.setOpaque(opaque, l[.reserved], l.holes)
  }
}

/// `nstat_domain_info` (xnu-8019.41+): the payload of DOMAIN and ORIGINAL_DOMAIN extended items.
public struct DomainInfo: Hashable, Sendable {
  public var domainName: FixedCString = FixedCString(bytes: [])
  public var domainOwner: FixedCString = FixedCString(bytes: [])
  public var trackerContext: FixedCString = FixedCString(bytes: [])
  public var attributedBundleID: FixedCString = FixedCString(bytes: [])
  /// xnu-8019.61+.
  public var remote: SocketAddress?
  /// Raw `bool` bytes, kept as bytes so any value round-trips; nonzero means true.
  public var isTracker: UInt8 = 0
  public var isNonAppInitiated: UInt8 = 0
  public var isSilent: UInt8 = 0
  public var opaque: [UInt8] = []

  public init() {}

  init(reading r: StructReader, _ l: StructLayout<DomainInfoField>) throws(WireError) {
    domainName = try r.cString(l.required(.domainName))
    domainOwner = try r.cString(l.required(.domainOwner))
    trackerContext = try r.cString(l.required(.trackerContext))
    attributedBundleID = try r.cString(l.required(.attributedBundleID))
    if let slot = l[.remote] { remote = try r.socketAddress(slot) }
    isTracker = try r.u8(l.required(.isTracker).offset)
    isNonAppInitiated = try r.u8(l.required(.isNonAppInitiated).offset)
    isSilent = try r.u8(l.required(.isSilent).offset)
    opaque = try r.opaque(l[.reserved], l.holes)
  }

  func write(into w: inout ByteWriter, _ l: StructLayout<DomainInfoField>) {
    w.set(domainName, in: l.required(.domainName))
    w.set(domainOwner, in: l.required(.domainOwner))
    w.set(trackerContext, in: l.required(.trackerContext))
    w.set(attributedBundleID, in: l.required(.attributedBundleID))
    if let slot = l[.remote], let remote { w.set(remote, in: slot) }
    w.set(isTracker, at: l.required(.isTracker).offset)
    w.set(isNonAppInitiated, at: l.required(.isNonAppInitiated).offset)
    w.set(isSilent, at: l.required(.isSilent).offset)
    w.setOpaque(opaque, l[.reserved], l.holes)
  }
}

/// A source's descriptor, by the provider's descriptor struct.
public enum Descriptor: Hashable, Sendable {
  case tcp(TCPDescriptor)
  case udp(UDPDescriptor)
  case route(RouteDescriptor)
  case ifnet(InterfaceDescriptor)
  /// `nstat_sysinfo_descriptor.flags` (xnu-2782 ADD_SRC of the sysinfo provider).
  case sysinfo(flags: UInt32)
  case connection(ConnectionDescriptor)

  public var kind: DescriptorKind {
    switch self {
    case .tcp: return .tcp
    case .udp: return .udp
    case .route: return .route
    case .ifnet: return .ifnet
    case .sysinfo: return .sysinfo
    case .connection: return .connection
    }
  }
}
