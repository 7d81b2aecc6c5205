import ArgumentParser
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

/// `ntstat diff`: the decoded output of two captures, event files or decoder versions, compared
/// stream by stream.
struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare decoded events of two captures or canonical JSONL files, stream by stream.",
    discussion: """
      A and B may each be a capture (replayed at top speed through this library) or a canonical \
      event file (ntstat replay --format jsonl). Streams are matched by source ref, 5-tuple and \
      pid; reported: streams only in A or only in B, and for streams in both, the fields that \
      changed (old → new) and events that differ. --baseline GOLDEN CAPTURE is the regression \
      check for CI. --decoder BIN makes side A the output of another ntstat binary (another \
      library version) on the same capture. Exit status: 0 same, 1 different, 2 trouble.
      """)

  @Argument(help: "A and B (with --baseline or --decoder, one capture is enough).") var inputs: [String] = []
  @Option(name: .long, help: "A golden canonical JSONL file to compare the input against.") var baseline: String?
  @Option(name: .long, help: "Another ntstat binary whose replay of the capture is side A.") var decoder: String?
  @Option(name: .long, help: "Fields to leave out, comma-separated (e.g. time_ns,tx_cwnd).") var ignore: String?
  @Option(name: .long, help: "Counter differences up to this are equal: an amount (100) or a share (1%).")
  var tolerance: String?
  @Flag(name: .long, help: "Print one JSON object.") var json = false
  @Option(name: .long, help: "Replay captures with this layout family.", transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument?

  func run() throws {
    var options = EventDiffOptions()
    options.ignoredFields = Set(
      (ignore ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
    if let tolerance {
      let relative = tolerance.hasSuffix("%")
      guard let value = Double(relative ? String(tolerance.dropLast()) : tolerance), value >= 0 else {
        throw ValidationError("--tolerance: \"\(tolerance)\" is not a number or a percentage")
      }
      options.tolerance = relative ? value / 100 : value
      options.relative = relative
    }
    let override = try family?.resolve(assumeNewest: true)
    let a: EventDiffSide
    let b: EventDiffSide
    var spooled: String?
    defer { if let spooled { unlink(spooled) } }
    switch (baseline, decoder, inputs.count) {
    case (let golden?, nil, 1):
      a = try side(golden, override: override, progress: false)
      b = try side(inputs[0], override: override)
    case (nil, let binary?, 1):
      let output = try spool(binary, inputs[0])
      spooled = output
      a = eventFileSide(output, name: "\(binary) on \(inputs[0])")
      b = try side(inputs[0], override: override)
    case (nil, nil, 2):
      // Opened at once: opening a capture decodes its first zstd frame (a short capture's
      // whole length), and opened one after the other B's began only once A's had ended. A's
      // failure is still the one reported when both fail.
      let (first, second) = (inputs[0], inputs[1])
      let opening = ThreadedWork { try self.side(second, override: override) }
      let openedA = Result { try side(first, override: override, progress: false) }
      let openedB = Result { try opening.value() }
      a = try openedA.get()
      b = try openedB.get()
    default:
      throw ValidationError("give two inputs, or one with --baseline GOLDEN or --decoder BIN")
    }
    let (result, summaryA, summaryB) = try EventDiff.compare(a, b, options: options)
    let out = StandardOutput()
    if json {
      out.line(Self.json(result, a: summaryA, b: summaryB).jsonText)
    } else {
      for line in Self.text(result, a: summaryA, b: summaryB, colour: isatty(1) == 1) { out.line(line) }
    }
    out.flush()
    let same = result.isSame
    // A quarter of a million streams only in A or only in B are as many identities to free.
    let streams = result.onlyInA.count + result.onlyInB.count + result.changed.count
    EventDiff.release(consume result, holding: streams)
    if !same { throw ExitCode(1) }
  }

  /// A capture (by magic) is replayed; anything else is read as canonical JSON Lines. Either is
  /// read as it streams, never held whole. The sides are read at the same time: only one draws
  /// a progress line (`progress`).
  func side(_ path: String, override: LayoutFamily?, progress: Bool = true) throws -> EventDiffSide {
    do {
      return try Self.isCapture(path)
        ? replaySide(path, override: override, progress: progress) : eventFileSide(path, name: path)
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure(describe(error, reading: path))
    }
  }

  static func isCapture(_ path: String) throws -> Bool {
    let magic = try readFile(path, limit: 4)
    return magic == [0x28, 0xB5, 0x2F, 0xFD] || magic == [0x0A, 0x0D, 0x0D, 0x0A]
  }

  /// A canonical event file, a line at a time.
  func eventFileSide(_ path: String, name: String) -> EventDiffSide {
    EventDiffSide(name: name) { header, each in
      var lines = CanonicalEventLines(name: name)
      do {
        try forEachLine(in: path) { line in
          if let event = try lines.next(line) { try each(.parsed(event)) }
        }
        try lines.finish()
      } catch let error as EventFileError {
        throw CommandFailure("\(error)")
      } catch let error as FileInputError {
        throw CommandFailure("\(error)")
      }
      header = lines.header
    }
  }

  /// A capture replayed into canonical events, field for field what parsing its JSON Lines
  /// would give, without writing or parsing them.
  func replaySide(_ path: String, override: LayoutFamily?, progress showProgress: Bool) throws -> EventDiffSide {
    // Both sides replay at once (`StreamDigest.both`): read-ahead threads only with two CPUs a side.
    func open() throws -> ReplayTransport {
      try ReplayTransport(path: path, speed: .topSpeed, family: override, replaysAtOnce: 2)
    }
    // Opened here, so that a capture that cannot be replayed is reported before anything runs;
    // the first read replays this transport, a second read opens the capture again.
    var opened: ReplayTransport? = try open()
    return EventDiffSide(name: path) { header, each in
      let transport: ReplayTransport
      if let first = opened {
        transport = first
        opened = nil
      } else {
        do { transport = try open() } catch {
          throw CommandFailure(describe(error, reading: path))
        }
      }
      let client = NetworkStatisticsClient(
        transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
      let fields = CanonicalEvent.header(family: transport.family, source: (path as NSString).lastPathComponent)
      for (key, value) in try FlatJSON.parseObject(fields.jsonText) { header[key] = value }
      let progress = ProgressLine(file: path, quiet: !showProgress)
      defer { progress.finish() }
      do {
        try client.run { event in
          progress.tick { transport.fileBytesRead }
          try each(.live(event, origin: .zero))
        }
      } catch let failure as CommandFailure {
        throw failure
      } catch {
        throw CommandFailure(describe(error, reading: path))
      }
    }
  }

  /// Another ntstat binary's replay of `capture` as JSON Lines, written to a temporary file
  /// (the comparison may read it twice); its path.
  func spool(_ binary: String, _ capture: String) throws -> String {
    var template = Array((NSTemporaryDirectory() + "/ntstat-diff-XXXXXX.jsonl").utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 6) }
    guard descriptor >= 0 else {
      throw CommandFailure("cannot create a temporary file: \(String(cString: strerror(errno)))")
    }
    let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = ["replay", "--format", "jsonl", "--top-speed", "--quiet", capture]
    process.standardOutput = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    do {
      try process.run()
    } catch {
      unlink(path)
      throw CommandFailure("cannot run \(binary): \(error)")
    }
    process.waitUntilExit()
    guard process.terminationStatus == 0 || process.terminationStatus == 1 else {
      unlink(path)
      throw CommandFailure("\(binary) replay exited with status \(process.terminationStatus)")
    }
    return path
  }

  static func text(_ r: EventDiffResult, a: EventDiffSideSummary, b: EventDiffSideSummary, colour: Bool) -> [String] {
    func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func value(_ v: FlatJSONValue?) -> String { v.map { "\($0)" } ?? "(absent)" }
    var lines = [
      "A: \(a.name) (\(a.header["family"]?.description ?? "?"), \(a.eventCount) events)",
      "B: \(b.name) (\(b.header["family"]?.description ?? "?"), \(b.eventCount) events)",
    ]
    for (key, x, y) in r.headerChanges { lines.append("header \(key): \(value(x)) → \(value(y))") }
    if !r.onlyInA.isEmpty {
      lines.append("only in A: \(r.onlyInA.count) stream(s)")
      for (stream, count) in r.onlyInA.prefix(50) { lines.append(paint("  - \(stream): \(count) events", "31")) }
      if r.onlyInA.count > 50 { lines.append("  … \(r.onlyInA.count - 50) more") }
    }
    if !r.onlyInB.isEmpty {
      lines.append("only in B: \(r.onlyInB.count) stream(s)")
      for (stream, count) in r.onlyInB.prefix(50) { lines.append(paint("  + \(stream): \(count) events", "32")) }
      if r.onlyInB.count > 50 { lines.append("  … \(r.onlyInB.count - 50) more") }
    }
    if !r.changed.isEmpty {
      lines.append("changed: \(r.changed.count) stream(s)")
      for change in r.changed.prefix(50) {
        lines.append("  \(change.stream)")
        if change.eventsA.count != change.eventsB.count || change.eventsA != change.eventsB {
          lines.append("    events: A \(summary(change.eventsA)), B \(summary(change.eventsB))")
        }
        for f in change.fieldChanges.prefix(20) {
          lines.append(
            "    event \(f.eventIndex + 1) (\(f.event)): \(f.field) \(paint(value(f.a), "31")) → \(paint(value(f.b), "32"))"
          )
        }
        if change.fieldChanges.count > 20 { lines.append("    … \(change.fieldChanges.count - 20) more fields") }
      }
      if r.changed.count > 50 { lines.append("  … \(r.changed.count - 50) more") }
    }
    for notice in r.noticesOnlyInA.prefix(20) { lines.append(paint("  - notice \(notice)", "31")) }
    for notice in r.noticesOnlyInB.prefix(20) { lines.append(paint("  + notice \(notice)", "32")) }
    lines.append(
      r.isSame
        ? "same: \(r.sameStreams) streams"
        : "different: \(r.onlyInA.count) only in A, \(r.onlyInB.count) only in B, \(r.changed.count) changed, \(r.sameStreams) same"
    )
    return lines
  }

  static func summary(_ kinds: [String]) -> String {
    var counts: [(String, Int)] = []
    for kind in kinds {
      if let i = counts.firstIndex(where: { $0.0 == kind }) { counts[i].1 += 1 } else { counts.append((kind, 1)) }
    }
    return "\(kinds.count) (" + counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ") + ")"
  }

  static func json(_ r: EventDiffResult, a: EventDiffSideSummary, b: EventDiffSideSummary) -> FieldValue {
    func scalar(_ v: FlatJSONValue?) -> FieldValue {
      switch v {
      case nil, .null?: return .null
      case .bool(let x)?: return .bool(x)
      case .integer(let x)?: return .int(x)
      case .unsigned(let x)?: return .uint(x)
      case .number(let x)?: return .string(String(x))
      case .string(let x)?: return .string(x)
      }
    }
    func stream(_ s: StreamIdentity) -> FieldValue {
      var f = FieldBuilder()
      f.add("id", s.id)
      f.add("protocol", s.protocolName)
      f.add("local", s.local)
      f.add("remote", s.remote)
      f.add("pid", s.pid)
      f.add("process", s.process)
      f.add("occurrence", s.occurrence)
      return f.object
    }
    var o = FieldBuilder()
    o.add("same", .bool(r.isSame))
    o.add("a", a.name)
    o.add("b", b.name)
    o.add("only_in_a", .array(r.onlyInA.map { stream($0.0) }))
    o.add("only_in_b", .array(r.onlyInB.map { stream($0.0) }))
    o.add(
      "changed",
      .array(
        r.changed.map { change in
          var c = FieldBuilder()
          c.add("stream", stream(change.stream))
          c.add("events_a", .array(change.eventsA.map { .string($0) }))
          c.add("events_b", .array(change.eventsB.map { .string($0) }))
          c.add(
            "fields",
            .array(
              change.fieldChanges.map { f in
                var x = FieldBuilder()
                x.add("event_index", f.eventIndex)
                x.add("event", f.event)
                x.add("field", f.field)
                x.add("a", scalar(f.a))
                x.add("b", scalar(f.b))
                return x.object
              }))
          return c.object
        }))
    o.add("notices_only_in_a", .array(r.noticesOnlyInA.map { .string($0) }))
    o.add("notices_only_in_b", .array(r.noticesOnlyInB.map { .string($0) }))
    o.add("same_streams", r.sameStreams)
    return o.object
  }
}
