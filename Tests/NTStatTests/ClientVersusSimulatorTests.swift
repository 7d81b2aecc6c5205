import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// The engine against the simulator over a real socketpair, for every family: every flow the
/// kernel reported is seen added → updated → removed with exactly the kernel's counters.
@Suite(.hangLimit) struct ClientVersusSimulatorTests {
  struct Run {
    var events: [ClientEvent] = []
    var client: NetworkStatisticsClient
    var transport: SimulatorTransport
  }

  static func run(
    family: LayoutFamily, workload: Workload, receiveBufferSize: Int = 1 << 20,
    configuration: ClientConfiguration = ClientConfiguration()
  ) throws -> Run {
    let kernel = SimulatedKernel(family: family, workload: workload)
    let transport = try SimulatorTransport(kernel: kernel, receiveBufferSize: receiveBufferSize)
    let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
    var events: [ClientEvent] = []
    try client.run { events.append($0) }
    return Run(events: events, client: client, transport: transport)
  }

  static func rates() -> WorkloadRates {
    var rates = WorkloadRates()
    rates.connectionsPerSecond = 8
    rates.udpFlowsPerSecond = 3
    rates.burstInterval = 10
    rates.burstSize = 40
    rates.meanLifetime = 3
    return rates
  }

  @Test(arguments: LayoutFamily.allCases)
  func everyFlowAddedUpdatedRemovedWithKernelCounters(family: LayoutFamily) throws {
    let workload = Workload.random(seed: 42, duration: .seconds(25), rates: Self.rates(), family: family)
    let run = try Self.run(family: family, workload: workload)
    var added: [SourceRef: NetworkStream] = [:]
    var removed: [SourceRef: NetworkStream] = [:]
    var updates: [SourceRef: Int] = [:]
    for event in run.events {
      switch event {
      case .streamAdded(let s):
        #expect(added[s.id] == nil, "added twice: \(s.id)")
        added[s.id] = s
      case .streamStatsUpdated(let s):
        #expect(added[s.id] != nil && removed[s.id] == nil, "update outside added..removed: \(s.id)")
        updates[s.id, default: 0] += 1
      case .streamRemoved(let s):
        #expect(added[s.id] != nil, "removed before added: \(s.id)")
        removed[s.id] = s
      case .notice:
        break
      }
    }
    let truth = run.transport.kernel.groundTruth
    let stats = run.transport.kernel.statistics
    #expect(stats.enobufs == 0, "a 1 MiB buffer should not overflow")
    var checked = 0
    for record in truth {
      guard let ref = record.sourceRef else { continue }
      let stream = try #require(
        added[ref], "flow \(record.flow.id) (\(record.flow.provider)) source \(ref) never added")
      #expect(stream.process.pid == record.flow.process.pid)
      #expect(stream.process.name == record.flow.process.name)
      if record.flow.provider != .connUserland {  // nstat_connection_descriptor has no addresses
        #expect(stream.key.local == record.flow.local)
        #expect(stream.key.remote == record.flow.remote)
      }
      if record.detachedAt != nil, record.removalDelivered {
        let gone = try #require(removed[ref], "flow \(record.flow.id) source \(ref) never removed")
        #expect(gone.counts == record.finalCounts, "flow \(record.flow.id): final counters differ")
        #expect(gone.isListener == record.isListener)
        if record.flow.provider == .tcpKernel, record.failedToConnect, gone.connectionFailed == false {
          Issue.record("flow \(record.flow.id) failed to connect but was not flagged")
        }
        if !record.failedToConnect { #expect(!gone.connectionFailed, "flow \(record.flow.id) flagged failed") }
        checked += 1
      } else {
        #expect(removed[ref] == nil, "flow \(record.flow.id) removed but still open")
      }
    }
    #expect(checked > 50)
    #expect(updates.values.reduce(0, +) > 100)
    #expect(run.client.statistics.lostRemovals == 0)
  }

  /// Details mode on xnu-12377: every update is a SRC_DETAILS, and every removed stream's
  /// detailed counters are the kernel's final counters, in the flow's medium.
  @Test func detailsModeReportsPerMediumCounters() throws {
    let family = LayoutFamily.xnu12377
    let workload = Workload.random(seed: 42, duration: .seconds(25), rates: Self.rates(), family: family)
    var configuration = ClientConfiguration()
    configuration.details = true
    let run = try Self.run(family: family, workload: workload, configuration: configuration)
    var removed: [SourceRef: NetworkStream] = [:]
    var updates = 0
    for event in run.events {
      switch event {
      case .streamStatsUpdated(let s):
        #expect(s.detailedCounts != nil, "an update without detailed counts: \(s.id)")
        updates += 1
      case .streamRemoved(let s): removed[s.id] = s
      default: break
      }
    }
    #expect(updates > 100)
    var checked = 0
    for record in run.transport.kernel.groundTruth where record.detachedAt != nil && record.removalDelivered {
      guard let ref = record.sourceRef else { continue }
      let gone = try #require(removed[ref], "flow \(record.flow.id) never removed")
      let detailed = try #require(gone.detailedCounts, "flow \(record.flow.id): no detailed counts")
      let want = record.finalCounts
      #expect(
        (detailed.total.rxBytes, detailed.total.txBytes, detailed.total.rxPackets, detailed.total.txPackets)
          == (want.rxBytes, want.txBytes, want.rxPackets, want.txPackets), "flow \(record.flow.id)")
      let classic = detailed.classicCounts
      #expect(
        (classic.cellRxBytes, classic.wifiRxBytes, classic.wiredRxBytes)
          == (want.cellRxBytes, want.wifiRxBytes, want.wiredRxBytes), "flow \(record.flow.id): media")
      checked += 1
    }
    #expect(checked > 50)
    #expect(run.client.statistics.lostRemovals == 0)
  }

  /// Off, the client speaks to xnu-12377 exactly as to xnu-11215: the same events, byte for
  /// byte, from the same workload.
  @Test func defaultModeOnXNU12377IsXNU11215sProtocol() throws {
    func canonical(_ family: LayoutFamily) throws -> [String] {
      let workload = Workload.random(seed: 7, duration: .seconds(15), rates: Self.rates(), family: family)
      return try Self.run(family: family, workload: workload).events.map {
        CanonicalEvent.fields($0, origin: .zero).jsonText
      }
    }
    let newest = try canonical(.xnu12377)
    #expect(newest.count > 100)
    #expect(newest == (try canonical(.xnu11215)))
  }
}
