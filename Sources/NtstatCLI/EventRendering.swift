import ArgumentParser
import Foundation
import NTStat
import NtstatReplay
import NtstatWire

/// Output formats for client events.
enum EventFormat: String, ExpressibleByArgument, CaseIterable {
  /// The classic libntstat demo lines.
  case text
  /// The canonical event stream (docs/events.md), one JSON object per line.
  case jsonl
  case csv
}

/// How event times are printed in text and CSV.
enum TimeLabel {
  /// Local wall-clock time: `origin` on the transport's clock was `wallAnchor` (ns since the epoch).
  case wallClock(origin: MonotonicTime, wallAnchor: UInt64)
  /// Time since the start of the run (simulations and replays).
  case elapsed(origin: MonotonicTime)

  func text(_ time: MonotonicTime) -> String {
    var bytes = TextBuffer(capacity: 16)
    defer { bytes.deallocate() }
    var line = ByteLine(taking: &bytes)
    append(time, to: &line)
    line.finish(into: &bytes)
    return String(decoding: bytes.bytes, as: UTF8.self)
  }

  /// `HH:MM:SS.mmm` of `time` on this label's clock.
  func append(_ time: MonotonicTime, to line: inout ByteLine) {
    switch self {
    case .elapsed(let origin):
      Self.appendClock(time.since(origin), localOffset: 0, to: &line)
    case .wallClock(let origin, let anchor):
      let wall = anchor &+ time.since(origin)
      let seconds = time_t(wall / 1_000_000_000)
      var parts = tm()
      var copy = seconds
      localtime_r(&copy, &parts)
      Self.appendClock(wall, localOffset: Int64(parts.tm_gmtoff), to: &line)
    }
  }

  /// `HH:MM:SS.mmm` of `nanoseconds` (modulo a day), shifted by `localOffset` seconds.
  static func appendClock(_ nanoseconds: UInt64, localOffset: Int64, to line: inout ByteLine) {
    let total = Int64(nanoseconds / 1_000_000) + localOffset * 1000
    let day: Int64 = 86_400_000
    let ms = UInt64(((total % day) + day) % day)
    line.append(decimal: ms / 3_600_000, digits: 2)
    line.append(byte: UInt8(ascii: ":"))
    line.append(decimal: ms / 60_000 % 60, digits: 2)
    line.append(byte: UInt8(ascii: ":"))
    line.append(decimal: ms / 1000 % 60, digits: 2)
    line.append(byte: UInt8(ascii: "."))
    line.append(decimal: ms % 1000, digits: 3)
  }
}

/// Writes events to standard output in one of the formats.
struct EventPrinter {
  let format: EventFormat
  let time: TimeLabel
  let origin: MonotonicTime
  /// Shared with the run loop's wait handler, which flushes it (``StandardOutput``).
  let out = StandardOutput()

  init(format: EventFormat, time: TimeLabel, origin: MonotonicTime) {
    self.format = format
    self.time = time
    self.origin = origin
  }

  static let csvHeader =
    "event,time,id,protocol,local,remote,pid,process,state,listener,failed,tx_bytes,rx_bytes,tx_packets,rx_packets,medium,removal"
  /// Details mode (xnu-12377): bytes per medium, after the classic columns.
  static let detailMedia: [Medium] = [.cellular, .wifiInfra, .wifiNonInfra, .wired, .bluetooth, .alternate]
  static let csvDetailHeader = detailMedia.map { "\($0.rawValue)_rx_bytes,\($0.rawValue)_tx_bytes" }.joined(
    separator: ",")
  /// Set by ``begin(family:source:details:)``: CSV rows carry the per-medium columns.
  var detailColumns = false

  /// Starts the output. `details`: the client runs in details mode on a family that has it,
  /// so CSV gets the per-medium columns.
  mutating func begin(family: LayoutFamily, source: String, details: Bool = false) {
    detailColumns = details && family.hasDetails
    switch format {
    case .jsonl: out.line(CanonicalEvent.header(family: family, source: source).jsonText)
    case .csv: out.line(detailColumns ? Self.csvHeader + "," + Self.csvDetailHeader : Self.csvHeader)
    case .text: break
    }
  }

  mutating func print(_ event: ClientEvent) {
    switch format {
    case .jsonl:
      out.line { CanonicalEvent.appendJSONLine(event, origin: origin, to: &$0) }
    case .csv:
      guard let (name, stream) = Self.split(event) else {
        if case .notice(let notice) = event { printError(" ! \(time.text(notice.time)) \(notice)") }
        return
      }
      // The derived fields are read at once: every accessor is a lock on the stream's descriptor.
      let (key, process, tcpState, isListener, medium) = stream.withDerivedFields {
        ($0.key, $0.process, $0.tcpState, $0.isListener, $0.interfaceClass)
      }
      out.line { bytes in
        var row = CSVRow(taking: &bytes)
        let c = stream.counts
        row.cell(name)
        row.cell { time.append(name == "added" ? stream.firstSeen : stream.lastUpdated, to: &$0) }
        row.cell(stream.id.rawValue)
        row.cell(key.protocolName)
        row.cell { $0.append(endpoint: key.local) }
        row.cell { $0.append(endpoint: key.remote) }
        row.cell(UInt64(process.pid))
        row.cell(process.name)
        row.cell(tcpState?.description ?? "")
        row.cell(isListener ? "true" : "false")
        row.cell(stream.connectionFailed ? "true" : "false")
        row.cell(c.txBytes)
        row.cell(c.rxBytes)
        row.cell(c.txPackets)
        row.cell(c.rxPackets)
        row.cell(medium.rawValue)
        row.cell(stream.removal?.rawValue ?? "")
        if detailColumns {
          for medium in Self.detailMedia {
            let t = stream.detailedCounts?[medium]
            if let t { row.cell(t.rxBytes) } else { row.cell("") }
            if let t { row.cell(t.txBytes) } else { row.cell("") }
          }
        }
        row.finish(into: &bytes)
      }
    case .text:
      // Notices go to standard error at once, apart from the event lines a script may parse.
      if case .notice(let notice) = event {
        printError(" ! \(time.text(notice.time)) \(notice)")
        return
      }
      guard let (name, stream) = Self.split(event) else { return }
      Self.appendClassic(name, stream, time: time, to: out)
    }
    // A machine reading JSON Lines learns of a notice as soon as a person would.
    if format == .jsonl, case .notice = event { out.flush() }
  }

  func flush() { out.flush() }

  static func split(_ event: ClientEvent) -> (String, NetworkStream)? {
    switch event {
    case .streamAdded(let s): return ("added", s)
    case .streamStatsUpdated(let s): return ("updated", s)
    case .streamRemoved(let s): return ("removed", s)
    case .notice: return nil
    }
  }

  /// The libntstat demo format: ` + time PROTO local port - remote port pid:N (name)`, then
  /// the counters when any packet moved; listeners as ` @+ time pid:N (name) LISTEN TCP port:P`.
  static func appendClassic(_ name: String, _ stream: NetworkStream, time: TimeLabel, to out: StandardOutput) {
    let mark = UInt8(ascii: name == "added" ? "+" : name == "removed" ? "-" : "#")
    let when = name == "added" ? stream.firstSeen : stream.lastUpdated
    // The derived fields are read at once: every accessor is a lock on the stream's descriptor.
    let (key, owner, isListener, medium) = stream.withDerivedFields {
      ($0.key, $0.process, $0.isListener, $0.interfaceClass)
    }
    let protocolName = stream.provider.protocolNameText
    func process(_ line: inout ByteLine) {
      line.append("pid:")
      line.append(decimal: UInt64(owner.pid))
      line.append(" (")
      line.append(string: owner.name)
      line.append(byte: UInt8(ascii: ")"))
    }
    func endpoint(_ address: SocketAddress, _ line: inout ByteLine) {
      guard let port = address.port else {
        line.append(endpoint: address)
        return
      }
      line.append(address: address)
      line.append(byte: UInt8(ascii: " "))
      line.append(decimal: UInt64(port))
    }
    out.line { bytes in
      var line = ByteLine(taking: &bytes)
      line.append(byte: UInt8(ascii: " "))
      if isListener { line.append(byte: UInt8(ascii: "@")) }
      line.append(byte: mark)
      line.append(byte: UInt8(ascii: " "))
      time.append(when, to: &line)
      line.append(byte: UInt8(ascii: " "))
      if isListener {
        process(&line)
        line.append(" LISTEN ")
        line.append(uppercased: protocolName)
        line.append(" port:")
        line.append(decimal: UInt64(key.local.port ?? 0))
      } else {
        line.append(uppercased: protocolName)
        line.append(byte: UInt8(ascii: " "))
        if stream.provider == .connUserland {
          line.append("- ")
        } else {
          endpoint(key.local, &line)
          line.append(" - ")
          endpoint(key.remote, &line)
          line.append(byte: UInt8(ascii: " "))
        }
        process(&line)
        if stream.connectionFailed { line.append(" FAILED") }
      }
      line.finish(into: &bytes)
    }
    let c = stream.counts
    guard !isListener, c.rxPackets > 0 || c.txPackets > 0 else { return }
    out.line { bytes in
      var line = ByteLine(taking: &bytes)
      line.append("   bytes (tx/rx):")
      line.append(decimal: c.txBytes)
      line.append(byte: UInt8(ascii: "/"))
      line.append(decimal: c.rxBytes)
      line.append("  packets:")
      line.append(decimal: c.txPackets)
      line.append(byte: UInt8(ascii: "/"))
      line.append(decimal: c.rxPackets)
      line.append("  medium:")
      line.append(string: medium.rawValue)
      line.finish(into: &bytes)
    }
  }
}

/// Standard output, buffered because events can come thousands a second, and flushed so that
/// a person or a pipe still sees each one as it happens:
/// - on a terminal, after every line;
/// - on a pipe or a file, at 64 KiB, and whenever the run loop is about to wait for the kernel
///   or the clock (its transport's wait handler calls ``flush()``). A run at top speed never
///   waits, so it keeps the large buffer.
final class StandardOutput {
  // One thread writes it: the client's, whose run loop also calls the wait handler that
  // flushes. The run-time exclusivity check on each line (two calls a line: `callgrind`, 230
  // instructions an event of a text replay) enforces nothing more.
  @exclusivity(unchecked) private var buffer = TextBuffer(capacity: 1 << 17)
  let flushesEveryLine: Bool

  init(flushesEveryLine: Bool = isatty(STDOUT_FILENO) == 1) {
    self.flushesEveryLine = flushesEveryLine
  }

  deinit { buffer.deallocate() }

  func line(_ text: String) {
    TextBytes.append(text, to: &buffer)
    endLine()
  }

  /// A line written as bytes by `body`, then its newline.
  func line(_ body: (inout TextBuffer) -> Void) {
    body(&buffer)
    endLine()
  }

  private func endLine() {
    buffer.appendByte(UInt8(ascii: "\n"))
    if flushesEveryLine || buffer.count >= 1 << 16 { flush() }
  }

  func flush() {
    let bytes = buffer.bytes
    var offset = 0
    while offset < bytes.count {
      let written = write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        break  // a closed pipe: nothing more can be said there
      }
      offset += written
    }
    buffer.removeAll()
  }
}
