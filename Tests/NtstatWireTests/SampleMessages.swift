import NtstatWire

/// One message of every kind a family defines, with every field the family has set to a
/// distinctive non-zero value (fields it lacks stay nil so that round trips are exact).
enum SampleMessages {
  struct Sample {
    let name: String
    let direction: Direction
    let messages: [Message]
  }

  static func all(for family: LayoutFamily) -> [Sample] {
    let l = family.layouts
    var samples: [Sample] = []
    func add(_ name: String, _ direction: Direction, _ messages: Message...) {
      samples.append(Sample(name: name, direction: direction, messages: messages))
    }
    let context: UInt64 = 0x1122_3344_5566_7788
    let ref = SourceRef(family.sourceRefWidth == 8 ? 0x0102_0304_0506_0708 : 0x0102_0304)
    func pid(_ kind: ProviderKind) -> ProviderID? { family.providerID(for: kind) }
    let flags: MessageFlags = family.hasLengthAndFlags ? [.supportsAggregate] : []

    // Requests.
    let tcp = pid(.tcpKernel)!
    add(
      "add-source-tcp", .toKernel,
      Message(
        context: context, flags: flags,
        .addSource(
          AddSourceRequest(
            provider: tcp, reserved: l.addSourceMessage[.reserved] == nil ? nil : 0,
            parameters: .socket(
              local: .ipv4(IPv4Address(192, 168, 1, 20), port: 52_000),
              remote: .ipv6(IPv6Address("2001:db8::1")!, port: 443, flowInfo: 0, scopeID: 0))))))
    add(
      "add-source-route", .toKernel,
      Message(
        context: context,
        .addSource(
          AddSourceRequest(
            provider: pid(.route)!, reserved: l.addSourceMessage[.reserved] == nil ? nil : 0,
            parameters: .route(
              destination: .ipv4(IPv4Address(10, 0, 0, 0), port: 0), mask: .ipv4(IPv4Address(255, 0, 0, 0), port: 0),
              ifindex: 4)))))
    if let ifnet = pid(.ifnet), let p = l.interfaceAddParameters {
      add(
        "add-source-ifnet", .toKernel,
        Message(
          context: context,
          .addSource(
            AddSourceRequest(
              provider: ifnet, reserved: l.addSourceMessage[.reserved] == nil ? nil : 0,
              parameters: .ifnet(threshold: 1 << 20, ifindex: 5, reserved: p[.reserved] == nil ? nil : 0)))))
    }
    if family == .xnu2782, let sysinfo = pid(.sysinfo) {
      add(
        "add-source-sysinfo", .toKernel,
        Message(
          context: context,
          .addSource(
            AddSourceRequest(provider: sysinfo, parameters: .sysinfo(flags: 0x2)))))
    }
    let a = l.addAllSourcesMessage
    add(
      "add-all-sources", .toKernel,
      Message(
        context: context, flags: flags,
        .addAllSources(
          AddAllSourcesRequest(
            provider: tcp, filter: a[.filter] == nil ? nil : 0x0000_0100_0010_0008,
            events: a[.events] == nil ? nil : 0x3000, targetPID: a[.targetPID] == nil ? nil : 4321,
            targetUUID: a[.targetUUID] == nil ? nil : UUIDBytes("0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0")))))
    add("remove-source", .toKernel, Message(context: context, .removeSource(ref)))
    add("query-source", .toKernel, Message(context: context, .querySource(ref)))
    add(
      "query-source-all", .toKernel,
      Message(
        context: context, flags: family.hasLengthAndFlags ? [.supportsAggregate, .continuation] : [], .querySource(.all)
      ))
    add("get-source-description", .toKernel, Message(context: context, .getSourceDescription(ref)))
    if let s = l.setFilterMessage {
      add(
        "set-filter", .toKernel,
        Message(
          context: context,
          .setFilter(SetFilterRequest(sourceRef: ref, filter: 1, reserved: s[.reserved] == nil ? nil : 0))))
    }
    if family.hasLengthAndFlags {
      add("get-update", .toKernel, Message(context: context, flags: [.supportsAggregate], .getUpdate(.all)))
      add("subscribe-sysinfo", .toKernel, Message(context: context, .subscribeSysinfo))
    }

    // Kernel messages.
    add("success", .fromKernel, Message(context: context, .success))
    let e = l.errorMessage
    add(
      "error", .fromKernel,
      Message(context: context, .error(ErrorReply(errno: 2, reserved: e[.reserved] == nil ? nil : 0))))
    if family.hasLengthAndFlags {
      let failed = try! MessageEncoder(family: family).encode(
        Message(context: context, .querySource(ref)), settingLength: true)
      add(
        "error-with-request", .fromKernel,
        Message(
          context: context,
          .error(ErrorReply(errno: 55, reserved: e[.reserved] == nil ? nil : 0, failedRequest: failed))))
    }
    add(
      "source-added", .fromKernel,
      Message(
        .sourceAdded(
          SourceAdded(sourceRef: ref, provider: tcp, reserved: l.sourceAddedMessage[.reserved] == nil ? nil : 0))))
    add(
      "source-removed", .fromKernel,
      Message(flags: family >= .xnu8019_61 ? [.closedAfterDrop] : [], .sourceRemoved(ref)))
    let counts = sampleCounts(family)
    let hasEvents = l.sourceCountsMessage[.eventFlags] != nil
    add(
      "source-counts", .fromKernel,
      Message(
        context: context,
        .sourceCounts(SourceCounts(sourceRef: ref, eventFlags: hasEvents ? 0x400 : nil, counts: counts))))
    for (provider, kind) in family.providers {
      guard let descriptor = sampleDescriptor(kind.descriptorKind, family) else { continue }
      let d = l.sourceDescriptionMessage
      add(
        "source-description-\(kind.rawValue)", .fromKernel,
        Message(
          context: context,
          .sourceDescription(
            SourceDescription(
              sourceRef: ref, eventFlags: d[.eventFlags] == nil ? nil : 0, provider: provider,
              reserved: d[.reserved] == nil ? nil : 0, descriptor: descriptor))))
      if let u = l.sourceUpdateMessage, kind != .sysinfo {
        let update = SourceUpdate(
          sourceRef: ref, eventFlags: u[.eventFlags] == nil ? nil : 0x1000, counts: counts, provider: provider,
          reserved: u[.reserved] == nil ? nil : 0, descriptor: descriptor)
        add("source-update-\(kind.rawValue)", .fromKernel, Message(flags: [.closing], .sourceUpdate(update)))
      }
    }
    if let u = l.sourceUpdateMessage, l.domainInfo != nil {
      var domain = DomainInfo()
      domain.domainName = "example.com"
      domain.domainOwner = "Example Corp"
      domain.attributedBundleID = "com.example.app"
      domain.isTracker = 1
      if l.domainInfo?[.remote] != nil { domain.remote = .ipv4(IPv4Address(93, 184, 216, 34), port: 443) }
      var items = [ExtendedItem(type: .domain, length: UInt32(l.domainInfo!.size), payload: .domain(domain))]
      if family >= .xnu8019_61 {
        items.append(ExtendedItem(type: .necpTLV, length: 5, payload: .bytes([1, 2, 0, 7, 9, 0, 0, 0])))
        items.append(
          ExtendedItem(
            type: .flowUUID, length: 16, payload: .flowUUID(UUIDBytes("00112233-4455-6677-8899-AABBCCDDEEFF")!)))
      }
      if let c = l.interfaceCounts {
        items.append(
          ExtendedItem(
            type: .bluetoothCounts, length: UInt32(c.size),
            payload: .bluetoothCounts(InterfaceCounts(rxPackets: 1, rxBytes: 2, txPackets: 3, txBytes: 4))))
      }
      let update = SourceUpdate(
        sourceRef: ref, eventFlags: 0, counts: counts, provider: tcp, reserved: u[.reserved] == nil ? nil : 0,
        descriptor: sampleDescriptor(.tcp, family)!, items: items)
      add("source-extended-update", .fromKernel, Message(context: context, .sourceExtendedUpdate(update)))
    }
    if family.hasDetails {
      add("get-details", .toKernel, Message(context: context, flags: [.supportsAggregate], .getDetails(.all)))
      add("get-details-one", .toKernel, Message(context: context, .getDetails(ref)))
      let detailed = sampleDetailedCounts()
      for (provider, kind) in family.providers where kind.descriptorKind != .sysinfo {
        guard let descriptor = sampleDescriptor(kind.descriptorKind, family) else { continue }
        let details = SourceDetails(
          sourceRef: ref, eventFlags: 0x1000, counts: detailed, provider: provider, descriptor: descriptor)
        add("source-details-\(kind.rawValue)", .fromKernel, Message(flags: [.closing], .sourceDetails(details)))
      }
      let items = [
        ExtendedItem(
          type: .flowUUID, length: 16, payload: .flowUUID(UUIDBytes("00112233-4455-6677-8899-AABBCCDDEEFF")!)),
        ExtendedItem(
          type: .bluetoothCounts, length: UInt32(l.interfaceCounts!.size),
          payload: .bluetoothCounts(InterfaceCounts(rxPackets: 1, rxBytes: 2, txPackets: 3, txBytes: 4))),
      ]
      let extended = SourceDetails(
        sourceRef: ref, counts: detailed, provider: tcp, descriptor: sampleDescriptor(.tcp, family)!, items: items)
      add("source-extended-details", .fromKernel, Message(context: context, .sourceExtendedDetails(extended)))
      // A packed GET_DETAILS ALL answer: two sources' details then the closing SUCCESS.
      let udpProvider = pid(.udpKernel)!
      add(
        "packed-details", .fromKernel,
        Message(
          .sourceDetails(
            SourceDetails(sourceRef: ref, counts: detailed, provider: tcp, descriptor: sampleDescriptor(.tcp, family)!))
        ),
        Message(
          .sourceDetails(
            SourceDetails(
              sourceRef: SourceRef(ref.rawValue + 1), counts: DetailedCounts(), provider: udpProvider,
              descriptor: sampleDescriptor(.udp, family)!))),
        Message(context: context, .success))
    }
    if let kv = l.sysinfoKeyValue {
      let valueWidth = kv[.value]!.width
      var scalar = [UInt8](repeating: 0, count: valueWidth)
      scalar[0] = 42
      let values = [
        SysinfoKeyValue(key: 6, flags: 1, value: scalar, valueSize: kv[.valueSize] == nil ? nil : 8),
        SysinfoKeyValue(key: 47, flags: 1, value: scalar, valueSize: kv[.valueSize] == nil ? nil : 8),
      ]
      add(
        "sysinfo-counts", .fromKernel,
        Message(
          .sysinfoCounts(
            SysinfoCounts(
              sourceRef: family == .xnu2782 ? SourceRef(7) : SourceRef(0), length: UInt32(8 + 2 * kv.size),
              keyValues: values))))
    }
    if family.hasLengthAndFlags {
      // A packed ALL answer: counts for two sources then the closing SUCCESS.
      let second = SourceRef(ref.rawValue + 1)
      add(
        "packed-counts", .fromKernel,
        Message(.sourceCounts(SourceCounts(sourceRef: ref, eventFlags: hasEvents ? 0 : nil, counts: counts))),
        Message(
          .sourceCounts(SourceCounts(sourceRef: second, eventFlags: hasEvents ? 0 : nil, counts: zeroCounts(family)))),
        Message(context: context, flags: [.continuation], .success))
    }
    return samples
  }

  /// Detailed counts with a distinct value in every field and every medium.
  static func sampleDetailedCounts() -> DetailedCounts {
    var d = DetailedCounts()
    for medium in Medium.allCases {
      let base = UInt64(medium.index + 1) << 32
      d[medium] = TrafficStats(
        rxPackets: base | 0x11, rxBytes: base | 0x2222, txPackets: base | 0x33, txBytes: base | 0x4444,
        activity: ActivityBitmap(start: 1_700_000_000 + UInt64(medium.index), bitmap: (base | 5, base | 6)))
    }
    d.rxDuplicateBytes = 0x1_0000_0001
    d.rxOutOfOrderBytes = 0x2_0000_0002
    d.txRetransmit = 0x3_0000_0003
    (d.minRTT, d.avgRTT, d.varRTT) = (0x101, 0x202, 0x303)
    d.extraFlags = 0x4
    d.extraUUID = UUIDBytes("F0E1D2C3-B4A5-9687-7869-5A4B3C2D1E0F")!
    return d
  }

  /// All-zero counts with exactly the fields the family has.
  static func zeroCounts(_ family: LayoutFamily) -> Counts {
    let l = family.layouts.counts
    var c = Counts()
    if l[.cellRxBytes] != nil { (c.cellRxBytes, c.cellTxBytes, c.wifiRxBytes, c.wifiTxBytes) = (0, 0, 0, 0) }
    if l[.wiredRxBytes] != nil { (c.wiredRxBytes, c.wiredTxBytes) = (0, 0) }
    return c
  }

  static func sampleCounts(_ family: LayoutFamily) -> Counts {
    let l = family.layouts.counts
    var c = Counts()
    c.rxPackets = 1_001
    c.rxBytes = 1_500_000
    c.txPackets = 2_002
    c.txBytes = 3_000_000_000
    if l[.cellRxBytes] != nil {
      c.cellRxBytes = 11
      c.cellTxBytes = 12
      c.wifiRxBytes = 1_499_989
      c.wifiTxBytes = 2_999_999_988
    }
    if l[.wiredRxBytes] != nil {
      c.wiredRxBytes = 0
      c.wiredTxBytes = 0
    }
    c.rxDuplicateBytes = 3
    c.rxOutOfOrderBytes = 4
    c.txRetransmit = 5
    c.connectAttempts = 1
    c.connectSuccesses = 1
    c.minRTT = 320
    c.avgRTT = 640
    c.varRTT = 96
    return c
  }

  static func sampleDescriptor(_ kind: DescriptorKind, _ family: LayoutFamily) -> Descriptor? {
    let l = family.layouts
    let appUUID = UUIDBytes("6A1F3C2E-9B8D-4E7F-A1B2-C3D4E5F60718")!
    switch kind {
    case .tcp:
      let t = l.tcpDescriptor
      var d = TCPDescriptor()
      d.upid = 90_001
      d.eupid = t[.eupid] == nil ? nil : 90_002
      d.startTimestamp = t[.startTimestamp] == nil ? nil : 1_000_000
      d.timestamp = t[.timestamp] == nil ? nil : 2_000_000
      d.rxTransferSize = t[.rxTransferSize] == nil ? nil : 65_536
      d.txTransferSize = t[.txTransferSize] == nil ? nil : 4_096
      d.activityBitmap = t[.activityBitmap] == nil ? nil : ActivityBitmap(start: 99, bitmap: (0b1011, 1 << 63))
      d.ifindex = 4
      d.state = .established
      d.sendBufferSize = 131_072
      d.sendBufferUsed = 100
      d.receiveBufferSize = 131_072
      d.receiveBufferUsed = 200
      d.txUnacked = 1
      d.txWindow = 65_535
      d.txCongestionWindow = 14_480
      d.trafficClass = t[.trafficClass] == nil ? nil : 0
      d.trafficManagementFlags = t[.trafficManagementFlags] == nil ? nil : 0
      d.pid = 4_321
      d.epid = t[.epid] == nil ? nil : 4_322
      d.local = .ipv4(IPv4Address(192, 168, 1, 20), port: 52_000)
      d.remote = .ipv6(IPv6Address("2606:4700::6810:85e5")!, port: 443, flowInfo: 0, scopeID: 0)
      d.congestionAlgorithm = t[.congestionAlgorithm] == nil ? nil : "cubic"
      d.processName = "Safari"
      d.uuid = t[.uuid] == nil ? nil : appUUID
      d.euuid = t[.euuid] == nil ? nil : appUUID
      d.vuuid = t[.vuuid] == nil ? nil : .zero
      d.fuuid = t[.fuuid] == nil ? nil : UUIDBytes(high: 1, low: 2)
      d.personaID = t[.personaID] == nil ? nil : 1_000
      d.uid = t[.uid] == nil ? nil : 501
      d.connectionStatus = t[.connectionStatus] == nil ? nil : 0
      d.interfaceProperties = t[.interfaceProperties] == nil ? nil : [.wifi, .nonLocal]
      d.fallbackMode = t[.fallbackMode] == nil ? nil : 0
      return .tcp(d)
    case .udp:
      let u = l.udpDescriptor
      var d = UDPDescriptor()
      d.upid = 80_001
      d.eupid = u[.eupid] == nil ? nil : 80_001
      d.startTimestamp = u[.startTimestamp] == nil ? nil : 5_000
      d.timestamp = u[.timestamp] == nil ? nil : 6_000
      d.activityBitmap = u[.activityBitmap] == nil ? nil : ActivityBitmap(start: 7, bitmap: (1, 0))
      d.local = .ipv6(IPv6Address("fe80::1")!, port: 5353, flowInfo: 0, scopeID: 4)
      d.remote = .unspecified
      d.ifindex = 4
      d.receiveBufferSize = 9_216
      d.receiveBufferUsed = 0
      d.trafficClass = u[.trafficClass] == nil ? nil : 0
      d.pid = 321
      d.processName = "mDNSResponder"
      d.epid = u[.epid] == nil ? nil : 321
      d.uuid = u[.uuid] == nil ? nil : appUUID
      d.euuid = u[.euuid] == nil ? nil : appUUID
      d.vuuid = u[.vuuid] == nil ? nil : .zero
      d.fuuid = u[.fuuid] == nil ? nil : .zero
      d.personaID = u[.personaID] == nil ? nil : 0
      d.uid = u[.uid] == nil ? nil : 65
      d.interfaceProperties = u[.interfaceProperties] == nil ? nil : [.wifi, .local]
      d.fallbackMode = u[.fallbackMode] == nil ? nil : 0
      return .udp(d)
    case .route:
      var d = RouteDescriptor()
      d.id = 1
      d.parentID = 2
      d.gatewayID = 3
      d.destination = .ipv4(IPv4Address(10, 0, 0, 0), port: 0)
      d.mask = .ipv4(IPv4Address(255, 0, 0, 0), port: 0)
      d.gateway = .ipv4(IPv4Address(192, 168, 1, 1), port: 0)
      d.ifindex = 4
      d.flags = 0x803
      return .route(d)
    case .ifnet:
      guard let i = l.interfaceDescriptor else { return nil }
      var d = InterfaceDescriptor()
      d.threshold = 1 << 20
      d.ifindex = 4
      if let slot = i[.linkStatus] {
        d.linkStatus = InterfaceDescriptor.LinkStatus(
          kind: 2, words: (0..<((slot.width - 4) / 4)).map { UInt32($0 * 3) })
      }
      d.type = 6
      d.interfaceDescription = "Wi-Fi"
      d.name = "en0"
      return .ifnet(d)
    case .sysinfo:
      return l.sysinfoDescriptor == nil ? nil : .sysinfo(flags: 2)
    case .connection:
      guard let c = l.connectionDescriptor else { return nil }
      var d = ConnectionDescriptor()
      d.startTimestamp = 10
      d.timestamp = 20
      d.upid = 30
      d.eupid = 31
      d.pid = 40
      d.epid = 41
      d.interfaceProperties = [.cellular, .expensive]
      d.processName = "nsurlsessiond"
      d.uuid = appUUID
      d.euuid = appUUID
      d.cuuid = UUIDBytes(high: 3, low: 4)
      d.puuid = .zero
      d.fuuid = UUIDBytes(high: 5, low: 6)
      d.personaID = c[.personaID] == nil ? nil : 7
      d.uid = c[.uid] == nil ? nil : 501
      return .connection(d)
    }
  }
}
