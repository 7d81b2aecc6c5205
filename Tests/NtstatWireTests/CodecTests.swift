import Foundation
import NtstatTestSupport
import Testing

@testable import NtstatWire

/// Golden vectors, round trips and hostile-input behaviour, for every family.
///
/// Golden files live in Fixtures/golden/<family>.txt, one datagram a line:
/// `name direction hex`. Re-record them with `NTSTAT_RECORD_GOLDEN=1 swift test --filter CodecTests`
/// after an intended encoding change, and review the diff.
@Suite(.hangLimit) struct CodecTests {
  static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/golden")

  static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
  static func bytes(_ hex: Substring) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
      let next = hex.index(index, offsetBy: 2)
      result.append(UInt8(hex[index..<next], radix: 16)!)
      index = next
    }
    return result
  }

  static func encoded(_ sample: SampleMessages.Sample, _ family: LayoutFamily) throws -> [UInt8] {
    try MessageEncoder(family: family).encodeDatagram(sample.messages, settingLength: true)
  }

  @Test("samples encode to the committed golden bytes and decode back", arguments: LayoutFamily.allCases)
  func goldenVectors(family: LayoutFamily) throws {
    let samples = SampleMessages.all(for: family)
    let file = Self.goldenDirectory.appendingPathComponent("\(family.name).txt")
    let lines = try samples.map { "\($0.name) \($0.direction.rawValue) \(Self.hex(try Self.encoded($0, family)))" }
    if ProcessInfo.processInfo.environment["NTSTAT_RECORD_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
      try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
    }
    let golden = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
    #expect(golden.count == samples.count, "golden file \(file.lastPathComponent) has one line per sample")
    let decoder = MessageDecoder(family: family)
    for (sample, line) in zip(samples, golden) {
      let parts = line.split(separator: " ")
      #expect(String(parts[0]) == sample.name)
      let bytes = Self.bytes(parts[2])
      #expect(try Self.encoded(sample, family) == bytes, "\(family) \(sample.name) encodes to its golden bytes")
      let decoded = try decoder.decode(bytes, direction: sample.direction)
      var expected = sample.messages
      for index in expected.indices where family.hasLengthAndFlags {
        expected[index].header.length = decoded[index].header.length
      }
      #expect(decoded == expected, "\(family) \(sample.name) decodes to the sample")
    }
  }

  @Test(
    "encode(decode(bytes)) == bytes, with every byte of every sample flipped in turn",
    arguments: LayoutFamily.allCases)
  func everyByteSurvivesARoundTrip(family: LayoutFamily) throws {
    let decoder = MessageDecoder(family: family)
    let encoder = MessageEncoder(family: family)
    var flips = 0
    var roundTrips = 0
    for sample in SampleMessages.all(for: family) {
      let original = try Self.encoded(sample, family)
      for index in original.indices {
        var mutated = original
        mutated[index] ^= 0xA5
        flips += 1
        let messages: [Message]
        do {
          messages = try decoder.decode(mutated, direction: sample.direction)
        } catch {
          continue  // a clean, typed refusal (e.g. a corrupted length or provider) is fine
        }
        let reencoded = try messages.flatMap { try encoder.encode($0) }
        #expect(reencoded == mutated, "\(family) \(sample.name): byte \(index) lost in a round trip")
        if reencoded != mutated { break }
        roundTrips += 1
      }
    }
    // Most bytes are values (counters, addresses, names), so most flips must decode: a decoder
    // that refused everything would otherwise pass this test.
    #expect(roundTrips * 4 >= flips * 3, "\(family): only \(roundTrips) of \(flips) flipped samples decoded")
  }

  @Test(
    "every truncation of every sample throws a typed error or decodes a shorter message",
    arguments: LayoutFamily.allCases)
  func truncationsNeverTrap(family: LayoutFamily) throws {
    let decoder = MessageDecoder(family: family)
    for sample in SampleMessages.all(for: family) {
      let original = try Self.encoded(sample, family)
      for cut in 0..<original.count {
        do {
          _ = try decoder.decode(Array(original[..<cut]), direction: sample.direction)
        } catch {
          #expect(error.offset <= cut, "\(family) \(sample.name) cut at \(cut): offset \(error.offset)")
        }
      }
    }
  }

  @Test(
    "a newer kernel's longer struct decodes its known prefix and keeps the extra bytes",
    arguments: LayoutFamily.allCases)
  func longerStructsKeepTheirTail(family: LayoutFamily) throws {
    let counts = Message(
      .sourceCounts(SourceCounts(sourceRef: SourceRef(9), eventFlags: family >= .xnu3789 ? 0 : nil, counts: Counts())))
    var bytes = try MessageEncoder(family: family).encode(counts, settingLength: true)
    bytes += [1, 2, 3, 4, 5, 6, 7, 8]
    if family.hasLengthAndFlags { bytes[12] = UInt8(bytes.count) }
    let decoded = try MessageDecoder(family: family).decode(bytes)
    #expect(decoded.count == 1)
    #expect(decoded[0].trailingBytes == [1, 2, 3, 4, 5, 6, 7, 8])
    guard case .sourceCounts(let body) = decoded[0].body else {
      Issue.record("not decoded as counts")
      return
    }
    #expect(body.sourceRef == SourceRef(9))
  }

  /// Bytes built by hand from the compiled offsets (shared/reference §a), not by our encoder.
  @Test func handBuiltModernCountsAndDescription() throws {
    // xnu-11417 SRC_COUNTS: hdr(16) srcref@16 event_flags@24 counts@32 (rxpackets@32, rxbytes@40,
    // txpackets@48, txbytes@56, cell_rxbytes@64 … avg_rtt@136); 144 bytes.
    var counts = [UInt8](repeating: 0, count: 144)
    func put(_ value: UInt64, _ at: Int, _ width: Int, into b: inout [UInt8]) {
      for i in 0..<width { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    put(7, 0, 8, into: &counts)  // context
    put(10004, 8, 4, into: &counts)
    put(144, 12, 2, into: &counts)
    put(42, 16, 8, into: &counts)
    put(3, 32, 8, into: &counts)
    put(1500, 40, 8, into: &counts)
    put(900, 64, 8, into: &counts)
    put(640, 136, 4, into: &counts)
    let message = try #require(try MessageDecoder(family: .xnu11215).decode(counts).first)
    #expect(message.header.context == 7)
    guard case .sourceCounts(let c) = message.body else { Issue.record("not counts"); return }
    #expect(c.sourceRef == SourceRef(42))
    #expect(c.counts.rxPackets == 3 && c.counts.rxBytes == 1500 && c.counts.cellRxBytes == 900)
    #expect(c.counts.avgRTT == 640)

    // xnu-7195 SRC_DESC for TCP_KERNEL (provider 2 @32, descriptor @40): pid @116, pname @196,
    // local @124 (sockaddr_in: len 16, family 2, port 443 big-endian, 127.0.0.1), state @76.
    var desc = [UInt8](repeating: 0, count: 40 + 336)
    put(10003, 8, 4, into: &desc)
    put(UInt64(desc.count), 12, 2, into: &desc)
    put(5, 16, 8, into: &desc)
    put(2, 32, 4, into: &desc)
    put(4, 40 + 76, 4, into: &desc)
    put(777, 40 + 116, 4, into: &desc)
    desc[40 + 124] = 16
    desc[40 + 125] = 2
    desc[40 + 126] = 0x01
    desc[40 + 127] = 0xBB
    desc[40 + 128] = 127
    desc[40 + 131] = 1
    for (i, c) in "curl".utf8.enumerated() { desc[40 + 196 + i] = c }
    let d = try #require(try MessageDecoder(family: .xnu7195).decode(desc).first)
    guard case .sourceDescription(let s) = d.body, case .tcp(let tcp) = s.descriptor else {
      Issue.record("not a TCP description")
      return
    }
    #expect(tcp.pid == 777 && tcp.processName.string == "curl" && tcp.state == .established)
    #expect(tcp.local == .ipv4(IPv4Address(127, 0, 0, 1), port: 443))
    // The same bytes read with the 4570 layout would put pid at 100: the libntstat bug.
    #expect(LayoutFamily.xnu4570.layouts.tcpDescriptor[.pid]?.offset == 100)
  }

  @Test func packedDatagramsAreSplitByHeaderLength() throws {
    let family = LayoutFamily.xnu3789  // pack(4): messages may start on 4-byte boundaries
    let encoder = MessageEncoder(family: family)
    let a = Message(.sourceAdded(SourceAdded(sourceRef: SourceRef(1), provider: ProviderID(rawValue: 2))))
    let b = Message(.sourceRemoved(SourceRef(2)))
    let c = Message(context: 9, .success)
    let datagram = try encoder.encodeDatagram([a, b, c])
    #expect(datagram.count == 28 + 24 + 16)
    let ranges = try MessageDecoder(family: family).messageRanges(in: datagram)
    #expect(ranges == [0..<28, 28..<52, 52..<68])
    let messages = try MessageDecoder(family: family).decode(datagram)
    #expect(messages.map(\.header.type) == [.sourceAdded, .sourceRemoved, .success])
  }

  @Test func malformedHeadersAreTypedErrors() throws {
    let decoder = MessageDecoder(family: .xnu11215)
    #expect(throws: WireError(.truncated, offset: 0, reason: "3 byte(s) left, a message header needs 16")) {
      try decoder.decode([1, 2, 3])
    }
    // A header whose length runs past the datagram, after a whole message: named at its offset.
    var pastTheEnd = try MessageEncoder(family: .xnu11215).encodeDatagram([Message(context: 1, .success)])
    pastTheEnd += [0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0x27, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0]
    #expect(
      throws: WireError(
        .truncated, offset: 16, messageType: .sourceCounts,
        reason: "header length 40 runs past the datagram's end (20 byte(s) left)")
    ) { try decoder.decode(pastTheEnd) }
    #expect(
      throws: WireError(.truncated, offset: 16, reason: "4 byte(s) left, a message header needs 16")
    ) { try decoder.decode(Array(pastTheEnd.prefix(20))) }
    var zeroLength = [UInt8](repeating: 0, count: 16)
    zeroLength[8] = 0x14  // type 10004 = 0x2714
    zeroLength[9] = 0x27
    do {
      _ = try decoder.decode(zeroLength)
      Issue.record("a zero header length must not decode")
    } catch {
      #expect(error.code == .lengthMismatch && error.offset == 12 && error.messageType == .sourceCounts)
    }
    // A description from an unknown provider.
    var desc = try MessageEncoder(family: .xnu11215).encode(
      Message(
        .sourceDescription(
          SourceDescription(
            sourceRef: SourceRef(1), eventFlags: 0, provider: ProviderID(rawValue: 2), reserved: 0,
            descriptor: SampleMessages.sampleDescriptor(.tcp, .xnu11215)!))), settingLength: true)
    desc[32] = 99
    do {
      _ = try decoder.decode(desc)
      Issue.record("an unknown provider must not decode")
    } catch {
      #expect(error.code == .unknownProvider && error.offset == 32)
    }
  }

  @Test func unknownMessageTypesArePreserved() throws {
    var bytes = [UInt8](repeating: 0, count: 20)
    bytes[8] = 0x99
    bytes[12] = 20
    bytes[16] = 0xAB
    let messages = try MessageDecoder(family: .xnu11215).decode(bytes)
    #expect(messages.first?.body == .unknown(type: MessageType(rawValue: 0x99), payload: [0xAB, 0, 0, 0]))
    #expect(try MessageEncoder(family: .xnu11215).encode(messages[0]) == bytes)
  }

  @Test func sourceRefsThatDoNotFitAreRefused() {
    #expect(throws: WireError.self) {
      try MessageEncoder(family: .xnu3247).encode(Message(.querySource(SourceRef(1 << 40))))
    }
  }

  @Test func ipv6TextFollowsRFC5952() {
    #expect(IPv6Address("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
    #expect(IPv6Address("::1")?.description == "::1")
    #expect(IPv6Address("::ffff:10.0.0.1")?.description == "::ffff:10.0.0.1")
    #expect(IPv6Address("fe80::1:2")?.description == "fe80::1:2")
    #expect(IPv6Address("::")?.description == "::")
    #expect(IPv6Address("1:2:3:4:5:6:7:8")?.description == "1:2:3:4:5:6:7:8")
    #expect(IPv6Address("1:0:2:3:4:5:6:7")?.description == "1:0:2:3:4:5:6:7")
    #expect(IPv6Address("1:0:0:2:0:0:3:4")?.description == "1::2:0:0:3:4")
    #expect(IPv6Address("1:0:0:2:0:0:0:4")?.description == "1:0:0:2::4")
    #expect(IPv6Address("1:0:0:0:0:0:0:0")?.description == "1::")
    #expect(IPv6Address("FFFF:0DB8:00A0:0:0:0:0:0")?.description == "ffff:db8:a0::")
    #expect(IPv6Address("::ffff:255.255.255.255")?.description == "::ffff:255.255.255.255")
    #expect(IPv4Address("0.0.0.0")?.description == "0.0.0.0")
    #expect(IPv4Address("255.10.100.7")?.description == "255.10.100.7")
    #expect(IPv6Address("1::2::3") == nil)
  }

  /// A descriptor's 28-byte address field: the kernel's two forms by their length and family
  /// bytes, all zeros as unspecified, and any other byte anywhere kept as `other`.
  @Test func addressFieldsAreReadByForm() {
    func read(_ bytes: [UInt8]) -> SocketAddress { bytes.withUnsafeBytes { SocketAddress(field: $0) } }
    var v4 = [UInt8](repeating: 0, count: 28)
    v4[0...7] = [16, 2, 0x01, 0xBB, 10, 0, 0, 1]
    var v6 = [UInt8](repeating: 0, count: 28)
    v6[0...3] = [28, 30, 0x00, 0x35]
    v6[8] = 0xFE
    v6[9] = 0x80
    v6[23] = 1
    v6[24] = 4
    #expect(read(v4) == .ipv4(IPv4Address(rawValue: 0x0A00_0001), port: 443))
    #expect(read(v6) == .ipv6(IPv6Address(high: 0xFE80 << 48, low: 1), port: 53, flowInfo: 0, scopeID: 4))
    #expect(read([UInt8](repeating: 0, count: 28)) == .unspecified)
    for position in 8..<28 {
      var stray = v4
      stray[position] = 7
      #expect(read(stray) == .other(Array(stray[0...max(7, position)])), "IPv4, byte \(position)")
    }
    var longer = v6 + [0, 0, 0, 0]
    longer[31] = 9
    #expect(read(longer) == .other(longer))
    var lone = [UInt8](repeating: 0, count: 28)
    lone[27] = 1
    #expect(read(lone) == .other(lone))
  }

  /// The C library's `inet_ntop` as the oracle: every IPv4 octet value in every position, and
  /// every pattern of zero groups in an IPv6 address, with non-zero groups of one to four hex
  /// digits. Left out: addresses whose first six groups are zero and the next not 0xffff, which
  /// `inet_ntop` writes as `::a.b.c.d` (RFC 5952 keeps that form for IPv4-mapped ones only).
  @Test func addressTextIsWhatInetNtopWrites() {
    func ntop(_ family: Int32, _ bytes: [UInt8]) -> String {
      var text = [CChar](repeating: 0, count: 64)
      bytes.withUnsafeBytes { _ = inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
      return String(cString: text)
    }
    for octet in 0...255 {
      for position in 0..<4 {
        let value = UInt32(octet) << (24 - 8 * UInt32(position)) | 0x0A00_0001 & ~(0xFF << (24 - 8 * UInt32(position)))
        let bytes = withUnsafeBytes(of: value.bigEndian) { Array($0) }
        #expect(IPv4Address(rawValue: value).description == ntop(AF_INET, bytes))
      }
    }
    let widths: [UInt16] = [0x7, 0x2a, 0xbcd, 0xfe80]
    for zeros in 0..<256 {
      for width in 0..<4 {
        var groups: [UInt16] = []
        for index in 0..<8 { groups.append(zeros & 1 << index != 0 ? 0 : widths[(index + width) % 4]) }
        if groups[0..<6].allSatisfy({ $0 == 0 }), groups[6] != 0 || groups[7] > 1 { continue }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let bytes = withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) }
        #expect(IPv6Address(high: high, low: low).description == ntop(AF_INET6, bytes), "zero groups \(zeros)")
      }
    }
  }
}
