import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// A recorder killed with SIGKILL must leave a file that reads back, without corruption, up to
/// its last ended zstd frame: runs the real writer in a child process and kills it.
@Suite(.hangLimit) struct CrashSafetyTests {
  static var stressBinary: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("NtstatCaptureStress")
  }

  /// Starts the stress recorder on a new file, waits until it reports its first hundred frames
  /// handed to the writer (so the file and its signal handlers exist, however slowly a loaded
  /// machine starts the child), sends it `signal` after the delay, and waits.
  static func recordThenSignal(_ signal: Int32, afterMicroseconds delay: UInt32) throws -> (String, Process) {
    let path = Repository.temporaryPath("signal.pcapng.zst")
    let child = Process()
    child.executableURL = stressBinary
    child.arguments = [path, "--interval-us", "100"]
    let pipe = Pipe()
    child.standardOutput = pipe
    try child.run()
    var reported = Data()
    while !reported.contains(UInt8(ascii: "\n")) {
      let more = pipe.fileHandleForReading.availableData
      if more.isEmpty { break }  // the child ended before reporting: the checks below say so
      reported += more
    }
    #expect(String(decoding: reported, as: UTF8.self).hasPrefix("100\n"), "the recorder did not start")
    usleep(delay)
    kill(child.processIdentifier, signal)
    child.waitUntilExit()
    return (path, child)
  }

  @Test("SIGKILL at random points leaves a readable prefix", arguments: [0x5EED_0001 as UInt64, 0x5EED_0002])
  func killedRecorderLeavesReadablePrefix(seed: UInt64) throws {
    var generator = SplitMix(seed: seed)
    print("seed \(seed)")
    for iteration in 0..<6 {
      let delay = generator.next() % 800_000  // up to 0.8 s after the first frames
      let (path, child) = try Self.recordThenSignal(SIGKILL, afterMicroseconds: UInt32(delay))
      #expect(child.terminationReason == .uncaughtSignal)

      let reader = try CaptureFileReader(path: path)
      var count: UInt64 = 0
      var damage: CaptureError?
      do {
        while let record = try reader.next() {
          guard case .frame(let frame) = record else { continue }
          let index = frame.bytes.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
          }
          #expect(index == count, "iteration \(iteration): frame \(count) carries index \(index)")
          #expect(frame.bytes.count == 40 + Int(index % 161))
          count += 1
        }
      } catch let error as CaptureError {
        damage = error
      }
      #expect(
        damage == nil || damage?.kind == .truncated,
        "iteration \(iteration), delay \(delay) µs: \(String(describing: damage))")
      // How much must survive (every frame older than one flush interval) is timed against the
      // child's own reports in FlushIntervalCrashTests; a fixed delay here would be a wall-clock
      // bet on a loaded machine.
      try? FileManager.default.removeItem(atPath: path)
    }
  }
}

extension CrashSafetyTests {
  @Test("SIGTERM and SIGINT close the capture cleanly", arguments: [SIGTERM, SIGINT])
  func terminationSignalsCloseCleanly(signal: Int32) throws {
    let (path, child) = try Self.recordThenSignal(signal, afterMicroseconds: 400_000)
    #expect(child.terminationReason == .exit && child.terminationStatus == 0)
    let reader = try CaptureFileReader(path: path)
    var frames = 0
    while let record = try reader.next() {
      if case .frame = record { frames += 1 }
    }
    #expect(frames > 0)
    #expect(reader.seekTable() != nil, "a clean close writes the seek table")
  }
}

/// A small seeded generator (SplitMix64) so that failures can be replayed from the printed seed.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
