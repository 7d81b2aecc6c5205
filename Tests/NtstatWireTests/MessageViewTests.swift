import NtstatTestSupport
import Testing

@testable import NtstatWire

/// The zero-copy views must agree with the full decoder on every sample of every family.
@Suite(.hangLimit) struct MessageViewTests {
  @Test("views read what the full decoder reads", arguments: LayoutFamily.allCases)
  func viewsAgreeWithFullDecode(family: LayoutFamily) throws {
    let decoder = MessageDecoder(family: family)
    let encoder = MessageEncoder(family: family)
    var checkedCounts = 0
    var checkedDescriptors = 0
    for sample in SampleMessages.all(for: family) {
      let bytes = try encoder.encodeDatagram(sample.messages, settingLength: true)
      let full = try decoder.decode(bytes, direction: sample.direction)
      var index = 0
      try bytes.withUnsafeBytes { buffer in
        try decoder.forEachView(in: buffer, direction: sample.direction) { (view) throws(WireError) in
          let message = full[index]
          index += 1
          #expect(view.header == message.header)
          #expect(try view.decode() == message)
          switch message.body {
          case .sourceCounts(let c):
            #expect(try view.sourceRef() == c.sourceRef)
            #expect(try view.counts() == c.counts)
            #expect(try view.countsView()?.counts == c.counts)
            let both = try view.sourceCounts()
            #expect(both?.ref == c.sourceRef)
            #expect(both?.counts.counts == c.counts)
            checkedCounts += 1
          case .sourceDescription(let d):
            #expect(try view.sourceRef() == d.sourceRef)
            Self.compare(try view.socketDescriptorView(), d.descriptor)
            try Self.compareRegionAndState(view, d.descriptor)
            // The same view over bytes kept for later; one byte short, none.
            if let region = try view.descriptorRegion() {
              let bytes = Array(region.bytes)
              bytes.withUnsafeBytes {
                Self.compare(decoder.socketDescriptorView($0, provider: region.provider), d.descriptor)
              }
              #expect(
                Array(bytes.dropLast()).withUnsafeBytes {
                  decoder.socketDescriptorView($0, provider: region.provider) == nil
                })
            }
            checkedDescriptors += 1
          case .sourceUpdate(let u), .sourceExtendedUpdate(let u):
            #expect(try view.sourceRef() == u.sourceRef)
            #expect(try view.countsView()?.counts == u.counts)
            Self.compare(try view.socketDescriptorView(), u.descriptor)
            try Self.compareRegionAndState(view, u.descriptor)
            checkedCounts += 1
          case .sourceDetails(let d), .sourceExtendedDetails(let d):
            #expect(try view.sourceRef() == d.sourceRef)
            #expect(try view.countsView() == nil)
            #expect(try view.detailedCountsView()?.counts == d.counts)
            guard let region = try view.descriptorRegion() else {
              Issue.record("no descriptor region in \(message.header.type)")
              return
            }
            #expect(region.provider == d.provider)
            #expect(try decoder.decodeDescriptor(Array(region.bytes), provider: region.provider) == d.descriptor)
            Self.compare(try view.socketDescriptorView(), d.descriptor)
            try Self.compareRegionAndState(view, d.descriptor)
            checkedCounts += 1
          case .sourceRemoved(let ref), .querySource(let ref), .removeSource(let ref), .getSourceDescription(let ref),
            .getDetails(let ref):
            #expect(try view.sourceRef() == ref)
            #expect(try view.countsView() == nil)
          default:
            #expect(try view.sourceCounts() == nil)
            #expect(try view.countsView() == nil)
            #expect(try view.detailedCountsView() == nil)
            #expect(try view.socketDescriptorView() == nil)
          }
        }
      }
      #expect(index == full.count)
    }
    #expect(checkedCounts > 0 && checkedDescriptors > 0)
  }

  /// The counters read at fixed offsets (``CountsView/packedCounts``) are those read through the
  /// table's offsets, field by field, in every family whose table allows it; every field holds a
  /// different value, so a counter read from its neighbour's place fails. The families with the
  /// fixed layout are those of xnu-4570 on (xnu-2782 to 3789 put the per-medium counters last).
  @Test("packed counters read what the table reads", arguments: LayoutFamily.allCases)
  func packedCountsAgreeWithTheTable(family: LayoutFamily) {
    let layout = family.layouts.counts
    let packed = CountsView.isPacked(layout)
    #expect(packed == (family >= .xnu4570))
    guard packed else { return }
    let bytes = (0..<layout.size).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    bytes.withUnsafeBytes { buffer in
      let fixed = CountsView(base: buffer.baseAddress!, layout: layout, packed: true).counts
      let table = CountsView(base: buffer.baseAddress!, layout: layout, packed: false).counts
      #expect(fixed == table)
      #expect(Set([fixed.rxPackets, fixed.rxBytes, fixed.txPackets, fixed.txBytes]).count == 4)
      #expect(fixed.wiredTxBytes != nil && fixed.varRTT != fixed.avgRTT)
    }
  }

  /// The region read with the state: the same region as alone, and the state of a TCP
  /// descriptor only.
  static func compareRegionAndState(_ view: MessageView, _ descriptor: Descriptor) throws(WireError) {
    let withState = try view.descriptorRegionAndState()
    let region = try view.descriptorRegion()
    #expect(withState?.provider == region?.provider)
    #expect(withState.map { Array($0.bytes) } == region.map { Array($0.bytes) })
    if case .tcp(let t) = descriptor {
      #expect(withState != nil && withState?.state == t.state)
    } else {
      #expect(withState?.state == nil)
    }
  }

  static func compare(_ view: SocketDescriptorView?, _ descriptor: Descriptor) {
    switch descriptor {
    case .tcp(let t):
      guard let v = view else {
        Issue.record("no socket descriptor view")
        return
      }
      #expect(v.isTCP && v.pid == t.pid && v.epid == t.epid && v.upid == t.upid && v.eupid == t.eupid)
      #expect(v.state == t.state && v.ifindex == t.ifindex && v.uuid == t.uuid)
      #expect(v.local == t.local && v.remote == t.remote && v.localPort == t.local.port)
      #expect(v.processName == t.processName && v.interfaceProperties == t.interfaceProperties)
      #expect(v.euuid == t.euuid)
      #expect(v.tcpField(.txWindow) == t.txWindow && v.tcpField(.txCongestionWindow) == t.txCongestionWindow)
      #expect(v.tcpField(.txUnacked) == t.txUnacked && v.tcpField(.sendBufferSize) == t.sendBufferSize)
      #expect(v.tcpField(.sendBufferUsed) == t.sendBufferUsed && v.tcpField(.receiveBufferSize) == t.receiveBufferSize)
      #expect(v.tcpField(.receiveBufferUsed) == t.receiveBufferUsed)
      compareName(v, t.processName)
    case .udp(let u):
      guard let v = view else {
        Issue.record("no socket descriptor view")
        return
      }
      #expect(!v.isTCP && v.pid == u.pid && v.state == nil && v.remote == u.remote && v.local == u.local)
      #expect(v.processName == u.processName && v.remotePort == u.remote.port)
      #expect(v.euuid == u.euuid && v.tcpField(.txWindow) == nil)
      compareName(v, u.processName)
    default:
      #expect(view == nil)
    }
  }

  /// The name read in place equals the decoded one whatever the hint: the hint is returned
  /// only when it has the same bytes.
  static func compareName(_ view: SocketDescriptorView, _ name: FixedCString) {
    let text = name.string
    let sameLength = text.isEmpty ? "x" : String(text.dropLast()) + (text.hasSuffix("x") ? "y" : "x")
    for hint in [nil, text, text + "x", String(text.dropLast()), sameLength, "", "different"] {
      #expect(view.processName(reusing: hint) == text, "hint \(hint ?? "nil")")
    }
  }

  @Test func viewsRefuseShortMessages() throws {
    // SRC_COUNTS whose header says 40 bytes: the view must throw, not read past it.
    let family = LayoutFamily.xnu11215
    var bytes = try MessageEncoder(family: family).encode(
      Message(.sourceCounts(SourceCounts(sourceRef: SourceRef(1), eventFlags: 0, counts: Counts()))),
      settingLength: true)
    bytes = Array(bytes.prefix(40))
    bytes[12] = 40
    try bytes.withUnsafeBytes { buffer in
      try MessageDecoder(family: family).forEachView(in: buffer) { (view) throws(WireError) in
        #expect(throws: WireError.self) { try view.countsView() }
        #expect(throws: WireError.self) { try view.decode() }
      }
    }
  }
}

extension CountsView: Equatable {
  public static func == (lhs: CountsView, rhs: CountsView) -> Bool { lhs.counts == rhs.counts }
}

extension SocketDescriptorView: Equatable {
  public static func == (lhs: SocketDescriptorView, rhs: SocketDescriptorView) -> Bool {
    lhs.isTCP == rhs.isTCP && lhs.pid == rhs.pid && lhs.local == rhs.local
  }
}
