import ArgumentParser
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

/// Opens a capture, mapping failures to exit status 2 with the file named.
func openCapture(_ path: String) throws -> CaptureFileReader {
  do {
    return try CaptureFileReader(path: path)
  } catch {
    throw CommandFailure("\(error)")
  }
}

func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// `ntstat inspect`: what a capture holds, in one streaming pass.
struct InspectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Show a capture's metadata, time span, frame and message counts, drops and sizes.",
    discussion: """
      Exit status: 0 the capture read cleanly to its end; 1 it is truncated or corrupt (everything \
      before the damage is counted, and the damage is reported with its offsets); 2 it could not be \
      read at all (missing, a directory, not a capture).
      """)

  @Argument(help: "A .pcapng.zst or .pcapng capture.") var file: String
  @Option(
    name: .long, help: "Decode with this layout family instead of the capture's.",
    transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument?
  @Flag(name: .long, help: "Print one JSON object.") var json = false

  func validate() throws { _ = try family?.resolve(assumeNewest: false) }

  func run() throws {
    let reader = try openCapture(file)
    var summary = CaptureSummary()
    let override = try family?.resolve(assumeNewest: false)
    let progress = ProgressLine(file: file)
    defer { progress.finish() }
    do {
      while let record = try reader.next() {
        summary.add(record, familyOverride: override)
        progress.update(reader)
      }
    } catch let error as CaptureError where error.isDamage {
      summary.damage = error
    } catch {
      throw CommandFailure("\(error)")
    }
    summary.compressedBytes = reader.stream.compressedBytes
    summary.uncompressedBytes = reader.stream.uncompressedBytes
    summary.zstdFrames = reader.stream.zstdFrames
    summary.foreignFrames = reader.stream.foreignFrames
    if case .zstd = reader.stream.compression { summary.compressed = true }
    if json {
      print(FieldRendering.json(summary.fieldValue))
    } else {
      print(file)
      print(FieldRendering.text(summary.fieldValue, indent: 2))
    }
    if let damage = summary.damage {
      printError("ntstat: \(damage)")
      throw ExitCode(1)
    }
  }
}

/// `ntstat cat`: one frame a line.
struct CatCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cat", abstract: "Print a capture one frame a line: time, direction, length, messages (or hex).")

  @Argument(help: "A .pcapng.zst or .pcapng capture.") var file: String
  @Option(
    name: .long, help: "Decode with this layout family instead of the capture's.",
    transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument?
  @Flag(name: .long, help: "Print the datagram's bytes in hex instead of a decoded summary.") var hex = false
  @Flag(name: .long, help: "Print JSON Lines with every decoded field.") var json = false

  func validate() throws { _ = try family?.resolve(assumeNewest: false) }

  func run() throws {
    let reader = try openCapture(file)
    let override = try family?.resolve(assumeNewest: false)
    var decoder: MessageDecoder? = override.map { MessageDecoder(family: $0) }
    var index: UInt64 = 0
    var first: UInt64?
    do {
      while let record = try reader.next() {
        switch record {
        case .section(let metadata):
          if override == nil { decoder = metadata.family.map { MessageDecoder(family: $0) } }
        case .frame(let frame):
          first = first ?? frame.timestamp
          print(line(index: index, frame: frame, relative: frame.timestamp &- (first ?? 0), decoder: decoder))
          index += 1
        default:
          break
        }
      }
    } catch let error as CaptureError where error.isDamage {
      printError("ntstat: \(error)")
      throw ExitCode(1)
    } catch {
      throw CommandFailure("\(error)")
    }
  }

  func line(index: UInt64, frame: CapturedFrame, relative: UInt64, decoder: MessageDecoder?) -> String {
    let seconds = Double(relative) / 1e9
    let time =
      String(Int(seconds)) + "." + String(String(relative % 1_000_000_000 + 1_000_000_000).dropFirst()).prefix(6)
    if json {
      var fields = [
        Field("frame", .uint(index)), Field("time_ns", .uint(frame.timestamp)),
        Field("direction", .string(frame.direction.rawValue)), Field("length", .uint(UInt64(frame.bytes.count))),
      ]
      if frame.dropsBefore > 0 { fields.append(Field("drops_before", .uint(frame.dropsBefore))) }
      if let decoder, !hex, let messages = try? decoder.decode(frame.bytes, direction: frame.direction) {
        fields.append(Field("messages", .array(messages.map { $0.fieldValue(family: decoder.family) })))
      } else {
        fields.append(Field("hex", .string(frame.bytes.map { String(format: "%02x", $0) }.joined())))
      }
      return FieldRendering.json(.object(fields))
    }
    var text = "\(index)\t\(time)\t\(frame.direction == .fromKernel ? "in " : "out")\t\(frame.bytes.count)\t"
    if frame.dropsBefore > 0 { text += "[\(frame.dropsBefore) dropped before] " }
    if hex || decoder == nil {
      return text + frame.bytes.map { String(format: "%02x", $0) }.joined()
    }
    do {
      let messages = try decoder!.decode(frame.bytes, direction: frame.direction)
      return text + messages.map(\.summary).joined(separator: "; ")
    } catch {
      return text + "undecodable (\(error)) " + frame.bytes.map { String(format: "%02x", $0) }.joined()
    }
  }
}

/// `ntstat convert`: between compressed and plain pcapng, re-compression, or from libntstat.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert a capture: pcapng ↔ pcapng.zst, re-compress, or import a libntstat recording.",
    discussion: """
      Output compression follows --compression, else OUT's suffix (.zst: zstd). A libntstat \
      recording (ntstat-xnu-<version>.bin: u32 seconds, u32 length, datagram; no magic) is \
      recognised by its .bin name or --legacy; its XNU version comes from the file name or --xnu, \
      and each datagram's direction from its message type.
      """)

  @Argument(help: "Input capture or libntstat recording.") var input: String
  @Argument(help: "Output capture.") var output: String
  @Option(name: .long, help: "zstd or none.") var compression: String?
  @Option(name: .long, help: "zstd level (1–19).") var level: Int32 = CaptureCompression.defaultLevel
  @Flag(name: .long, help: "Read the input as a libntstat recording.") var legacy = false
  @Option(name: .long, help: "XNU version of a libntstat recording (default: from its file name).") var xnu: String?
  @OptionGroup var outputFile: OutputFileOptions

  func run() throws {
    // The input is checked before the output is created: a failure leaves nothing behind.
    let isLegacy = try legacy || (input.hasSuffix(".bin") && !inputHasCaptureMagic())
    if isLegacy {
      let version = try legacyVersion()
      let out = try OutputCapture(
        path: output, compression: compression, level: level, policy: try outputFile.policy())
      let frames = try importLegacy(version: version, into: out)
      print("\(output): \(frames) frame(s) imported from libntstat, \(out.summary)")
      return
    }
    let reader = try openCapture(input)
    let out = try OutputCapture(path: output, compression: compression, level: level, policy: try outputFile.policy())
    let copied = try copyRecords(from: reader, to: out) { _, _ in .keep }
    print("\(output): \(copied) frame(s), \(out.summary)")
  }

  /// The XNU version of a libntstat recording: `--xnu`, or its file name.
  func legacyVersion() throws -> XNUVersion {
    guard let version = xnu.flatMap({ XNUVersion($0) }) ?? LegacyRecordingDecoder.xnuVersion(fromFileName: input) else {
      throw ValidationError("no XNU version in the file name \(input): pass --xnu (e.g. --xnu 3789.70.16)")
    }
    return version
  }

  func inputHasCaptureMagic() throws -> Bool {
    guard let handle = FileHandle(forReadingAtPath: input) else { return false }
    defer { try? handle.close() }
    return CaptureCompression.detect([UInt8](handle.readData(ofLength: 4))) != nil
  }

  func importLegacy(version: XNUVersion, into out: OutputCapture) throws -> UInt64 {
    guard let data = FileManager.default.contents(atPath: input) else {
      throw CommandFailure("cannot read \(input)")
    }
    var metadata = CaptureMetadata()
    metadata.kernelVersion = "imported from libntstat; root:\(version)"
    metadata.family = try? LayoutFamily.select(for: KernelVersion(xnu: version))
    metadata.recorderName = "libntstat (imported by ntstat \(NtstatVersion.string))"
    metadata.extra["ntstat.imported_from"] = (input as NSString).lastPathComponent
    // What libntstat did, so that a replay asks the same questions: kernel TCP and UDP,
    // GET_SRC_DESC per source, plain QUERY_SRC ALL once a second (its update interval), and
    // the kernel's default receive buffer (it never raised SO_RCVBUF).
    var client = ClientConfiguration()
    client.providers = [.tcpKernel, .udpKernel]
    client.polling = .plainCounts
    client.receiveBufferSize = 8192
    metadata.configuration = client.summary
    var decoder = LegacyRecordingDecoder()
    var frames: [CapturedFrame] = []
    var damage: CaptureError?
    do {
      try data.withUnsafeBytes { try decoder.push($0, into: &frames) }
      if decoder.hasPartialRecord {
        damage = CaptureError(
          .truncated, file: input, compressedOffset: decoder.consumed, uncompressedOffset: decoder.consumed,
          reason: "the recording ends inside a record")
      }
    } catch var error as CaptureError {
      error.file = input
      damage = error
    }
    try out.begin(
      metadata, interfaces: [PcapngFormat.interfaceDescription("libntstat recording", family: metadata.family)])
    for frame in frames { try out.write(frame) }
    try out.finish(statistics: [:])
    if let damage {
      printError("ntstat: \(damage); wrote the \(frames.count) frame(s) before it to \(output)")
      throw ExitCode(1)
    }
    return UInt64(frames.count)
  }
}

/// `ntstat slice`: the frames of a time or frame range.
struct SliceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "slice",
    abstract: "Copy the frames of a time range (seconds from the first frame) or frame range to a new capture.",
    discussion: "Times accept s and ms suffixes (1.5, 1.5s, 1500ms). Ranges include --from and exclude --to.")

  @Argument(help: "Input capture.") var input: String
  @Argument(help: "Output capture.") var output: String
  @Option(name: .long, help: "Start time, from the first frame.") var from: TimeArgument?
  @Option(name: .long, help: "End time (exclusive).") var to: TimeArgument?
  @Option(name: .long, help: "First frame number (0-based).") var fromFrame: UInt64?
  @Option(name: .long, help: "End frame number (exclusive).") var toFrame: UInt64?
  @Option(name: .long, help: "zstd or none (default: from OUT's suffix).") var compression: String?
  @Option(name: .long, help: "zstd level.") var level: Int32 = CaptureCompression.defaultLevel
  @OptionGroup var outputFile: OutputFileOptions

  func run() throws {
    let start = from?.nanoseconds
    let end = to?.nanoseconds
    let reader = try openCapture(input)
    let out = try OutputCapture(
      path: output, compression: compression, level: level, policy: try outputFile.policy())
    var first: UInt64?
    var startIndex: UInt64 = 0
    // With a seek table, start decompressing at the zstd frame that holds the range's start.
    if let table = reader.seekTable() {
      first = table.entries.first { $0.frameCount > 0 }?.firstTimestamp
      var entry: SeekTable.Entry?
      if let fromFrame {
        entry = table.entry(containingFrame: fromFrame)
      } else if let start, let first {
        entry = table.entry(atOrBeforeTimestamp: first + start)
      }
      if let entry, try reader.seek(to: entry, in: table) { startIndex = entry.firstFrameIndex }
    }
    let copied = try copyRecords(from: reader, to: out, startIndex: startIndex) { frame, index in
      first = first ?? frame.timestamp
      let offset = frame.timestamp &- (first ?? 0)
      if let fromFrame, index < fromFrame { return .skip }
      if let toFrame, index >= toFrame { return .stop }
      if let start, offset < start { return .skip }
      if let end, offset >= end { return .stop }
      return .keep
    }
    print("\(output): \(copied) frame(s), \(out.summary)")
  }
}

/// What to do with a frame while copying.
enum CopyDecision { case keep, skip, stop }

/// How ``copyRecords(from:to:startIndex:rewrite:decide:)`` changes what it copies (nothing by
/// default; `redact` replaces metadata, interface descriptions and datagrams).
struct CaptureRewrite {
  var section: (CaptureMetadata) throws -> CaptureMetadata = { $0 }
  var interface: (String?) -> String? = { $0 }
  /// Nil drops the frame.
  var frame: (CapturedFrame) -> CapturedFrame? = { $0 }
}

/// Copies a capture's records to `out`, frames filtered by `decide(frame, index)`; sections,
/// interfaces and (for unfiltered copies) statistics are carried over. A damaged input is
/// copied up to its damage, reported, and exits 1.
func copyRecords(
  from reader: CaptureFileReader, to out: OutputCapture, startIndex: UInt64 = 0,
  rewrite: CaptureRewrite = CaptureRewrite(), decide: (CapturedFrame, UInt64) -> CopyDecision
) throws -> UInt64 {
  var index = startIndex
  var copied: UInt64 = 0
  var sectionFamily: LayoutFamily?
  var statistics: [UInt32: CaptureStatistics] = [:]
  var filtered = false
  let progress = ProgressLine(file: reader.path)
  defer { progress.finish() }
  do {
    loop: while let record = try reader.next() {
      progress.update(reader)
      switch record {
      case .section(let metadata):
        if out.isOpen { try out.finish(statistics: filtered ? [:] : statistics) }
        statistics = [:]
        let section = try rewrite.section(metadata)
        sectionFamily = section.family
        try out.begin(section, interfaces: [])
      case .interface(let interface):
        var description = rewrite.interface(interface.description)
        // Captures written before the recorder named the family get it on the way through, so
        // that `ntstat convert` makes an older capture readable by the Wireshark dissector.
        if PcapngFormat.family(inInterfaceDescription: description) == nil, let family = sectionFamily {
          description = PcapngFormat.interfaceDescription(description ?? PcapngFormat.controlName, family: family)
        }
        try out.addInterface(description)
      case .frame(let frame):
        defer { index += 1 }
        switch decide(frame, index) {
        case .keep:
          guard let written = rewrite.frame(frame) else {
            filtered = true
            continue
          }
          try out.write(written)
          copied += 1
        case .skip: filtered = true
        case .stop:
          filtered = true
          break loop
        }
      case .statistics(let id, let stats):
        statistics[id] = stats
      }
    }
    try out.finish(statistics: filtered ? [:] : statistics)
  } catch let error as CaptureError where error.isDamage {
    try? out.finish(statistics: [:])
    printError("ntstat: \(error); wrote the \(copied) frame(s) before it to \(out.path)")
    throw ExitCode(1)
  }
  return copied
}

/// A capture being written by a command, synchronously, fsynced at the end.
final class OutputCapture {
  let path: String
  let compression: CaptureCompression
  private let handle: FileHandle
  private var writer: CaptureWriter?
  private var lastTime: UInt64 = 0
  private(set) var written: UInt64 = 0

  init(path: String, compression: String?, level: Int32, policy: OutputFilePolicy) throws {
    self.path = path
    let zstd = compression.map { $0 == "zstd" } ?? path.hasSuffix(".zst")
    self.compression = zstd ? .zstd(level: level) : .none
    handle = try openOutput(path, policy: policy)
  }

  deinit { try? handle.close() }

  var isOpen: Bool { writer != nil }

  func begin(_ metadata: CaptureMetadata, interfaces: [String?]) throws {
    let handle = self.handle
    writer = try CaptureWriter(metadata: metadata, compression: compression) { [weak self] bytes in
      handle.write(Data(bytes))
      self?.written += UInt64(bytes.count)
    }
    for description in interfaces { try addInterface(description) }
  }

  func addInterface(_ description: String?) throws { _ = try writer?.addInterface(description: description, now: 0) }

  func write(_ frame: CapturedFrame) throws {
    try writer?.write(frame, now: 0)
    lastTime = frame.timestamp
  }

  func finish(statistics: [UInt32: CaptureStatistics]) throws {
    try writer?.close(statistics: statistics, now: 0, wallClock: lastTime)
    writer = nil
    try handle.synchronize()
  }

  var summary: String {
    if case .zstd(let level) = compression { return "\(written) bytes (zstd level \(level))" }
    return "\(written) bytes (uncompressed)"
  }
}

extension Message {
  /// One-line summary for `ntstat cat`.
  var summary: String {
    var text = header.type.name
    switch body {
    case .sourceAdded(let s): text += " ref=\(s.sourceRef) provider=\(s.provider)"
    case .sourceRemoved(let r), .querySource(let r), .removeSource(let r), .getSourceDescription(let r),
      .getUpdate(let r), .getDetails(let r):
      text += " ref=\(r)"
    case .sourceCounts(let s):
      text += " ref=\(s.sourceRef) rx=\(s.counts.rxBytes) tx=\(s.counts.txBytes)"
    case .sourceDescription(let s):
      text += " ref=\(s.sourceRef) " + s.descriptor.summary
    case .sourceUpdate(let s), .sourceExtendedUpdate(let s):
      text += " ref=\(s.sourceRef) rx=\(s.counts.rxBytes) tx=\(s.counts.txBytes) " + s.descriptor.summary
    case .sourceDetails(let s), .sourceExtendedDetails(let s):
      let moved = Medium.allCases.dropFirst().filter { s.counts[$0].rxBytes | s.counts[$0].txBytes != 0 }
      text += " ref=\(s.sourceRef) rx=\(s.counts.total.rxBytes) tx=\(s.counts.total.txBytes)"
      if !moved.isEmpty { text += " (" + moved.map(\.rawValue).joined(separator: ",") + ")" }
      text += " " + s.descriptor.summary
    case .error(let e): text += " \(errnoName(e.errno))"
    case .addAllSources(let a): text += " provider=\(a.provider)"
    default: break
    }
    if header.flags.rawValue != 0 && header.type != .success || header.flags.contains(.continuation) {
      text += " flags=\(header.flags)"
    }
    return text
  }
}

extension Descriptor {
  var summary: String {
    switch self {
    case .tcp(let t): return "tcp \(t.local) → \(t.remote) pid=\(t.pid) \(t.processName) \(t.state)"
    case .udp(let u): return "udp \(u.local) → \(u.remote) pid=\(u.pid) \(u.processName)"
    case .route(let r): return "route \(r.destination)"
    case .ifnet(let i): return "ifnet \(i.name)"
    case .sysinfo: return "sysinfo"
    case .connection(let c): return "conn pid=\(c.pid) \(c.processName)"
    }
  }
}
