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
    bytes.appendRun(atMost: Self.width) { put(time, to: &$0) }
    return String(decoding: bytes.bytes, as: UTF8.self)
  }

  /// How many bytes a time takes: `HH:MM:SS.mmm`.
  static let width = 12

  /// `HH:MM:SS.mmm` of `time` on this label's clock (``width`` bytes).
  func put(_ time: MonotonicTime, to run: inout TextRun) {
    switch self {
    case .elapsed(let origin):
      run.put { Self.writeClock(time.since(origin), localOffset: 0, at: $0) }
    case .wallClock(let origin, let anchor):
      let wall = anchor &+ time.since(origin)
      let seconds = time_t(wall / 1_000_000_000)
      var parts = tm()
      var copy = seconds
      localtime_r(&copy, &parts)
      run.put { Self.writeClock(wall, localOffset: Int64(parts.tm_gmtoff), at: $0) }
    }
  }

  /// Writes `HH:MM:SS.mmm` of `nanoseconds` (modulo a day), shifted by `localOffset` seconds,
  /// at `out`, in one piece: four padded numbers appended one by one cost a text replay 330
  /// instructions a line (`callgrind`).
  static func writeClock(_ nanoseconds: UInt64, localOffset: Int64, at out: UnsafeMutablePointer<UInt8>) -> Int {
    let total = Int64(nanoseconds / 1_000_000) + localOffset * 1000
    let day: Int64 = 86_400_000
    let ms = Int(((total % day) + day) % day)
    TextBytes.writeTwoDigits(ms / 3_600_000, at: out)
    out[2] = UInt8(ascii: ":")
    TextBytes.writeTwoDigits(ms / 60_000 % 60, at: out + 3)
    out[5] = UInt8(ascii: ":")
    TextBytes.writeTwoDigits(ms / 1000 % 60, at: out + 6)
    out[8] = UInt8(ascii: ".")
    out[9] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: ms % 1000 / 100)
    TextBytes.writeTwoDigits(ms % 100, at: out + 10)
    return width
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
      // A machine reading JSON Lines learns of a notice as soon as a person would.
      if case .notice = event { out.flush() }
    case .text:
      withRow(of: event) { Self.appendClassic($0, $1, time: time, to: out) }
    case .csv:
      withRow(of: event) { appendCSV($0, $1) }
    }
  }

  /// `body` with a stream event's kind and its stream where it lies: taking the two out first (a
  /// tuple of name and stream) copied the event, a few hundred bytes, once per line
  /// (`callgrind`). A notice goes to standard error at once instead, apart from the event lines a
  /// script may parse.
  private func withRow(of event: ClientEvent, _ body: (StreamEventKind, NetworkStream) -> Void) {
    switch event {
    case .streamAdded(let stream): body(.added, stream)
    case .streamStatsUpdated(let stream): body(.updated, stream)
    case .streamRemoved(let stream): body(.removed, stream)
    case .notice(let notice): printError(" ! \(time.text(notice.time)) \(notice)")
    }
  }

  private func appendCSV(_ kind: StreamEventKind, _ stream: NetworkStream) {
    // The derived fields are read at once: every accessor is a lock on the stream's descriptor.
    let (key, pid, name, tcpState, isListener, medium) = stream.withDerivedFields(details: false) {
      ($0.key, $0.process.pid, $0.process.name, $0.tcpState, $0.isListener, $0.interfaceClass)
    }
    out.line { bytes in
      var row = CSVRow(taking: &bytes)
      let c = stream.counts
      row.cell(kind.name)
      row.cell { line in
        line.append(atMost: TimeLabel.width) {
          time.put(kind == .added ? stream.firstSeen : stream.lastUpdated, to: &$0)
        }
      }
      row.cell(stream.id.rawValue)
      row.cell(key.protocolName)
      row.cell { $0.append(endpoint: key.local) }
      row.cell { $0.append(endpoint: key.remote) }
      row.cell(UInt64(pid))
      row.cell(name)
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
  }

  func flush() { out.flush() }

  /// Which of a stream's events a row is.
  enum StreamEventKind {
    case added, updated, removed

    /// The name CSV prints.
    var name: String {
      switch self {
      case .added: "added"
      case .updated: "updated"
      case .removed: "removed"
      }
    }
  }

  /// The libntstat demo format: ` + time PROTO local port - remote port pid:N (name)`, then
  /// the counters when any packet moved; listeners as ` @+ time pid:N (name) LISTEN TCP port:P`.
  static func appendClassic(
    _ kind: StreamEventKind, _ stream: NetworkStream, time: TimeLabel, to out: StandardOutput
  ) {
    let mark = UInt8(ascii: kind == .added ? "+" : kind == .removed ? "-" : "#")
    let when = kind == .added ? stream.firstSeen : stream.lastUpdated
    // The derived fields are read at once, and only those printed: every accessor is a lock on
    // the stream's descriptor, and each whole field copied is its strings retained.
    let (local, remote, pid, processName, isListener, medium) = stream.withDerivedFields(details: false) {
      ($0.key.local, $0.key.remote, $0.process.pid, $0.process.name, $0.isListener, $0.interfaceClass)
    }
    let protocolName = stream.provider.protocolNameText
    // Each line is written into room reserved once for the most its pieces can take: here 46
    // bytes of marks, spaces, literals and the pid, and the rest.
    let firstLineMost =
      64 + TimeLabel.width + protocolName.utf8CodeUnitCount + local.addressTextBound + remote.addressTextBound
      + processName.utf8.count
    out.line { bytes in
      bytes.appendRun(atMost: firstLineMost) { run in
        func process(_ run: inout TextRun) {
          run.put("pid:")
          run.put(decimal: UInt64(pid))
          run.put(" (")
          run.put(string: processName)
          run.put(byte: UInt8(ascii: ")"))
        }
        func endpoint(_ address: SocketAddress, _ run: inout TextRun) {
          run.put { address.writeAddressText(at: $0) }
          if let port = address.port {
            run.put(byte: UInt8(ascii: " "))
            run.put(decimal: UInt64(port))
          }
        }
        run.put(byte: UInt8(ascii: " "))
        if isListener { run.put(byte: UInt8(ascii: "@")) }
        run.put(byte: mark)
        run.put(byte: UInt8(ascii: " "))
        time.put(when, to: &run)
        run.put(byte: UInt8(ascii: " "))
        if isListener {
          process(&run)
          run.put(" LISTEN ")
          run.put(uppercased: protocolName)
          run.put(" port:")
          run.put(decimal: UInt64(local.port ?? 0))
        } else {
          run.put(uppercased: protocolName)
          run.put(byte: UInt8(ascii: " "))
          if stream.provider == .connUserland {
            run.put("- ")
          } else {
            endpoint(local, &run)
            run.put(" - ")
            endpoint(remote, &run)
            run.put(byte: UInt8(ascii: " "))
          }
          process(&run)
          if stream.connectionFailed { run.put(" FAILED") }
        }
      }
    }
    let c = stream.counts
    guard !isListener, c.rxPackets > 0 || c.txPackets > 0 else { return }
    out.line { bytes in
      // 38 bytes of literals, four numbers of 20 digits at most, and the medium's name.
      bytes.appendRun(atMost: 48 + 4 * 20 + medium.rawValue.utf8.count) { run in
        run.put("   bytes (tx/rx):")
        run.put(decimal: c.txBytes)
        run.put(byte: UInt8(ascii: "/"))
        run.put(decimal: c.rxBytes)
        run.put("  packets:")
        run.put(decimal: c.txPackets)
        run.put(byte: UInt8(ascii: "/"))
        run.put(decimal: c.rxPackets)
        run.put("  medium:")
        run.put(string: medium.rawValue)
      }
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
