/// `nstat_msg_hdr`: the 16 bytes that start every message.
public struct MessageHeader: Hashable, Sendable {
  /// Echoed by the kernel from the request it answers; 0 on unsolicited and packed messages.
  public var context: UInt64
  public var type: MessageType
  /// The message's length (xnu-3247+). Before xnu-3247 these 16 bits are the low half of `pad`,
  /// kept as read so that the message round-trips.
  public var length: UInt16
  /// Header flags (xnu-3247+); before that, the high half of `pad`.
  public var flags: MessageFlags

  public init(context: UInt64 = 0, type: MessageType, length: UInt16 = 0, flags: MessageFlags = []) {
    self.context = context
    self.type = type
    self.length = length
    self.flags = flags
  }

  public static let size = 16

  /// The `context` (the first 8 bytes, little-endian) of the message at `offset`; what is there
  /// when fewer than 8 bytes remain, read as far as it goes.
  public static func readContext(in bytes: [UInt8], at offset: Int = 0) -> UInt64 {
    bytes.withUnsafeBytes { readContext(in: $0, at: offset) }
  }

  /// ``readContext(in:at:)`` of a datagram read in place.
  public static func readContext(in bytes: DatagramBytes, at offset: Int = 0) -> UInt64 {
    bytes.withUnsafeBytes { readContext(in: $0, at: offset) }
  }

  private static func readContext(in buffer: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
    var context: UInt64 = 0
    for i in 0..<max(0, min(8, buffer.count - offset)) { context |= UInt64(buffer[offset + i]) << (8 * UInt64(i)) }
    return context
  }

  /// Overwrites the `context` of the message at `offset` (which must have its 8 bytes).
  public static func writeContext(_ context: UInt64, in bytes: inout [UInt8], at offset: Int) {
    for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: context >> (8 * UInt64(i))) }
  }
}

/// One decoded ntstat message: header, type-specific body, and any bytes beyond the struct
/// the family defines (a newer kernel appending fields), which are kept so nothing is lost.
public struct Message: Hashable, Sendable {
  public var header: MessageHeader
  public var body: MessageBody
  /// Bytes after the end of the struct this family defines for the message; usually empty.
  public var trailingBytes: [UInt8]

  public init(header: MessageHeader, body: MessageBody, trailingBytes: [UInt8] = []) {
    self.header = header
    self.body = body
    self.trailingBytes = trailingBytes
  }

  /// A message whose header type follows from its body (for building requests and replies).
  public init(context: UInt64 = 0, flags: MessageFlags = [], _ body: MessageBody) {
    self.init(header: MessageHeader(context: context, type: body.messageType, flags: flags), body: body)
  }
}

/// The type-specific part of a message.
public enum MessageBody: Hashable, Sendable {
  // Kernel → client, generic.
  case success
  case error(ErrorReply)
  // Client → kernel.
  case addSource(AddSourceRequest)
  case addAllSources(AddAllSourcesRequest)
  case removeSource(SourceRef)
  case querySource(SourceRef)
  case getSourceDescription(SourceRef)
  case setFilter(SetFilterRequest)
  case getUpdate(SourceRef)
  case subscribeSysinfo
  /// xnu-12377+.
  case getDetails(SourceRef)
  // Kernel → client.
  case sourceAdded(SourceAdded)
  case sourceRemoved(SourceRef)
  /// Boxed (`indirect`): descriptors are hundreds of bytes; keeping them out of line keeps every
  /// other message small to move.
  indirect case sourceDescription(SourceDescription)
  case sourceCounts(SourceCounts)
  case sysinfoCounts(SysinfoCounts)
  indirect case sourceUpdate(SourceUpdate)
  indirect case sourceExtendedUpdate(SourceUpdate)
  /// xnu-12377+.
  indirect case sourceDetails(SourceDetails)
  /// xnu-12377+.
  indirect case sourceExtendedDetails(SourceDetails)
  /// A type this family does not define; the bytes after the header, kept as they were.
  case unknown(type: MessageType, payload: [UInt8])

  /// The header type that goes with this body.
  public var messageType: MessageType {
    switch self {
    case .success: return .success
    case .error: return .error
    case .addSource: return .addSource
    case .addAllSources: return .addAllSources
    case .removeSource: return .removeSource
    case .querySource: return .querySource
    case .getSourceDescription: return .getSourceDescription
    case .setFilter: return .setFilter
    case .getUpdate: return .getUpdate
    case .subscribeSysinfo: return .subscribeSysinfo
    case .getDetails: return .getDetails
    case .sourceAdded: return .sourceAdded
    case .sourceRemoved: return .sourceRemoved
    case .sourceDescription: return .sourceDescription
    case .sourceCounts: return .sourceCounts
    case .sysinfoCounts: return .sysinfoCounts
    case .sourceUpdate: return .sourceUpdate
    case .sourceExtendedUpdate: return .sourceExtendedUpdate
    case .sourceDetails: return .sourceDetails
    case .sourceExtendedDetails: return .sourceExtendedDetails
    case .unknown(let type, _): return type
    }
  }
}

/// `nstat_msg_error`: the kernel refused a request.
public struct ErrorReply: Hashable, Sendable {
  /// A Darwin errno (`ENOENT` 2, `EINVAL` 22, `ENOBUFS` 55, `EAGAIN` 35, …).
  public var errno: Int32
  /// `reserved[4]` (xnu-4570+).
  public var reserved: UInt32?
  /// The request the error answers, copied after the error by xnu-3247+ kernels when they
  /// could (empty otherwise).
  public var failedRequest: [UInt8]

  public init(errno: Int32, reserved: UInt32? = nil, failedRequest: [UInt8] = []) {
    self.errno = errno
    self.reserved = reserved
    self.failedRequest = failedRequest
  }
}

/// `nstat_msg_add_src` and its provider parameter.
public struct AddSourceRequest: Hashable, Sendable {
  public var provider: ProviderID
  public var reserved: UInt32?
  public var parameters: AddSourceParameters

  public init(provider: ProviderID, reserved: UInt32? = nil, parameters: AddSourceParameters) {
    self.provider = provider
    self.reserved = reserved
    self.parameters = parameters
  }
}

/// The `param` of an ADD_SRC, by provider.
public enum AddSourceParameters: Hashable, Sendable {
  /// `nstat_route_add_param`.
  case route(destination: SocketAddress, mask: SocketAddress, ifindex: UInt32)
  /// `nstat_tcp_add_param` / `nstat_udp_add_param`.
  case socket(local: SocketAddress, remote: SocketAddress)
  /// `nstat_ifnet_add_param`.
  case ifnet(threshold: UInt64, ifindex: UInt32, reserved: UInt32?)
  /// `nstat_sysinfo_add_param` (xnu-2782).
  case sysinfo(flags: UInt32)
  /// Bytes that are not the parameter struct of a known provider in this family.
  case raw([UInt8])
}

/// `nstat_msg_add_all_srcs`: subscribe to every source of a provider.
public struct AddAllSourcesRequest: Hashable, Sendable {
  public var provider: ProviderID
  /// Provider-level filter bits (xnu-3247+); the top 24 bits request extensions (xnu-8019.61+).
  public var filter: UInt64?
  /// Event mask for unsolicited updates (xnu-3789+).
  public var events: UInt64?
  /// With `SPECIFIC_USER_BY_PID`/`EPID` (xnu-3789+).
  public var targetPID: Int32?
  /// With `SPECIFIC_USER_BY_UUID`/`EUUID` (xnu-3789+).
  public var targetUUID: UUIDBytes?

  public init(
    provider: ProviderID, filter: UInt64? = nil, events: UInt64? = nil, targetPID: Int32? = nil,
    targetUUID: UUIDBytes? = nil
  ) {
    self.provider = provider
    self.filter = filter
    self.events = events
    self.targetPID = targetPID
    self.targetUUID = targetUUID
  }
}

/// `nstat_msg_set_filter` (xnu-2422 to xnu-10063).
public struct SetFilterRequest: Hashable, Sendable {
  public var sourceRef: SourceRef
  public var filter: UInt32
  public var reserved: UInt32?

  public init(sourceRef: SourceRef, filter: UInt32, reserved: UInt32? = nil) {
    self.sourceRef = sourceRef
    self.filter = filter
    self.reserved = reserved
  }
}

/// `nstat_msg_src_added`.
public struct SourceAdded: Hashable, Sendable {
  public var sourceRef: SourceRef
  public var provider: ProviderID
  public var reserved: UInt32?

  public init(sourceRef: SourceRef, provider: ProviderID, reserved: UInt32? = nil) {
    self.sourceRef = sourceRef
    self.provider = provider
    self.reserved = reserved
  }
}

/// `nstat_msg_src_description` with its descriptor.
public struct SourceDescription: Hashable, Sendable {
  public var sourceRef: SourceRef
  /// xnu-3789+.
  public var eventFlags: UInt64?
  public var provider: ProviderID
  public var reserved: UInt32?
  public var descriptor: Descriptor

  public init(
    sourceRef: SourceRef, eventFlags: UInt64? = nil, provider: ProviderID, reserved: UInt32? = nil,
    descriptor: Descriptor
  ) {
    self.sourceRef = sourceRef
    self.eventFlags = eventFlags
    self.provider = provider
    self.reserved = reserved
    self.descriptor = descriptor
  }
}

/// `nstat_msg_src_counts`.
public struct SourceCounts: Hashable, Sendable {
  public var sourceRef: SourceRef
  /// xnu-3789+.
  public var eventFlags: UInt64?
  public var counts: Counts

  public init(sourceRef: SourceRef, eventFlags: UInt64? = nil, counts: Counts) {
    self.sourceRef = sourceRef
    self.eventFlags = eventFlags
    self.counts = counts
  }
}

/// `nstat_msg_src_update` (xnu-3247+) and `SRC_EXTENDED_UPDATE` (xnu-8019.41+): counts and
/// descriptor in one message, with extension items after the descriptor when extended.
public struct SourceUpdate: Hashable, Sendable {
  public var sourceRef: SourceRef
  public var eventFlags: UInt64?
  public var counts: Counts
  public var provider: ProviderID
  public var reserved: UInt32?
  public var descriptor: Descriptor
  /// Extension items (SRC_EXTENDED_UPDATE only).
  public var items: [ExtendedItem]

  public init(
    sourceRef: SourceRef, eventFlags: UInt64? = nil, counts: Counts, provider: ProviderID,
    reserved: UInt32? = nil, descriptor: Descriptor, items: [ExtendedItem] = []
  ) {
    self.sourceRef = sourceRef
    self.eventFlags = eventFlags
    self.counts = counts
    self.provider = provider
    self.reserved = reserved
    self.descriptor = descriptor
    self.items = items
  }
}

/// One `nstat_msg_src_extended_item_hdr` and its payload.
public struct ExtendedItem: Hashable, Sendable {
  public var type: ExtendedItemType
  /// The header's `length` as sent: unpadded on the specific/event path, padded on the packed
  /// ALL path; the payload always occupies `length` rounded up to 8.
  public var length: UInt32
  public var payload: ExtendedPayload

  public init(type: ExtendedItemType, length: UInt32, payload: ExtendedPayload) {
    self.type = type
    self.length = length
    self.payload = payload
  }
}

/// The payload of an extended item.
public enum ExtendedPayload: Hashable, Sendable {
  /// DOMAIN or ORIGINAL_DOMAIN: `nstat_domain_info`.
  case domain(DomainInfo)
  /// FUUID: a flow UUID.
  case flowUUID(UUIDBytes)
  /// BLUETOOTH_COUNTS: `nstat_interface_counts`.
  case bluetoothCounts(InterfaceCounts)
  /// NECP TLVs, UNKNOWN, or anything not of its type's size: the bytes, padded to 8.
  case bytes([UInt8])
}

/// `nstat_msg_sysinfo_counts` (xnu-2782+).
public struct SysinfoCounts: Hashable, Sendable {
  /// The sysinfo source in xnu-2782; 0 from xnu-3247.
  public var sourceRef: SourceRef
  /// `nstat_sysinfo_len` as sent (8 + n × keyval size).
  public var length: UInt32
  public var pad: UInt32
  public var keyValues: [SysinfoKeyValue]

  public init(sourceRef: SourceRef, length: UInt32, pad: UInt32 = 0, keyValues: [SysinfoKeyValue]) {
    self.sourceRef = sourceRef
    self.length = length
    self.pad = pad
    self.keyValues = keyValues
  }
}

/// `nstat_sysinfo_keyval`: 16 bytes up to xnu-3789, 40 bytes (with a string member and
/// `valsize`) from xnu-4570.
public struct SysinfoKeyValue: Hashable, Sendable {
  public var key: UInt32
  /// `NSTAT_SYSINFO_FLAG_SCALAR` 1, `DISTRIBUTION` 2, `STRING` 4.
  public var flags: UInt32
  /// The value union's bytes (8 or 24).
  public var value: [UInt8]
  public var valueSize: UInt32?
  public var opaque: [UInt8]

  public init(key: UInt32, flags: UInt32, value: [UInt8], valueSize: UInt32? = nil, opaque: [UInt8] = []) {
    self.key = key
    self.flags = flags
    self.value = value
    self.valueSize = valueSize
    self.opaque = opaque
  }

  /// `NSTAT_SYSINFO_FLAG_SCALAR`: the value is `nstat_sysinfo_scalar`.
  public static let flagScalar: UInt32 = 0x1
  /// `NSTAT_SYSINFO_FLAG_DISTRIBUTION`: the value is `nstat_sysinfo_distribution`.
  public static let flagDistribution: UInt32 = 0x2
  /// `NSTAT_SYSINFO_FLAG_STRING` (xnu-4570+): the value is `nstat_sysinfo_string`.
  public static let flagString: UInt32 = 0x4

  /// The value read as `int64_t nstat_sysinfo_scalar`.
  public var scalar: Int64 {
    var result: UInt64 = 0
    for (index, byte) in value.prefix(8).enumerated() { result |= UInt64(byte) << (8 * UInt64(index)) }
    return Int64(bitPattern: result)
  }

  /// The value read as `double nstat_sysinfo_distribution`.
  public var distribution: Double { Double(bitPattern: UInt64(bitPattern: scalar)) }

  /// The value read as a string (flag STRING, xnu-4570+).
  public var string: String { FixedCString(bytes: value).string }
}
