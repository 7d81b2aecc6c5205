import Foundation
import NtstatTestSupport
import NtstatWire
import Testing

/// Every named Swift field reads its own C field, checked without the generated mapping: for each
/// family, messages are built byte by byte at the offsets the compiled headers give (the fixtures),
/// with a distinct value in every field, and each Swift field is compared with the value written at
/// the C field this test names for it. A Swift field wired to the wrong C field reads another
/// field's value and fails. The C names below are typed from the headers, not taken from
/// `cFieldPaths`.
@Suite(.hangLimit) struct FieldMappingTests {
  typealias Compiled = LayoutTests.CompiledLayout

  /// A message buffer and what was written where.
  struct Builder {
    var bytes: [UInt8]
    let compiled: Compiled
    /// Distinct values: each write takes the next one.
    var next: UInt64 = 0x0101

    init(size: Int, compiled: Compiled) {
      bytes = [UInt8](repeating: 0, count: size)
      self.compiled = compiled
    }

    /// The offset of `field` in `structName`, or nil if the family's header lacks it.
    func offset(_ structName: String, _ field: String) -> Int? {
      compiled.structs[structName]?.fields[field]?.first?.int
    }

    func width(_ structName: String, _ field: String) -> Int? {
      guard let entry = compiled.structs[structName]?.fields[field], entry.count > 1,
        case .string(let type) = entry[1]
      else { return nil }
      return LayoutTests.width(ofCType: type)
    }

    mutating func put(_ value: UInt64, at offset: Int, width: Int) {
      for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// Writes a fresh distinct value into `structName.field` placed at `base`; the value, or nil
    /// when the header has no such field.
    mutating func fill(_ structName: String, _ field: String, base: Int) -> UInt64? {
      guard let offset = offset(structName, field), let width = width(structName, field), width <= 8 else {
        return nil
      }
      next += 0x0102
      let value = next & (width == 8 ? .max : (1 << (UInt64(width) * 8)) - 1)
      put(value, at: base + offset, width: width)
      return value
    }
  }

  /// Integer fields of `nstat_counts`, by C name, and how Swift reads them.
  static let counts: [(String, @Sendable (Counts) -> UInt64?)] = [
    ("nstat_rxpackets", { $0.rxPackets }), ("nstat_rxbytes", { $0.rxBytes }), ("nstat_txpackets", { $0.txPackets }),
    ("nstat_txbytes", { $0.txBytes }), ("nstat_cell_rxbytes", { $0.cellRxBytes }),
    ("nstat_cell_txbytes", { $0.cellTxBytes }), ("nstat_wifi_rxbytes", { $0.wifiRxBytes }),
    ("nstat_wifi_txbytes", { $0.wifiTxBytes }), ("nstat_wired_rxbytes", { $0.wiredRxBytes }),
    ("nstat_wired_txbytes", { $0.wiredTxBytes }), ("nstat_rxduplicatebytes", { UInt64($0.rxDuplicateBytes) }),
    ("nstat_rxoutoforderbytes", { UInt64($0.rxOutOfOrderBytes) }), ("nstat_txretransmit", { UInt64($0.txRetransmit) }),
    ("nstat_connectattempts", { UInt64($0.connectAttempts) }),
    ("nstat_connectsuccesses", { UInt64($0.connectSuccesses) }), ("nstat_min_rtt", { UInt64($0.minRTT) }),
    ("nstat_avg_rtt", { UInt64($0.avgRTT) }), ("nstat_var_rtt", { UInt64($0.varRTT) }),
  ]

  static let tcp: [(String, @Sendable (TCPDescriptor) -> UInt64?)] = [
    ("upid", { $0.upid }), ("eupid", { $0.eupid }), ("start_timestamp", { $0.startTimestamp }),
    ("timestamp", { $0.timestamp }), ("rx_transfer_size", { $0.rxTransferSize }),
    ("tx_transfer_size", { $0.txTransferSize }), ("ifindex", { UInt64($0.ifindex) }),
    ("state", { UInt64($0.state.rawValue) }), ("sndbufsize", { UInt64($0.sendBufferSize) }),
    ("sndbufused", { UInt64($0.sendBufferUsed) }), ("rcvbufsize", { UInt64($0.receiveBufferSize) }),
    ("rcvbufused", { UInt64($0.receiveBufferUsed) }), ("txunacked", { UInt64($0.txUnacked) }),
    ("txwindow", { UInt64($0.txWindow) }), ("txcwindow", { UInt64($0.txCongestionWindow) }),
    ("traffic_class", { $0.trafficClass.map(UInt64.init) }),
    ("traffic_mgt_flags", { $0.trafficManagementFlags.map(UInt64.init) }), ("pid", { UInt64($0.pid) }),
    ("epid", { $0.epid.map(UInt64.init) }), ("persona_id", { $0.personaID.map(UInt64.init) }),
    ("uid", { $0.uid.map(UInt64.init) }), ("ifnet_properties", { $0.interfaceProperties.map { UInt64($0.rawValue) } }),
    ("fallback_mode", { $0.fallbackMode.map(UInt64.init) }),
  ]

  static let udp: [(String, @Sendable (UDPDescriptor) -> UInt64?)] = [
    ("upid", { $0.upid }), ("eupid", { $0.eupid }), ("start_timestamp", { $0.startTimestamp }),
    ("timestamp", { $0.timestamp }), ("ifindex", { UInt64($0.ifindex) }),
    ("rcvbufsize", { UInt64($0.receiveBufferSize) }), ("rcvbufused", { UInt64($0.receiveBufferUsed) }),
    ("traffic_class", { $0.trafficClass.map(UInt64.init) }), ("pid", { UInt64($0.pid) }),
    ("epid", { $0.epid.map(UInt64.init) }), ("persona_id", { $0.personaID.map(UInt64.init) }),
    ("uid", { $0.uid.map(UInt64.init) }), ("ifnet_properties", { $0.interfaceProperties.map { UInt64($0.rawValue) } }),
    ("fallback_mode", { $0.fallbackMode.map(UInt64.init) }),
  ]

  static let detailed: [(String, @Sendable (DetailedCounts) -> UInt64?)] = [
    ("nstat_rxduplicatebytes", { $0.rxDuplicateBytes }), ("nstat_rxoutoforderbytes", { $0.rxOutOfOrderBytes }),
    ("nstat_txretransmit", { $0.txRetransmit }), ("nstat_min_rtt", { UInt64($0.minRTT) }),
    ("nstat_avg_rtt", { UInt64($0.avgRTT) }), ("nstat_var_rtt", { UInt64($0.varRTT) }),
    ("nstat_xtra_flags", { UInt64($0.extraFlags) }),
  ]

  static let traffic: [(String, @Sendable (TrafficStats) -> UInt64?)] = [
    ("ts_rxpackets", { $0.rxPackets }), ("ts_rxbytes", { $0.rxBytes }), ("ts_txpackets", { $0.txPackets }),
    ("ts_txbytes", { $0.txBytes }),
  ]

  static let media: [(String, Medium)] = [
    ("ms_total", .total), ("ms_cellular", .cellular), ("ms_wifi_infra", .wifiInfra),
    ("ms_wifi_non_infra", .wifiNonInfra), ("ms_wired", .wired), ("ms_bluetooth", .bluetooth),
    ("ms_alternate", .alternate),
  ]

  static func compiled(_ family: LayoutFamily) throws -> Compiled {
    try LayoutTests.compiled(try #require(family.verifiedTags.last))
  }

  /// The header's fields, written at `nstat_msg_hdr`'s offsets.
  static func header(_ b: inout Builder, type: MessageType, length: Int) -> (context: UInt64, flags: UInt64?) {
    let context = b.fill("nstat_msg_hdr", "context", base: 0) ?? 0
    b.put(UInt64(type.rawValue), at: b.offset("nstat_msg_hdr", "type")!, width: 4)
    var flags: UInt64?
    if let lengthOffset = b.offset("nstat_msg_hdr", "length") {
      b.put(UInt64(length), at: lengthOffset, width: 2)
      flags = b.fill("nstat_msg_hdr", "flags", base: 0)
    }
    return (context, flags)
  }

  @Test("SRC_COUNTS: the header and every counter read their own C field", arguments: LayoutFamily.allCases)
  func countsAndHeader(family: LayoutFamily) throws {
    let c = try Self.compiled(family)
    let size = try #require(c.structs["nstat_msg_src_counts"]?.size)
    var b = Builder(size: size, compiled: c)
    let (context, flags) = Self.header(&b, type: .sourceCounts, length: size)
    let base = try #require(b.offset("nstat_msg_src_counts", "counts"))
    var written: [(String, UInt64?)] = []
    for (name, _) in Self.counts { written.append((name, b.fill("nstat_counts", name, base: base))) }
    let message = try #require(try MessageDecoder(family: family).decode(b.bytes).first)
    #expect(message.header.context == context)
    if let flags { #expect(UInt64(message.header.flags.rawValue) == flags && Int(message.header.length) == size) }
    guard case .sourceCounts(let decoded) = message.body else {
      Issue.record("\(family): not SRC_COUNTS")
      return
    }
    for ((name, read), (_, value)) in zip(Self.counts, written) {
      #expect(read(decoded.counts) == value, "\(family) \(name)")
    }
  }

  @Test("SRC_DESC: every TCP and UDP descriptor field reads its own C field", arguments: LayoutFamily.allCases)
  func descriptors(family: LayoutFamily) throws {
    let c = try Self.compiled(family)
    let decoder = MessageDecoder(family: family)
    let dataOffset = try #require(c.structs["nstat_msg_src_description"]?.fields["data"]?.first?.int)
    for kind in [ProviderKind.tcpKernel, .udpKernel] {
      let structName = kind == .tcpKernel ? "nstat_tcp_descriptor" : "nstat_udp_descriptor"
      let size = dataOffset + (try #require(c.structs[structName]?.size))
      var b = Builder(size: size, compiled: c)
      _ = Self.header(&b, type: .sourceDescription, length: size)
      let provider = try #require(family.providerID(for: kind))
      b.put(UInt64(provider.rawValue), at: try #require(b.offset("nstat_msg_src_description", "provider")), width: 4)
      let fields = kind == .tcpKernel ? Self.tcp.map(\.0) : Self.udp.map(\.0)
      var written: [String: UInt64?] = [:]
      for name in fields { written[name] = b.fill(structName, name, base: dataOffset) }
      let message = try #require(try decoder.decode(b.bytes).first)
      guard case .sourceDescription(let description) = message.body else {
        Issue.record("\(family): not SRC_DESC")
        continue
      }
      switch description.descriptor {
      case .tcp(let d): for (name, read) in Self.tcp { #expect(read(d) == written[name]!, "\(family) tcp \(name)") }
      case .udp(let d): for (name, read) in Self.udp { #expect(read(d) == written[name]!, "\(family) udp \(name)") }
      default: Issue.record("\(family): \(kind) decoded as another descriptor")
      }
    }
  }

  /// The extended item header (`type`, `length`) of SRC_EXTENDED_UPDATE, from xnu-8019.41.
  @Test(arguments: LayoutFamily.allCases.filter { $0 >= .xnu8019_41 })
  func extendedItemHeader(family: LayoutFamily) throws {
    let c = try Self.compiled(family)
    let data = try #require(c.structs["nstat_msg_src_update"]?.fields["data"]?.first?.int)
    let descriptor = try #require(c.structs["nstat_tcp_descriptor"]?.size)
    let itemOffset = data + descriptor
    let size = itemOffset + 8 + 16
    var b = Builder(size: size, compiled: c)
    _ = Self.header(&b, type: .sourceExtendedUpdate, length: size)
    b.put(
      UInt64(family.providerID(for: .tcpKernel)!.rawValue), at: b.offset("nstat_msg_src_update", "provider")!, width: 4)
    b.put(5, at: itemOffset + b.offset("nstat_msg_src_extended_item_hdr", "type")!, width: 4)
    b.put(16, at: itemOffset + b.offset("nstat_msg_src_extended_item_hdr", "length")!, width: 4)
    for i in 0..<16 { b.bytes[itemOffset + 8 + i] = UInt8(0xA0 + i) }
    let message = try #require(try MessageDecoder(family: family).decode(b.bytes).first)
    guard case .sourceExtendedUpdate(let update) = message.body, let item = update.items.first else {
      Issue.record("\(family): no extended item")
      return
    }
    #expect(item.type == .flowUUID && item.length == 16)
    #expect(item.payload == .flowUUID(UUIDBytes(high: 0xA0A1_A2A3_A4A5_A6A7, low: 0xA8A9_AAAB_ACAD_AEAF)))
  }

  /// SRC_DETAILS (xnu-12377): every medium's counters and the TCP counters read their own C field.
  @Test(arguments: LayoutFamily.allCases.filter(\.hasDetails))
  func detailedCounts(family: LayoutFamily) throws {
    let c = try Self.compiled(family)
    let data = try #require(c.structs["nstat_msg_src_details"]?.fields["data"]?.first?.int)
    let size = data + (try #require(c.structs["nstat_tcp_descriptor"]?.size))
    var b = Builder(size: size, compiled: c)
    _ = Self.header(&b, type: .sourceDetails, length: size)
    b.put(
      UInt64(family.providerID(for: .tcpKernel)!.rawValue), at: b.offset("nstat_msg_src_details", "provider")!, width: 4
    )
    let counts = try #require(b.offset("nstat_msg_src_details", "detailed_counts"))
    let mediaBase = counts + (try #require(b.offset("nstat_detailed_counts", "nstat_media_stats")))
    var written: [String: UInt64] = [:]
    for (mediumName, _) in Self.media {
      let at = mediaBase + (try #require(b.offset("media_stats", mediumName)))
      for (name, _) in Self.traffic {
        // Checked before it is stored: `#require` on an assignment into the dictionary let a nil
        // through, which removed the key instead of failing.
        guard let value = b.fill("traffic_stats", name, base: at) else {
          Issue.record("traffic_stats.\(name) cannot be filled")
          continue
        }
        written[mediumName + "." + name] = value
      }
    }
    for (name, _) in Self.detailed {
      guard let value = b.fill("nstat_detailed_counts", name, base: counts) else {
        Issue.record("nstat_detailed_counts.\(name) cannot be filled")
        continue
      }
      written[name] = value
    }
    let message = try #require(try MessageDecoder(family: family).decode(b.bytes).first)
    guard case .sourceDetails(let details) = message.body else {
      Issue.record("\(family): not SRC_DETAILS")
      return
    }
    for (mediumName, medium) in Self.media {
      for (name, read) in Self.traffic {
        #expect(read(details.counts[medium]) == written[mediumName + "." + name], "\(mediumName).\(name)")
      }
    }
    for (name, read) in Self.detailed { #expect(read(details.counts) == written[name], "\(name)") }
  }
}
