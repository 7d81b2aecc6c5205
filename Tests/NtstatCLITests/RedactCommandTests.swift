import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// `ntstat redact` on every corpus capture and every codec sample (one datagram of every
/// message kind of every family): the same structure, none of the identities.
@Suite(.hangLimit) struct RedactCommandTests {
  static let key = "00112233445566778899aabbccddeeff"

  static var corpus: [String] {
    Repository.files(in: "captures", endingIn: [".pcapng.zst"]).map { "captures/" + $0 }
      + Repository.files(in: "captures/samples", endingIn: [".pcapng.zst"]).map { "captures/samples/" + $0 }
  }

  static func frames(_ path: String) throws -> (CaptureMetadata?, [CapturedFrame]) {
    let contents = try CaptureContents(path: path)
    if let damage = contents.damage { throw damage }
    return (contents.metadata, contents.frames)
  }

  /// The identities a datagram carries, as the bytes they are on the wire.
  static func needles(_ message: Message, decoder: MessageDecoder, into out: inout Set<[UInt8]>) {
    func address(_ a: SocketAddress?) {
      switch a {
      case .ipv4(let ip, let port)? where !ip.isLoopback && ip.rawValue != 0 && ip.rawValue >> 16 != 0xA9FE:
        out.insert([UInt8(port >> 8), UInt8(port & 0xFF)] + withUnsafeBytes(of: ip.rawValue.bigEndian, Array.init))
      case .ipv6(let ip, _, _, _)? where !(ip.high == 0 && ip.low <= 1) && ip.high >> 54 != 0x3FA:
        out.insert(
          withUnsafeBytes(of: ip.high.bigEndian, Array.init) + withUnsafeBytes(of: ip.low.bigEndian, Array.init))
      default: break
      }
    }
    func name(_ text: FixedCString) { if text.bytes.count >= 3 { out.insert(text.bytes) } }
    func uuid(_ u: UUIDBytes?) {
      if let u, !u.isZero {
        out.insert(withUnsafeBytes(of: u.high.bigEndian, Array.init) + withUnsafeBytes(of: u.low.bigEndian, Array.init))
      }
    }
    func descriptor(_ d: Descriptor) {
      switch d {
      case .tcp(let t):
        address(t.local); address(t.remote); name(t.processName); [t.uuid, t.euuid, t.vuuid, t.fuuid].forEach(uuid)
      case .udp(let u):
        address(u.local); address(u.remote); name(u.processName); [u.uuid, u.euuid, u.vuuid, u.fuuid].forEach(uuid)
      case .connection(let c): name(c.processName); [c.uuid, c.euuid, c.cuuid, c.puuid, c.fuuid].forEach(uuid)
      case .route(let r): address(r.destination); address(r.gateway)
      case .ifnet(let i): name(i.interfaceDescription)
      case .sysinfo: break
      }
    }
    func items(_ items: [ExtendedItem]) {
      for item in items {
        if case .domain(let info) = item.payload {
          [info.domainName, info.domainOwner, info.trackerContext, info.attributedBundleID].forEach(name)
          address(info.remote)
        }
        if case .flowUUID(let u) = item.payload { uuid(u) }
      }
    }
    switch message.body {
    case .sourceDescription(let d): descriptor(d.descriptor)
    case .sourceUpdate(let u), .sourceExtendedUpdate(let u):
      descriptor(u.descriptor)
      items(u.items)
    case .sourceDetails(let d), .sourceExtendedDetails(let d):
      descriptor(d.descriptor)
      items(d.items)
    case .addSource(let request):
      if case .socket(let local, let remote) = request.parameters { address(local); address(remote) }
    case .error(let reply):
      for echoed in (try? decoder.decode(reply.failedRequest, direction: .toKernel)) ?? [] {
        needles(echoed, decoder: decoder, into: &out)
      }
    default: break
    }
  }

  @Test(arguments: corpus)
  func redactedCaptureKeepsStructureAndLosesIdentities(capture: String) throws {
    // A path of its own: captures/ and captures/samples/ hold files of the same name, whose
    // cases run at the same time.
    let output = Repository.temporaryPath("redacted-\((capture as NSString).lastPathComponent)")
    defer { try? FileManager.default.removeItem(atPath: output) }
    let result = try NtstatProcess.run(["redact", capture, output, "--key", Self.key])
    #expect(result.status == 0, "\(result.stderr)")

    // The same streams, counters and event kinds: nothing differs but the pseudonyms.
    let golden = capture.replacingOccurrences(of: ".pcapng.zst", with: ".jsonl")
    if FileManager.default.fileExists(atPath: NtstatProcess.packageRoot.appendingPathComponent(golden).path) {
      let diff = try NtstatProcess.run(["diff", "--ignore", "local,remote,process,uuid", golden, output])
      #expect(diff.status == 0, "\(diff.stdout.suffix(600))")
    }

    // No original address, name or UUID anywhere in the redacted datagrams or metadata.
    let (metadata, original) = try Self.frames(NtstatProcess.packageRoot.appendingPathComponent(capture).path)
    let family = try #require(metadata?.declaredFamily?.family)
    let decoder = MessageDecoder(family: family)
    var needles = Set<[UInt8]>()
    for frame in original {
      for message in (try? decoder.decode(frame.bytes, direction: frame.direction)) ?? [] {
        Self.needles(message, decoder: decoder, into: &needles)
      }
    }
    // A needle of mostly zero bytes (the codec samples' UUIDs are 1 and 2, one address is
    // 10.0.0.0 port 0) matches counters and padding by chance; four non-zero bytes make a
    // match mean what it says.
    needles = needles.filter { $0.filter { $0 != 0 }.count >= 4 }
    #expect(!needles.isEmpty)
    let (redactedMetadata, redacted) = try Self.frames(output)
    #expect(redacted.count == original.count)
    #expect(redactedMetadata?.extra["ntstat.redacted"]?.contains("keyed") == true)
    #expect(!(redactedMetadata?.keyValues.contains { $0.1.lowercased().contains(Self.key) } ?? true))
    let haystack = Data(redacted.flatMap(\.bytes) + Array((redactedMetadata?.keyValues.map(\.1).joined() ?? "").utf8))
    for needle in needles {
      #expect(!Self.contains(haystack, needle), "\(capture): \(needle) survived")
    }
  }

  /// Whether `needle` occurs in `haystack`, searched by Foundation (built optimised): a byte
  /// loop compiled for debugging took this suite two minutes (hundreds of needles, hundreds of
  /// kilobytes of datagrams per capture).
  static func contains(_ haystack: Data, _ needle: [UInt8]) -> Bool {
    !needle.isEmpty && haystack.range(of: Data(needle)) != nil
  }

  @Test func sameKeySamePseudonymsAndAnonymizedRecordingsShareTheCode() throws {
    let directory = Repository.temporaryPath("redact")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for name in ["a", "b"] {
      #expect(
        try NtstatProcess.run([
          "redact", "captures/xnu-7195.pcapng.zst", "\(directory)/\(name).pcapng", "--key", Self.key,
        ]).status == 0)
    }
    let a = try Self.frames("\(directory)/a.pcapng").1.map(\.bytes)
    let b = try Self.frames("\(directory)/b.pcapng").1.map(\.bytes)
    #expect(a == b)
    // A recording made with --anonymize is redacted the same way (with a random key).
    let recorded = "\(directory)/anon.pcapng.zst"
    let record = try NtstatProcess.run(["record", "--simulate", "--duration", "5s", "--anonymize", "-o", recorded])
    #expect(record.status == 0, "\(record.stderr)")
    let (metadata, frames) = try Self.frames(recorded)
    #expect(metadata?.extra["ntstat.redacted"] != nil)
    #expect(!frames.isEmpty)
    let text = Data(frames.flatMap(\.bytes))
    // The simulator's process names never appear; its pseudonyms do.
    #expect(!Self.contains(text, Array("Safari".utf8)) && !Self.contains(text, Array("Music".utf8)))
    #expect(Self.contains(text, Array("p-".utf8)))
  }
}
