import Foundation
import NtstatTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `ntstat top` under a real pseudo-terminal, read through a small screen emulator, as a person
/// would see it: it draws within a second, `s` reorders, and `q` or SIGTERM leave the terminal
/// as it was.
@Suite(.hangLimit) struct TopTerminalTests {
  /// The lines of a terminal after the cursor moves, clears and text `ntstat top` writes.
  struct Screen {
    var rows = [[Character]](repeating: [], count: 200)
    var row = 0
    var column = 0
    var raw = [UInt8]()

    mutating func feed(_ bytes: [UInt8]) {
      raw += bytes
      let text = Array(String(decoding: bytes, as: UTF8.self))
      var index = 0
      while index < text.count {
        let c = text[index]
        if c == "\u{1B}", index + 1 < text.count, text[index + 1] == "[" {
          var end = index + 2
          while end < text.count, !(text[end].isLetter) { end += 1 }
          guard end < text.count else { return }
          let parameters = String(text[(index + 2)..<end])
          switch text[end] {
          case "H":
            let parts = parameters.split(separator: ";").compactMap { Int($0) }
            row = max(0, (parts.first ?? 1) - 1)
            column = max(0, (parts.count > 1 ? parts[1] : 1) - 1)
          case "K": if row < rows.count, rows[row].count > column { rows[row].removeSubrange(column...) }
          case "J": if parameters == "2" { rows = rows.map { _ in [] } }
          default: break
          }
          index = end + 1
          continue
        }
        if row < rows.count {
          while rows[row].count < column { rows[row].append(" ") }
          if column < rows[row].count { rows[row][column] = c } else { rows[row].append(c) }
          column += 1
        }
        index += 1
      }
    }

    func line(_ n: Int) -> String { String(rows[n]) }
    var text: String { rows.map { String($0) }.joined(separator: "\n") }

    /// The process rows: every line after the column header that starts with a pid column.
    var processes: [(pid: Int, name: String, total: Double)] {
      var result: [(Int, String, Double)] = []
      for index in 3..<rows.count {
        let fields = String(rows[index]).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count >= 12, let pid = Int(fields[1]) else { continue }
        // … RX TOTAL (value unit) TX TOTAL (value unit): the last four fields.
        let rx = Self.bytes(fields[fields.count - 4], fields[fields.count - 3])
        let tx = Self.bytes(fields[fields.count - 2], fields[fields.count - 1])
        result.append((pid, fields[2], rx + tx))
      }
      return result
    }

    static func bytes(_ value: String, _ unit: String) -> Double {
      let scale: [String: Double] = ["B": 1, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824]
      return (Double(value) ?? 0) * (scale[unit] ?? 1)
    }
  }

  final class Child {
    let process = Process()
    let controller: Int32
    let terminal: Int32
    var screen = Screen()

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
      (controller, terminal) = try LiveOutputTests.openPseudoTerminal()
      var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
      _ = ioctl(terminal, UInt(TIOCSWINSZ), &size)
      process.executableURL = NtstatProcess.binary
      process.arguments = arguments
      process.currentDirectoryURL = NtstatProcess.packageRoot
      var env = ProcessInfo.processInfo.environment
      for (key, value) in environment { env[key] = value }
      process.environment = env
      let handle = FileHandle(fileDescriptor: terminal, closeOnDealloc: false)
      process.standardInput = handle
      process.standardOutput = handle
      process.standardError = FileHandle.nullDevice
      try process.run()
    }

    /// Reads what the child draws until `done` holds or `limit` passes; whether it held.
    func read(within limit: Duration, until done: (Screen) -> Bool) -> Bool {
      let clock = ContinuousClock()
      let deadline = clock.now + limit
      var chunk = [UInt8](repeating: 0, count: 8192)
      while clock.now < deadline {
        if done(screen) { return true }
        var entry = pollfd(fd: controller, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 20) > 0 else { continue }
        let count = readFromTerminal(controller, &chunk, chunk.count)
        if count > 0 { screen.feed(Array(chunk[0..<count])) }
      }
      return done(screen)
    }

    func type(_ text: String) { _ = text.withCString { writeToTerminal(controller, $0, strlen($0)) } }

    /// Waits for the exit (killing after `limit`); its status.
    func exit(within limit: Duration) -> Int32? {
      let clock = ContinuousClock()
      let deadline = clock.now + limit
      while process.isRunning, clock.now < deadline { _ = read(within: .milliseconds(20)) { _ in false } }
      if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return nil
      }
      _ = read(within: .milliseconds(100)) { _ in false }
      return process.terminationStatus
    }

    /// Whether the terminal is back in line mode with echo (what the shell needs).
    var terminalRestored: Bool {
      var settings = termios()
      guard tcgetattr(terminal, &settings) == 0 else { return false }
      return settings.c_lflag & tcflag_t(ICANON) != 0 && settings.c_lflag & tcflag_t(ECHO) != 0
    }

    deinit {
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      close(controller)
      close(terminal)
    }
  }

  static let arguments = ["top", "--simulate", "--family", "xnu-11215", "--seed", "5", "--duration", "60s"]

  /// How long any step may take before it counts as hung. Not a latency requirement: under
  /// AddressSanitizer beside a second suite the first draw took over a second
  /// (docs/reliability.md, "Under load"); the wait ends as soon as the screen shows the step.
  static let patience: Duration = .seconds(30)

  @Test func drawsReordersOnSAndQuitsCleanly() throws {
    let child = try Child(Self.arguments)
    // The alternate screen and the header.
    #expect(
      child.read(within: Self.patience) {
        String(decoding: $0.raw, as: UTF8.self).contains("\u{1B}[?1049h") && $0.line(0).contains("ntstat top")
      },
      "nothing drawn")
    #expect(child.read(within: Self.patience) { $0.line(0).contains("t+00:00:0") && $0.processes.count >= 3 })
    #expect(child.screen.line(1).contains("sort rate ↓"))
    #expect(child.screen.line(23).hasPrefix("q quit"))

    child.type("s")
    #expect(child.read(within: Self.patience) { $0.line(1).contains("sort total ↓") })
    // Wait for the next snapshot to be drawn in this order, then check it.
    #expect(
      child.read(within: Self.patience) { screen in
        let totals = screen.processes.map(\.total)
        return totals.count >= 3 && zip(totals, totals.dropFirst()).allSatisfy { $0 >= $1 }
      }, "rows not by total: \(child.screen.processes)")

    child.type("s")
    #expect(child.read(within: Self.patience) { $0.line(1).contains("sort name ↓") })
    child.type("S")
    #expect(
      child.read(within: Self.patience) { screen in
        let names = screen.processes.map { $0.name.lowercased() }
        return screen.line(1).contains("sort name ↑") && names.count >= 3 && names == names.sorted()
      }, "rows not by name: \(child.screen.processes.map(\.name))")

    child.type("q")
    #expect(child.exit(within: Self.patience) == 0)
    #expect(String(decoding: child.screen.raw, as: UTF8.self).hasSuffix("\u{1B}[?25h\u{1B}[?1049l"))
    #expect(child.terminalRestored)
  }

  @Test func sigtermRestoresTheTerminalToo() throws {
    let child = try Child(Self.arguments, environment: ["NO_COLOR": "1"])
    #expect(child.read(within: Self.patience) { $0.line(0).contains("ntstat top") })
    // NO_COLOR: no color sequences anywhere.
    #expect(!String(decoding: child.screen.raw, as: UTF8.self).contains("\u{1B}[1;36m"))
    kill(child.process.processIdentifier, SIGTERM)
    #expect(child.exit(within: Self.patience) == 0)
    #expect(String(decoding: child.screen.raw, as: UTF8.self).contains("\u{1B}[?1049l"))
    #expect(child.terminalRestored)
  }

  @Test func batchIsRequiredWithoutATerminal() throws {
    let result = try NtstatProcess.run(["top", "--simulate", "--duration", "2s"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--batch"))
  }
}

#if canImport(Glibc)
  private let readFromTerminal = Glibc.read
  private let writeToTerminal = Glibc.write
#else
  private let readFromTerminal = Darwin.read
  private let writeToTerminal = Darwin.write
#endif
