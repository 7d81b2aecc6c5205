import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

@Suite(.hangLimit) struct ClientRobustnessTests {
  /// A host that overflows the kernel's default 8 KiB buffer: hundreds of flows already open
  /// when the client subscribes, bursts of 300 connections, and ALL polls whose answers
  /// cannot fit.
  static func stormyWorkload(_ family: LayoutFamily) -> Workload {
    var rates = WorkloadRates()
    rates.initialFlows = 400
    rates.connectionsPerSecond = 30
    rates.burstInterval = 7
    rates.burstSize = 300
    rates.meanLifetime = 4
    return Workload.random(seed: 11, duration: .seconds(40), rates: rates, family: family)
  }

  @Test(arguments: LayoutFamily.allCases)
  func enobufsStormRecoversWithoutStaleOrLeakedStreams(family: LayoutFamily) throws {
    let workload = Self.stormyWorkload(family)
    // The kernel default: a client that does not raise SO_RCVBUF.
    let run = try ClientVersusSimulatorTests.run(family: family, workload: workload, receiveBufferSize: 8192)
    let kernel = run.transport.kernel
    #expect(kernel.statistics.enobufs > 0, "the storm should overflow an 8 KiB buffer")
    #expect(run.client.statistics.kernelDrops > 0 || kernel.statistics.sourcesNotAdded > 0)
    // No stale stream: everything the client holds live, the kernel still has.
    let kernelRefs = Set(kernel.liveSourceRefs)
    let clientLive = run.client.liveStreams
    let stale = clientLive.filter { !kernelRefs.contains($0.id) }
    #expect(stale.isEmpty, "\(stale.count) stale streams in \(family)")
    // No leak: every flow the kernel removed and the client had announced was reported removed.
    var removed = Set<SourceRef>()
    var added = Set<SourceRef>()
    for event in run.events {
      if case .streamAdded(let s) = event { added.insert(s.id) }
      if case .streamRemoved(let s) = event { removed.insert(s.id) }
    }
    for record in kernel.groundTruth where record.detachedAt != nil {
      guard let ref = record.sourceRef, added.contains(ref) else { continue }
      #expect(removed.contains(ref), "flow \(record.flow.id) never reported removed in \(family)")
    }
    // And most sources the kernel kept were described despite the drops.
    let described = kernelRefs.filter { added.contains($0) }.count
    #expect(described * 10 >= kernelRefs.count * 9, "\(described) of \(kernelRefs.count) described in \(family)")
  }

  @Test func errorsAreMatchedToTheirRequests() throws {
    // The engine alone: answer its ADD_ALL for QUIC with ENOENT (the xnu-6153 kernel declares
    // QUIC but does not register it) and check the notice names that request.
    let family = LayoutFamily.xnu6153
    var configuration = ClientConfiguration()
    configuration.providers = [.quicUserland, .tcpKernel]
    var engine = ClientEngine(configuration: configuration, family: family)
    engine.start(at: .zero)
    let firstRequest = engine.pollTransmit()
    let request = try #require(firstRequest)
    let decoded = try MessageDecoder(family: family).decode(request, direction: .toKernel)
    let context = try #require(decoded.first?.header.context)
    guard case .addAllSources(let addAll) = decoded.first?.body else {
      Issue.record("first request should be ADD_ALL")
      return
    }
    #expect(addAll.provider == family.providerID(for: .quicUserland))
    let encoder = MessageEncoder(family: family)
    // An error for a context never used is counted and otherwise ignored.
    let stray = Message(context: 999_999, .error(ErrorReply(errno: DarwinErrno.enoent, reserved: 0, failedRequest: [])))
    engine.handleDatagram(try encoder.encode(stray, settingLength: true), at: .zero)
    #expect(engine.pollEvent() == nil)
    let error = Message(
      context: context, .error(ErrorReply(errno: DarwinErrno.enoent, reserved: 0, failedRequest: request)))
    engine.handleDatagram(try encoder.encode(error, settingLength: true), at: .zero)
    guard case .notice(let notice) = engine.pollEvent() else {
      Issue.record("expected a notice")
      return
    }
    #expect(notice.kind == .providerUnavailable)
    #expect(notice.detail == "quic: ENOENT (this kernel does not know the provider, or the request layout changed)")
    #expect(engine.statistics.errorsReceived == 2)
    // The next provider's ADD_ALL goes out only now (one subscription at a time).
    let nextRequest = engine.pollTransmit()
    let next = try MessageDecoder(family: family).decode(try #require(nextRequest), direction: .toKernel)
    guard case .addAllSources(let second) = next.first?.body else {
      Issue.record("second request should be ADD_ALL")
      return
    }
    #expect(second.provider == family.providerID(for: .tcpKernel))
  }

  @Test(arguments: [LayoutFamily.xnu2050, .xnu4570, .xnu11215])
  func lostRemovalIsDetectedByTheSweep(family: LayoutFamily) throws {
    // Feed the engine a source, then let the kernel forget it without a SRC_REMOVED reaching
    // the client: the poll does not report it, the probe gets ENOENT, the stream is removed.
    let workload = scriptedTCP(count: 3, closeAt: nil)
    let kernel = SimulatedKernel(family: family, workload: workload)
    let transport = try DroppingTransport(kernel: kernel, dropRemovedFor: SourceRef(2))
    let client = NetworkStatisticsClient(transport: transport)
    var events: [ClientEvent] = []
    try client.run(for: .seconds(10)) { events.append($0) }
    let removed = events.compactMap { event -> NetworkStream? in
      if case .streamRemoved(let s) = event { return s }
      return nil
    }
    #expect(removed.map(\.id) == [SourceRef(2)])
    #expect(removed.first?.removal == .lost)
    #expect(client.statistics.lostRemovals == 1)
  }

  @Test(arguments: [LayoutFamily.xnu2782, .xnu10002])
  func filtersSelectWhatIsReported(family: LayoutFamily) throws {
    var configuration = ClientConfiguration()
    configuration.filter.protocols = ["udp"]
    configuration.filter.skipLoopback = true
    let workload = Workload.random(
      seed: 3, duration: .seconds(20), rates: ClientVersusSimulatorTests.rates(), family: family)
    let run = try ClientVersusSimulatorTests.run(family: family, workload: workload, configuration: configuration)
    var reported = Set<SourceRef>()
    for event in run.events {
      if case .streamAdded(let s) = event {
        #expect(s.key.protocolName == "udp")
        #expect(s.interfaceClass != .loopback)
        reported.insert(s.id)
      }
    }
    let expected = run.transport.kernel.groundTruth.filter {
      $0.sourceRef != nil && $0.flow.provider.protocolName == "udp" && $0.flow.interface.kind != .loopback
    }
    // Before 3247 the interface is known only from the addresses: loopback is still excluded.
    #expect(Set(expected.compactMap(\.sourceRef)) == reported)
    #expect(!reported.isEmpty)
  }

  @Test func memoryIsBoundedByLiveSources() throws {
    var rates = WorkloadRates()
    rates.connectionsPerSecond = 60
    rates.meanLifetime = 2
    rates.burstInterval = 0
    let family = LayoutFamily.xnu11215
    let workload = Workload.random(seed: 8, duration: .seconds(300), rates: rates, family: family)
    let kernel = SimulatedKernel(family: family, workload: workload)
    let transport = try SimulatorTransport(kernel: kernel, receiveBufferSize: 1 << 20)
    var configuration = ClientConfiguration()
    configuration.removedRetention = .seconds(5)
    let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
    var removals: [MonotonicTime] = []
    var worst = 0
    var events = 0
    try client.run { event in
      events += 1
      if case .streamRemoved = event { removals.append(transport.now) }
      guard events % 200 == 0 else { return }
      let now = transport.now
      let recent = removals.reversed().prefix { now.since($0) <= 6_000_000_000 }.count
      let bound = transport.kernel.liveSourceRefs.count + recent + 8
      worst = max(worst, client.statistics.liveSources - bound)
    }
    #expect(removals.count > 10_000)
    #expect(worst <= 0, "the client held \(worst) sources beyond live + recently removed")
  }
}

/// Three TCP connections at t = 0 that stay open.
func scriptedTCP(count: Int, closeAt: Double?) -> Workload {
  let process = SimulatedProcess(pid: 501, upid: 9001, name: "curl", uuid: UUIDBytes(high: 1, low: 2))
  let flows = (0..<count).map { index in
    FlowPlan(
      id: index + 1, provider: .tcpKernel, process: process, interface: SimulatedInterface.standard[1],
      local: .ipv4(IPv4Address(192, 168, 1, 23), port: UInt16(50_000 + index)),
      remote: .ipv4(IPv4Address(93, 184, 216, 34), port: 443), openAt: .zero, outcome: .connects(handshake: 10_000_000),
      closeAt: closeAt.map { .seconds($0) }, rxBytesPerSecond: 10_000, txBytesPerSecond: 1_000)
  }
  return Workload(flows: flows, duration: .seconds(30))
}

/// The simulator transport with one fault: at t = 3 s the kernel drops source `ref` (as REM_SRC
/// would) and the SRC_REMOVED never reaches the client.
final class DroppingTransport: ClientTransport {
  let base: SimulatorTransport
  let ref: SourceRef
  var dropped = false
  let encoder: MessageEncoder
  let decoder: MessageDecoder

  init(kernel: SimulatedKernel, dropRemovedFor ref: SourceRef) throws {
    base = try SimulatorTransport(kernel: kernel, receiveBufferSize: 1 << 20)
    self.ref = ref
    encoder = MessageEncoder(family: kernel.family)
    decoder = MessageDecoder(family: kernel.family)
  }

  var family: LayoutFamily { base.family }
  var now: MonotonicTime { base.now }
  func send(_ datagram: [UInt8]) throws { try base.send(datagram) }
  func close() { base.close() }

  func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    if !dropped, now >= .seconds(3) {
      dropped = true
      try base.send(try encoder.encode(Message(context: 0, .removeSource(ref)), settingLength: true))
    }
    while true {
      let input = try base.receive(until: deadline)
      if case .datagram(let bytes, _) = input, let messages = try? decoder.decode(bytes),
        messages.count == 1, case .sourceRemoved(let removed) = messages[0].body, removed == ref
      {
        continue
      }
      return input
    }
  }
}
