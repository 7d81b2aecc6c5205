import Foundation
import NtstatTestSupport
import NtstatWire
import Testing

/// Every protocol number the code uses, checked against the values the XNU headers themselves
/// give, tag by tag (Fixtures/constants, made by Tests/Tools/layouts/constants.sh by compiling
/// each tag's `ntstat.h`): an oracle that is not the code under test.
@Suite(.hangLimit) struct ConstantsOracleTests {
  static let tags = HeaderConstants.tags

  static func constants(_ tag: String) throws -> [String: UInt64] { try HeaderConstants.values(tag) }

  /// The C names a provider has had (`NSTAT_PROVIDER_TCP` became `_TCP_KERNEL` in xnu-3789).
  static let providerNames: [ProviderKind: [String]] = [
    .route: ["ROUTE"], .tcpKernel: ["TCP_KERNEL", "TCP"], .tcpUserland: ["TCP_USERLAND"],
    .udpKernel: ["UDP_KERNEL", "UDP"], .udpUserland: ["UDP_USERLAND"], .ifnet: ["IFNET"], .sysinfo: ["SYSINFO"],
    .quicUserland: ["QUIC_USERLAND"], .connUserland: ["CONN_USERLAND"], .udpSubflow: ["UDP_SUBFLOW"],
  ]

  @Test func everyTagHasItsConstants() {
    #expect(Self.tags.count >= 29)
    #expect(Self.tags.contains("xnu-12377"))
  }

  @Test(arguments: tags)
  func codeAgreesWithTheHeader(tag: String) throws {
    let values = try Self.constants(tag)
    let family = try #require(XNUVersion(tag).flatMap(LayoutFamily.family(forXNU:)), "\(tag)")
    var checked = 0
    for (name, value) in values {
      if name.hasPrefix("NSTAT_MSG_TYPE_") {
        let type = MessageType(rawValue: UInt32(value))
        guard !type.name.hasPrefix("TYPE_0x") else { continue }  // a type the code does not name
        #expect(type.name == String(name.dropFirst(15)), "\(tag): \(name) = \(value), the code says \(type.name)")
        checked += 1
      } else if name.hasPrefix("NSTAT_MSG_HDR_FLAG_") {
        #expect(
          MessageFlags(rawValue: UInt16(value)).description == String(name.dropFirst(19)),
          "\(tag): \(name) = \(value)")
        checked += 1
      } else if name.hasPrefix("NSTAT_EXTENDED_UPDATE_TYPE_"), !name.hasSuffix("_MIN"), !name.hasSuffix("_MAX") {
        #expect(
          ExtendedItemType(rawValue: UInt32(value)).description == String(name.dropFirst(27)),
          "\(tag): \(name) = \(value)")
        checked += 1
      }
    }
    // Every message type the code names exists in a header that has it, with the same value.
    for raw: UInt32 in [
      0, 1, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 10001, 10002, 10003, 10004, 10005, 10006, 10007,
      10008, 10009,
    ] {
      let type = MessageType(rawValue: raw)
      if let value = values["NSTAT_MSG_TYPE_" + type.name] { #expect(value == UInt64(raw), "\(tag): \(type.name)") }
    }
    // Providers: the family's table is the header's enum, id for id, and nothing more.
    for kind in ProviderKind.allCases {
      let declared = Self.providerNames[kind, default: []].compactMap { values["NSTAT_PROVIDER_" + $0] }.first
      let coded = family.providerID(for: kind).map { UInt64($0.rawValue) }
      #expect(coded == declared, "\(tag) (\(family)): \(kind) is \(coded.map(String.init) ?? "absent") in the code")
      checked += 1
    }
    #expect(checked > 10)
  }

  /// Interface properties as the code has them (its values are those of xnu-6153 and later).
  @Test(arguments: tags.filter { (XNUVersion($0)?.major ?? 0) >= 6153 })
  func interfacePropertiesAgree(tag: String) throws {
    let values = try Self.constants(tag)
    let names: [(InterfaceProperties, [String])] = [
      (.unknownType, ["NSTAT_IFNET_IS_UNKNOWN_TYPE"]), (.loopback, ["NSTAT_IFNET_IS_LOOPBACK"]),
      (.cellular, ["NSTAT_IFNET_IS_CELLULAR"]), (.wifi, ["NSTAT_IFNET_IS_WIFI"]), (.wired, ["NSTAT_IFNET_IS_WIRED"]),
      (.awdl, ["NSTAT_IFNET_IS_AWDL"]), (.expensive, ["NSTAT_IFNET_IS_EXPENSIVE"]), (.vpn, ["NSTAT_IFNET_IS_VPN"]),
      (.viaCellFallback, ["NSTAT_IFNET_VIA_CELLFALLBACK"]), (.companionLink, ["NSTAT_IFNET_IS_COMPANIONLINK"]),
      (.constrained, ["NSTAT_IFNET_IS_CONSTRAINED"]), (.local, ["NSTAT_IFNET_IS_LOCAL"]),
      (.nonLocal, ["NSTAT_IFNET_IS_NON_LOCAL"]), (.llw, ["NSTAT_IFNET_IS_LLW"]),
      (.wifiInfra, ["NSTAT_IFNET_IS_WIFI_INFRA"]),
      (.peerEgressCellular, ["NSTAT_IFNET_PEEREGRESSINTERFACE_IS_CELLULAR"]),
      (.companionLinkBluetooth, ["NSTAT_IFNET_IS_COMPANIONLINK_BT"]),
      (.ultraConstrained, ["NSTAT_IFNET_IS_ULTRA_CONSTRAINED"]),
      (.hasNetworkAccess, ["NSTAT_NECP_CONN_HAS_NET_ACCESS"]), (.sourceIsListener, ["NSTAT_SOURCE_IS_LISTENER"]),
      (.sourceIsInbound, ["NSTAT_SOURCE_IS_INBOUND"]), (.sourceIsOutbound, ["NSTAT_SOURCE_IS_OUTBOUND"]),
    ]
    var checked = 0
    for (property, cNames) in names {
      guard let value = cNames.compactMap({ values[$0] }).first else { continue }
      #expect(UInt64(property.rawValue) == value, "\(tag): \(cNames[0]) = \(value), the code has \(property.rawValue)")
      checked += 1
    }
    #expect(checked >= 10)
  }
}
