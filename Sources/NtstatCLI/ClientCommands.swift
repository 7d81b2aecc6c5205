import ArgumentParser
import Dispatch
import Foundation
import NTStat
import NtstatCapture
import NtstatSimulator
import NtstatWire

/// Stops a running client on SIGINT/SIGTERM so that output and captures end cleanly.
final class SignalStop: @unchecked Sendable {
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
      Text lines: '+' added, '#' counters updated, '-' removed, '@' a listening socket, '!' a notice \
      (kernel drops, providers unavailable). FAILED marks a TCP connection seen connecting that never \
      reached ESTABLISHED. --format jsonl prints the canonical event stream (docs/events.md).
      """)

  @OptionGroup var source: SourceOptions
  @OptionGroup var client: ClientOptions
  @Option(name: .long, help: "text, jsonl or csv.") var format: EventFormat = .text

  func run() throws {
    let configuration = try client.configuration()
    let (transport, _) = try source.makeTransport(receiveBufferSize: configuration.receiveBufferSize)
    defer { transport.close() }
    try runClient(
      transport: transport, configuration: configuration, duration: try source.clientDuration(),
      format: format, label: source.simulate ? "simulator" : "kernel")
  }
}

/// Runs a client to the end, printing its events; returns the client for its statistics.
@discardableResult
func runClient(
  transport: ClientTransport, configuration: ClientConfiguration, duration: UInt64?, format: EventFormat,
  label: String, quiet: Bool = false, onEvent: (ClientEvent) -> Void = { _ in },
  stopWhen: @escaping () -> Bool = { false }
) throws -> NetworkStatisticsClient {
  let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
  let origin = transport.now
  let time: TimeLabel =
    transport is DatagramSocketTransport
    ? .wallClock(origin: origin, wallAnchor: UInt64(Date().timeIntervalSince1970 * 1e9)) : .elapsed(origin: origin)
  var printer = EventPrinter(format: format, time: time, origin: origin)
  if !quiet { printer.begin(family: client.family, source: label) }
  let output = printer.out
  transport.setWaitHandler { output.flush() }
  defer { transport.setWaitHandler(nil) }
  let signals = SignalStop { [weak client] in client?.stop() }
  defer { withExtendedLifetime(signals) {} }
  do {
    try client.run(for: duration) { event in
      onEvent(event)
      if !quiet { printer.print(event) }
      if stopWhen() { client.stop() }
    }
  } catch {
    printer.flush()
    printError("ntstat: \(error)")
    throw ExitCode(2)
  }
  printer.flush()
  return client
}

/// `ntstat record`: watch plus a capture of every frame.
struct RecordCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "record",
    abstract: "Record every ntstat frame, both directions, to a zstd-compressed pcapng capture.",
    discussion: """
      The capture carries what replay needs (kernel version, layout family, client configuration, \
      receive buffer size) in its metadata. A recorder killed at any point leaves a file readable up \
      to its last flushed frame (at most 250 ms lost). With --simulate, time is the simulator's: \
      recording 10 minutes need not take 10 minutes.
      """)

  @OptionGroup var source: SourceOptions
  @OptionGroup var client: ClientOptions
  @Option(name: [.short, .customLong("output")], help: "The capture to write (.pcapng.zst, or .pcapng).")
  var output: String
  @Option(name: .long, help: "Stop after this many frames.") var frames: UInt64?
  @Option(name: .long, help: "Start a new file past this many bytes (e.g. 100M).") var rotateSize: String?
  @Option(name: .long, help: "Start a new file after this long (e.g. 1h).") var rotateTime: String?
  @Flag(name: .long, help: "Leave the host name out of the capture.") var anonymize = false
  @Option(name: .long, help: "zstd compression level.") var level: Int32 = 3
  @Option(name: .long, help: "Print events too: text, jsonl or csv (default: only the summary).")
  var format: EventFormat?

  func run() throws {
    let configuration = try client.configuration()
    let (base, metadataBase) = try source.makeTransport(receiveBufferSize: configuration.receiveBufferSize)
    defer { base.close() }
    var metadata = metadataBase
    metadata.configuration = configuration.summary
    if anonymize { metadata.hostName = nil }
    let compression: CaptureCompression = output.hasSuffix(".pcapng") ? .none : .zstd(level: level)
    func open(_ path: String) throws -> CaptureFileWriter {
      do {
        return try CaptureFileWriter(
          path: path, metadata: metadata, compression: compression, interfaces: ["com.apple.network.statistics"])
      } catch {
        printError("ntstat: \(error)")
        throw ExitCode(2)
      }
    }
    let recorder = RecordingTransport(wrapping: base, writer: try open(output))
    let maxBytes = try rotateSize.map { text -> UInt64 in
      guard let bytes = ByteSizeParser.bytes(text) else {
        throw ValidationError("--rotate-size: \"\(text)\" is not a size")
      }
      return bytes
    }
    let maxAge = try rotateTime.map { text -> UInt64 in
      guard let ns = DurationParser.nanoseconds(text) else {
        throw ValidationError("--rotate-time: \"\(text)\" is not a duration")
      }
      return ns
    }
    if maxBytes != nil || maxAge != nil {
      let output = self.output
      recorder.rotation = RecordingTransport.Rotation(maxBytes: maxBytes, maxDuration: maxAge) { index in
        try open(RotatedName.path(output, index: index))
      }
    }
    var added = 0
    var removed = 0
    let start = Date()
    let frameLimit = frames
    let client = try runClient(
      transport: recorder, configuration: configuration, duration: try source.clientDuration(),
      format: format ?? .text, label: source.simulate ? "simulator" : "kernel", quiet: format == nil
    ) { event in
      if case .streamAdded = event { added += 1 }
      if case .streamRemoved = event { removed += 1 }
    } stopWhen: {
      frameLimit.map { recorder.framesRecorded >= $0 } ?? false
    }
    do {
      try recorder.writer.close(statistics: [0: recorder.captureStatistics])
    } catch {
      printError("ntstat: \(error)")
      throw ExitCode(2)
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
      "streams: \(added) added, \(removed) removed; drops: \(stats.kernelDrops) kernel, \(recorder.transportDrops + recorder.writer.totalOverflowDrops) recorder",
      "\(recorder.files.count == 1 ? "file" : "files"): \(ByteSizeParser.text(total))",
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
