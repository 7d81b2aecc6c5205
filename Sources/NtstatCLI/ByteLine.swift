import NtstatWire

/// One line of output built as bytes at the end of an output buffer, without the `String`s a
/// line built by interpolation allocates: replays print hundreds of thousands of lines.
struct ByteLine {
  private(set) var bytes: TextBuffer

  /// Starts at the end of `bytes`, taking the buffer over until ``finish(into:)`` (the buffer
  /// is a pointer to memory the output owns: the caller's copy must not be written meanwhile).
  init(taking bytes: inout TextBuffer) {
    self.bytes = bytes
  }

  /// Hands the buffer back with the line at its end.
  mutating func finish(into bytes: inout TextBuffer) {
    bytes = self.bytes
  }

  /// Literals come here, not to ``append(string:)``: a `String` of one costs a retain, a release
  /// and a check for native storage (`callgrind`: a tenth of a text replay's formatting).
  mutating func append(_ text: StaticString) { TextBytes.append(text, to: &bytes) }

  mutating func append(string text: String) { TextBytes.append(text, to: &bytes) }

  mutating func append(byte: UInt8) { bytes.appendByte(byte) }

  mutating func append(decimal value: UInt64) { TextBytes.appendDecimal(value, to: &bytes) }

  /// The pieces `body` puts, in room for `maxCount` bytes reserved at once (``TextRun``).
  mutating func append(atMost maxCount: Int, _ body: (inout TextRun) -> Void) {
    bytes.appendRun(atMost: maxCount, body)
  }

  /// `SocketAddress.description`: `a.b.c.d:port`, `[v6]:port`, or the address text.
  mutating func append(endpoint address: SocketAddress) { address.appendDescription(to: &bytes) }
}

/// One CSV row (RFC 4180): cells separated by commas, a cell holding a comma, a quote or a
/// newline quoted with its quotes doubled; text copied whole unless it needs quoting.
struct CSVRow {
  var line: ByteLine
  private var first = true

  init(taking bytes: inout TextBuffer) { line = ByteLine(taking: &bytes) }

  mutating func finish(into bytes: inout TextBuffer) { line.finish(into: &bytes) }

  private mutating func separate() {
    if first {
      first = false
    } else {
      line.append(byte: UInt8(ascii: ","))
    }
  }

  mutating func cell(_ value: UInt64) {
    separate()
    line.append(decimal: value)
  }

  mutating func cell(_ text: String) {
    separate()
    var text = text
    let quote = UInt8(ascii: "\"")
    let needsQuotes = text.withUTF8 { utf8 in
      utf8.contains { $0 == UInt8(ascii: ",") || $0 == quote || $0 == UInt8(ascii: "\n") }
    }
    guard needsQuotes else {
      line.append(string: text)
      return
    }
    line.append(byte: quote)
    for byte in text.utf8 {
      if byte == quote { line.append(byte: quote) }
      line.append(byte: byte)
    }
    line.append(byte: quote)
  }

  /// A cell built by `body`, for text that needs no quoting (times, endpoints).
  mutating func cell(_ body: (inout ByteLine) -> Void) {
    separate()
    body(&line)
  }
}
