import ArgumentParser
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

/// `ntstat replay`: a capture through the same client a live run uses, on the capture's clock.
struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a capture through the client, at recorded speed, faster, or as fast as possible.",
    discussion: """
      The capture's kernel frames are fed to the client (configured as the recording was) on a \
      virtual clock that follows the capture's timestamps, so its timers fire at the same capture \
      times at any speed and the output is the same. The client's requests are matched against the \
      recorded ones (type, provider, source ref, pacing flags; contexts remapped); mismatches are \
      divergences, listed at the end (--strict: exit 1). Default speed: real time for text on a \
      terminal, top speed otherwise. Exit status: 0 clean; 1 divergences under --strict, or a \
      damaged capture (everything before the damage is replayed); 2 trouble.
      """)

  @Argument(help: "A .pcapng.zst or .pcapng capture.") var file: String
  @Option(name: .long, help: "text (the watch format with recorded times), jsonl or csv.") var format: EventFormat =
    .text
  @Option(name: .long, help: "Replay N times faster than recorded.") var speed: Double?
  @Flag(name: .long, help: "Replay at recorded speed.") var realtime = false
  @Flag(name: .long, help: "Replay as fast as possible.") var topSpeed = false
  @Option(name: .long, help: "Print events from this capture time on (e.g. 30s); earlier frames still run.")
  var from: TimeArgument?
  @Option(name: .long, help: "Stop after this capture time.") var to: TimeArgument?
  @Option(name: .long, help: "Print events from this frame on.") var fromFrame: UInt64?
  @Option(name: .long, help: "Stop after this frame.") var toFrame: UInt64?
  @Flag(name: .long, help: "Start over at the end, until interrupted.") var loop = false
  @Flag(name: .long, help: "Exit 1 if the client's requests diverge from the recording.") var strict = false
  @Option(
    name: .long, help: "Decode with this layout family instead of the capture's.",
    transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument?
  @Flag(name: .long, help: "No summary on standard error.") var quiet = false

  func replaySpeed() throws -> ReplaySpeed {
    let chosen = [speed != nil, realtime, topSpeed].filter { $0 }.count
    guard chosen <= 1 else { throw ValidationError("choose one of --speed, --realtime, --top-speed") }
    if let speed {
      guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a positive number") }
      return .factor(speed)
    }
    if realtime { return .realtime }
    if topSpeed { return .topSpeed }
    return format == .text && isatty(1) == 1 ? .realtime : .topSpeed
  }

  func run() throws {
    let speed = try replaySpeed()
    let override = try family?.resolve(assumeNewest: true)
    let fromTime = from?.instant
    let toTime = to?.instant
    var clean = true
    // SIGINT/SIGTERM end the replay cleanly (output flushed, summary printed), at once even in
    // the middle of a long pacing wait; with --loop that is the only way out.
    let current = CurrentReplay()
    let signals = SignalStop { current.stop() }
    defer { withExtendedLifetime(signals) {} }
    repeat {
      clean = try replayOnce(speed: speed, override: override, from: fromTime, to: toTime, current: current) && clean
    } while loop && !current.stopped
    if !clean { throw ExitCode(1) }
  }

  /// The pass in progress, for the signal handler (which runs on another thread).
  final class CurrentReplay: @unchecked Sendable {  // both fields are read and written under `lock`
    private let lock = NSLock()
    // Weak: the signal source keeps this object (and would keep a finished pass's transport,
    // its frames and its reading thread's state) until the process exits.
    private weak var transport: ReplayTransport?
    private var stopRequested = false

    var stopped: Bool { lock.withLock { stopRequested } }

    /// Makes `transport` the current pass; false if a stop came first.
    func start(_ transport: ReplayTransport) -> Bool {
      lock.withLock {
        self.transport = transport
        return !stopRequested
      }
    }

    func stop() {
      lock.withLock {
        stopRequested = true
        return transport
      }?.stop()
    }
  }

  /// One pass over the capture; false if it diverged under --strict or was damaged.
  func replayOnce(
    speed: ReplaySpeed, override: LayoutFamily?, from: MonotonicTime?, to: MonotonicTime?, current: CurrentReplay
  ) throws -> Bool {
    let transport: ReplayTransport
    do {
      transport = try ReplayTransport(path: file, speed: speed, family: override)
    } catch {
      throw CommandFailure(describe(error, reading: file))
    }
    if !current.start(transport) { transport.stop() }
    transport.endTime = to
    transport.endFrame = toFrame
    transport.paceFrom = from ?? .zero
    var configuration = transport.recordedConfiguration ?? ClientConfiguration()
    // A family the user chose is forced: what does not fit it is reported, not fatal.
    if override != nil { configuration.familyTrust = .forced }
    let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
    var printer = EventPrinter(format: format, time: .elapsed(origin: .zero), origin: .zero)
    printer.begin(
      family: transport.family, source: (file as NSString).lastPathComponent, details: configuration.details)
    let output = printer.out
    transport.setWaitHandler { output.flush() }
    var damage: Error?
    // Progress on standard error for a long file, unless the events themselves go to the
    // terminal or the replay is paced as recorded.
    let progress = ProgressLine(file: file, quiet: quiet || isatty(1) == 1 || speed == .realtime)
    defer { progress.finish() }
    // Read once: an option's `wrappedValue` is a generic getter that looks up type metadata,
    // about 450 instructions an event when read in the closure.
    let fromFrame = self.fromFrame
    do {
      try client.run { event in
        progress.tick { transport.fileBytesRead }
        if let from, event.time < from { return }
        if let fromFrame, transport.lastFrameIndex < fromFrame { return }
        printer.print(event)
      }
    } catch let error as CaptureError {
      damage = error
    } catch let error as ClientError {
      printer.flush()
      printError("ntstat: \(file): \(error); replay it with --family F to decode it as another family")
      throw ExitCode(exitLayoutMismatch)
    } catch {
      printer.flush()
      throw CommandFailure("\(error)")
    }
    printer.flush()
    let divergences = transport.divergences
    if !quiet {
      var lines = [
        "replayed \(transport.framesDelivered) kernel frames of \(file) (\(transport.family), \(transport.familyReason)) at \(speed): \(transport.requestsMatched) requests matched, \(transport.divergenceCount) divergences"
      ]
      for divergence in divergences.prefix(20) { lines.append("  " + divergence.description) }
      if transport.divergenceCount > 20 { lines.append("  … and \(transport.divergenceCount - 20) more") }
      printError(lines.joined(separator: "\n"))
    }
    if let damage {
      printError("ntstat: \(damage)")
      return false
    }
    return !(strict && !divergences.isEmpty)
  }
}
