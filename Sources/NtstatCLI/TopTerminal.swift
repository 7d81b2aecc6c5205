import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A key `ntstat top` acts on.
enum TopKey: Equatable {
  case character(Character)
  case up, down, left, right, enter, escape, backspace
}

/// The terminal for `ntstat top`: raw input, the alternate screen, the size, and the one place
/// that puts the terminal back as it was, on every exit path.
final class TopTerminal {
  private var original = termios()
  private var restored = false

  /// Raw input (no echo, no line editing, reads return at once), the alternate screen, the
  /// cursor hidden. Nil when standard input or output is not a terminal.
  init?() {
    guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1, tcgetattr(STDIN_FILENO, &original) == 0 else {
      return nil
    }
    var raw = original
    raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
      cc[Int(VMIN)] = 0
      cc[Int(VTIME)] = 0
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &raw)
    write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J")
  }

  deinit { restore() }

  /// Leaves the alternate screen, shows the cursor and restores the input mode; safe to call
  /// more than once.
  func restore() {
    guard !restored else { return }
    restored = true
    write("\u{1B}[?25h\u{1B}[?1049l")
    tcsetattr(STDIN_FILENO, TCSANOW, &original)
  }

  func write(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeMutableBytes {
        Foundation.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset)
      }
      if written < 0 {
        if errno == EINTR { continue }
        return
      }
      offset += written
    }
  }

  /// Rows and columns (24×80 if the terminal does not say).
  var size: (rows: Int, columns: Int) {
    var window = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &window) == 0, window.ws_row > 0, window.ws_col > 0 else {
      return (24, 80)
    }
    return (Int(window.ws_row), Int(window.ws_col))
  }

  /// Keys typed within `timeout` milliseconds (empty if none).
  func keys(timeout: Int32) -> [TopKey] {
    var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, timeout) > 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = read(STDIN_FILENO, &buffer, buffer.count)
    guard count > 0 else { return [] }
    return Self.parse(Array(buffer[0..<count]))
  }

  static func parse(_ bytes: [UInt8]) -> [TopKey] {
    var keys: [TopKey] = []
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      if byte == 0x1B, index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "[") {
        switch bytes[index + 2] {
        case UInt8(ascii: "A"): keys.append(.up)
        case UInt8(ascii: "B"): keys.append(.down)
        case UInt8(ascii: "C"): keys.append(.right)
        case UInt8(ascii: "D"): keys.append(.left)
        default: break
        }
        index += 3
        continue
      }
      switch byte {
      case 0x1B: keys.append(.escape)
      case 0x0D, 0x0A: keys.append(.enter)
      case 0x7F, 0x08: keys.append(.backspace)
      case 0x20...0x7E: keys.append(.character(Character(UnicodeScalar(byte))))
      default: break
      }
      index += 1
    }
    return keys
  }

  /// Writes only the lines that differ from `previous` (the whole screen when `full`): no flicker.
  func draw(_ lines: [String], previous: [String], full: Bool) {
    var out = full ? "\u{1B}[2J" : ""
    for (row, line) in lines.enumerated() where full || row >= previous.count || previous[row] != line {
      out += "\u{1B}[\(row + 1);1H" + line + "\u{1B}[K"
    }
    if !out.isEmpty { write(out) }
  }
}
