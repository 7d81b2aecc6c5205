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

  /// Rounds of the three commands, each timed as a whole process (its start-up included) and in
  /// turn within a round, so that a host whose load changes weighs on each ratio's both sides
  /// alike; the ratios are taken within each round. From each time the round's cost of starting
  /// and reaping a process (`true`, about a millisecond) is taken.
  static let rounds = 7

  static func measure(_ label: String, workload: Workload) throws {
    let path = NSTemporaryDirectory() + "ntstat-divergent-bench-\(getpid()).pcapng.zst"
    defer { try? FileManager.default.removeItem(atPath: path) }
    print("divergent replay benchmark, xnu-11215 polled libntstat-style: \(label)")
    let recorded = try CaptureBenchmark.time { try record(path, workload: workload) }
    let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    var spawn: [Double] = []
    var zstd: [Double] = []
    var matched: [Double] = []
    var divergent: [Double] = []
    var reports: [[String: Double]] = []
    // CPU time of the client's thread and of the rest (the reading thread): the slower sets a
    // replay's pace.
    var clientCPU: [String: [Double]] = [:]
    var readerCPU: [String: [Double]] = [:]
    for _ in 0..<rounds {
      let start = try CaptureBenchmark.timeCommand(["true"], input: "/dev/null", output: "/dev/null")
      spawn.append(start)
      zstd.append(try CaptureBenchmark.timeCommand(["zstd", "-d", "-c"], input: path, output: "/dev/null") - start)
      // One replay in a child process: its time less the start-up, and its report.
      func replay(_ mode: String) throws -> Double {
        let report = try ReplayBenchmark.child(["replay-configured", path, mode], pinned: false)
        let seconds = report["process_seconds"] ?? .nan
        if reports.count < 2 { reports.append(report) }
        let client = report["client_cpu"] ?? .nan
        clientCPU[mode, default: []].append(client)
        readerCPU[mode, default: []].append((report["cpu_seconds"] ?? .nan) - client)
        return seconds - start
      }
      matched.append(try replay("recorded"))
      divergent.append(try replay("default"))
    }
    print(
      "  recorded \(size >> 20) MiB in \(String(format: "%.1f", recorded)) s; \(rounds) rounds, each process timed "
        + "whole less starting one (\(spread(spawn.map { $0 * 1000 }, format: "%.1f")) ms); median (least–most):")
    print("  zstd -d -c > /dev/null  \(spread(zstd, format: "%.3f")) s")
    for (label, times, fields, mode) in [
      ("as recorded (requests match)", matched, reports[0], "recorded"),
      ("default client (requests diverge)", divergent, reports[1], "default"),
    ] {
      let ratios = zip(zstd, times).map { $0 / $1 }
      print(
        "  \(label)  \(spread(times, format: "%.3f")) s, \(Int(fields["frames"] ?? 0)) kernel frames, "
          + "\(Int(fields["matched"] ?? 0)) requests matched, \(Int(fields["divergences"] ?? 0)) divergences; "
          + "\(spread(ratios))× of zstd -d; CPU: client thread \(spread(clientCPU[mode] ?? [])) s, "
          + "reading thread \(spread(readerCPU[mode] ?? [])) s")
    }
    print("  divergent / matched speed: \(spread(zip(matched, divergent).map { $0 / $1 }))×")
  }

  /// The median of `values`, then their least and most: "0.35 (0.33–0.41)".
  static func spread(_ values: [Double], format: String = "%.2f") -> String {
    let sorted = values.sorted()
    let median =
      sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    return String(format: "\(format) (\(format)–\(format))", median, sorted.first ?? .nan, sorted.last ?? .nan)
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
  /// `keeping`: the handler keeps each source's last stream until it is removed, as a monitor's
  /// table of flows does; otherwise it drops every event, as a pass-through writer does.
  static func replayConfigured(_ path: String, _ mode: String, keeping: Bool = false) throws {
    let start = ContinuousClock.now
    let transport = try ReplayTransport(path: path, speed: .topSpeed)
    let configuration =
      mode == "recorded" ? (transport.recordedConfiguration ?? ClientConfiguration()) : ClientConfiguration()
    let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
    if keeping {
      var flows: [SourceRef: NetworkStream] = [:]
      try client.run { event in
        switch event {
        case .streamAdded(let stream), .streamStatsUpdated(let stream): flows[stream.id] = stream
        case .streamRemoved(let stream): flows[stream.id] = nil
        case .notice: break
        }
      }
    } else {
      try client.run { _ in }
    }
    let seconds = DecodeBenchmark.seconds(ContinuousClock.now - start)
    // The client ran on this thread; the capture was read on another.
    var clientCPU = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &clientCPU)
    print(
      "seconds=\(seconds) client_cpu=\(Double(clientCPU.tv_sec) + Double(clientCPU.tv_nsec) / 1e9) "
        + "cpu_seconds=\(ReplayBenchmark.cpuSeconds()) frames=\(transport.framesDelivered) matched=\(transport.requestsMatched) "
        + "divergences=\(transport.divergenceCount)")
  }
}
