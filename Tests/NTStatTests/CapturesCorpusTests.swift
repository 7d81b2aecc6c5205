import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatTestSupport
import NtstatWire
import Testing

/// Every capture in captures/ replays to its golden canonical JSONL (regenerate both with
/// Tests/Tools/make-captures.sh), and the comparison is sharp enough to catch a change.
@Suite(.hangLimit) struct CapturesCorpusTests {
  static let root = Corpus.root
  static var captures: [String] { Corpus.captures }

  @Test func realCapturesHaveTheirGoldensAndARow() throws {
    let readme = try String(contentsOf: Self.root.appendingPathComponent("real/README.md"), encoding: .utf8)
    #expect(readme.contains("ntstat corpus add"))
    for capture in Self.captures where capture.hasPrefix("real/") {
      let name = String(capture.dropFirst(5))
      #expect(readme.contains("`\(name)`"), "\(capture) has no row in captures/real/README.md")
      _ = try Self.golden(capture)
    }
  }

  /// Replays frames (from a file or memory) to canonical JSON Lines, as `ntstat replay` prints.
  static func replayText(
    _ transport: ReplayTransport, transform: (ClientEvent) -> ClientEvent = { $0 }
  ) throws -> String {
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    var text = CanonicalEvent.header(family: transport.family, source: "test").jsonText + "\n"
    try client.run { text += CanonicalEvent.fields(transform($0), origin: .zero).jsonText + "\n" }
    return text
  }

  static func golden(_ capture: String) throws -> CanonicalEventFile {
    let base = capture.hasSuffix(".pcapng.zst") ? String(capture.dropLast(11)) : String(capture.dropLast(7))
    let path = root.appendingPathComponent(base + ".jsonl")
    return try CanonicalEventFile.parse(String(contentsOf: path, encoding: .utf8), name: path.lastPathComponent)
  }

  static func describe(_ result: EventDiffResult) -> String {
    let changes = result.changed.prefix(3).map { change in
      "\(change.stream): "
        + change.fieldChanges.prefix(3).map {
          "\($0.field) \($0.a.map { "\($0)" } ?? "-") → \($0.b.map { "\($0)" } ?? "-")"
        }.joined(separator: ", ")
    }
    return
      "only in A \(result.onlyInA.count), only in B \(result.onlyInB.count), changed \(result.changed.count): \(changes)"
  }

  @Test func theCorpusHasEveryFamilyAndALegacyRecording() {
    let names = Set(Self.captures)
    for family in LayoutFamily.allCases { #expect(names.contains("\(family.name).pcapng.zst"), "\(family)") }
    #expect(names.contains { $0.hasPrefix("legacy-") })
  }

  @Test(arguments: captures)
  func captureReplaysToItsGolden(capture: String) throws {
    let transport = try ReplayTransport(path: Self.root.appendingPathComponent(capture).path)
    let replayed = try CanonicalEventFile.parse(try Self.replayText(transport), name: capture)
    let result = EventDiff.compare(try Self.golden(capture), replayed)
    #expect(result.isSame, "\(Self.describe(result))")
    #expect(transport.divergences.isEmpty, "\(transport.divergences.prefix(3))")
    let attributes = try FileManager.default.attributesOfItem(atPath: Self.root.appendingPathComponent(capture).path)
    #expect(((attributes[.size] as? NSNumber)?.intValue ?? 0) < 300_000, "captures stay a few hundred KB at most")
  }

  @Test func hundredfoldAndRealTimeMatchTheGoldenToo() throws {
    let capture = "xnu-11215.pcapng.zst"
    let golden = try Self.golden(capture)
    let fast = try ReplayTransport(path: Self.root.appendingPathComponent(capture).path, speed: .factor(100))
    #expect(EventDiff.compare(golden, try CanonicalEventFile.parse(try Self.replayText(fast), name: "x100")).isSame)
    // Real time for the first 1.5 s only (the whole capture is 15 s).
    let realtime = try ReplayTransport(path: Self.root.appendingPathComponent(capture).path, speed: .realtime)
    realtime.endTime = .milliseconds(1500)
    let prefix = try CanonicalEventFile.parse(try Self.replayText(realtime), name: "realtime")
    var expected = golden
    expected.events = golden.events.filter {
      if case .integer(let t)? = $0["time_ns"] { return t <= 1_500_000_000 }
      return false
    }
    #expect(!expected.events.isEmpty)
    #expect(EventDiff.compare(expected, prefix).isSame)
  }

  @Test func aDecoderChangeFailsTheComparison() throws {
    let capture = "xnu-11215.pcapng.zst"
    let golden = try Self.golden(capture)
    // A decoder that swaps the byte counters (the kind of bug a layout change causes).
    let transport = try ReplayTransport(path: Self.root.appendingPathComponent(capture).path)
    let swapped = try Self.replayText(transport) { event in
      guard case .streamStatsUpdated(var stream) = event else { return event }
      swap(&stream.counts.rxBytes, &stream.counts.txBytes)
      return .streamStatsUpdated(stream)
    }
    let result = EventDiff.compare(golden, try CanonicalEventFile.parse(swapped, name: "swapped"))
    #expect(!result.isSame)
    let fields = Set(result.changed.flatMap { $0.fieldChanges.map(\.field) })
    #expect(fields == ["rx_bytes", "tx_bytes"])
  }

  @Test func oneChangedByteInACaptureIsFound() throws {
    // Change one counter in one kernel frame: the diff names that stream and that field.
    let capture = "xnu-11215.pcapng.zst"
    let reader = try CaptureFileReader(path: Self.root.appendingPathComponent(capture).path)
    var frames: [CapturedFrame] = []
    var metadata = CaptureMetadata()
    var changedRef: SourceRef?
    let decoder = MessageDecoder(family: .xnu11215)
    let encoder = MessageEncoder(family: .xnu11215)
    while let record = try reader.next() {
      switch record {
      case .section(let m): metadata = m
      case .frame(var frame):
        if changedRef == nil, frame.direction == .fromKernel, frames.count > 400 {
          var messages = try decoder.decode(frame.bytes)
          if let index = messages.firstIndex(where: {
            if case .sourceUpdate = $0.body { return true } else { return false }
          }),
            case .sourceUpdate(var update) = messages[index].body
          {
            update.counts.rxBytes += 1
            messages[index].body = .sourceUpdate(update)
            frame.bytes = DatagramBytes(try encoder.encodeDatagram(messages, settingLength: true))
            changedRef = update.sourceRef
          }
        }
        frames.append(frame)
      default: break
      }
    }
    let ref = try #require(changedRef)
    let transport = try ReplayTransport(frames: frames, metadata: metadata)
    let result = EventDiff.compare(
      try Self.golden(capture), try CanonicalEventFile.parse(try Self.replayText(transport), name: "mutated"))
    #expect(result.changed.map(\.stream.id) == [String(ref.rawValue)])
    #expect(result.changed.first?.fieldChanges.map(\.field) == ["rx_bytes"])
  }
}
