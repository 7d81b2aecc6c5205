import Foundation
import NTStat
import NtstatCapture
import NtstatWire

/// Top-speed replay end to end (file → zstd → pcapng → decode → engine → null listener)
/// against `zstd -d` of the same file, peak memory, and pacing accuracy at ×1000.
enum ReplayBenchmark {
  /// Writes `count` benchmark frames, `spacing` ns apart, straight to a capture file.
  static func writeCapture(_ path: String, frames count: Int, spacing: UInt64) throws {
    FileManager.default.createFile(atPath: path, contents: nil)
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
    print("replay benchmark: \(count) modern (xnu-11215) SRC_UPDATE frames of 496 bytes, one core")
    let written = try CaptureBenchmark.time { try writeCapture(path, frames: count, spacing: 50_000) }
    let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    print("  wrote \(size >> 20) MiB in \(String(format: "%.1f", written)) s")
    let zstd = try CaptureBenchmark.timeCommand(["zstd", "-d", "-c"], input: path, output: "/dev/null")
    // The replay runs in a child process so its peak memory is its own.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["replay-only", path]
    let pipe = Pipe()
    child.standardOutput = pipe
    try child.run()
    let report = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    child.waitUntilExit()
    let fields = Dictionary(
      uniqueKeysWithValues: report.split(separator: " ").compactMap { item -> (String, Double)? in
        let pair = item.split(separator: "=")
        guard pair.count == 2, let value = Double(pair[1].trimmingCharacters(in: .whitespacesAndNewlines)) else {
          return nil
        }
        return (String(pair[0]), value)
      })
    let replaySeconds = fields["seconds"] ?? .nan
    let peak = fields["peak_rss_kib"] ?? .nan
    print(
      "  zstd -d -c > /dev/null  \(format(Double(count) / zstd)) frames/s  (\(String(format: "%.2f", zstd)) s)")
    print(
      "  ntstat replay --top-speed (null listener)  \(format(Double(count) / replaySeconds)) frames/s  (\(String(format: "%.2f", replaySeconds)) s), \(String(format: "%.2f", zstd / replaySeconds))× of zstd -d"
    )
    print(
      "  peak RSS of the replay: \(Int(peak / 1024)) MiB for a \(size >> 20) MiB capture (\(Int(fields["events"] ?? 0)) events)"
    )
    try pacing()
  }

  /// The child: replay `path` at top speed to a listener that does nothing.
  static func replayOnly(_ path: String) throws {
    let start = ContinuousClock.now
    let client = try NetworkStatisticsClient.replaying(path, speed: .topSpeed)
    var events = 0
    try client.run { _ in events += 1 }
    let seconds = DecodeBenchmark.seconds(ContinuousClock.now - start)
    print("seconds=\(seconds) events=\(events) peak_rss_kib=\(peakRSSKiB())")
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
