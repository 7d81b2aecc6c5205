import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatWire

/// A capture recorded by a different client, replayed by the default one: every request
/// diverges. Recorded through the real client against the simulator with libntstat's habits
/// (GET_SRC_DESC per source, a plain QUERY_SRC ALL each second) on xnu-11215, which packs those
/// answers about 26 to a datagram; then replayed once as recorded (every request matches) and
/// once with the default configuration (GET_UPDATE polls: nothing matches).
enum DivergentReplayBenchmark {
  static func run() throws {
    try measure("3000 long-lived sources, 1000 s", workload: steady)
    try measure("1000 new connections a second, 120 s", workload: churn)
  }

  /// Steady: 3,000 long-lived sources, one recorded request a second (the poll).
  static var steady: Workload { Workload.scripted(tcp: 3000, duration: 1000) }

  /// Churn: 1,000 new connections a second, each described with its own recorded request, so
  /// a replaying client that asks differently leaves thousands of requests pending at once.
  static var churn: Workload {
    var rates = WorkloadRates()
    rates.initialFlows = 0
    rates.listeners = 0
    rates.connectionsPerSecond = 1000
    rates.udpFlowsPerSecond = 0
    rates.quicFlowsPerSecond = 0
    rates.connFlowsPerSecond = 0
    rates.burstInterval = 0
    rates.meanLifetime = 3
    return Workload.random(seed: 5, duration: .seconds(120), rates: rates, family: .xnu11215)
  }

  /// Writes the benchmark's `steady` or `churn` capture to `path`, for profiling its replays
  /// (`replay-configured PATH recorded|default`).
  static func writeCapture(_ path: String, _ name: String) throws {
    switch name {
    case "steady": try record(path, workload: steady)
    case "churn": try record(path, workload: churn)
    default: print("write-divergent-capture: expected steady or churn, got \(name)")
    }
  }

  static func measure(_ label: String, workload: Workload) throws {
    let path = NSTemporaryDirectory() + "ntstat-divergent-bench-\(getpid()).pcapng.zst"
    defer { try? FileManager.default.removeItem(atPath: path) }
    print("divergent replay benchmark, xnu-11215 polled libntstat-style: \(label)")
    let recorded = try CaptureBenchmark.time { try record(path, workload: workload) }
    let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    let zstd = try CaptureBenchmark.timeCommand(["zstd", "-d", "-c"], input: path, output: "/dev/null")
    let matched = try ReplayBenchmark.child(["replay-configured", path, "recorded"], pinned: false)
    let divergent = try ReplayBenchmark.child(["replay-configured", path, "default"], pinned: false)
    print("  recorded \(size >> 20) MiB in \(String(format: "%.1f", recorded)) s")
    print("  zstd -d -c > /dev/null  \(String(format: "%.2f", zstd)) s")
    for (label, fields) in [
      ("as recorded (requests match)", matched), ("default client (requests diverge)", divergent),
    ] {
      let s = fields["seconds"] ?? .nan
      print(
        "  \(label)  \(String(format: "%.2f", s)) s, \(Int(fields["frames"] ?? 0)) kernel frames, "
          + "\(Int(fields["matched"] ?? 0)) requests matched, \(Int(fields["divergences"] ?? 0)) divergences, "
          + "\(String(format: "%.2f", zstd / s))× of zstd -d")
    }
    let ratio = (matched["seconds"] ?? .nan) / (divergent["seconds"] ?? .nan)
    print("  divergent / matched speed: \(String(format: "%.2f", ratio))×")
  }

  /// Records the session through the real client and a recording tee.
  static func record(_ path: String, workload: Workload) throws {
    let family = LayoutFamily.xnu11215
    let kernel = SimulatedKernel(
      family: family, workload: workload,
      configuration: KernelConfiguration(receiveBufferSize: 1 << 20))
    let simulator = try SimulatorTransport(kernel: kernel, receiveBufferSize: 1 << 20)
    var configuration = ClientConfiguration()
    configuration.providers = [.tcpKernel, .udpKernel]
    configuration.polling = .plainCounts
    var metadata = CaptureMetadata()
    metadata.family = family
    metadata.simulated = true
    metadata.configuration = configuration.summary
    let writer = try CaptureFileWriter(
      path: path, metadata: metadata, interfaces: ["com.apple.network.statistics"])
    let recorder = RecordingTransport(wrapping: simulator, writer: writer)
    let client = NetworkStatisticsClient(transport: recorder, configuration: configuration)
    try client.run { _ in }
    try writer.close(statistics: [0: recorder.captureStatistics])
  }

  /// The child: replays `path` at top speed configured as recorded or as the default client.
  static func replayConfigured(_ path: String, _ mode: String) throws {
    let start = ContinuousClock.now
    let transport = try ReplayTransport(path: path, speed: .topSpeed)
    let configuration =
      mode == "recorded" ? (transport.recordedConfiguration ?? ClientConfiguration()) : ClientConfiguration()
    let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
    try client.run { _ in }
    let seconds = DecodeBenchmark.seconds(ContinuousClock.now - start)
    print(
      "seconds=\(seconds) frames=\(transport.framesDelivered) matched=\(transport.requestsMatched) "
        + "divergences=\(transport.divergenceCount)")
  }
}
