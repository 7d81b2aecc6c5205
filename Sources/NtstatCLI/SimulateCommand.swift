import ArgumentParser
import Foundation
import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatWire

/// `ntstat simulate`: run the kernel model with the library's client attached, then report
/// what the simulated kernel knows (its ground truth) and whether the client saw the same.
struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Run the ntstat kernel simulator against the client and print its ground truth.",
    discussion: """
      The simulator answers requests as bsd/net/ntstat.c does for the chosen family (docs/simulator.md), \
      over a real socketpair, in simulated time. The ground truth lists every flow of the workload: its \
      process, addresses, lifetime, final counters and the source ref the client knew it by. The last \
      line compares the client's view with it; exit status 1 if they differ. To make a capture, use \
      `ntstat record --simulate`.
      """)

  @Option(
    name: .long, help: "Layout family to simulate (default: newest).", transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument?
  @Option(name: .long, help: "Workload seed.") var seed: UInt64 = 1
  @Option(name: .long, help: "Simulated time (e.g. 30s, 5m). Default 60s.") var duration: TimeArgument?
  @Option(name: .long, help: "Workload rates, KEY=VALUE,… (see `ntstat watch --help`).") var rate: String?
  @Option(name: .long, help: "A scenario file (JSON) instead of a random workload.") var scenario: String?
  @Option(name: .long, help: "Kernel receive buffer the client asks for, bytes (8192 is the kernel's default).")
  var rcvbuf: Int = 1 << 20
  @Flag(name: .long, help: "Simulate an unprivileged client.") var unprivileged = false
  @Option(name: .long, help: "text (a table) or jsonl.") var format: TruthFormat = .text

  enum TruthFormat: String, ExpressibleByArgument { case text, jsonl }

  func run() throws {
    var options = try SourceOptions.parse(["--simulate"])
    options.family = family
    options.seed = seed
    options.duration = duration
    options.rate = rate
    options.scenario = scenario
    options.unprivileged = unprivileged
    var configuration = ClientConfiguration()
    configuration.receiveBufferSize = rcvbuf
    let (transport, _) = try options.makeTransport(receiveBufferSize: rcvbuf)
    defer { transport.close() }
    var removed: [SourceRef: NetworkStream] = [:]
    var added = Set<SourceRef>()
    let run = try runClient(
      transport: transport, configuration: configuration, duration: options.clientDuration(),
      format: .text, label: "simulator", quiet: true
    ) { event in
      if case .streamAdded(let s) = event { added.insert(s.id) }
      if case .streamRemoved(let s) = event { removed[s.id] = s }
    }
    guard let simulator = transport as? SimulatorTransport else { return }
    let truth = simulator.kernel.groundTruth
    let out = StandardOutput()
    switch format {
    case .jsonl:
      for record in truth { out.line(Self.fields(record).jsonText) }
    case .text:
      let rows = truth.map { r -> [String] in
        [
          String(r.flow.id), r.flow.provider.rawValue, String(r.flow.process.pid), r.flow.process.name,
          r.flow.local.description, r.flow.remote.description, Self.outcome(r), r.flow.openAt.description,
          r.detachedAt?.description ?? "-", String(r.finalCounts.rxBytes), String(r.finalCounts.txBytes),
          r.sourceRef.map { String($0.rawValue) } ?? (r.addDropped ? "dropped" : "-"),
        ]
      }
      out.line(
        TextTable.render(
          header: [
            "flow", "provider", "pid", "process", "local", "remote", "outcome", "opened", "detached", "rx", "tx", "ref",
          ],
          rows: rows))
    }
    out.flush()
    // The client's view against the kernel's.
    var mismatches: [String] = []
    for record in truth {
      guard let ref = record.sourceRef, record.detachedAt != nil, record.removalDelivered, added.contains(ref) else {
        continue
      }
      guard let gone = removed[ref] else {
        mismatches.append("flow \(record.flow.id): never reported removed")
        continue
      }
      if gone.counts != record.finalCounts { mismatches.append("flow \(record.flow.id): final counters differ") }
    }
    let k = simulator.kernel.statistics
    printError(
      "simulated \(simulator.family) for \(simulator.now) s: \(truth.count) flows, \(k.datagramsQueued) datagrams (\(k.messagesQueued) messages), \(k.enobufs) ENOBUFS, \(k.sourcesNotAdded) sources never added; client: \(added.count) streams added, \(run.client.statistics.requestsSent) requests, \(run.client.statistics.kernelDrops) drops seen"
    )
    if mismatches.isEmpty {
      printError("client view matches the simulator's ground truth")
    } else {
      for line in mismatches.prefix(20) { printError("mismatch: " + line) }
      printError("\(mismatches.count) mismatch(es) between the client and the ground truth")
      throw ExitCode(1)
    }
  }

  static func outcome(_ r: GroundTruthRecord) -> String {
    if r.isListener { return "listen" }
    if r.failedToConnect { return "failed" }
    switch r.flow.outcome {
    case .datagrams: return "datagrams"
    default: return "connected"
    }
  }

  static func fields(_ r: GroundTruthRecord) -> FieldValue {
    var b = FieldBuilder()
    b.add("flow", r.flow.id)
    b.add("provider", r.flow.provider.rawValue)
    b.add("pid", r.flow.process.pid)
    b.add("upid", r.flow.process.upid)
    b.add("process", r.flow.process.name)
    b.add("local", r.flow.local.description)
    b.add("remote", r.flow.remote.description)
    b.add("interface", r.flow.interface.name)
    b.add("outcome", outcome(r))
    b.add("open_ns", r.flow.openAt.nanoseconds)
    b.add("close_ns", r.flow.closeAt?.nanoseconds)
    b.add("detach_ns", r.detachedAt?.nanoseconds)
    b.add("ref", r.sourceRef?.rawValue)
    b.add("add_dropped", .bool(r.addDropped))
    b.add("removal_delivered", .bool(r.removalDelivered))
    b.add("rx_bytes", r.finalCounts.rxBytes)
    b.add("tx_bytes", r.finalCounts.txBytes)
    b.add("rx_packets", r.finalCounts.rxPackets)
    b.add("tx_packets", r.finalCounts.txPackets)
    return b.object
  }
}
