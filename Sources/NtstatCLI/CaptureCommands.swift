import ArgumentParser
import Foundation
import NtstatCapture
import NtstatWire

/// Opens a capture, mapping failures to exit status 2 with the file named.
func openCapture(_ path: String) throws -> CaptureFileReader {
  do {
    return try CaptureFileReader(path: path)
  } catch {
    printError("ntstat: \(error)")
    throw ExitCode(2)
  }
}

func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Family for decoding a capture: the user's override, else what the capture says.
func familyOverride(_ text: String?, assumeNewest: Bool) throws -> LayoutFamily? {
  guard let text else { return nil }
  do { return try LayoutFamily.parse(text, assumeNewest: assumeNewest) } catch {
    throw ValidationError(error.description)
  }
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
  @Option(name: .long, help: "Decode with this layout family instead of the capture's.") var family: String?
  @Flag(name: .long, help: "Print one JSON object.") var json = false

  func run() throws {
    let reader = try openCapture(file)
    var summary = CaptureSummary()
    let override = try familyOverride(family, assumeNewest: false)
    do {
      while let record = try reader.next() { summary.add(record, familyOverride: override) }
    } catch let error as CaptureError where error.kind == .truncated || error.kind == .corrupt {
      summary.damage = error
    } catch {
      printError("ntstat: \(error)")
      throw ExitCode(2)
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
  @Option(name: .long, help: "Decode with this layout family instead of the capture's.") var family: String?
  @Flag(name: .long, help: "Print the datagram's bytes in hex instead of a decoded summary.") var hex = false
  @Flag(name: .long, help: "Print JSON Lines with every decoded field.") var json = false

  func run() throws {
    let reader = try openCapture(file)
    let override = try familyOverride(family, assumeNewest: false)
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
    } catch let error as CaptureError where error.kind == .truncated || error.kind == .corrupt {
      printError("ntstat: \(error)")
      throw ExitCode(1)
    } catch {
      printError("ntstat: \(error)")
      throw ExitCode(2)
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

/// `ntstat convert`: between compressed and plain pcapng, or to another zstd level.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert a capture: pcapng ↔ pcapng.zst, or re-compress at another level.",
    discussion: "Output compression follows --compression, else OUT's suffix (.zst: zstd).")

  @Argument(help: "Input capture.") var input: String
  @Argument(help: "Output capture.") var output: String
  @Option(name: .long, help: "zstd or none.") var compression: String?
  @Option(name: .long, help: "zstd level (1–19).") var level: Int32 = 3

  func run() throws {
    let reader = try openCapture(input)
    let zstd = compression.map { $0 == "zstd" } ?? output.hasSuffix(".zst")
    var out: CaptureWriter?
    let handle: FileHandle
    FileManager.default.createFile(atPath: output, contents: nil)
    guard let opened = FileHandle(forWritingAtPath: output) else {
      printError("ntstat: cannot write \(output)")
      throw ExitCode(2)
    }
    handle = opened
    defer { try? handle.close() }
    var frames: UInt64 = 0
    var pendingStatistics: [UInt32: CaptureStatistics] = [:]
    var lastTime: UInt64 = 0
    do {
      while let record = try reader.next() {
        switch record {
        case .section(let metadata):
          if let out { try out.close(statistics: pendingStatistics, now: 0, wallClock: lastTime) }
          pendingStatistics = [:]
          out = try CaptureWriter(metadata: metadata, compression: zstd ? .zstd(level: level) : .none) {
            handle.write(Data($0))
          }
        case .interface(let interface):
          _ = try out?.addInterface(description: interface.description, now: 0)
        case .frame(let frame):
          try out?.write(frame, now: 0)
          lastTime = frame.timestamp
          frames += 1
        case .statistics(let id, let stats):
          pendingStatistics[id] = stats
        }
      }
      try out?.close(statistics: pendingStatistics, now: 0, wallClock: lastTime)
    } catch let error as CaptureError where error.kind == .truncated || error.kind == .corrupt {
      try? out?.close(statistics: [:], now: 0, wallClock: lastTime)
      printError("ntstat: \(error); wrote the \(frames) frame(s) before it to \(output)")
      throw ExitCode(1)
    }
    try handle.synchronize()
    print(
      "\(output): \(frames) frame(s), \(out?.writtenBytes ?? 0) bytes (\(zstd ? "zstd level \(level)" : "uncompressed"))"
    )
  }
}

extension Message {
  /// One-line summary for `ntstat cat`.
  var summary: String {
    var text = header.type.name
    switch body {
    case .sourceAdded(let s): text += " ref=\(s.sourceRef) provider=\(s.provider)"
    case .sourceRemoved(let r), .querySource(let r), .removeSource(let r), .getSourceDescription(let r),
      .getUpdate(let r):
      text += " ref=\(r)"
    case .sourceCounts(let s):
      text += " ref=\(s.sourceRef) rx=\(s.counts.rxBytes) tx=\(s.counts.txBytes)"
    case .sourceDescription(let s):
      text += " ref=\(s.sourceRef) " + s.descriptor.summary
    case .sourceUpdate(let s), .sourceExtendedUpdate(let s):
      text += " ref=\(s.sourceRef) rx=\(s.counts.rxBytes) tx=\(s.counts.txBytes) " + s.descriptor.summary
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
