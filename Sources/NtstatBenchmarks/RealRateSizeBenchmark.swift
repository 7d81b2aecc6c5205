import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatWire

/// Capture size at the rate a real recorder writes: a simulated session of the default workload
/// (a few hundred datagrams a second), its frames fed to `CaptureWriter` with their capture
/// timestamps as its clock, so flushes and frame ends fall where a live recorder's would. The
/// sizes are compared with `zstd -3` of the same pcapng as one stream, and of the bare datagrams.
enum RealRateSizeBenchmark {
  static func run() throws {
    let directory = NSTemporaryDirectory() + "ntstat-size-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    print("real-rate size benchmark: 10 simulated minutes of the default workload per family")
    print(
      "  family       frames   pcapng   one stream -3 | flush -1   -3    -6    -9  | 250 ms frames -3 | bare -3  flush -3/bare  -6/bare"
    )
    for family in LayoutFamily.allCases {
      let frames = try session(family: family, seconds: 600, directory: directory)
      let pcapng = directory + "/\(family).pcapng"
      let bare = directory + "/\(family).bare"
      try write(frames, to: pcapng, compression: .none)
      guard FileManager.default.createFile(atPath: bare, contents: Data(frames.flatMap(\.bytes))) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: bare])
      }
      let oneStream = try zstdSize(pcapng, level: 3)
      let bareSize = try zstdSize(bare, level: 3)
      var flushed: [Int32: Int] = [:]
      for level: Int32 in [1, 3, 6, 9] { flushed[level] = try size(frames, level: level) }
      // The layout before: a frame ended every 250 ms, each starting with an empty history.
      let ended = try size(frames, level: 3, frameDuration: 250_000_000)
      func ratio(_ a: Int?, _ b: Int) -> String { String(format: "%.2f", Double(a ?? 0) / Double(b)) }
      let pcapngSize = (try? FileManager.default.attributesOfItem(atPath: pcapng)[.size] as? Int) ?? 0
      print(
        "  \(family.name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(String(frames.count).leftPad(7)) "
          + "\(kib(pcapngSize).leftPad(8)) \(kib(oneStream).leftPad(9))      | "
          + "\(ratio(flushed[1], oneStream))  \(ratio(flushed[3], oneStream))  \(ratio(flushed[6], oneStream))  "
          + "\(ratio(flushed[9], oneStream)) | \(ratio(ended, oneStream).leftPad(16)) | \(kib(bareSize).leftPad(7)) "
          + "\(ratio(flushed[3], bareSize).leftPad(13)) \(ratio(flushed[6], bareSize).leftPad(8))")
    }
    print(
      "  (flush -N: this writer at level N, as a multiple of the one-stream size; 250 ms frames: the layout before)")
    try writerAndReaderSpeed(directory: directory)
  }

  /// The frames a recorder would write for a simulated session: the real client against the
  /// simulator, both directions, with their capture timestamps.
  static func session(family: LayoutFamily, seconds: Double, directory: String) throws -> [CapturedFrame] {
    let path = directory + "/session-\(family).pcapng"
    let workload = Workload.random(seed: 3, duration: .seconds(seconds), family: family)
    let kernel = SimulatedKernel(family: family, workload: workload)
    let simulator = try SimulatorTransport(kernel: kernel, receiveBufferSize: 1 << 20)
    var metadata = CaptureMetadata()
    metadata.family = family
    let writer = try CaptureFileWriter(
      path: path, metadata: metadata, compression: .none, interfaces: ["com.apple.network.statistics"])
    let recorder = RecordingTransport(wrapping: simulator, writer: writer)
    try NetworkStatisticsClient(transport: recorder).run { _ in }
    try writer.close()
    let reader = try CaptureFileReader(path: path)
    var frames: [CapturedFrame] = []
    while let record = try reader.next() { if case .frame(let frame) = record { frames.append(frame) } }
    try? FileManager.default.removeItem(atPath: path)
    return frames
  }

  /// The bytes `CaptureWriter` writes for `frames`, its clock the frames' timestamps.
  static func size(_ frames: [CapturedFrame], level: Int32, frameDuration: UInt64 = 600_000_000_000) throws -> Int {
    var total = 0
    let writer = try CaptureWriter(
      metadata: CaptureMetadata(), compression: .zstd(level: level), frameDuration: frameDuration
    ) { total += $0.count }
    let interface = try writer.addInterface(
      description: "com.apple.network.statistics", now: frames.first?.timestamp ?? 0)
    for var frame in frames {
      frame.interfaceID = interface
      try writer.write(frame, now: frame.timestamp)
    }
    try writer.close(now: frames.last?.timestamp ?? 0, wallClock: frames.last?.timestamp ?? 0)
    return total
  }

  static func write(_ frames: [CapturedFrame], to path: String, compression: CaptureCompression) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    let writer = try CaptureWriter(metadata: CaptureMetadata(), compression: compression) { handle.write(Data($0)) }
    let interface = try writer.addInterface(description: "com.apple.network.statistics", now: 0)
    for var frame in frames {
      frame.interfaceID = interface
      try writer.write(frame, now: frame.timestamp)
    }
    try writer.close(now: frames.last?.timestamp ?? 0, wallClock: frames.last?.timestamp ?? 0)
  }

  /// `zstd -N -c FILE | wc -c`.
  static func zstdSize(_ path: String, level: Int) throws -> Int {
    let output = path + ".zst"
    _ = try CaptureBenchmark.timeCommand(["zstd", "-\(level)", "-c"], input: path, output: output)
    defer { try? FileManager.default.removeItem(atPath: output) }
    return (try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
  }

  /// The writer at the default level on the 1 M-frame benchmark stream against `zstd -3` of the
  /// same pcapng, and the reader against `zstd -d` of what the writer wrote.
  static func speedOnly() throws {
    let directory = NSTemporaryDirectory() + "ntstat-speed-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try writerAndReaderSpeed(directory: directory)
  }

  static func writerAndReaderSpeed(directory: String) throws {
    let frames = CaptureBenchmark.frames(1_000_000)
    let pcapng = directory + "/speed.pcapng"
    try write(frames, to: pcapng, compression: .none)
    let level = CaptureCompression.defaultZstd
    let captured = directory + "/speed.pcapng.zst"
    let cpuBefore = ReplayBenchmark.cpuSeconds()
    let written = try CaptureBenchmark.time { try write(frames, to: captured, compression: level) }
    let cpu = ReplayBenchmark.cpuSeconds() - cpuBefore
    let zstdWrite = try CaptureBenchmark.timeCommand(["zstd", "-3", "-c"], input: pcapng, output: directory + "/z3")
    // Best of three for both: a single read of 0.2 s is at the mercy of the scheduler.
    var read = Double.infinity
    var zstdRead = Double.infinity
    for _ in 0..<3 {
      read = min(
        read,
        try CaptureBenchmark.time {
          let reader = try CaptureFileReader(path: captured)
          var records: [CaptureRecord] = []
          while try reader.nextRecords(&records) {}
        })
      zstdRead = min(
        zstdRead, try CaptureBenchmark.timeCommand(["zstd", "-d", "-c"], input: captured, output: "/dev/null"))
    }
    print(
      "  writer (\(level)) on 1,000,000 frames: \(String(format: "%.2f", written)) s, "
        + "\(String(format: "%.2f", cpu * 1e6 / Double(frames.count))) µs of CPU a frame; zstd -3: \(String(format: "%.2f", zstdWrite)) s; "
        + "\(String(format: "%.2f", zstdWrite / written))× of zstd -3")
    print(
      "  reader: \(String(format: "%.2f", read)) s; zstd -d: \(String(format: "%.2f", zstdRead)) s; "
        + "\(String(format: "%.2f", zstdRead / read))× of zstd -d")
  }

  static func kib(_ bytes: Int) -> String { "\(bytes >> 10)K" }
}

extension String {
  func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
