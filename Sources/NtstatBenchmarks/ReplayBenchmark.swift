import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

/// Top-speed replay end to end (file → zstd → pcapng → decode → engine → null listener)
/// against `zstd -d` of the same file, peak memory, and pacing accuracy at ×1000.
enum ReplayBenchmark {
  /// Writes `count` benchmark frames, `spacing` ns apart, straight to a capture file.
  static func writeCapture(_ path: String, frames count: Int, spacing: UInt64) throws {
    // An empty file to open for writing; the open below fails with the reason if it cannot be made.
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var metadata = CaptureMetadata()
    metadata.family = .xnu11215
    metadata.simulated = true
    metadata.recorderName = "ntstat replay benchmark"
    let writer = try CaptureWriter(metadata: metadata, compression: .zstd(level: 3)) { bytes in
      handle.write(Data(bytes))
    }
    let interface = try writer.addInterface(description: "com.apple.network.statistics", now: 0)
    let encoder = MessageEncoder(family: .xnu11215)
    var time: UInt64 = 1_764_403_200_000_000_000
    for i in 0..<count {
      time += spacing
      var frame = CaptureBenchmark.frame(i, timestamp: time, encoder: encoder)
      frame.interfaceID = interface
      try writer.write(frame, now: time)
    }
    try writer.close(now: time, wallClock: time)
  }

  static func run(frames: Int) throws {
    let count = max(frames, 5_000_000)
    let path = NSTemporaryDirectory() + "ntstat-replay-bench-\(getpid()).pcapng.zst"
    defer { try? FileManager.default.removeItem(atPath: path) }
    print("replay benchmark: \(count) modern (xnu-11215) SRC_UPDATE frames of 496 bytes")
    let written = try CaptureBenchmark.time { try writeCapture(path, frames: count, spacing: 50_000) }
    let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    print("  wrote \(size >> 20) MiB in \(String(format: "%.1f", written)) s")
    let zstd = try CaptureBenchmark.timeCommand(["zstd", "-d", "-c"], input: path, output: "/dev/null")
    // The replay runs in a child process so its peak memory is its own. It reads the capture
    // on a second thread (CaptureReadAhead); pinned to one CPU it shows the one-core cost.
    let free = try child(["replay-only", path], pinned: false)
    let pinned = try child(["replay-only", path], pinned: true)
    let reading = try child(["read-only", path], pinned: false)
    print(
      "  zstd -d -c > /dev/null  \(format(Double(count) / zstd)) frames/s  (\(String(format: "%.2f", zstd)) s)")
    func line(_ label: String, _ fields: [String: Double]) {
      let seconds = fields["seconds"] ?? .nan
      var text = "  \(label)  \(format(Double(count) / seconds)) frames/s  (\(String(format: "%.2f", seconds)) s"
      if let cpu = fields["cpu_seconds"] { text += ", \(String(format: "%.2f", cpu)) s of CPU" }
      print(text + "), \(String(format: "%.2f", zstd / seconds))× of zstd -d")
    }
    line("ntstat replay --top-speed (null listener)", free)
    line("  the same pinned to one CPU (taskset -c 0)", pinned)
    line("  reading the capture alone (file, zstd, pcapng)", reading)
    print(
      "  peak RSS of the replay: \(Int((free["peak_rss_kib"] ?? .nan) / 1024)) MiB for a \(size >> 20) MiB capture (\(Int(free["events"] ?? 0)) events)"
    )
    try pacing()
  }

  /// Runs this benchmark binary with `arguments` (optionally pinned to CPU 0) and parses the
  /// `key=value` report it prints, to which it adds `process_seconds`: the child's whole time,
  /// from spawn to exit (``TimedProcess``).
  static func child(_ arguments: [String], pinned: Bool) throws -> [String: Double] {
    let command = (pinned ? ["taskset", "-c", "0"] : []) + [CommandLine.arguments[0]] + arguments
    let result = try TimedProcess.run(command)
    var fields = Dictionary(
      uniqueKeysWithValues: result.output.split(separator: " ").compactMap { item -> (String, Double)? in
        let pair = item.split(separator: "=")
        guard pair.count == 2, let value = Double(pair[1].trimmingCharacters(in: .whitespacesAndNewlines)) else {
          return nil
        }
        return (String(pair[0]), value)
      })
    fields["process_seconds"] = result.seconds
    return fields
  }

  /// User plus system CPU time of this process so far, in seconds.
  static func cpuSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
      getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
      getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }

  /// The child: replay `path` at top speed to a listener that does nothing.
  static func replayOnly(_ path: String) throws {
    let start = ContinuousClock.now
    let client = try NetworkStatisticsClient.replaying(path, speed: .topSpeed)
    var events = 0
    try client.run { _ in events += 1 }
    let seconds = DecodeBenchmark.seconds(ContinuousClock.now - start)
    print("seconds=\(seconds) cpu_seconds=\(cpuSeconds()) events=\(events) peak_rss_kib=\(peakRSSKiB())")
  }

  /// The capture reading alone (file → zstd → pcapng → frames, in batches as replay reads
  /// them), to split a replay's time between reading and the client.
  static func readOnly(_ path: String) throws {
    let start = ContinuousClock.now
    let reader = try CaptureFileReader(path: path)
    var records: [CaptureRecord] = []
    var frames = 0
    while try reader.nextRecords(&records) {
      for case .frame in records { frames += 1 }
    }
    let seconds = DecodeBenchmark.seconds(ContinuousClock.now - start)
    print("seconds=\(seconds) cpu_seconds=\(cpuSeconds()) frames=\(frames)")
  }

  /// 100,000 frames over 1,000 s of capture time, replayed at ×1000: the wall time should be
  /// 1.000 s, scheduled against absolute capture time so errors do not add up.
  static func pacing() throws {
    let path = NSTemporaryDirectory() + "ntstat-pacing-bench-\(getpid()).pcapng.zst"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try writeCapture(path, frames: 100_000, spacing: 10_000_000)
    var results: [Double] = []
    for _ in 0..<3 {
      let client = try NetworkStatisticsClient.replaying(path, speed: .factor(1000))
      let elapsed = try CaptureBenchmark.time { try client.run { _ in } }
      results.append(elapsed)
    }
    let intended = 100_000.0 * 0.01 / 1000
    let text = results.map { String(format: "%.4f s (%+.2f %%)", $0, ($0 - intended) / intended * 100) }
    print(
      "  pacing: 100,000 frames, 1,000 s of capture at ×1000 (intended \(intended) s): " + text.joined(separator: ", "))
  }

  static func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
  }
}
