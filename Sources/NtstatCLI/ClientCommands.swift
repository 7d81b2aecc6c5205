import ArgumentParser
import Dispatch
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatWire

/// Stops a running client on SIGINT/SIGTERM so that output and captures end cleanly.
final class SignalStop: @unchecked Sendable {  // `sources` is written in init and read in deinit only
  private var sources: [DispatchSourceSignal] = []

  init(_ stop: @escaping @Sendable () -> Void) {
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler(handler: stop)
      source.resume()
      sources.append(source)
    }
  }

  /// Gives the signals back: cancelled sources release their handlers (and what those hold).
  deinit {
    for source in sources { source.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }
}

/// `ntstat watch`: the live view.
struct WatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "watch",
    abstract: "Print network flows as they come and go (the kernel on macOS, or --simulate anywhere).",
    discussion: """
      Text lines: '+' added, '#' counters updated, '-' removed, '@' a listening socket; notices ('!': \
      kernel drops, refused providers, the layout family's checks) go to standard error at once. \
      FAILED marks a TCP connection seen connecting that never reached ESTABLISHED. --format jsonl \
      prints the canonical event stream (docs/events.md), notices included. Each event is written \
      as it happens (per line on a terminal; on a pipe whenever the client waits). Exit status: 0, \
      2 trouble, 3 every provider refused (unless --keep-going), 4 the kernel's layouts do not \
      fit the family (docs/client.md).
      """)

  @OptionGroup var source: SourceOptions
  @OptionGroup var client: ClientOptions
  @Option(name: .long, help: "text, jsonl or csv.") var format: EventFormat = .text

  func run() throws {
    var configuration = try client.configuration(privileged: source.privileged)
    let (transport, _, choice) = try source.makeClientTransport(receiveBufferSize: configuration.receiveBufferSize)
    defer { transport.close() }
    configuration.apply(choice, transportFamily: transport.family)
    let run = try runClient(
      transport: transport, configuration: configuration, duration: source.clientDuration(),
      format: format, label: source.simulate ? "simulator" : "kernel", keepGoing: client.keepGoing)
    run.printProblems()
  }
}

extension ClientConfiguration {
  /// Decodes with the chosen family (when the transport's differs) at the chosen trust.
  mutating func apply(_ choice: (LayoutFamily, FamilyTrust), transportFamily: LayoutFamily) {
    if choice.0 != transportFamily || choice.1 != .known { family = choice.0 }
    familyTrust = choice.1
  }
}

/// How a client run ended, for the commands' summaries and exit codes.
struct ClientRun {
  let client: NetworkStatisticsClient
  var added = 0
  var removed = 0

  /// One line on standard error when something went wrong that the events alone do not say.
  func printProblems() {
    let stats = client.statistics
    var problems: [String] = []
    if stats.malformedDatagrams > 0 { problems.append("\(stats.malformedDatagrams) datagram(s) did not decode") }
    if stats.kernelDrops > 0 { problems.append("\(stats.kernelDrops) message(s) dropped by the kernel") }
    if stats.sendFailures > 0 { problems.append("\(stats.sendFailures) send() failure(s), retried") }
    if !stats.providersRefused.isEmpty {
      problems.append(
        "refused: "
          + stats.providersRefused.map { "\($0.key) (\(errnoName($0.value)))" }.sorted().joined(separator: ", "))
    }
    guard !problems.isEmpty else { return }
    printError("ntstat: " + problems.joined(separator: "; "))
  }
}

/// Exit status when the kernel refused every provider asked for.
let exitAllProvidersRefused: Int32 = 3
/// Exit status when what the kernel sends does not fit the layout family.
let exitLayoutMismatch: Int32 = 4

/// Runs a client to the end, printing its events; returns the run for its statistics. Exits
/// 3 when the kernel refuses every provider (unless `keepGoing`), 4 when what it sends does
/// not fit the layout family.
@discardableResult
func runClient(
  transport: ClientTransport, configuration: ClientConfiguration, duration: Duration?, format: EventFormat,
  label: String, quiet: Bool = false, keepGoing: Bool = false, onEvent: (ClientEvent) -> Void = { _ in },
  stopWhen: @escaping () -> Bool = { false }
) throws -> ClientRun {
  let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
  var run = ClientRun(client: client)
  var allRefused = false
  let origin = transport.now
  let time: TimeLabel =
    transport is DatagramSocketTransport
    ? .wallClock(origin: origin, wallAnchor: UInt64(Date().timeIntervalSince1970 * 1e9)) : .elapsed(origin: origin)
  var printer = EventPrinter(format: format, time: time, origin: origin)
  if !quiet { printer.begin(family: client.family, source: label, details: configuration.details) }
  let output = printer.out
  transport.setWaitHandler { output.flush() }
  defer { transport.setWaitHandler(nil) }
  let signals = SignalStop { [weak client] in client?.stop() }
  defer { withExtendedLifetime(signals) {} }
  do {
    try client.run(for: duration) { event in
      onEvent(event)
      switch event {
      case .streamAdded: run.added += 1
      case .streamRemoved: run.removed += 1
      case .notice(let notice):
        // Notices matter whatever the format: standard error sees the ones a user must act on.
        if quiet || format == .jsonl, notice.kind == .layoutVerified || notice.kind == .providerUnavailable {
          printError("ntstat: \(notice)")
        }
        if notice.kind == .allProvidersRefused, !keepGoing {
          allRefused = true
          client.stop()
        }
      default: break
      }
      if !quiet { printer.print(event) }
      if stopWhen() { client.stop() }
    }
  } catch let error as ClientError {
    printer.flush()
    printError(
      "ntstat: \(error)\n"
        + "  The kernel's layouts are not the family's. To keep the evidence for a bug report, record it: "
        + "ntstat record --assume-newest -o evidence.pcapng.zst (docs/recording-on-macos.md).")
    throw ExitCode(exitLayoutMismatch)
  } catch {
    printer.flush()
    throw CommandFailure("\(error)")
  }
  printer.flush()
  if allRefused {
    printError(
      "ntstat: the kernel refused every provider asked for; nothing to watch "
        + "(--keep-going runs on regardless; `ntstat doctor` explains)")
    if let diagnosis = client.statistics.refusalDiagnosis(family: client.family) {
      printError("ntstat: \(diagnosis)")
    }
    run.printProblems()
    throw ExitCode(exitAllProvidersRefused)
  }
  return run
}

/// `ntstat record`: watch plus a capture of every frame.
struct RecordCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "record",
    abstract: "Record every ntstat frame, both directions, to a zstd-compressed pcapng capture.",
    discussion: """
      The capture carries what replay needs (kernel version, layout family, client configuration, \
      receive buffer size) in its metadata. A recorder killed at any point leaves a file readable up \
      to its last flush (every 250 ms: at most that is lost). With --simulate, time is the simulator's: \
      recording 10 minutes need not take 10 minutes.
      """)

  @OptionGroup var source: SourceOptions
  @OptionGroup var client: ClientOptions
  @Option(name: [.short, .customLong("output")], help: "The capture to write (.pcapng.zst, or .pcapng).")
  var output: String
  @Option(name: .long, help: "Stop after this many frames.") var frames: UInt64?
  @Option(name: .long, help: "Start a new file past this many bytes (e.g. 100M).") var rotateSize: String?
  @Option(name: .long, help: "Start a new file after this long (e.g. 1h).") var rotateTime: TimeArgument?
  @Flag(
    name: .long,
    help: "Redact as `ntstat redact` does, with a random key: pseudonyms for addresses, names, UUIDs and the host.")
  var anonymize = false
  @Option(name: .long, help: "zstd compression level.") var level: Int32 = CaptureCompression.defaultLevel
  @Option(name: .long, help: "Print events too: text, jsonl or csv (default: only the summary).")
  var format: EventFormat?
  @OptionGroup var outputFile: OutputFileOptions

  func run() throws {
    var configuration = try client.configuration(privileged: source.privileged)
    let policy = try outputFile.policy()
    // Before anything starts: a long recording must not find out at its end that it cannot write.
    do { try OutputFile.checkCreatable(output, policy: policy) } catch {
      throw CommandFailure("\(error)")
    }
    let (base, metadataBase, choice) = try source.makeClientTransport(
      receiveBufferSize: configuration.receiveBufferSize)
    defer { base.close() }
    configuration.apply(choice, transportFamily: base.family)
    var metadata = metadataBase
    metadata.configuration = configuration.summary
    if case .tentative(let kernel) = choice.1 {
      // A later `replay --family F` can decode the capture again with another family.
      metadata.extra["ntstat.family.assumed"] = "\(choice.0) (kernel \(kernel) is newer than every known family)"
    }
    // The same redaction as `ntstat redact`, with a random key that is never stored; the client
    // itself still sees and prints the real values.
    var anonymizer: Redactor?
    if anonymize {
      let redactor = Redactor(
        family: configuration.family ?? base.family,
        options: RedactionOptions(key: RedactionOptions.randomKey()))
      metadata = RedactCommand.redact(metadata, with: redactor)
      anonymizer = redactor
    }
    let compression: CaptureCompression = output.hasSuffix(".pcapng") ? .none : .zstd(level: level)
    // A simulated session is flushed on its own clock, so its file is laid out as a real
    // recording of it would be, however fast the simulation ran.
    let flushClock: CaptureFileWriter.FlushClock = source.simulate && !source.realtime ? .frameTimestamps : .monotonic
    func open(_ path: String, policy: OutputFilePolicy) throws -> CaptureFileWriter {
      do {
        return try CaptureFileWriter(
          path: path, metadata: metadata, compression: compression,
          interfaces: [PcapngFormat.interfaceDescription(family: metadata.family)],
          policy: policy, flushClock: flushClock)
      } catch {
        throw CommandFailure("\(error)")
      }
    }
    let recorder = RecordingTransport(wrapping: base, writer: try open(output, policy: policy))
    if var redactor = anonymizer {
      recorder.redaction = { bytes, direction in redactor.redact(bytes, direction: direction) }
    }
    let maxBytes = try rotateSize.map { text -> UInt64 in
      guard let bytes = ByteSizeParser.bytes(text) else {
        throw ValidationError("--rotate-size: \"\(text)\" is not a size")
      }
      return bytes
    }
    let maxAge = rotateTime?.duration
    if maxBytes != nil || maxAge != nil {
      let output = self.output
      // Rotation never replaces anything, --force or not: a name that exists is skipped.
      var rotationPolicy = policy
      rotationPolicy.replaceExisting = false
      var nextIndex = 1
      recorder.rotation = RecordingTransport.Rotation(maxBytes: maxBytes, maxDuration: maxAge) { index in
        nextIndex = max(nextIndex, index)
        while true {
          let path = RotatedName.path(output, index: nextIndex)
          nextIndex += 1
          do {
            return try CaptureFileWriter(
              path: path, metadata: metadata, compression: compression,
              interfaces: [PcapngFormat.interfaceDescription(family: metadata.family)], policy: rotationPolicy,
              flushClock: flushClock)
          } catch let error as CaptureError where error.errno == EEXIST {
            continue
          }
        }
      }
    }
    let start = Date()
    let frameLimit = frames
    let run: ClientRun
    do {
      run = try runClient(
        transport: recorder, configuration: configuration, duration: source.clientDuration(),
        format: format ?? .text, label: source.simulate ? "simulator" : "kernel", quiet: format == nil,
        keepGoing: client.keepGoing
      ) { _ in
      } stopWhen: {
        frameLimit.map { recorder.framesRecorded >= $0 } ?? false
      }
    } catch {
      // What was recorded is the evidence: close the file properly before exiting.
      try? recorder.writer.close(statistics: [0: recorder.captureStatistics])
      printError("ntstat: the capture so far is in \(output)")
      throw error
    }
    let client = run.client
    let (added, removed) = (run.added, run.removed)
    do {
      try recorder.writer.close(statistics: [0: recorder.captureStatistics])
    } catch {
      throw CommandFailure("\(error)")
    }
    var rows: [[String]] = []
    var total: UInt64 = 0
    for file in recorder.files {
      let size = ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.uint64Value ?? 0
      total += size
      rows.append([file, ByteSizeParser.text(size)])
    }
    let stats = client.statistics
    let summary = [
      "recorded \(recorder.framesRecorded) frames (\(stats.datagramsReceived) from the kernel, \(stats.requestsSent) requests) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s",
      "streams: \(added) added, \(removed) removed; drops: \(stats.kernelDrops) kernel, \(recorder.transportDrops + recorder.writer.totalOverflowDrops) recorder; decode failures: \(stats.malformedDatagrams)",
      "\(recorder.files.count == 1 ? "file" : "files"): \(ByteSizeParser.text(total))"
        + (outputFile.ownershipNote(policy).map { ", " + $0 } ?? ""),
    ]
    printError(summary.joined(separator: "\n"))
    if recorder.files.count > 1 { printError(TextTable.render(header: ["file", "size"], rows: rows)) }
  }
}

/// `capture.pcapng.zst`, index 2 → `capture-0002.pcapng.zst`.
enum RotatedName {
  static func path(_ base: String, index: Int) -> String {
    let digits = String(index)
    let number = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    for suffix in [".pcapng.zst", ".pcapng"] where base.hasSuffix(suffix) {
      return String(base.dropLast(suffix.count)) + "-" + number + suffix
    }
    return base + "-" + number
  }
}

/// `100M`, `2G`, `512k`, `4096` → bytes.
enum ByteSizeParser {
  static func bytes(_ text: String) -> UInt64? {
    let scales: [(String, UInt64)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
    for (suffix, scale) in scales where text.uppercased().hasSuffix(suffix) {
      return UInt64(text.dropLast()).map { $0 * scale }
    }
    return UInt64(text)
  }

  static func text(_ bytes: UInt64) -> String {
    if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
    if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / Double(1 << 10)) }
    return "\(bytes) B"
  }
}
