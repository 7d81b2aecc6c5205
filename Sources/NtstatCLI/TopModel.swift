import NTStat
import NtstatWire

/// What `ntstat top` shows, computed from the client's events alone, on the transport's clock:
/// every `interval` of that clock (the capture's time in a replay) a snapshot of every stream's
/// rates over the interval and totals. No terminal, no wall clock: the same events give the same
/// snapshots at any replay speed.
struct TopModel {
  /// One stream as the view knows it.
  struct Stream: Hashable {
    var id: SourceRef
    var pid: UInt32
    var process: String
    var protocolName: String
    var local: String
    var remote: String
    var state: String?
    var interface: InterfaceClass
    /// Smoothed RTT in milliseconds (`t_srtt` / 32), when the family reports one and it is set.
    var rttMilliseconds: Double?
    var rxTotal: UInt64
    var txTotal: UInt64
    /// The totals at the previous snapshot (0 for a stream added since).
    var rxAtLast: UInt64 = 0
    var txAtLast: UInt64 = 0
    var open = true
  }

  /// One stream in a snapshot.
  struct StreamRow: Hashable {
    var stream: Stream
    /// Bytes per second over the interval.
    var rxRate: UInt64
    var txRate: UInt64
  }

  /// Bytes of streams no longer shown, by process: totals include every stream a process had.
  struct ClosedTotals: Hashable {
    var process: String
    var rx: UInt64 = 0
    var tx: UInt64 = 0
  }

  struct Snapshot: Hashable {
    /// Which snapshot (1, 2, …) and at what time since the start of the run.
    var number: Int
    var time: UInt64
    var streams: [StreamRow]
    var closed: [UInt32: ClosedTotals]
    var added: Int
    var removed: Int
    var drops: UInt64
  }

  let interval: UInt64
  private(set) var origin: MonotonicTime?
  private var streams: [SourceRef: Stream] = [:]
  private var closed: [UInt32: ClosedTotals] = [:]
  private var added = 0
  private var removed = 0
  private var taken = 0
  /// Kernel and transport drops so far (from the client's statistics).
  var drops: UInt64 = 0

  init(interval: UInt64) {
    precondition(interval > 0, "a snapshot interval of zero")
    self.interval = interval
  }

  /// The time the next snapshot is due, on the transport's clock.
  var nextBoundary: MonotonicTime? { origin?.adding(nanoseconds: UInt64(taken + 1) * interval) }

  mutating func start(at time: MonotonicTime) {
    if origin == nil { origin = time }
  }

  /// Applies one event; first takes the snapshots of every boundary the event's time passed
  /// (an event at a boundary belongs to the interval it ends).
  mutating func apply(_ event: ClientEvent) -> [Snapshot] {
    let snapshots = advance(to: event.time)
    switch event {
    case .streamAdded(let s):
      added += 1
      streams[s.id] = Self.stream(s, previous: nil)
    case .streamStatsUpdated(let s):
      streams[s.id] = Self.stream(s, previous: streams[s.id])
    case .streamRemoved(let s):
      removed += 1
      var stream = Self.stream(s, previous: streams[s.id])
      stream.open = false
      streams[s.id] = stream
    case .notice:
      break
    }
    return snapshots
  }

  /// Snapshots of every boundary up to and including `time`.
  mutating func advance(to time: MonotonicTime) -> [Snapshot] {
    if origin == nil { origin = time }
    var snapshots: [Snapshot] = []
    while let due = nextBoundary, due < time { snapshots.append(snapshot()) }
    return snapshots
  }

  /// The snapshot that ends the current interval: rates over it, then the interval starts over
  /// (streams removed in it are shown once more and then only count in their process's totals).
  mutating func snapshot() -> Snapshot {
    taken += 1
    // The snapshot shows closed totals as they were before it: its removed streams are still
    // among its rows and fold into the totals only after it.
    let closedBefore = closed
    var rows: [StreamRow] = []
    rows.reserveCapacity(streams.count)
    for (id, stream) in streams {
      rows.append(
        StreamRow(
          stream: stream, rxRate: Self.rate(stream.rxTotal &- stream.rxAtLast, interval),
          txRate: Self.rate(stream.txTotal &- stream.txAtLast, interval)))
      if stream.open {
        streams[id]?.rxAtLast = stream.rxTotal
        streams[id]?.txAtLast = stream.txTotal
      } else {
        streams[id] = nil
        closed[stream.pid, default: ClosedTotals(process: stream.process)].rx &+= stream.rxTotal
        closed[stream.pid, default: ClosedTotals(process: stream.process)].tx &+= stream.txTotal
      }
    }
    rows.sort { $0.stream.id < $1.stream.id }
    let snapshot = Snapshot(
      number: taken, time: UInt64(taken) * interval, streams: rows, closed: closedBefore, added: added,
      removed: removed, drops: drops)
    added = 0
    removed = 0
    return snapshot
  }

  static func rate(_ bytes: UInt64, _ interval: UInt64) -> UInt64 {
    UInt64((Double(bytes) * 1e9 / Double(interval)).rounded())
  }

  static func stream(_ s: NetworkStream, previous: Stream?) -> Stream {
    let rtt = s.tcpState != nil && s.counts.avgRTT > 0 ? Double(s.counts.avgRTT) / 32 : nil
    return Stream(
      id: s.id, pid: s.process.pid, process: s.process.name, protocolName: s.key.protocolName,
      local: s.key.local.description, remote: s.key.remote.description, state: s.tcpState?.description,
      interface: s.interfaceClass, rttMilliseconds: rtt, rxTotal: s.counts.rxBytes, txTotal: s.counts.txBytes,
      rxAtLast: previous?.rxAtLast ?? 0, txAtLast: previous?.txAtLast ?? 0, open: true)
  }
}

/// Streams grouped by process, filtered and sorted as the view asks.
struct TopProcessRow: Hashable {
  var pid: UInt32
  var process: String
  var connections: Int
  var rxRate: UInt64
  var txRate: UInt64
  var rxTotal: UInt64
  var txTotal: UInt64
  var streams: [TopModel.StreamRow]
}

/// How the rows are ordered.
enum TopSortKey: String, CaseIterable {
  case rate, total, name, pid, connections

  var next: TopSortKey {
    let all = Self.allCases
    return all[(all.firstIndex(of: self)! + 1) % all.count]
  }
}

extension TopModel.Snapshot {
  /// Processes with their streams: loopback streams left out unless asked for, names matched
  /// by `filter` (a substring, any case), sorted by `key`.
  func processes(
    showLoopback: Bool = true, filter: String = "", key: TopSortKey = .rate, descending: Bool = true
  )
    -> [TopProcessRow]
  {
    var rows: [UInt32: TopProcessRow] = [:]
    for row in streams where showLoopback || row.stream.interface != .loopback {
      let s = row.stream
      var process =
        rows[s.pid]
        ?? TopProcessRow(
          pid: s.pid, process: s.process, connections: 0, rxRate: 0, txRate: 0, rxTotal: 0, txTotal: 0, streams: [])
      process.process = s.process
      if s.open { process.connections += 1 }
      process.rxRate &+= row.rxRate
      process.txRate &+= row.txRate
      process.rxTotal &+= s.rxTotal
      process.txTotal &+= s.txTotal
      process.streams.append(row)
      rows[s.pid] = process
    }
    for (pid, totals) in closed where rows[pid] != nil || totals.rx > 0 || totals.tx > 0 {
      var process =
        rows[pid]
        ?? TopProcessRow(
          pid: pid, process: totals.process, connections: 0, rxRate: 0, txRate: 0, rxTotal: 0, txTotal: 0, streams: [])
      process.rxTotal &+= totals.rx
      process.txTotal &+= totals.tx
      rows[pid] = process
    }
    var result = Array(rows.values)
    if !filter.isEmpty { result = result.filter { $0.process.lowercased().contains(filter.lowercased()) } }
    /// Ascending by the key, then by pid; descending reverses the key only.
    func keyOrder(_ a: TopProcessRow, _ b: TopProcessRow) -> Bool? {
      switch key {
      case .rate:
        return a.rxRate &+ a.txRate == b.rxRate &+ b.txRate ? nil : a.rxRate &+ a.txRate < b.rxRate &+ b.txRate
      case .total:
        return a.rxTotal &+ a.txTotal == b.rxTotal &+ b.txTotal ? nil : a.rxTotal &+ a.txTotal < b.rxTotal &+ b.txTotal
      case .name:
        return a.process.lowercased() == b.process.lowercased() ? nil : a.process.lowercased() < b.process.lowercased()
      case .pid: return nil
      case .connections: return a.connections == b.connections ? nil : a.connections < b.connections
      }
    }
    result.sort { a, b in
      if let ascending = keyOrder(a, b) { return descending ? !ascending : ascending }
      return descending && key == .pid ? a.pid > b.pid : a.pid < b.pid
    }
    return result
  }
}
