import Foundation
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

@Suite(.hangLimit) struct KernelBehaviourTests {
  @Test(arguments: LayoutFamily.allCases)
  func clientThatStopsReadingGetsENOBUFS(family: LayoutFamily) throws {
    // kern_control.c ctl_rcvbspace: with the default 8 KiB buffer and nobody reading, the
    // unsolicited SRC_ADDED for new pcbs stop fitting and those sources are never created
    // (nstat_control_source_add frees them); critical messages keep working longer.
    var rates = WorkloadRates()
    rates.connectionsPerSecond = 200
    rates.initialFlows = 0
    rates.listeners = 0
    rates.burstInterval = 0
    let workload = Workload.random(seed: 1, duration: .seconds(10), rates: rates, family: family)
    var h = KernelHarness(family: family, workload: workload)
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    h.advance(to: 5)
    #expect(h.kernel.statistics.sourcesNotAdded > 0)
    #expect(h.kernel.statistics.enobufs > 0)
    let notAdded = h.kernel.groundTruth.filter(\.addDropped)
    #expect(!notAdded.isEmpty && notAdded.allSatisfy { $0.sourceRef == nil })
    // An unpacked ALL query now fails (3247 to 10063: ERROR(ENOBUFS) instead of SUCCESS). ≤2782
    // carries on and still sends SUCCESS, having dropped what did not fit; so does 11215, which
    // packs every ALL answer and ignores a packed datagram that did not queue.
    let lostBefore = h.kernel.statistics.packedDatagramsLost
    try h.send(.querySource(.all))
    let tags = try h.drainMessages().map(\.tag)
    if family.hasLengthAndFlags, family < .xnu11215 {
      #expect(tags.last == "ERROR(ENOBUFS)")
    } else {
      #expect(!tags.contains("ERROR(ENOBUFS)"))
      // Up to 2422 there is no reserve, so SUCCESS itself may not fit.
      if family >= .xnu2782 { #expect(tags.last == "SUCCESS") }
    }
    if family >= .xnu11215 { #expect(h.kernel.statistics.packedDatagramsLost > lostBefore) }
  }

  @Test(arguments: [LayoutFamily.xnu1699, .xnu2782, .xnu4570, .xnu11215])
  func sameSeedSameDatagrams(family: LayoutFamily) throws {
    func transcript() throws -> [[UInt8]] {
      let workload = Workload.random(seed: 99, duration: .seconds(30), family: family)
      var kernel = SimulatedKernel(
        family: family, workload: workload, configuration: KernelConfiguration(receiveBufferSize: 1 << 20))
      let encoder = MessageEncoder(family: family)
      var out: [[UInt8]] = []
      for (index, kind) in [ProviderKind.tcpKernel, .udpKernel].enumerated() {
        let request = Message(
          context: UInt64(index + 1), .addAllSources(AddAllSourcesRequest(provider: family.providerID(for: kind)!)))
        kernel.handleRequest(try encoder.encode(request, settingLength: true), at: .zero)
      }
      for second in 1...30 {
        let poll = Message(context: UInt64(100 + second), .querySource(.all))
        kernel.handleRequest(try encoder.encode(poll, settingLength: true), at: .seconds(Double(second)))
        while let datagram = kernel.receive() { out.append(datagram) }
      }
      return out
    }
    let first = try transcript()
    #expect(first.count > 1000)
    #expect(try transcript() == first)
    // A different seed gives a different host.
    let other = Workload.random(seed: 100, duration: .seconds(30), family: family)
    #expect(other.flows != Workload.random(seed: 99, duration: .seconds(30), family: family).flows)
  }

  @Test(arguments: LayoutFamily.allCases)
  func timeWaitPerFamily(family: LayoutFamily) throws {
    // An active close at t = 5 s puts the pcb in TIME_WAIT for 2 MSL (30 s).
    // ≤2422: nstat_tcp_gone counts TIME_WAIT as gone, so the next query reports it removed.
    // 2782: not gone; the source is removed when the pcb is freed at 35 s.
    // 3247+: add_to_time_wait → nstat_pcb_detach, removed at 5 s.
    let process = SimulatedProcess(pid: 1, upid: 1, name: "x", uuid: .zero)
    let flow = FlowPlan(
      id: 1, provider: .tcpKernel, process: process, interface: SimulatedInterface.standard[1],
      local: .ipv4(IPv4Address(10, 0, 0, 1), port: 1000), remote: .ipv4(IPv4Address(10, 0, 0, 2), port: 80),
      openAt: .zero, outcome: .connects(handshake: 1_000_000), closeAt: .seconds(5), activeClose: true,
      rxBytesPerSecond: 100, txBytesPerSecond: 100)
    var h = KernelHarness(family: family, workload: Workload(flows: [flow], duration: .seconds(60)))
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    _ = try h.drainMessages()
    h.advance(to: 6)
    let atSix = try h.drainMessages().map(\.tag)
    try h.send(.querySource(SourceRef(1)))
    let query = try h.drainMessages().map(\.tag)
    h.advance(to: 36)
    let atThirtySix = try h.drainMessages().map(\.tag)
    if family <= .xnu2422 {
      #expect(atSix.isEmpty)
      #expect(query == ["COUNTS", "REMOVED"])
    } else if family == .xnu2782 {
      #expect(atSix.isEmpty && query == ["COUNTS"])
      #expect(atThirtySix == ["COUNTS", "DESC", "REMOVED"])
    } else {
      #expect(atSix == ["COUNTS+CLOSING", "DESC+CLOSING", "REMOVED"])
      #expect(query == ["ERROR(ENOENT)"])
    }
  }

  @Test(arguments: LayoutFamily.allCases)
  func scenarioWithEveryProvider(family: LayoutFamily) throws {
    let url = try #require(
      Bundle.module.url(forResource: "every-provider", withExtension: "json", subdirectory: "Scenarios"))
    let workload = try Scenario.load(Data(contentsOf: url)).workload()
    var h = KernelHarness(family: family, workload: workload)
    h.kernel.setReceiveBufferSize(1 << 20)
    let behaviour = KernelBehaviour(family: family)
    var watched: Set<ProviderKind> = []
    for kind in ProviderKind.allCases where [.route, .ifnet, .sysinfo].contains(kind) == false {
      guard let id = family.providerID(for: kind) else { continue }
      try h.send(.addAllSources(AddAllSourcesRequest(provider: id)))
      let reply = try h.drainMessages().last?.tag
      #expect(reply == (behaviour.registered.contains(kind) ? "SUCCESS" : "ERROR(ENOENT)"), "\(kind)")
      if reply == "SUCCESS" { watched.insert(kind) }
    }
    h.advance(to: 20)
    let truth = h.kernel.groundTruth
    for record in truth {
      let expectSource = watched.contains(record.flow.provider)
      #expect((record.sourceRef != nil) == expectSource, "\(record.flow.provider) in \(family)")
      // Up to 2782 an actively closed pcb lingers in TIME_WAIT past the end of the run.
      let lingers = family <= .xnu2782 && record.flow.activeClose && record.flow.provider == .tcpKernel
      if expectSource, record.flow.closeAt != nil, !lingers { #expect(record.removalDelivered) }
    }
    #expect(truth.contains { $0.failedToConnect })
    #expect(truth.contains { $0.isListener })
  }

  @Test func scenarioErrorsNameTheFlow() throws {
    let text =
      #"{"duration": 1, "flows": [{"at": 0, "provider": "tcp", "process": "a", "pid": 1, "local": "1.2.3.4:5"}, {"at": 0, "provider": "sctp", "process": "b", "pid": 2, "local": "1.2.3.4:6"}]}"#
    #expect(throws: ScenarioError.self) { try Scenario.load(Data(text.utf8)).workload() }
    do {
      _ = try Scenario.load(Data(text.utf8)).workload()
    } catch let error as ScenarioError {
      #expect(error.description == "scenario flow 1: unknown provider \"sctp\"")
    }
  }

  @Test func countersGrowPlausibly() {
    let workload = Workload.random(seed: 5, duration: .seconds(60), family: .xnu11215)
    #expect(workload.flows.count > 1000)
    let kinds = Set(workload.flows.map(\.provider))
    #expect(kinds.isSuperset(of: [.tcpKernel, .udpKernel, .quicUserland, .connUserland]))
    #expect(Set(workload.flows.map(\.interface.kind)) == Set(InterfaceKind.allCases))
    #expect(workload.flows.contains { if case .ipv6 = $0.local { return true } else { return false } })
    // pids are reused by different processes (upids are not).
    let byPID = Dictionary(grouping: workload.flows, by: \.process.pid)
    #expect(byPID.values.contains { Set($0.map(\.process.upid)).count > 1 })
    for flow in workload.flows.prefix(200) where flow.closeAt != nil {
      var last = Counts()
      for step in 0...10 {
        let t = flow.openAt.adding(nanoseconds: UInt64(step) * 500_000_000)
        let c = flow.counts(at: t)
        #expect(c.rxBytes >= last.rxBytes && c.txBytes >= last.txBytes)
        last = c
      }
    }
  }
}
