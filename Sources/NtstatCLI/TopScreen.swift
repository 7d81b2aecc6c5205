import NTStat
import NtstatWire

/// What the user has chosen to see: sort, expansion, selection, filter, loopback.
struct TopViewState: Equatable {
  var sortKey = TopSortKey.rate
  var descending = true
  var expanded: Set<UInt32> = []
  /// The selected process, by pid (kept across refreshes as rows move).
  var selected: UInt32?
  var filter = ""
  /// Typing a filter after `/`.
  var editingFilter = false
  var showLoopback = true
  var paused = false
  /// The replay's speed, for the header (nil: not a paced replay).
  var speed: Double?
}

/// Renders a snapshot as the lines of a screen (or of a batch report): pure text in, text out.
struct TopScreen {
  var family: LayoutFamily
  var source: String
  var color: Bool

  /// `1.2 KiB`, `980 B`, `12.0 MiB`: at most 9 columns.
  static func bytes(_ value: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var amount = Double(value)
    var unit = 0
    while amount >= 1024, unit < units.count - 1 {
      amount /= 1024
      unit += 1
    }
    return unit == 0 ? "\(value) B" : String(format: "%.1f", amount) + " " + units[unit]
  }

  /// `00:01:23` since the start of the run.
  static func clock(_ nanoseconds: UInt64) -> String {
    let seconds = nanoseconds / 1_000_000_000
    func two(_ v: UInt64) -> String { v < 10 ? "0\(v)" : String(v) }
    return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
  }

  static func fit(_ text: String, _ width: Int) -> String {
    text.count <= width ? text : String(text.prefix(max(0, width)))
  }

  static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let cut = fit(text, width)
    let space = String(repeating: " ", count: width - cut.count)
    return right ? space + cut : cut + space
  }

  func header(_ snapshot: TopModel.Snapshot?, _ view: TopViewState) -> String {
    var text = "ntstat top  \(family)  \(source)"
    if let snapshot {
      text +=
        "  t+\(Self.clock(snapshot.time))  +\(snapshot.added) -\(snapshot.removed) flows  drops \(snapshot.drops)"
    } else {
      text += "  waiting for the first interval"
    }
    if view.paused { text += "  PAUSED" }
    if let speed = view.speed { text += "  ×\(speed == speed.rounded() ? String(Int(speed)) : String(speed))" }
    return text
  }

  func status(_ view: TopViewState) -> String {
    let direction = view.descending ? "↓" : "↑"
    var text = "sort \(view.sortKey.rawValue) \(direction)  loopback \(view.showLoopback ? "shown" : "hidden")"
    if view.editingFilter {
      text += "  filter: \(view.filter)_"
    } else if !view.filter.isEmpty {
      text += "  filter: \(view.filter)"
    }
    return text
  }

  /// The process table's column header for a screen `width` wide.
  func columns(_ width: Int) -> String {
    let name = max(8, width - 64)
    return "  " + Self.pad("PID", 6, right: true) + " " + Self.pad("PROCESS", name) + " "
      + Self.pad("CONN", 4, right: true) + " " + Self.pad("RX/s", 10, right: true) + " "
      + Self.pad("TX/s", 10, right: true) + " " + Self.pad("RX TOTAL", 10, right: true) + " "
      + Self.pad("TX TOTAL", 10, right: true)
  }

  /// One process; `expanded` nil for a report, where nothing expands.
  func processLine(_ p: TopProcessRow, width: Int, expanded: Bool?) -> String {
    let name = max(8, width - 64)
    let mark = expanded == nil || p.streams.isEmpty ? " " : expanded! ? "▾" : "▸"
    return mark + " " + Self.pad(String(p.pid), 6, right: true) + " " + Self.pad(p.process, name) + " "
      + Self.pad(String(p.connections), 4, right: true) + " " + Self.pad(Self.bytes(p.rxRate), 10, right: true) + " "
      + Self.pad(Self.bytes(p.txRate), 10, right: true) + " " + Self.pad(Self.bytes(p.rxTotal), 10, right: true) + " "
      + Self.pad(Self.bytes(p.txTotal), 10, right: true)
  }

  func streamLine(_ row: TopModel.StreamRow, width: Int) -> String {
    let s = row.stream
    var text = "      \(s.protocolName) \(s.local) → \(s.remote)"
    if let state = s.state { text += " \(state)" }
    if !s.open { text += " (closed)" }
    text += " \(s.interface.rawValue)  rx \(Self.bytes(row.rxRate))/s tx \(Self.bytes(row.txRate))/s"
    if let rtt = s.rttMilliseconds { text += String(format: "  rtt %.1f ms", rtt) }
    return Self.fit(text, width)
  }

  static let keys = "q quit  s/S sort  ↑↓ select  ⏎ expand  / filter  p pause  +/- speed  l loopback"

  /// The whole screen, exactly `height` lines no wider than `width`; the selected row in reverse
  /// video, the header in color unless `color` is off (NO_COLOR).
  func render(_ snapshot: TopModel.Snapshot?, _ view: TopViewState, width: Int, height: Int) -> [String] {
    let bold = color ? "\u{1B}[1;36m" : ""
    let reset = color ? "\u{1B}[0m" : ""
    var lines = [
      bold + Self.fit(header(snapshot, view), width) + reset, Self.fit(status(view), width),
      Self.fit(columns(width), width),
    ]
    let processes =
      snapshot?.processes(
        showLoopback: view.showLoopback, filter: view.filter, key: view.sortKey, descending: view.descending) ?? []
    let room = max(0, height - lines.count - 1)
    var body: [String] = []
    for process in processes where body.count < room {
      let open = view.expanded.contains(process.pid)
      var line = Self.fit(processLine(process, width: width, expanded: open), width)
      if process.pid == view.selected { line = "\u{1B}[7m" + Self.pad(line, width) + "\u{1B}[0m" }
      body.append(line)
      if open {
        for row in process.streams.sorted(by: { $0.rxRate &+ $0.txRate > $1.rxRate &+ $1.txRate })
        where body.count < room {
          body.append(streamLine(row, width: width))
        }
      }
    }
    lines += body
    while lines.count < height - 1 { lines.append("") }
    lines.append(Self.fit(Self.keys, width))
    return Array(lines.prefix(height))
  }

  /// A snapshot for `--batch`: the header and every process, no key line, no truncation by height.
  func report(_ snapshot: TopModel.Snapshot, width: Int = 100) -> [String] {
    var lines = [header(snapshot, TopViewState()), columns(width)]
    for process in snapshot.processes() { lines.append(processLine(process, width: width, expanded: nil)) }
    return lines
  }

  /// A snapshot as one JSON object (`--batch --format jsonl`): exact integers, bytes per second.
  func json(_ snapshot: TopModel.Snapshot) -> String {
    let processes = snapshot.processes(key: .pid, descending: false).map { p -> FieldValue in
      .object([
        Field("pid", .uint(UInt64(p.pid))), Field("process", .string(p.process)),
        Field("connections", .uint(UInt64(p.connections))), Field("rx_rate", .uint(p.rxRate)),
        Field("tx_rate", .uint(p.txRate)), Field("rx_total", .uint(p.rxTotal)), Field("tx_total", .uint(p.txTotal)),
      ])
    }
    return FieldValue.object([
      Field("snapshot", .uint(UInt64(snapshot.number))), Field("time_ns", .uint(snapshot.time)),
      Field("family", .string(family.name)), Field("source", .string(source)),
      Field("added", .uint(UInt64(snapshot.added))), Field("removed", .uint(UInt64(snapshot.removed))),
      Field("drops", .uint(snapshot.drops)), Field("processes", .array(processes)),
    ]).jsonText
  }
}
