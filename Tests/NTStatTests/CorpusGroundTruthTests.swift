import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// The simulated corpus held against ground truth rather than against its own earlier output:
/// each capture's session is run again from its metadata (family, seed, rates, duration,
/// receive buffer, client configuration), and every stream its replay reports is checked
/// against what the simulated host really had: addresses, pid, process name, final counters,
/// failed and listener. The JSON Lines goldens are change detectors on top of this.
@Suite(.hangLimit) struct CorpusGroundTruthTests {
  static var simulatedCaptures: [String] {
    CapturesCorpusTests.captures.filter { $0.hasPrefix("xnu-") }
  }

  @Test(arguments: simulatedCaptures)
  func replayedStreamsAreTheSimulatedHostsFlows(capture: String) throws {
    let path = CapturesCorpusTests.root.appendingPathComponent(capture).path
    let replay = try ReplayTransport(path: path)
    let metadata = replay.metadata
    let family = try #require(metadata.family)
    let seed = try #require(metadata.extra["ntstat.simulator.seed"].flatMap { UInt64($0) })
    let milliseconds = try #require(metadata.extra["ntstat.simulator.duration_ms"].flatMap { UInt64($0) })
    let rates = try WorkloadRates(parsing: metadata.extra["ntstat.simulator.rates"] ?? "")
    let configuration = replay.recordedConfiguration ?? ClientConfiguration()

    // The same session, live against the simulator: its ground truth.
    let workload = Workload.random(
      seed: seed, duration: MonotonicTime(nanoseconds: milliseconds * 1_000_000), rates: rates, family: family)
    let kernel = SimulatedKernel(
      family: family, workload: workload,
      configuration: KernelConfiguration(privileged: metadata.extra["ntstat.simulator.unprivileged"] == nil))
    let live = try SimulatorTransport(kernel: kernel, receiveBufferSize: configuration.receiveBufferSize)
    try NetworkStatisticsClient(transport: live, configuration: configuration).run { _ in }
    let truth = live.kernel.groundTruth

    // The capture's replay.
    var added: [SourceRef: NetworkStream] = [:]
    var removed: [SourceRef: NetworkStream] = [:]
    try NetworkStatisticsClient(transport: replay, configuration: configuration).run { event in
      if case .streamAdded(let s) = event { added[s.id] = s }
      if case .streamRemoved(let s) = event { removed[s.id] = s }
    }
    #expect(added.count > 100)

    var checked = 0
    var countersChecked = 0
    var detailedChecked = 0
    for record in truth {
      guard let ref = record.sourceRef, let stream = added[ref] else { continue }
      checked += 1
      let flow = record.flow
      #expect(stream.provider == flow.provider, "\(capture) flow \(flow.id)")
      if flow.provider.descriptorKind == .tcp || flow.provider.descriptorKind == .udp {
        #expect(
          stream.key.local == flow.local && stream.key.remote == flow.remote, "\(capture) flow \(flow.id): addresses")
      }
      #expect(
        stream.process.pid == flow.process.pid && stream.process.name == flow.process.name,
        "\(capture) flow \(flow.id): process")
      #expect(stream.isListener == record.isListener, "\(capture) flow \(flow.id): listener")
      guard record.detachedAt != nil, record.removalDelivered, let gone = removed[ref] else { continue }
      countersChecked += 1
      let (a, b) = (gone.counts, record.finalCounts)
      #expect(
        (a.rxBytes, a.txBytes, a.rxPackets, a.txPackets) == (b.rxBytes, b.txBytes, b.rxPackets, b.txPackets),
        "\(capture) flow \(flow.id): final counters")
      #expect(gone.connectionFailed == record.failedToConnect, "\(capture) flow \(flow.id): failed")
      if configuration.details {
        // Details mode: the per-medium counters put the flow's traffic in its medium's slot.
        let detailed = try #require(gone.detailedCounts, "\(capture) flow \(flow.id): no detailed counts")
        let medium: Medium
        switch flow.interface.kind {
        case .wifi: medium = .wifiInfra
        case .wired: medium = .wired
        case .cellular: medium = .cellular
        case .loopback: medium = .alternate
        }
        let slot = detailed[medium]
        #expect(
          (detailed.total.rxBytes, detailed.total.txBytes, slot.rxBytes, slot.txBytes)
            == (b.rxBytes, b.txBytes, b.rxBytes, b.txBytes), "\(capture) flow \(flow.id): \(medium) counters")
        detailedChecked += 1
      }
    }
    if configuration.details { #expect(detailedChecked > 50, "\(capture): only \(detailedChecked) detailed") }
    #expect(countersChecked > 50, "\(capture): only \(countersChecked) removals checked")
    // Every stream the replay reported is a flow the host had.
    #expect(checked == added.count, "\(capture): \(added.count - checked) streams with no flow behind them")
  }
}
