import NTStat
import NtstatSimulator
import NtstatWire
import Testing

/// The engine against the simulator over a real socketpair, for every family: every flow the
/// kernel reported is seen added → updated → removed with exactly the kernel's counters.
@Suite(.timeLimit(.minutes(5))) struct ClientVersusSimulatorTests {
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
}
