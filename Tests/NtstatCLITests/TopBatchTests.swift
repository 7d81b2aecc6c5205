import Foundation
import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// `ntstat top --batch`: snapshots held against the simulator's ground truth, and the same
/// snapshots from a capture at any replay speed.
@Suite(.hangLimit) struct TopBatchTests {
  struct Row: Equatable {
    var pid: UInt32
    var rxRate: UInt64
    var txRate: UInt64
    var rxTotal: UInt64
    var txTotal: UInt64
  }

  static func snapshots(_ stdout: String) throws -> [(time: UInt64, rows: [UInt32: Row])] {
    try stdout.split(separator: "\n").map { line in
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let processes = try #require(object["processes"] as? [[String: Any]])
      var rows: [UInt32: Row] = [:]
      for p in processes {
        func number(_ key: String) -> UInt64 { (p[key] as? NSNumber)?.uint64Value ?? .max }
        let pid = UInt32(number("pid"))
        rows[pid] = Row(
          pid: pid, rxRate: number("rx_rate"), txRate: number("tx_rate"), rxTotal: number("rx_total"),
          txTotal: number("tx_total"))
      }
      return ((object["time_ns"] as? NSNumber)?.uint64Value ?? 0, rows)
    }
  }

  /// Totals are the ground truth's counters; rates are the differences between snapshots.
  @Test(arguments: [LayoutFamily.xnu2422, .xnu11215])
  func snapshotsAreTheHostsCounters(family: LayoutFamily) throws {
    let result = try NtstatProcess.run([
      "top", "--simulate", "--family", family.name, "--seed", "9", "--duration", "12s", "--batch", "--format",
      "jsonl", "-n", "10",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let snapshots = try Self.snapshots(result.stdout)
    #expect(snapshots.count == 10)
    #expect(snapshots.map(\.time) == (1...10).map { UInt64($0) * 1_000_000_000 })

    // The same session in-process, for the host's truth (the simulator is deterministic).
    let workload = Workload.random(seed: 9, duration: .seconds(12), rates: WorkloadRates(), family: family)
    let kernel = SimulatedKernel(family: family, workload: workload)
    let transport = try SimulatorTransport(kernel: kernel, receiveBufferSize: 1 << 20)
    try NetworkStatisticsClient(transport: transport).run { _ in }
    let truth = transport.kernel.groundTruth.filter { $0.sourceRef != nil }
    #expect(truth.count > 50)

    var previous: [UInt32: Row] = [:]
    var compared = 0
    for (time, rows) in snapshots {
      let at = MonotonicTime(nanoseconds: time)
      var expected: [UInt32: (UInt64, UInt64)] = [:]
      for record in truth where record.flow.openAt <= at {
        let counts = record.flow.counts(at: min(at, record.detachedAt ?? at))
        expected[record.flow.process.pid, default: (0, 0)].0 += counts.rxBytes
        expected[record.flow.process.pid, default: (0, 0)].1 += counts.txBytes
      }
      for (pid, row) in rows {
        let want = expected[pid] ?? (0, 0)
        #expect((row.rxTotal, row.txTotal) == want, "\(family) t=\(time): pid \(pid) totals")
        let before = previous[pid]
        #expect(row.rxRate == row.rxTotal - (before?.rxTotal ?? 0), "\(family) t=\(time): pid \(pid) rx rate")
        #expect(row.txRate == row.txTotal - (before?.txTotal ?? 0), "\(family) t=\(time): pid \(pid) tx rate")
        compared += 1
      }
      #expect(Set(rows.keys) == Set(expected.keys.filter { expected[$0]! != (0, 0) || rows[$0] != nil }))
      previous = rows
    }
    #expect(compared > 50)
  }

  /// A capture at ×100 and at top speed: the same snapshots at the same capture times.
  @Test func replaySpeedDoesNotChangeTheSnapshots() throws {
    let capture = "captures/xnu-11215.pcapng.zst"
    let fast = try NtstatProcess.run(["top", "--replay", capture, "--speed", "100", "--batch", "--format", "jsonl"])
    let top = try NtstatProcess.run(["top", "--replay", capture, "--batch", "--format", "jsonl"])
    #expect(fast.status == 0 && top.status == 0, "\(fast.stderr) \(top.stderr)")
    let lines = fast.stdout.split(separator: "\n")
    #expect(lines.count >= 14)
    #expect(lines == top.stdout.split(separator: "\n"))
  }

  @Test func textSnapshotsHaveAHeaderAndATable() throws {
    let result = try NtstatProcess.run([
      "top", "--simulate", "--family", "xnu-11215", "--duration", "5s", "--batch", "-n", "2",
    ])
    #expect(result.status == 0)
    let blocks = result.stdout.components(separatedBy: "\n\n")
    #expect(blocks.count == 2)
    for block in blocks {
      let lines = block.split(separator: "\n")
      #expect(lines.first?.hasPrefix("ntstat top  xnu-11215  simulator  t+00:00:0") == true)
      #expect(lines.dropFirst().first?.contains("RX TOTAL") == true)
      #expect(lines.count > 4)
    }
  }
}
