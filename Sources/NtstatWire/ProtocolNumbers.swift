/// `nstat_msg_hdr.type`: an open set of message types; unknown values survive a round trip.
public struct MessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32
  @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

  // Generic responses.
  @inlinable public static var success: MessageType { MessageType(rawValue: 0) }
  @inlinable public static var error: MessageType { MessageType(rawValue: 1) }
  // Requests (client → kernel).
  @inlinable public static var addSource: MessageType { MessageType(rawValue: 1001) }
  @inlinable public static var addAllSources: MessageType { MessageType(rawValue: 1002) }
  @inlinable public static var removeSource: MessageType { MessageType(rawValue: 1003) }
  @inlinable public static var querySource: MessageType { MessageType(rawValue: 1004) }
  @inlinable public static var getSourceDescription: MessageType { MessageType(rawValue: 1005) }
  /// xnu-2422 to xnu-10063; no longer dispatched from xnu-11215.
  @inlinable public static var setFilter: MessageType { MessageType(rawValue: 1006) }
  /// xnu-3247 and later.
  @inlinable public static var getUpdate: MessageType { MessageType(rawValue: 1007) }
  /// xnu-3247 and later (privileged).
  @inlinable public static var subscribeSysinfo: MessageType { MessageType(rawValue: 1008) }
  /// xnu-12377 and later: like GET_UPDATE, answered with SRC_DETAILS; turns the client's
  /// events and final reports into SRC_DETAILS for good.
  @inlinable public static var getDetails: MessageType { MessageType(rawValue: 1009) }
  // Responses and notifications (kernel → client).
  @inlinable public static var sourceAdded: MessageType { MessageType(rawValue: 10001) }
  @inlinable public static var sourceRemoved: MessageType { MessageType(rawValue: 10002) }
  @inlinable public static var sourceDescription: MessageType { MessageType(rawValue: 10003) }
  @inlinable public static var sourceCounts: MessageType { MessageType(rawValue: 10004) }
  /// xnu-2782 and later.
  @inlinable public static var sysinfoCounts: MessageType { MessageType(rawValue: 10005) }
  /// xnu-3247 and later.
  @inlinable public static var sourceUpdate: MessageType { MessageType(rawValue: 10006) }
  /// xnu-8019.41 and later.
  @inlinable public static var sourceExtendedUpdate: MessageType { MessageType(rawValue: 10007) }
  /// xnu-12377 and later.
  @inlinable public static var sourceDetails: MessageType { MessageType(rawValue: 10008) }
  /// xnu-12377 and later.
  @inlinable public static var sourceExtendedDetails: MessageType { MessageType(rawValue: 10009) }

  static let names: [UInt32: String] = [
    0: "SUCCESS", 1: "ERROR", 1001: "ADD_SRC", 1002: "ADD_ALL_SRCS", 1003: "REM_SRC",
    1004: "QUERY_SRC", 1005: "GET_SRC_DESC", 1006: "SET_FILTER", 1007: "GET_UPDATE",
    1008: "SUBSCRIBE_SYSINFO", 1009: "GET_DETAILS", 10001: "SRC_ADDED", 10002: "SRC_REMOVED", 10003: "SRC_DESC",
    10004: "SRC_COUNTS", 10005: "SYSINFO_COUNTS", 10006: "SRC_UPDATE", 10007: "SRC_EXTENDED_UPDATE",
    10008: "SRC_DETAILS", 10009: "SRC_EXTENDED_DETAILS",
  ]

  /// The kernel's short name (`SRC_COUNTS`), or `TYPE_0x…` for an unknown value.
  public var name: String { Self.names[rawValue] ?? "TYPE_0x" + hex(UInt64(rawValue), 4) }

  /// Requests are numbered 1001–1999; everything else is sent by the kernel.
  public var isRequest: Bool { (1001...1999).contains(rawValue) }

  public var description: String { name }
}

/// `nstat_msg_hdr.flags` (xnu-3247 and later; before that the field is padding).
public struct MessageFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  /// Client → kernel: the client accepts several messages packed into one datagram.
  public static var supportsAggregate: MessageFlags { MessageFlags(rawValue: 1 << 0) }
  /// On a paced ALL query, and on the SUCCESS that says more remain.
  public static var continuation: MessageFlags { MessageFlags(rawValue: 1 << 1) }
  /// The final report for a source that is going away.
  public static var closing: MessageFlags { MessageFlags(rawValue: 1 << 2) }
  /// SRC_REMOVED: the final report could not be queued (xnu-8019.61+).
  public static var closedAfterDrop: MessageFlags { MessageFlags(rawValue: 1 << 3) }
  /// SRC_REMOVED: the final report was suppressed by the filter (xnu-8019.61+).
  public static var closedAfterFilter: MessageFlags { MessageFlags(rawValue: 1 << 4) }
  /// Declared in xnu-11215, not referenced by its `ntstat.c`.
  public static var closedAfterGone: MessageFlags { MessageFlags(rawValue: 1 << 6) }

  static let names: [(MessageFlags, String)] = [
    (.supportsAggregate, "SUPPORTS_AGGREGATE"), (.continuation, "CONTINUATION"), (.closing, "CLOSING"),
    (.closedAfterDrop, "CLOSED_AFTER_DROP"), (.closedAfterFilter, "CLOSED_AFTER_FILTER"),
    (.closedAfterGone, "CLOSED_AFTER_GONE"),
  ]

  /// `CONTINUATION|CLOSING`, unknown bits as hex, `0` when empty.
  public var description: String {
    flagNames(UInt64(rawValue), Self.names.map { (UInt64($0.0.rawValue), $0.1) })
  }
}

/// Renders a bit set as `NAME|NAME|0x…`.
func flagNames(_ value: UInt64, _ names: [(UInt64, String)]) -> String {
  if value == 0 { return "0" }
  var rest = value
  var parts: [String] = []
  for (bit, name) in names where value & bit == bit && bit != 0 {
    parts.append(name)
    rest &= ~bit
  }
  if rest != 0 { parts.append("0x" + String(rest, radix: 16)) }
  return parts.joined(separator: "|")
}

/// `nstat_src_ref_t`: 32-bit up to xnu-3248, 64-bit from xnu-3789.
///
/// Decoding maps a 32-bit family's "all sources" value (`0xffffffff`) to ``all`` so that code
/// above the codec never needs to know the width; encoding maps it back.
public struct SourceRef: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }
  public init(_ value: UInt64) { rawValue = value }

  /// `NSTAT_SRC_REF_ALL`.
  public static var all: SourceRef { SourceRef(rawValue: .max) }
  /// `NSTAT_SRC_REF_INVALID`.
  public static var invalid: SourceRef { SourceRef(rawValue: 0) }

  public var description: String { self == .all ? "ALL" : String(rawValue) }
  public static func < (lhs: SourceRef, rhs: SourceRef) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// `nstat_provider_id_t` as sent on the wire; what it means depends on the family
/// (providers were renumbered in xnu-3789). See ``LayoutFamily/providerKind(for:)``.
public struct ProviderID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public var description: String { String(rawValue) }
}

/// What a provider is, independent of its family-specific number.
public enum ProviderKind: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
  case route
  case tcpKernel = "tcp"
  case tcpUserland = "tcp-userland"
  case udpKernel = "udp"
  case udpUserland = "udp-userland"
  case ifnet
  case sysinfo
  case quicUserland = "quic"
  case connUserland = "conn"
  case udpSubflow = "udp-subflow"

  /// The descriptor struct a provider's SRC_DESC and SRC_UPDATE carry.
  public var descriptorKind: DescriptorKind {
    switch self {
    case .route: return .route
    case .tcpKernel, .tcpUserland, .quicUserland: return .tcp
    case .udpKernel, .udpUserland, .udpSubflow: return .udp
    case .ifnet: return .ifnet
    case .sysinfo: return .sysinfo
    case .connUserland: return .connection
    }
  }

  /// Transport protocol name for display (`tcp`, `udp`, `quic`, …).
  public var protocolName: String { protocolNames.string }

  /// ``protocolName`` as static text: output writers copy its bytes without a `String`.
  public var protocolNameText: StaticString { protocolNames.text }

  /// Both spellings from one table, each a literal: a `String` made from the static text would
  /// be built anew at every call, once per descriptor a replay derives. `TextBufferTests` holds
  /// the two to each other.
  private var protocolNames: (text: StaticString, string: String) {
    switch self {
    case .tcpKernel, .tcpUserland: return ("tcp", "tcp")
    case .udpKernel, .udpUserland, .udpSubflow: return ("udp", "udp")
    case .quicUserland: return ("quic", "quic")
    case .connUserland: return ("conn", "conn")
    case .route: return ("route", "route")
    case .ifnet: return ("ifnet", "ifnet")
    case .sysinfo: return ("sysinfo", "sysinfo")
    }
  }

  public var description: String { rawValue }

  /// ``rawValue`` as static text, for writers that copy its bytes without a `String`
  /// (`TextBufferTests` holds the two to each other).
  public var rawValueText: StaticString {
    switch self {
    case .route: "route"
    case .tcpKernel: "tcp"
    case .tcpUserland: "tcp-userland"
    case .udpKernel: "udp"
    case .udpUserland: "udp-userland"
    case .ifnet: "ifnet"
    case .sysinfo: "sysinfo"
    case .quicUserland: "quic"
    case .connUserland: "conn"
    case .udpSubflow: "udp-subflow"
    }
  }
}

/// The descriptor structs of ntstat.
public enum DescriptorKind: String, Hashable, Sendable {
  case tcp, udp, route, ifnet, sysinfo, connection
}

/// `nstat_tcp_descriptor.state`: `tcpcb->t_state` (`bsd/netinet/tcp_fsm.h`), an open set.
public struct TCPState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public static var closed: TCPState { TCPState(rawValue: 0) }
  public static var listen: TCPState { TCPState(rawValue: 1) }
  public static var synSent: TCPState { TCPState(rawValue: 2) }
  public static var synReceived: TCPState { TCPState(rawValue: 3) }
  public static var established: TCPState { TCPState(rawValue: 4) }
  public static var closeWait: TCPState { TCPState(rawValue: 5) }
  public static var finWait1: TCPState { TCPState(rawValue: 6) }
  public static var closing: TCPState { TCPState(rawValue: 7) }
  public static var lastAck: TCPState { TCPState(rawValue: 8) }
  public static var finWait2: TCPState { TCPState(rawValue: 9) }
  public static var timeWait: TCPState { TCPState(rawValue: 10) }

  static let names: [StaticString] = [
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
    "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT",
  ]

  public var description: String { nameText?.description ?? "STATE_\(rawValue)" }

  /// The name of a state `tcp_fsm.h` defines, as static text (nil for any other value), for
  /// writers that copy its bytes without a `String`.
  public var nameText: StaticString? { rawValue < Self.names.count ? Self.names[Int(rawValue)] : nil }
}

/// `ifnet_properties` and `nstat_ifnet_to_flags` bits (values as of xnu-6153 and later;
/// see docs/protocol.md for the renumbering in older families).
public struct InterfaceProperties: OptionSet, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public static var unknownType: InterfaceProperties { InterfaceProperties(rawValue: 0x1) }
  public static var loopback: InterfaceProperties { InterfaceProperties(rawValue: 0x2) }
  public static var cellular: InterfaceProperties { InterfaceProperties(rawValue: 0x4) }
  public static var wifi: InterfaceProperties { InterfaceProperties(rawValue: 0x8) }
  public static var wired: InterfaceProperties { InterfaceProperties(rawValue: 0x10) }
  public static var awdl: InterfaceProperties { InterfaceProperties(rawValue: 0x20) }
  public static var expensive: InterfaceProperties { InterfaceProperties(rawValue: 0x40) }
  public static var vpn: InterfaceProperties { InterfaceProperties(rawValue: 0x80) }
  public static var viaCellFallback: InterfaceProperties { InterfaceProperties(rawValue: 0x100) }
  public static var companionLink: InterfaceProperties { InterfaceProperties(rawValue: 0x200) }
  public static var constrained: InterfaceProperties { InterfaceProperties(rawValue: 0x400) }
  public static var local: InterfaceProperties { InterfaceProperties(rawValue: 0x800) }
  public static var nonLocal: InterfaceProperties { InterfaceProperties(rawValue: 0x1000) }
  public static var llw: InterfaceProperties { InterfaceProperties(rawValue: 0x8000) }
  public static var wifiInfra: InterfaceProperties { InterfaceProperties(rawValue: 0x10000) }
  public static var peerEgressCellular: InterfaceProperties { InterfaceProperties(rawValue: 0x20000) }
  public static var companionLinkBluetooth: InterfaceProperties { InterfaceProperties(rawValue: 0x40000) }
  /// xnu-12377 and later.
  public static var ultraConstrained: InterfaceProperties { InterfaceProperties(rawValue: 0x80000) }
  public static var hasNetworkAccess: InterfaceProperties { InterfaceProperties(rawValue: 0x100_0000) }
  /// xnu-10002 and later.
  public static var sourceIsListener: InterfaceProperties { InterfaceProperties(rawValue: 0x200_0000) }
  public static var sourceIsInbound: InterfaceProperties { InterfaceProperties(rawValue: 0x400_0000) }
  public static var sourceIsOutbound: InterfaceProperties { InterfaceProperties(rawValue: 0x800_0000) }

  static let names: [(InterfaceProperties, String)] = [
    (.unknownType, "UNKNOWN"), (.loopback, "LOOPBACK"), (.cellular, "CELLULAR"), (.wifi, "WIFI"),
    (.wired, "WIRED"), (.awdl, "AWDL"), (.expensive, "EXPENSIVE"), (.vpn, "VPN"),
    (.viaCellFallback, "CELLFALLBACK"), (.companionLink, "COMPANIONLINK"), (.constrained, "CONSTRAINED"),
    (.local, "LOCAL"), (.nonLocal, "NON_LOCAL"), (.llw, "LLW"), (.wifiInfra, "WIFI_INFRA"),
    (.peerEgressCellular, "PEER_EGRESS_CELL"), (.companionLinkBluetooth, "COMPANIONLINK_BT"),
    (.ultraConstrained, "ULTRA_CONSTRAINED"),
    (.hasNetworkAccess, "NET_ACCESS"), (.sourceIsListener, "LISTENER"), (.sourceIsInbound, "INBOUND"),
    (.sourceIsOutbound, "OUTBOUND"),
  ]

  public var description: String {
    flagNames(UInt64(rawValue), Self.names.map { (UInt64($0.0.rawValue), $0.1) })
  }
}

/// `nstat_msg_src_extended_item_hdr.type` (xnu-8019.41 and later), an open set.
public struct ExtendedItemType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// Written by the kernel when building an item failed part way; covers the rest.
  public static var unknown: ExtendedItemType { ExtendedItemType(rawValue: 0) }
  public static var domain: ExtendedItemType { ExtendedItemType(rawValue: 1) }
  public static var necpTLV: ExtendedItemType { ExtendedItemType(rawValue: 2) }
  public static var originalNECPTLV: ExtendedItemType { ExtendedItemType(rawValue: 3) }
  public static var originalDomain: ExtendedItemType { ExtendedItemType(rawValue: 4) }
  public static var flowUUID: ExtendedItemType { ExtendedItemType(rawValue: 5) }
  public static var bluetoothCounts: ExtendedItemType { ExtendedItemType(rawValue: 6) }

  static let names = [
    "UNKNOWN", "DOMAIN", "NECP_TLV", "ORIGINAL_NECP_TLV", "ORIGINAL_DOMAIN", "FUUID", "BLUETOOTH_COUNTS",
  ]

  public var description: String {
    rawValue < Self.names.count ? Self.names[Int(rawValue)] : "ITEM_\(rawValue)"
  }
}
