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
      return firstLine(matching: match, within: limit, pending: &pending, pendingArrived: .zero)
    }

    /// The first line matching `first`, and the first line stamped a second or more after it,
    /// each with when it arrived. A run paced by the wall clock cannot make the later event
    /// until a second after the first is due, so lines written as they happen arrive nearly a
    /// second apart, however slow the machine, while a buffered stream hands both over in one
    /// burst, however fast. Nil if no such pair arrived within `limit`.
    func arrivesAsItHappens(
      first: (String) -> Bool, within limit: Duration
    ) -> (first: (line: String, after: Duration), later: (line: String, after: Duration))? {
      var pending = [UInt8]()
      guard let early = firstLine(matching: first, within: limit, pending: &pending, pendingArrived: .zero),
        let stamp = LiveOutputTests.eventTime(early.line)
      else { return nil }
      let late = firstLine(
        matching: { LiveOutputTests.eventTime($0).map { LiveOutputTests.isSecondOrMore($0, after: stamp) } ?? false },
        within: limit,
        pending: &pending, pendingArrived: early.after)
      return late.map { (early, $0) }
    }

    /// `pending`: bytes read but not yet split into lines, carried from one call to the next;
    /// they arrived at `pendingArrived`.
    private func firstLine(
      matching match: (String) -> Bool, within limit: Duration, pending: inout [UInt8], pendingArrived: Duration
    ) -> (line: String, after: Duration)? {
      var chunk = [UInt8](repeating: 0, count: 4096)
      let clock = ContinuousClock()
      while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: pending[..<newline], as: UTF8.self)
          .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
        pending.removeSubrange(...newline)
        if match(line) { return (line, pendingArrived) }
      }
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

  /// When a line's event happened: `time_ns` of a JSON line, the `HH:MM:SS.mmm` of a text line.
  static func eventTime(_ line: String) -> Duration? {
    if let range = line.range(of: #""time_ns":"#) {
      return Int64(line[range.upperBound...].prefix { $0.isNumber }).map { .nanoseconds($0) }
    }
    let fields = line.split(separator: " ")
    guard fields.count > 1, let clock = fields.dropFirst().first, clock.count == 12 else { return nil }
    let parts = clock.split(whereSeparator: { $0 == ":" || $0 == "." }).compactMap { Int64($0) }
    guard parts.count == 4 else { return nil }
    return .milliseconds(((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + parts[3])
  }

  /// `time` is one second or more (and less than an hour) after `stamp`, on a clock that may
  /// wrap at midnight.
  static func isSecondOrMore(_ time: Duration, after stamp: Duration) -> Bool {
    let day = Duration.seconds(86_400)
    var gap = time - stamp
    if gap < .zero { gap += day }
    return gap >= .seconds(1) && gap < .seconds(3600)
  }

  /// On a terminal, each line as its event happens (on an idle machine the first added line
  /// shows about 0.1 s after start).
  @Test func watchOnATerminalPrintsEachFlowAsItHappens() throws {
    let child = try Self.launch(
      ["watch", "--simulate", "--realtime", "--family", "xnu-11215", "--duration", "20s"], terminal: true)
    defer { child.stop() }
    let pair = try #require(
      child.arrivesAsItHappens(first: { $0.hasPrefix(" + ") || $0.hasPrefix(" @+ ") }, within: .seconds(30)),
      "no added line, or no line a second after it, within 30 s")
    #expect(
      pair.later.after - pair.first.after > .milliseconds(250),
      "the first added line came in one burst with a line a second later: \(pair.first.line) / \(pair.later.line)")
  }

  /// Piped, as `… | jq` reads it: each event as it happens, not when a buffer fills.
  @Test(arguments: [
    ["watch", "--simulate", "--realtime", "--family", "xnu-11215", "--duration", "20s", "--format", "jsonl"],
    ["replay", "--realtime", "--format", "jsonl", "--quiet", "captures/xnu-11215.pcapng.zst"],
  ])
  func pipedJSONLinesArriveAsTheyHappen(arguments: [String]) throws {
    let child = try Self.launch(arguments, terminal: false)
    defer { child.stop() }
    let pair = try #require(
      child.arrivesAsItHappens(first: { $0.contains(#""event":"added""#) }, within: .seconds(30)),
      "no added event, or no event a second after it, within 30 s")
    #expect(
      pair.later.after - pair.first.after > .milliseconds(250),
      "\(arguments[0]): the first added event came in one burst with an event a second later")
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
