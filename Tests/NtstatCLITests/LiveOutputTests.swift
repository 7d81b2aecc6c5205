import Foundation
import NtstatTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Output as it happens: the real binary under a real pseudo-terminal and on a real pipe, read
/// as a person or a `jq` would, with the time each line arrived.
@Suite(.hangLimit) struct LiveOutputTests {
  /// A child process whose standard output is `descriptor`'s other end; lines are timed as they
  /// arrive on `descriptor`.
  struct TimedChild {
    let process: Process
    let reader: Int32
    let started: ContinuousClock.Instant

    /// Reads until a line satisfies `match` or `limit` passes; the line and when it arrived.
    func firstLine(
      matching match: (String) -> Bool, within limit: Duration
    ) -> (line: String, after: Duration)? {
      var pending = [UInt8]()
      var chunk = [UInt8](repeating: 0, count: 4096)
      let clock = ContinuousClock()
      while clock.now - started < limit {
        var entry = pollfd(fd: reader, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 50) > 0 else { continue }
        let count = read(reader, &chunk, chunk.count)
        // A pty's reader gets EIO once the child has exited and closed its side.
        guard count > 0 else { return nil }
        let arrived = clock.now - started
        pending += chunk[0..<count]
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
          let line = String(decoding: pending[..<newline], as: UTF8.self)
            .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
          pending.removeSubrange(...newline)
          if match(line) { return (line, arrived) }
        }
      }
      return nil
    }

    /// SIGTERM, then SIGKILL if the child is still there two seconds later.
    func stop() {
      if process.isRunning { process.terminate() }
      let clock = ContinuousClock()
      let deadline = clock.now + .seconds(2)
      while process.isRunning, clock.now < deadline { usleep(20_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      close(reader)
    }
  }

  static func launch(_ arguments: [String], terminal: Bool) throws -> TimedChild {
    let process = Process()
    process.executableURL = NtstatProcess.binary
    process.arguments = arguments
    process.currentDirectoryURL = NtstatProcess.packageRoot
    process.standardError = FileHandle.nullDevice
    let reader: Int32
    let writer: Int32
    if terminal {
      (reader, writer) = try openPseudoTerminal()
    } else {
      var fds: [Int32] = [-1, -1]
      try #require(pipe(&fds) == 0)
      (reader, writer) = (fds[0], fds[1])
    }
    process.standardOutput = FileHandle(fileDescriptor: writer, closeOnDealloc: false)
    let started = ContinuousClock().now
    try process.run()
    // The child holds its own copy; ours would keep the reader from ever seeing the end.
    close(writer)
    return TimedChild(process: process, reader: reader, started: started)
  }

  /// A pseudo-terminal pair: the controlling side to read, the terminal side for the child.
  static func openPseudoTerminal() throws -> (Int32, Int32) {
    let controller = open("/dev/ptmx", O_RDWR | O_NOCTTY)
    try #require(controller >= 0, "no /dev/ptmx")
    #if os(Linux)
      // grantpt/unlockpt/ptsname are not in Glibc's Swift module; these are their ioctls
      // (`TIOCSPTLCK`, `TIOCGPTN` from <asm-generic/ioctls.h>).
      var unlock: Int32 = 0
      try #require(ioctl(controller, 0x4004_5431, &unlock) == 0)
      var number: UInt32 = 0
      try #require(ioctl(controller, 0x8004_5430, &number) == 0)
      let name = "/dev/pts/\(number)"
    #else
      try #require(grantpt(controller) == 0 && unlockpt(controller) == 0)
      let name = String(cString: try #require(ptsname(controller)))
    #endif
    let terminal = open(name, O_RDWR | O_NOCTTY)
    try #require(terminal >= 0, "cannot open \(name)")
    return (controller, terminal)
  }

  @Test func watchOnATerminalPrintsTheFirstFlowWithinOneSecond() throws {
    let child = try Self.launch(
      ["watch", "--simulate", "--realtime", "--family", "xnu-11215", "--duration", "20s"], terminal: true)
    defer { child.stop() }
    let first = try #require(
      child.firstLine(matching: { $0.hasPrefix(" + ") || $0.hasPrefix(" @+ ") }, within: .seconds(10)),
      "no added line within 10 s")
    #expect(first.after < .seconds(1), "first added line after \(first.after): \(first.line)")
  }

  /// Piped, as `… | jq` reads it: the first added event arrives within a second.
  @Test(arguments: [
    ["watch", "--simulate", "--realtime", "--family", "xnu-11215", "--duration", "20s", "--format", "jsonl"],
    ["replay", "--realtime", "--format", "jsonl", "--quiet", "captures/xnu-11215.pcapng.zst"],
  ])
  func pipedJSONLinesArriveWithinOneSecond(arguments: [String]) throws {
    let child = try Self.launch(arguments, terminal: false)
    defer { child.stop() }
    let first = try #require(
      child.firstLine(matching: { $0.contains(#""event":"added""#) }, within: .seconds(10)),
      "no added event within 10 s")
    #expect(first.after < .seconds(1), "\(arguments[0]): first added event after \(first.after)")
  }

  @Test func topSpeedOutputIsComplete() throws {
    // The large buffer at top speed must still reach the end intact.
    let piped = try NtstatProcess.run([
      "replay", "--top-speed", "--format", "jsonl", "--quiet", "captures/xnu-11215.pcapng.zst",
    ])
    let golden = try String(
      contentsOf: NtstatProcess.packageRoot.appendingPathComponent("captures/xnu-11215.jsonl"), encoding: .utf8)
    #expect(piped.stdout == golden)
  }
}
