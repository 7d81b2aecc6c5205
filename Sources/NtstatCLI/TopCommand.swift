import ArgumentParser
import Foundation
import NTStat
import NtstatReplay
import NtstatWire

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `ntstat top`: who is using the network, per process, refreshed every interval; on the
/// kernel, the simulator or a capture, interactive or in batch.
struct TopCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "top",
    abstract: "A live per-process view of network use (the kernel, --simulate, or --replay FILE).",
    discussion: """
      One row per process: connections open, receive and send rates over the last interval, and \
      totals (closed connections included). Keys: q quit, s/S sort key and direction, arrows and \
      Enter expand a process into its connections, / filter by name, p pause (a replay's clock \
      stops), + and - replay speed, l loopback shown or hidden (docs/top.md). --batch prints \
      snapshots instead, as text or JSON Lines, for scripts.
      """)

  @OptionGroup var source: SourceOptions
  @OptionGroup var client: ClientOptions
  @Option(name: .long, help: "Replay this capture instead of watching (with --speed N or --realtime).")
  var replay: String?
  @Flag(name: .long, help: "Print snapshots instead of the interactive screen.") var batch = false
  @Option(name: [.customShort("n"), .long], help: "With --batch: stop after this many snapshots.") var count: Int?
  @Option(name: .long, help: "With --batch: text or jsonl.") var format: TopBatchFormat = .text

  enum TopBatchFormat: String, ExpressibleByArgument { case text, jsonl }

  func validate() throws {
    if let count, count < 1 { throw ValidationError("-n: at least one snapshot") }
    if count != nil, !batch { throw ValidationError("-n goes with --batch") }
    if replay != nil, source.simulate { throw ValidationError("choose --replay or --simulate") }
  }

  func run() throws {
    let interval = UInt64(client.interval * 1e9)
    guard interval > 0 else { throw ValidationError("--interval: must be positive") }
    let (transport, configuration, label) = try open()
    defer { transport.close() }
    let clientObject = NetworkStatisticsClient(transport: transport, configuration: configuration)
    let screen = TopScreen(
      family: clientObject.family, source: label, color: ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
    if batch {
      try runBatch(clientObject, screen: screen, interval: interval)
    } else {
      try runInteractive(clientObject, transport: transport, screen: screen, interval: interval)
    }
  }

  /// The transport, the client's configuration and how the header names the source.
  func open() throws -> (ClientTransport, ClientConfiguration, String) {
    if let replay {
      let speed: ReplaySpeed
      if let factor = source.speed {
        guard factor > 0, factor.isFinite else { throw ValidationError("--speed must be a positive number") }
        speed = .factor(factor)
      } else {
        speed = source.realtime || !batch ? .realtime : .topSpeed
      }
      let transport: ReplayTransport
      do {
        transport = try ReplayTransport(path: replay, speed: speed)
      } catch {
        throw CommandFailure(describe(error, reading: replay))
      }
      var configuration = transport.recordedConfiguration ?? ClientConfiguration()
      configuration.filter = try client.configuration().filter
      return (transport, configuration, (replay as NSString).lastPathComponent)
    }
    var source = self.source
    // The screen is for people: a simulation runs at the wall clock's pace unless told otherwise.
    if source.simulate, !batch, source.speed == nil { source.realtime = true }
    var configuration = try client.configuration(privileged: source.privileged)
    let (transport, _, choice) = try source.makeClientTransport(receiveBufferSize: configuration.receiveBufferSize)
    configuration.apply(choice, transportFamily: transport.family)
    return (transport, configuration, source.simulate ? "simulator" : "kernel")
  }

  func runBatch(_ client: NetworkStatisticsClient, screen: TopScreen, interval: UInt64) throws {
    let out = StandardOutput()
    var model = TopModel(interval: interval)
    var printed = 0
    let limit = count ?? .max
    func emit(_ snapshots: [TopModel.Snapshot]) {
      for snapshot in snapshots where printed < limit {
        printed += 1
        switch format {
        case .jsonl: out.line(screen.json(snapshot))
        case .text:
          if printed > 1 { out.line("") }
          for line in screen.report(snapshot) { out.line(line) }
        }
        if printed == limit { client.stop() }
      }
    }
    let signals = SignalStop { [weak client] in client?.stop() }
    defer { withExtendedLifetime(signals) {} }
    try client.run(for: self.source.clientDuration()) { event in
      model.drops = client.statistics.kernelDrops &+ client.statistics.transportDrops
      emit(model.apply(event))
    }
    // The interval the run ended in, if anything happened in it.
    if printed < limit, model.origin != nil { emit([model.snapshot()]) }
    out.flush()
  }

  func runInteractive(
    _ client: NetworkStatisticsClient, transport: ClientTransport, screen: TopScreen, interval: UInt64
  ) throws {
    guard let terminal = TopTerminal() else {
      throw CommandFailure("top: standard input and output must be a terminal (or use --batch)")
    }
    defer { terminal.restore() }
    let shared = TopShared(model: TopModel(interval: interval))
    let quit = StopSignal()
    let signals = SignalStop {
      quit.set()
      client.stop()
    }
    defer { withExtendedLifetime(signals) {} }
    let resized = TopResizeWatch()
    let replay = transport as? ReplayTransport
    let duration = source.clientDuration()
    let worker = Thread {
      do {
        try client.run(for: duration) { event in
          shared.apply(event, drops: client.statistics.kernelDrops &+ client.statistics.transportDrops)
        }
      } catch {
        shared.fail("\(error)")
      }
      shared.finish()
    }
    worker.start()

    var view = TopViewState()
    if let replay, case .factor(let factor) = replay.control.speed { view.speed = factor }
    if let replay, replay.control.speed == .realtime { view.speed = 1 }
    var shown: [String] = []
    /// Paused on the kernel or the simulator, the client runs on and the screen holds this.
    var frozen: TopModel.Snapshot?
    var size = terminal.size
    var full = true
    while !quit.isSet {
      let keys = terminal.keys(timeout: 100)
      let snapshot = shared.latest
      // Selection keys need the rows as shown; most ticks bring no key and skip building them.
      let rows =
        keys.isEmpty
        ? []
        : snapshot?.processes(
          showLoopback: view.showLoopback, filter: view.filter, key: view.sortKey, descending: view.descending) ?? []
      for key in keys {
        if view.editingFilter {
          switch key {
          case .enter, .escape: view.editingFilter = false
          case .backspace: if !view.filter.isEmpty { view.filter.removeLast() }
          case .character(let c): view.filter.append(c)
          default: break
          }
          continue
        }
        switch key {
        case .character("q"): quit.set()
        case .character("s"): view.sortKey = view.sortKey.next
        case .character("S"): view.descending.toggle()
        case .character("/"):
          view.editingFilter = true
          view.filter = ""
        case .character("l"): view.showLoopback.toggle()
        case .character("p"):
          view.paused.toggle()
          replay?.control.setPaused(view.paused)
          frozen = view.paused ? snapshot : nil
        case .character("+"), .character("="), .character("-"):
          guard let replay, let speed = view.speed else { break }
          let next = key == .character("-") ? max(0.125, speed / 2) : min(1024, speed * 2)
          view.speed = next
          replay.control.setSpeed(.factor(next))
        case .up, .down:
          let pids = rows.map(\.pid)
          guard !pids.isEmpty else { break }
          let at = view.selected.flatMap { pids.firstIndex(of: $0) } ?? (key == .up ? pids.count : -1)
          view.selected = pids[min(pids.count - 1, max(0, at + (key == .up ? -1 : 1)))]
        case .enter, .right, .left:
          guard let pid = view.selected ?? rows.first?.pid else { break }
          view.selected = pid
          if key == .left || (key == .enter && view.expanded.contains(pid)) {
            view.expanded.remove(pid)
          } else {
            view.expanded.insert(pid)
          }
        default: break
        }
      }
      if resized.check() {
        size = terminal.size
        full = true
      }
      // When the source ends (a simulation, a capture), the last screen stays until q.
      let current = view.paused && replay == nil ? frozen : snapshot
      let lines = screen.render(current, view, width: size.columns, height: size.rows)
      if full || lines != shown {
        terminal.draw(lines, previous: shown, full: full)
        shown = lines
        full = false
      }
    }
    client.stop()
    while !shared.isFinished { usleep(10_000) }
    if let failure = shared.failure {
      terminal.restore()
      throw CommandFailure("\(failure)")
    }
  }
}

/// The model between the client's thread (events in) and the screen's (snapshots out).
final class TopShared: @unchecked Sendable {  // every field is read and written under `lock`
  private let lock = NSLock()
  private var model: TopModel
  private var latestValue: TopModel.Snapshot?
  private var finished = false
  private var failureValue: String?

  init(model: TopModel) { self.model = model }

  func apply(_ event: ClientEvent, drops: UInt64) {
    lock.lock()
    defer { lock.unlock() }
    model.drops = drops
    if let last = model.apply(event).last { latestValue = last }
  }

  var latest: TopModel.Snapshot? {
    lock.lock()
    defer { lock.unlock() }
    return latestValue
  }

  func fail(_ message: String) {
    lock.lock()
    failureValue = message
    lock.unlock()
  }

  var failure: String? {
    lock.lock()
    defer { lock.unlock() }
    return failureValue
  }

  func finish() {
    lock.lock()
    finished = true
    lock.unlock()
  }

  var isFinished: Bool {
    lock.lock()
    defer { lock.unlock() }
    return finished
  }
}

/// SIGWINCH, noticed by the screen loop.
final class TopResizeWatch: @unchecked Sendable {  // `changed` is read and written under `lock`
  private let lock = NSLock()
  private var changed = false
  private let source: DispatchSourceSignal

  init() {
    signal(SIGWINCH, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
    source.setEventHandler { [unowned self] in
      self.lock.lock()
      self.changed = true
      self.lock.unlock()
    }
    source.resume()
  }

  deinit {
    source.cancel()
    signal(SIGWINCH, SIG_DFL)
  }

  /// Whether the window changed size since the last call.
  func check() -> Bool {
    lock.lock()
    defer { lock.unlock() }
    let value = changed
    changed = false
    return value
  }
}
