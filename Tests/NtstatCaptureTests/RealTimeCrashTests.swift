import Foundation
import NtstatCapture
import NtstatTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A real-time recorder killed mid-session: everything it had received more than 250 ms before
/// the kill must be in the file (the stream is flushed every 250 ms; a frame ends far later).
@Suite(.hangLimit) struct RealTimeCrashTests {
  /// Every frame the reader returns, and the damage it ends with, if any.
  static func frames(_ path: String) -> (frames: [CapturedFrame], damage: CaptureError?) {
    guard let contents = try? CaptureContents(path: path) else { return ([], nil) }
    return (contents.frames, contents.damage)
  }

  @Test
  func killedRealTimeRecorderKeepsAllButTheLastFlushInterval() throws {
    let directory = Repository.temporaryPath("ntstat-rtcrash")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let arguments = ["record", "--simulate", "--seed", "7", "--duration", "8s", "--rate", "tcp=30,udp=10"]
    // The whole session, at top speed: the simulator is deterministic, so its frames' times
    // (since the first) are those of the real-time run.
    let full = directory + "/full.pcapng.zst"
    let process = Process()
    process.executableURL = NtstatProcess.binary
    process.arguments = arguments + ["-o", full]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let reference = Self.frames(full).frames
    #expect(reference.count > 200)

    for killAfter in [1.0, 2.4] {
      let killed = directory + "/killed-\(killAfter).pcapng.zst"
      let recorder = Process()
      recorder.executableURL = NtstatProcess.binary
      recorder.arguments = arguments + ["--realtime", "-o", killed]
      recorder.standardOutput = FileHandle.nullDevice
      recorder.standardError = FileHandle.nullDevice
      try recorder.run()
      // Counted from its first flush (frames readable on disk), not from the launch: a loaded
      // machine may take seconds to start the recorder at all.
      while recorder.isRunning, Self.frames(killed).frames.isEmpty {
        usleep(20_000)
      }
      #expect(recorder.isRunning, "the recorder ended before it was killed")
      usleep(useconds_t(killAfter * 1_000_000))
      var now = timespec()
      clock_gettime(CLOCK_REALTIME, &now)
      kill(recorder.processIdentifier, SIGKILL)
      recorder.waitUntilExit()
      let killedAt = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
      let (frames, damage) = Self.frames(killed)
      // An unterminated last frame reads as truncated, after every complete block before it.
      #expect(damage == nil || damage?.kind == .truncated, "\(String(describing: damage))")
      let first = try #require(frames.first, "nothing readable \(killAfter) s after the first flush")
      let elapsed = killedAt &- first.timestamp
      // 250 ms of flush interval, plus 250 ms for the scheduler, the recorder's queue and a
      // simulation that runs behind the wall clock on a loaded machine (CI runs the suite in
      // parallel, under AddressSanitizer too). A flush interval of a second or more still fails.
      let safe = elapsed &- 500_000_000
      let expected = reference.filter { $0.timestamp &- reference[0].timestamp <= safe }
      #expect(
        frames.count >= expected.count,
        "killed \(killAfter) s after the first flush: \(frames.count) frames, \(expected.count) older than 500 ms")
      // And what is there is the session, frame for frame.
      for (got, want) in zip(frames, reference) {
        #expect(got.bytes == want.bytes && got.direction == want.direction)
      }
    }
  }
}
