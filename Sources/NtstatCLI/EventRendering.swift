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
    switch self {
    case .elapsed(let origin):
      return Self.clock(time.since(origin), localOffset: 0)
    case .wallClock(let origin, let anchor):
      let wall = anchor &+ time.since(origin)
      let seconds = time_t(wall / 1_000_000_000)
      var parts = tm()
      var copy = seconds
      localtime_r(&copy, &parts)
      return Self.clock(wall, localOffset: Int64(parts.tm_gmtoff))
    }
  }

  /// `HH:MM:SS.mmm` of `nanoseconds` (modulo a day), shifted by `localOffset` seconds.
  static func clock(_ nanoseconds: UInt64, localOffset: Int64) -> String {
    let total = Int64(nanoseconds / 1_000_000) + localOffset * 1000
    let day: Int64 = 86_400_000
    let ms = ((total % day) + day) % day
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : String(v) }
    let millis = ms % 1000
    let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : String(millis)
    return "\(two(ms / 3_600_000)):\(two(ms / 60_000 % 60)):\(two(ms / 1000 % 60)).\(fraction)"
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
      let c = stream.counts
      var cells: [String] = [
        name, time.text(name == "added" ? stream.firstSeen : stream.lastUpdated), String(stream.id.rawValue),
        stream.key.protocolName, stream.key.local.description, stream.key.remote.description,
        String(stream.process.pid), stream.process.name, stream.tcpState?.description ?? "",
        String(stream.isListener), String(stream.connectionFailed), String(c.txBytes), String(c.rxBytes),
        String(c.txPackets), String(c.rxPackets), stream.interfaceClass.rawValue, stream.removal?.rawValue ?? "",
      ]
      if detailColumns {
        for medium in Self.detailMedia {
          let t = stream.detailedCounts?[medium]
          cells.append(t.map { String($0.rxBytes) } ?? "")
          cells.append(t.map { String($0.txBytes) } ?? "")
        }
      }
      out.line(cells.map(Self.csvCell).joined(separator: ","))
    case .text:
      // Notices go to standard error at once, apart from the event lines a script may parse.
      if case .notice(let notice) = event {
        printError(" ! \(time.text(notice.time)) \(notice)")
        return
      }
      for line in Self.classicLines(event, time: time) { out.line(line) }
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

  static func csvCell(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  /// The libntstat demo format: ` + time PROTO local port - remote port pid:N (name)`, then
  /// the counters when any packet moved; listeners as ` @+ time pid:N (name) LISTEN TCP port:P`.
  static func classicLines(_ event: ClientEvent, time: TimeLabel) -> [String] {
    guard let (name, stream) = split(event) else {
      if case .notice(let notice) = event { return [" ! \(time.text(notice.time)) \(notice)"] }
      return []
    }
    let mark = name == "added" ? "+" : name == "removed" ? "-" : "#"
    let when = time.text(name == "added" ? stream.firstSeen : stream.lastUpdated)
    let process = "pid:\(stream.process.pid) (\(stream.process.name))"
    if stream.isListener {
      return [
        " @\(mark) \(when) \(process) LISTEN \(stream.key.protocolName.uppercased()) port:\(stream.key.local.port ?? 0)"
      ]
    }
    func endpoint(_ address: SocketAddress) -> String {
      switch address {
      case .ipv4(let a, let port): return "\(a) \(port)"
      case .ipv6(let a, let port, _, _): return "\(a) \(port)"
      default: return address.description
      }
    }
    var first = " \(mark) \(when) \(stream.key.protocolName.uppercased()) "
    if stream.provider == .connUserland {
      first += "- "
    } else {
      first += "\(endpoint(stream.key.local)) - \(endpoint(stream.key.remote)) "
    }
    first += process
    if stream.connectionFailed { first += " FAILED" }
    let c = stream.counts
    guard c.rxPackets > 0 || c.txPackets > 0 else { return [first] }
    return [
      first,
      "   bytes (tx/rx):\(c.txBytes)/\(c.rxBytes)  packets:\(c.txPackets)/\(c.rxPackets)  medium:\(stream.interfaceClass.rawValue)",
    ]
  }
}

/// Standard output, buffered because events can come thousands a second, and flushed so that
/// a person or a pipe still sees each one as it happens:
/// - on a terminal, after every line;
/// - on a pipe or a file, at 64 KiB, and whenever the run loop is about to wait for the kernel
///   or the clock (its transport's wait handler calls ``flush()``). A run at top speed never
///   waits, so it keeps the large buffer.
final class StandardOutput {
  private var buffer: [UInt8] = []
  let flushesEveryLine: Bool

  init(flushesEveryLine: Bool = isatty(STDOUT_FILENO) == 1) {
    self.flushesEveryLine = flushesEveryLine
    buffer.reserveCapacity(1 << 17)
  }

  func line(_ text: String) {
    buffer.append(contentsOf: text.utf8)
    endLine()
  }

  /// A line written as bytes by `body` (the JSON Lines fast path), then its newline.
  func line(_ body: (inout [UInt8]) -> Void) {
    body(&buffer)
    endLine()
  }

  private func endLine() {
    buffer.append(UInt8(ascii: "\n"))
    if flushesEveryLine || buffer.count >= 1 << 16 { flush() }
  }

  func flush() {
    guard !buffer.isEmpty else { return }
    buffer.withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        let written = write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return  // a closed pipe: nothing more can be said there
        }
        offset += written
      }
    }
    buffer.removeAll(keepingCapacity: true)
  }
}
