import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// The client against the kernel's real behaviour under pressure (modelled in the simulator
/// from `ntstat.c`; see `KernelFidelityTests`): each test fails if the client regresses to
/// what it did before it knew.
@Suite(.hangLimit) struct KernelPressureTests {
  struct Run {
    var events: [ClientEvent]
    var client: NetworkStatisticsClient
    var transport: SimulatorTransport

    var notices: [ClientNotice] {
      events.compactMap { if case .notice(let n) = $0 { return n } else { return nil } }
    }

    func updates() -> [SourceRef: Int] {
      var result: [SourceRef: Int] = [:]
      for case .streamStatsUpdated(let s) in events { result[s.id, default: 0] += 1 }
      return result
    }

    /// Streams the client still holds that the kernel has forgotten.
    var stale: [NetworkStream] {
      let kernelRefs = Set(transport.kernel.liveSourceRefs)
      return client.liveStreams.filter { !kernelRefs.contains($0.id) }
    }
  }

  static func run(
    family: LayoutFamily, workload: Workload, kernel: KernelConfiguration, receiveBufferSize: Int,
    configuration: ClientConfiguration = ClientConfiguration()
  ) throws -> Run {
    let simulated = SimulatedKernel(family: family, workload: workload, configuration: kernel)
    let transport = try SimulatorTransport(kernel: simulated, receiveBufferSize: receiveBufferSize)
    let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
    var events: [ClientEvent] = []
    try client.run { events.append($0) }
    return Run(events: events, client: client, transport: transport)
  }

  /// 250 long-lived connections, and five short ones opening at every whole second: the
  /// instant the client polls, so their SRC_ADDED are read while the paced poll is open (as a
  /// kernel's unsolicited messages can arrive at any time).
  static func churn(seconds: Int = 30) -> Workload {
    let longLived = Workload.scripted(tcp: 250, duration: Double(seconds))
    var flows = longLived.flows
    let template = flows[0]
    for second in 1..<seconds {
      for index in 0..<5 {
        var flow = template
        flow.id = flows.count + 1
        flow.local = .ipv4(IPv4Address(192, 168, 1, 23), port: UInt16(40_000 + second * 10 + index))
        flow.openAt = .seconds(Double(second))
        flow.closeAt = .seconds(Double(second) + 0.5)
        flows.append(flow)
      }
    }
    return Workload(flows: flows, duration: longLived.duration)
  }

  /// xnu-3248.60.10 and 3789.1.32/.21.4 cancel an open paced poll whenever another query comes
  /// in. A client that describes new sources mid-poll sees its poll cancelled again and
  /// again, and the sources at the end of the kernel's list (the oldest) stop updating.
  @Test(arguments: [XNUVersion(3248, 60, 10), XNUVersion(3789, 1, 32), XNUVersion(3789, 21, 4)])
  func pacedPollsAreNeverCancelled(xnu: XNUVersion) throws {
    let family: LayoutFamily = xnu.major == 3248 ? .xnu3247 : .xnu3789
    let run = try Self.run(
      family: family, workload: Self.churn(), kernel: KernelConfiguration(xnu: xnu), receiveBufferSize: 1 << 20)
    #expect(run.client.holdsRequestsDuringPacedPoll)
    #expect(run.transport.kernel.statistics.pacedQueriesCancelled == 0)
    // Every long-lived connection (ids 1–250 were created first) is updated every second.
    let updates = run.updates()
    // Workload.scripted's connections: local ports 50000–50249, all to 93.184.216.34:443.
    let longLived = run.events.compactMap { event -> SourceRef? in
      guard case .streamAdded(let s) = event, let port = s.key.local.port, (50_000..<50_250).contains(port),
        s.key.remote.description.hasPrefix("93.184.216.34")
      else { return nil }
      return s.id
    }
    #expect(longLived.count == 250)
    let starved = longLived.filter { updates[$0, default: 0] < 25 }
    #expect(starved.isEmpty, "\(starved.count) long-lived streams starved of updates on \(xnu)")
  }

  /// Packed answers lost without an error (`nstat_flush_accumulated_msgs`): the client learns
  /// of it only from streams missing in a complete poll. It recovers them, says so, and backs
  /// off its sweeps instead of probing every missing stream on every poll.
  @Test func silentLossIsNoticedAndSweepsBackOff() throws {
    let family = LayoutFamily.xnu11215
    let run = try Self.run(
      family: family, workload: Workload.scripted(tcp: 400, duration: 40), kernel: KernelConfiguration(),
      receiveBufferSize: 16384)
    let kernel = run.transport.kernel
    #expect(kernel.statistics.packedDatagramsLost > 10, "the scenario should lose packed answers")
    #expect(
      !run.events.contains {
        if case .notice(let n) = $0 { return n.kind == .providerUnavailable } else { return false }
      })
    let silent = run.notices.filter { $0.kind == .kernelDropped && $0.detail.contains("silently") }
    #expect(!silent.isEmpty)
    let sweeps = run.notices.filter { $0.kind == .resynchronised }.count
    let polls = Int(run.client.statistics.polls)
    #expect(sweeps * 3 <= polls, "\(sweeps) sweeps in \(polls) polls")
    #expect(run.client.statistics.sweepsDeferred > 0)
    #expect(run.stale.isEmpty)
    // Every stream is still updated now and then despite the loss.
    let updates = run.updates()
    #expect(run.client.liveStreams.allSatisfy { updates[$0.id, default: 0] >= 5 })
  }

  /// `send()` failing with ENOBUFS (the request's ERROR did not fit) is an answer to that
  /// request, retried after a pause, not the end of the run.
  @Test(arguments: [LayoutFamily.xnu2422, .xnu11215])
  func failedSendsAreRetried(family: LayoutFamily) throws {
    var rates = WorkloadRates()
    rates.initialFlows = 20
    rates.connectionsPerSecond = 200
    rates.burstInterval = 0
    rates.meanLifetime = 2
    let workload = Workload.random(seed: 21, duration: .seconds(20), rates: rates, family: family)
    let simulated = SimulatedKernel(family: family, workload: workload)
    let transport = try SimulatorTransport(kernel: simulated, receiveBufferSize: 8192)
    // The client's thread is held for three seconds, three times (a slow terminal): the buffer fills with
    // SRC_ADDED and SRC_REMOVED meanwhile.
    for second in [2.3, 6.6, 10.9] { transport.stall(at: .seconds(second), for: .seconds(3)) }
    let client = NetworkStatisticsClient(transport: transport)
    var events: [ClientEvent] = []
    try client.run { events.append($0) }
    let run = Run(events: events, client: client, transport: transport)
    #expect(transport.kernel.statistics.failedSends > 0, "the scenario should make send() fail")
    #expect(client.statistics.sendFailures == transport.kernel.statistics.failedSends)
    #expect(run.notices.contains { $0.kind == .sendFailed })
    #expect(run.stale.isEmpty)
    // The client went on: streams opened after the stall were reported.
    #expect(
      events.contains { if case .streamAdded(let s) = $0 { return s.firstSeen > .seconds(10) } else { return false } })
  }

  /// 8019.80.24+: a userland ADD_ALL answered ERROR(ENOBUFS) is still a subscription.
  @Test func userlandSubscriptionWithAnErrorIsNotUnavailable() throws {
    let family = LayoutFamily.xnu11215
    let base = Workload.scripted(tcp: 600, duration: 20)
    let flows = base.flows.enumerated().map { index, flow -> FlowPlan in
      var copy = flow
      copy.provider = .tcpUserland
      // Half open later, after the subscription.
      if index % 2 == 1 { copy.openAt = .seconds(5) }
      return copy
    }
    var configuration = ClientConfiguration()
    configuration.providers = [.tcpUserland]
    let run = try Self.run(
      family: family, workload: Workload(flows: flows, duration: base.duration), kernel: KernelConfiguration(),
      receiveBufferSize: 8192, configuration: configuration)
    #expect(!run.notices.contains { $0.kind == .providerUnavailable || $0.kind == .allProvidersRefused })
    #expect(run.notices.contains { $0.kind == .kernelDropped && $0.detail.hasPrefix("tcp-userland: subscribed") })
    #expect(run.client.statistics.providersSubscribed == [.tcpUserland])
    let added = run.events.filter { if case .streamAdded = $0 { return true } else { return false } }.count
    #expect(added >= 300, "the flows opened after the subscription are reported (\(added) added)")
  }

  /// Every provider refused: one notice says so, with each refusal explained.
  @Test func allProvidersRefusedIsSaidOnce() throws {
    let family = LayoutFamily.xnu11215
    var configuration = ClientConfiguration()
    configuration.providers = [.connUserland, .udpSubflow]
    let run = try Self.run(
      family: family, workload: Workload.scripted(tcp: 3, duration: 3), kernel: KernelConfiguration(privileged: false),
      receiveBufferSize: 1 << 20, configuration: configuration)
    let refusals = run.notices.filter { $0.kind == .providerUnavailable }.map(\.detail)
    #expect(
      refusals == [
        "conn: EPERM (needs root or the PRIV_NET_PRIVILEGED_NETWORK_STATISTICS privilege)",
        "udp-subflow: EPERM (needs root or the PRIV_NET_PRIVILEGED_NETWORK_STATISTICS privilege)",
      ])
    #expect(run.notices.filter { $0.kind == .allProvidersRefused }.count == 1)
    #expect(
      run.client.statistics.providersRefused == [.connUserland: DarwinErrno.eperm, .udpSubflow: DarwinErrno.eperm])
  }
}
