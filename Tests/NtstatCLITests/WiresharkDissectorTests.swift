import Foundation
import NtstatCapture
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import NtstatWireshark
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

let tsharkAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark")

/// The generated Lua dissector in real tshark (.ci/run installs it), held against the decoder:
/// for every corpus and sample capture, every message of every frame must carry the same keys
/// and values, in the same order, as its field tree in `ntstat cat --json`.
@Suite(.enabled(if: tsharkAvailable, "tshark not installed"), .hangLimit)
struct WiresharkDissectorTests {
  /// The committed copy users can take without building (contrib/wireshark/ntstat.lua).
  static let committed = "contrib/wireshark/ntstat.lua"

  /// Writes the dissector with the real `ntstat wireshark-dissector` and returns its path.
  static func generate() throws -> String {
    let path = Repository.temporaryPath("ntstat.lua")
    let result = try NtstatProcess.run(["wireshark-dissector", "-o", path])
    #expect(result.status == 0, "\(result.stderr)")
    return path
  }

  /// tshark's PDML of `capture` with the dissector loaded, and its standard error minus the
  /// warning it prints whenever it runs as root.
  static func tshark(_ dissector: String, _ capture: String, options: [String] = []) throws -> ([PDMLPacket], String) {
    let result = try ChildProcess.run(
      URL(fileURLWithPath: "/usr/bin/tshark"),
      ["-X", "lua_script:" + dissector, "-r", capture, "-T", "pdml", "-J", "ntstat"] + options)
    #expect(result.status == 0, "tshark failed: \(result.stderr)")
    let stderr = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("Running as user") }.joined(
      separator: "\n")
    let (packets, errors) = PDMLPacket.parse(Data(result.stdout.utf8))
    #expect(errors.isEmpty, "tshark's PDML did not parse: \(errors.prefix(3))")
    return (packets, stderr)
  }

  /// The decoder's field tree of each frame, as `ntstat cat --json` prints it (nil: the frame
  /// does not decode, and cat prints its hex).
  static func decoded(_ capture: String) throws -> [[FieldValue]?] {
    let contents = try CaptureContents(path: capture)
    let family = try #require(contents.metadata?.family, "\(capture) names no family")
    let decoder = MessageDecoder(family: family)
    return contents.frames.map { frame in
      (try? decoder.decode(frame.bytes, direction: frame.direction))?.map { $0.fieldValue(family: family) }
    }
  }

  /// Compares frame by frame; returns the first few differences, described.
  static func differences(_ packets: [PDMLPacket], _ frames: [[FieldValue]?]) -> [String] {
    var found: [String] = []
    if packets.count != frames.count {
      found.append("tshark shows \(packets.count) frames, the capture has \(frames.count)")
    }
    for (index, (packet, messages)) in zip(packets, frames).enumerated() where found.count < 5 {
      guard let messages else {
        if !packet.malformed { found.append("frame \(index): the decoder rejects it, the dissector shows no error") }
        continue
      }
      if packet.malformed { found.append("frame \(index): marked malformed, but it decodes") }
      let expected = messages.map { FlatLeaves(fieldValue: $0).leaves }
      let shown = packet.messages.map { FlatLeaves(pdml: $0).leaves }
      guard expected.count == shown.count else {
        found.append("frame \(index): \(expected.count) message(s) decoded, \(shown.count) shown")
        continue
      }
      for (m, (e, s)) in zip(expected, shown).enumerated() {
        if let difference = FlatLeaves.firstDifference(e, s) {
          found.append("frame \(index) message \(m): \(difference)")
          break
        }
      }
    }
    return found
  }

  static var captures: [String] {
    Corpus.captures.map { "captures/" + $0 }
      + Repository.files(in: "captures/samples", endingIn: [".pcapng.zst"]).map { "captures/samples/" + $0 }
  }

  @Test(
    "every message of every corpus and sample capture shows the fields and values cat --json gives it",
    arguments: captures)
  func agreesWithTheDecoder(capture: String) throws {
    let dissector = try Self.generate()
    defer { try? FileManager.default.removeItem(atPath: dissector) }
    let path = Repository.url(capture).path
    let (packets, stderr) = try Self.tshark(dissector, path)
    #expect(stderr.isEmpty, "tshark wrote: \(stderr)")
    let frames = try Self.decoded(path)
    #expect(!frames.isEmpty)
    let differences = Self.differences(packets, frames)
    #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    // The family came from the interface description the recorder wrote, not from a guess.
    let family = try #require(CaptureContents(path: path).metadata?.family)
    #expect(packets.allSatisfy { $0.family == "family: \(family.name) (interface description)" })
  }

  @Test(
    "tshark's two passes (-2) show what one pass does: its first pass has no tree to read the family from",
    arguments: ["captures/xnu-7195.pcapng.zst", "captures/samples/xnu-12377.pcapng.zst"])
  func twoPassesAgree(capture: String) throws {
    let dissector = try Self.generate()
    defer { try? FileManager.default.removeItem(atPath: dissector) }
    let path = Repository.url(capture).path
    let (packets, stderr) = try Self.tshark(dissector, path, options: ["-2"])
    #expect(stderr.isEmpty, "tshark wrote: \(stderr)")
    let family = try #require(CaptureContents(path: path).metadata?.family)
    #expect(packets.allSatisfy { $0.family == "family: \(family.name) (interface description)" })
    let differences = Self.differences(packets, try Self.decoded(path))
    #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
  }

  /// Writes `frames` as a capture whose interface description is `description`.
  static func write(_ frames: [CapturedFrame], family: LayoutFamily, description: String, to path: String) throws {
    var metadata = CaptureMetadata()
    metadata.family = family
    metadata.recorderName = "WiresharkDissectorTests"
    var bytes: [UInt8] = []
    let writer = try CaptureWriter(metadata: metadata, compression: .none) { bytes += $0 }
    _ = try writer.addInterface(description: description, now: 0)
    for frame in frames { try writer.write(frame, now: 0) }
    try writer.close(statistics: [:], now: 0, wallClock: 0)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// Every sample datagram of `family` cut short at several points and with bytes flipped, and
  /// some of random bytes: hostile input, in both directions.
  static func damagedFrames(_ family: LayoutFamily) throws -> [CapturedFrame] {
    let samples = try CaptureContents(path: Repository.url("captures/samples/\(family.name).pcapng.zst").path).frames
    var random = SeededRandom(seed: UInt64(LayoutFamily.allCases.firstIndex(of: family)!) &+ 7)
    var frames: [CapturedFrame] = []
    func add(_ bytes: [UInt8], _ direction: Direction) {
      guard !bytes.isEmpty else { return }
      frames.append(CapturedFrame(timestamp: UInt64(frames.count) * 1_000_000, direction: direction, bytes: bytes))
    }
    for sample in samples {
      let bytes = sample.bytes.array
      for cut in Set([bytes.count - 1, bytes.count / 2, 17, 16, 15, 9, 3]) where cut > 0 && cut < bytes.count {
        add(Array(bytes.prefix(cut)), sample.direction)
      }
      for _ in 0..<6 {
        var flipped = bytes
        let index = Int(random.next() % UInt64(bytes.count))
        flipped[index] ^= UInt8(truncatingIfNeeded: random.next() | 1)
        add(flipped, sample.direction)
      }
      // Past the end: trailing bytes the family's struct does not have.
      add(bytes + [0xde, 0xad, 0xbe, 0xef], sample.direction)
    }
    for length in [1, 16, 24, 200] {
      add((0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }, .fromKernel)
    }
    return frames
  }

  @Test(
    "damaged and random frames are marked malformed exactly where the decoder rejects them, never a Lua error",
    arguments: LayoutFamily.allCases)
  func damagedFramesAreExpertInfo(family: LayoutFamily) throws {
    let frames = try Self.damagedFrames(family)
    let path = Repository.temporaryPath("damaged.pcapng")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Self.write(frames, family: family, description: PcapngFormat.interfaceDescription(family: family), to: path)
    let dissector = try Self.generate()
    defer { try? FileManager.default.removeItem(atPath: dissector) }
    let (packets, stderr) = try Self.tshark(dissector, path)
    #expect(stderr.isEmpty, "tshark wrote: \(stderr)")
    let decoder = MessageDecoder(family: family)
    let decoded = frames.map { frame in
      (try? decoder.decode(frame.bytes, direction: frame.direction))?.map { $0.fieldValue(family: family) }
    }
    let rejected = decoded.filter { $0 == nil }.count
    #expect(rejected > 0 && rejected < frames.count, "the damage should reject some frames and not others")
    let differences = Self.differences(packets, decoded)
    #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
  }

  @Test("without the family in the capture, the preference picks it; auto says it guessed from struct sizes")
  func familyPreferenceAndGuess() throws {
    let family = LayoutFamily.xnu2050
    let sample = Repository.url("captures/samples/\(family.name).pcapng.zst").path
    let frames = try CaptureContents(path: sample).frames
    let path = Repository.temporaryPath("plain.pcapng")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Self.write(frames, family: family, description: PcapngFormat.controlName, to: path)
    let dissector = try Self.generate()
    defer { try? FileManager.default.removeItem(atPath: dissector) }

    let (chosen, stderr) = try Self.tshark(dissector, path, options: ["-o", "ntstat.family:\(family.name)"])
    #expect(stderr.isEmpty, "tshark wrote: \(stderr)")
    #expect(chosen.allSatisfy { $0.family == "family: \(family.name) (preference)" })
    let differences = Self.differences(chosen, try Self.decoded(path))
    #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")

    let (guessed, _) = try Self.tshark(dissector, path)
    #expect(guessed.count == frames.count)
    #expect(guessed.allSatisfy { $0.family.hasSuffix("(struct sizes)") })
  }

  /// The interface descriptions of a capture, in order.
  static func interfaceDescriptions(_ path: String) throws -> [String?] {
    let reader = try CaptureFileReader(path: path)
    var descriptions: [String?] = []
    while let record = try reader.next() {
      if case .interface(let interface) = record { descriptions.append(interface.description) }
    }
    return descriptions
  }

  @Test("convert names the family of an older capture for the dissector, and redact keeps it")
  func convertAndRedactCarryTheFamily() throws {
    let family = LayoutFamily.xnu7195
    let frames = try CaptureContents(path: Repository.url("captures/samples/\(family.name).pcapng.zst").path).frames
    let directory = try Repository.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let old = directory.appendingPathComponent("old.pcapng").path
    try Self.write(frames, family: family, description: PcapngFormat.controlName, to: old)
    let converted = directory.appendingPathComponent("converted.pcapng.zst").path
    let convert = try NtstatProcess.run(["convert", old, converted])
    #expect(convert.status == 0, "\(convert.stderr)")
    let named = "com.apple.network.statistics (xnu-7195)"
    #expect(try Self.interfaceDescriptions(converted) == [named])
    let redacted = directory.appendingPathComponent("redacted.pcapng.zst").path
    let redact = try NtstatProcess.run(["redact", converted, redacted, "--key", String(repeating: "5a", count: 16)])
    #expect(redact.status == 0, "\(redact.stderr)")
    #expect(try Self.interfaceDescriptions(redacted) == [named])

    // xnu-7195 shares every struct size with xnu-8019.41, so only the name tells them apart.
    let dissector = try Self.generate()
    defer { try? FileManager.default.removeItem(atPath: dissector) }
    let (packets, stderr) = try Self.tshark(dissector, converted)
    #expect(stderr.isEmpty, "tshark wrote: \(stderr)")
    #expect(packets.allSatisfy { $0.family == "family: xnu-7195 (interface description)" })
    let differences = Self.differences(packets, try Self.decoded(converted))
    #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
  }

  @Test("the committed ntstat.lua is what the tables generate today")
  func committedCopyIsCurrent() throws {
    let committed = try String(contentsOf: Repository.url(Self.committed), encoding: .utf8)
    #expect(
      committed == WiresharkDissector.lua(),
      "regenerate with: ntstat wireshark-dissector --force -o \(Self.committed)")
  }
}

/// The leaves of one message as (path, text) pairs in order: `descriptor.local.address`,
/// `items.[0].type`. Both sides are brought to one spelling: numbers in decimal, booleans as
/// true/false, UUIDs in lower case (Wireshark prints GUIDs so; the decoder upper case).
struct FlatLeaves {
  var leaves: [(path: String, text: String)] = []

  init(fieldValue: FieldValue) { add("", fieldValue) }

  init(pdml field: PDMLField) {
    for child in field.children { add("", child) }
  }

  private mutating func add(_ path: String, _ value: FieldValue) {
    switch value {
    case .object(let fields):
      if fields.isEmpty { leaves.append((path, "")) }
      for field in fields { add(path.isEmpty ? field.name : path + "." + field.name, field.value) }
    case .array(let values):
      if values.isEmpty { leaves.append((path, "")) }
      for (index, value) in values.enumerated() { add(path + ".[\(index)]", value) }
    case .null: leaves.append((path, "null"))
    case .bool(let b): leaves.append((path, b ? "true" : "false"))
    case .int(let i): leaves.append((path, String(i)))
    case .uint(let u): leaves.append((path, String(u)))
    case .string(let s): leaves.append((path, Self.isUUID(s) ? s.lowercased() : Self.wiresharkEscaped(s)))
    }
  }

  private mutating func add(_ path: String, _ field: PDMLField) {
    let here = path.isEmpty ? field.key : path + "." + field.key
    if field.children.isEmpty {
      leaves.append((here, Self.normalized(field)))
    } else {
      for child in field.children { add(here, child) }
    }
  }

  /// A string as Wireshark displays it: control characters escaped C-style (`\\x12`, `\\n`).
  static func wiresharkEscaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 7: out += "\\a"
      case 8: out += "\\b"
      case 9: out += "\\t"
      case 10: out += "\\n"
      case 11: out += "\\v"
      case 12: out += "\\f"
      case 13: out += "\\r"
      case 0..<0x20, 0x7f: out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  static func isUUID(_ text: String) -> Bool {
    text.utf8.count == 36 && text.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12]
  }

  /// Booleans show 1 or 0 and are labelled True or False.
  static func normalized(_ field: PDMLField) -> String {
    let show = field.show
    if field.showname.hasSuffix(": True") { return "true" }
    if field.showname.hasSuffix(": False") { return "false" }
    return show
  }

  /// Equal, or a number the dissector shows in hex (`0x…`, fields with a hex base).
  static func same(_ decoded: String, _ shown: String) -> Bool {
    if decoded == shown { return true }
    guard shown.hasPrefix("0x"), let value = UInt64(shown.dropFirst(2), radix: 16) else { return false }
    return String(value) == decoded
  }

  /// The first leaf that differs, or a length difference; nil when equal.
  static func firstDifference(
    _ expected: [(path: String, text: String)], _ shown: [(path: String, text: String)]
  )
    -> String?
  {
    for (e, s) in zip(expected, shown) where e.path != s.path || !same(e.text, s.text) {
      return "decoder \(e.path) = \(e.text), dissector \(s.path) = \(s.text)"
    }
    if expected.count != shown.count {
      return "decoder has \(expected.count) leaves, dissector \(shown.count): "
        + "\(expected.dropFirst(shown.count).first.map { "\($0.path)" } ?? "") "
        + "\(shown.dropFirst(expected.count).first.map { "\($0.path)" } ?? "")"
    }
    return nil
  }
}

/// One field of tshark's PDML: its JSON key (the start of its label), value and children,
/// without the decoration the dissector adds (bit fields, expert info, facts from other frames).
final class PDMLField {
  let name: String
  let key: String
  let showname: String
  let show: String
  var children: [PDMLField] = []

  init(name: String, showname: String, show: String) {
    self.name = name
    self.showname = showname
    self.show = show
    let keyCharacters = showname.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "[" || $0 == "]" }
    key = keyCharacters.isEmpty ? name : String(keyCharacters)
  }

  static let decoration = [
    "ntstat.flag.", "ntstat.ifnet_flag.", "ntstat.source", "_ws.expert", "ntstat.family",
    "ntstat.direction", "ntstat.expert.",
  ]
  var isDecoration: Bool { Self.decoration.contains { name.hasPrefix($0) } }
}

/// One packet of tshark's PDML: the ntstat messages shown, the family line, and whether the
/// dissector marked it malformed.
struct PDMLPacket {
  var messages: [PDMLField] = []
  var family = ""
  var malformed = false

  /// Parses tshark's PDML one packet at a time: FoundationXML gives up at the end of a
  /// document of many megabytes (a corpus capture's PDML is about 20 MB), and leaks the error
  /// it makes of that. Returns the packets and any XML error.
  static func parse(_ data: Data) -> ([PDMLPacket], [String]) {
    let text = String(decoding: data, as: UTF8.self)
    let collector = Collector()
    for chunk in text.components(separatedBy: "\n<packet>").dropFirst() {
      var packet = "<packet>" + chunk
      if let end = packet.range(of: "</pdml>") { packet.removeSubrange(end.lowerBound...) }
      let parser = XMLParser(data: Data(packet.utf8))
      parser.delegate = collector
      if !parser.parse(), collector.errors.isEmpty {
        collector.errors.append("a packet did not parse: \(parser.parserError.map { "\($0)" } ?? "no error given")")
      }
    }
    return (collector.packets, collector.errors)
  }

  final class Collector: NSObject, XMLParserDelegate {
    var packets: [PDMLPacket] = []
    var stack: [PDMLField] = []
    var inNtstat = false

    func parser(
      _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      switch element {
      case "packet":
        packets.append(PDMLPacket())
      case "proto":
        inNtstat = attributes["name"] == "ntstat"
      case "field" where inNtstat:
        let field = PDMLField(
          name: attributes["name"] ?? "", showname: attributes["showname"] ?? "", show: attributes["show"] ?? "")
        if field.name == "ntstat.expert.malformed" { packets[packets.count - 1].malformed = true }
        if field.name == "ntstat.family" { packets[packets.count - 1].family = field.showname }
        if let parent = stack.last {
          if !field.isDecoration && !parent.isDecoration { parent.children.append(field) }
        } else if field.name == "ntstat.message" {
          packets[packets.count - 1].messages.append(field)
        }
        stack.append(field)
      default:
        break
      }
    }

    var errors: [String] = []
    func parser(_ parser: XMLParser, parseErrorOccurred error: Error) { errors.append("\(error)") }
    func parser(_ parser: XMLParser, validationErrorOccurred error: Error) { errors.append("\(error)") }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
      if element == "field", inNtstat { stack.removeLast() }
      if element == "proto" { inNtstat = false }
    }
  }
}
