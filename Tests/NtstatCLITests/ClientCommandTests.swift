import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// `watch`, `record` and `simulate` as a user runs them: the real binary, the simulator behind
/// a real socketpair.
@Suite(.hangLimit) struct ClientCommandTests {
  @Test(arguments: ["xnu-1699", "xnu-3247", "xnu-7195", "xnu-11215"])
  func watchSimulateJSONLinesIsOrderedAndDeterministic(family: String) throws {
    let arguments = [
      "watch", "--simulate", "--family", family, "--seed", "5", "--duration", "20s", "--format", "jsonl",
    ]
    let first = try NtstatProcess.run(arguments)
    #expect(first.status == 0, "\(first.stderr)")
    let lines = first.stdout.split(separator: "\n")
    #expect(lines.first == #"{"event":"header","schema":1,"family":"\#(family)","source":"simulator"}"#)
    var state: [UInt64: String] = [:]
    var counts: [String: Int] = [:]
    for line in lines.dropFirst() {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let event = try #require(object["event"] as? String)
      counts[event, default: 0] += 1
      guard let id = (object["id"] as? NSNumber)?.uint64Value else { continue }
      switch event {
      case "added": #expect(state[id] == nil || state[id] == "removed", "\(id) added twice")
      case "updated":
        #expect(state[id] == "added" || state[id] == "updated", "\(id) updated while \(state[id] ?? "unknown")")
      case "removed":
        #expect(state[id] == "added" || state[id] == "updated", "\(id) removed while \(state[id] ?? "unknown")")
      default: Issue.record("unknown event \(event)")
      }
      state[id] = event == "updated" ? "updated" : event
    }
    #expect(counts["added", default: 0] > 50)
    #expect(counts["updated", default: 0] > 50)
    #expect(counts["removed", default: 0] > 20)
    let second = try NtstatProcess.run(arguments)
    #expect(second.stdout == first.stdout, "the same seed must print the same events")
  }

  @Test func watchTextIsTheClassicFormat() throws {
    let result = try NtstatProcess.run([
      "watch", "--simulate", "--family", "xnu-10002", "--seed", "2", "--duration", "10s", "--rate",
      "failed=0.6,listeners=2",
    ])
    #expect(result.status == 0)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    #expect(lines.contains { $0.hasPrefix(" + 00:00:00.000 TCP ") && $0.contains(" pid:") })
    #expect(lines.contains { $0.hasPrefix(" @+ 00:00:00.000 pid:") && $0.contains(" LISTEN TCP port:") })
    #expect(lines.contains { $0.hasPrefix(" - ") && $0.hasSuffix(" FAILED") })
    #expect(
      lines.contains { $0.hasPrefix("   bytes (tx/rx):") && $0.contains("  packets:") && $0.contains("  medium:") })
    #expect(lines.contains { $0.hasPrefix(" # ") })
  }

  @Test func watchFiltersAndCSV() throws {
    let result = try NtstatProcess.run([
      "watch", "--simulate", "--duration", "10s", "--protocol", "udp", "--skip-loopback", "--format", "csv",
    ])
    #expect(result.status == 0)
    let rows = result.stdout.split(separator: "\n")
    #expect(
      rows.first
        == "event,time,id,protocol,local,remote,pid,process,state,listener,failed,tx_bytes,rx_bytes,tx_packets,rx_packets,medium,removal"
    )
    #expect(rows.count > 10)
    for row in rows.dropFirst() {
      let cells = row.split(separator: ",", omittingEmptySubsequences: false)
      #expect(cells[3] == "udp")
      #expect(cells[15] != "loopback")
    }
  }

  @Test func liveWatchOffMacOSFailsClearly() throws {
    #if os(Linux)
      let result = try NtstatProcess.run(["watch", "--duration", "1s"])
      #expect(result.status == 2)
      #expect(result.stderr.contains("socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL) failed"))
      #expect(result.stderr.contains("--simulate"))
    #endif
  }

  @Test func badArgumentsExitTwo() throws {
    for arguments in [
      ["watch", "--simulate", "--rate", "bogus=1"], ["watch", "--simulate", "--duration", "soon"],
      ["record", "--simulate"], ["watch", "--simulate", "--provider", "sctp"],
    ] {
      let result = try NtstatProcess.run(arguments)
      #expect(result.status == 2, "\(arguments)")
      #expect(!result.stderr.isEmpty)
    }
  }

  @Test(arguments: ["xnu-2422", "xnu-8019.61"])
  func recordSimulateWritesACompleteCapture(family: String) throws {
    let path = Repository.temporaryPath("record-\(family).pcapng.zst")
    let result = try NtstatProcess.run([
      "record", "--simulate", "--family", family, "--seed", "9", "--duration", "2m", "-o", path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("recorded "))
    #expect(result.stderr.contains("drops: 0 kernel, 0 recorder"))
    let reader = try CaptureFileReader(path: path)
    var inbound = 0
    var outbound = 0
    var last: UInt64 = 0
    var section: CaptureMetadata?
    while let record = try reader.next() {
      if case .section(let found) = record { section = found }
      guard case .frame(let frame) = record else { continue }
      #expect(frame.timestamp >= last)
      last = frame.timestamp
      if frame.direction == .fromKernel { inbound += 1 } else { outbound += 1 }
    }
    #expect(inbound > 1000 && outbound > 100)
    let metadata = try #require(section)
    #expect(metadata.simulated)
    #expect(metadata.family?.name == family)
    #expect(metadata.configuration?.contains("interval_ms=1000") == true)
    #expect(metadata.extra["ntstat.simulator.seed"] == "9")
    let inspect = try NtstatProcess.run(["inspect", path])
    #expect(inspect.status == 0)
    #expect(inspect.stdout.contains("duration_ns: 120000000000"))
  }

  @Test func recordStopsCleanlyOnSIGTERM() throws {
    let path = Repository.temporaryPath("sigterm.pcapng.zst")
    let process = Process()
    process.executableURL = NtstatProcess.binary
    process.arguments = ["record", "--simulate", "--realtime", "--duration", "60s", "-o", path]
    process.standardError = Pipe()
    try process.run()
    // Ready when more than ten frames are on disk (its signal handlers are in place before it
    // records), however long a loaded machine takes to get there.
    while process.isRunning, ((try? CaptureContents(path: path))?.frames.count ?? 0) <= 10 {
      Thread.sleep(forTimeInterval: 0.05)
    }
    process.terminate()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let reader = try CaptureFileReader(path: path)
    var frames = 0
    while let record = try reader.next() { if case .frame = record { frames += 1 } }
    #expect(frames > 10)
  }

  @Test func recordRotatesByTime() throws {
    let path = Repository.temporaryPath("rotate.pcapng.zst")
    let result = try NtstatProcess.run([
      "record", "--simulate", "--duration", "95s", "--rotate-time", "30s", "-o", path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    for index in 1...3 {
      let rotated = path.replacingOccurrences(of: ".pcapng.zst", with: "-000\(index).pcapng.zst")
      #expect(FileManager.default.fileExists(atPath: rotated), "\(rotated)")
      let reader = try CaptureFileReader(path: rotated)
      var family: LayoutFamily?
      while let record = try reader.next() { if case .section(let m) = record { family = m.family } }
      #expect(family != nil)
    }
  }

  @Test(arguments: ["xnu-2050", "xnu-6153", "xnu-11215"])
  func simulateReportsGroundTruthThatMatches(family: String) throws {
    let result = try NtstatProcess.run(["simulate", "--family", family, "--duration", "30s", "--format", "jsonl"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("client view matches the simulator's ground truth"))
    let first = try #require(result.stdout.split(separator: "\n").first)
    #expect(first.hasPrefix(#"{"flow":1,"provider":"#))
    // "Matches" means nothing over an empty run: the client must have seen the streams.
    let added = try #require(result.stderr.firstMatch(of: /client: (\d+) streams added/)?.1).description
    #expect((Int(added) ?? 0) > 30, "\(result.stderr)")
    #expect(result.stdout.split(separator: "\n").count > 30)
  }
}
