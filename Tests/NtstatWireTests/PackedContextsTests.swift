import NtstatFuzzChecks
import NtstatWire
import Testing

/// The capture reader's note of a kernel datagram's contexts against what the decoder itself
/// finds walking the datagram's messages (the wire fuzzer checks the same on its inputs): the
/// replay trusts the note in place of that walk.
@Suite struct PackedContextsTests {
  static let decoder = MessageDecoder(family: .xnu11215)

  static func walked(_ datagram: [UInt8]) -> PackedContexts {
    datagram.withUnsafeBytes { WireFuzzing.contextsWalked($0, decoder) }
  }

  static func noted(_ datagram: [UInt8]) -> PackedContexts {
    datagram.withUnsafeBytes { PackedContexts(packedDatagram: $0) }
  }

  /// A message header of `length` bytes (padded with its own length's low byte) and `context`.
  static func message(context: UInt64, length: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: length), count: max(length, 16))
    withUnsafeBytes(of: context.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
    withUnsafeBytes(of: UInt32(10_004).littleEndian) { bytes.replaceSubrange(8..<12, with: $0) }  // SRC_COUNTS
    withUnsafeBytes(of: UInt16(truncatingIfNeeded: length).littleEndian) { bytes.replaceSubrange(12..<14, with: $0) }
    return bytes
  }

  @Test func eachKindOfDatagram() {
    let counts = { (context: UInt64) in Self.message(context: context, length: 136) }
    #expect(Self.noted([]) == .unframed)
    #expect(Self.noted(counts(0) + counts(0)) == .none)
    #expect(Self.noted(counts(0) + counts(7) + counts(7)) == .one(7))
    #expect(Self.noted(counts(7) + counts(0) + counts(9)) == .several)
    // A header length past the end, or shorter than a header, or bytes left over.
    #expect(Self.noted(counts(7) + Self.message(context: 7, length: 200).prefix(150)) == .unframed)
    #expect(Self.noted(counts(7) + Self.message(context: 7, length: 12)) == .unframed)
    #expect(Self.noted(counts(7) + [1, 2, 3]) == .unframed)
  }

  /// Datagrams of random messages, some damaged, noted as the decoder walks them.
  @Test(arguments: 0..<8) func agreesWithTheDecodersWalk(seed: UInt64) {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func random(_ bound: Int) -> Int {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return Int(state % UInt64(bound))
    }
    var kinds: Set<String> = []
    for _ in 0..<2_000 {
      var datagram: [UInt8] = []
      for _ in 0..<(1 + random(30)) {
        datagram += Self.message(context: [0, 0, 7, 7, 7, 9][random(6)], length: 16 + random(200))
      }
      switch random(8) {
      case 0: datagram.removeLast(1 + random(min(40, datagram.count)))
      case 1: datagram += [UInt8](repeating: 0, count: random(20))
      case 2:
        // A length that overruns, or is shorter than a header.
        let offset = random(datagram.count - 13)
        datagram[offset + 12] = UInt8(random(256))
      default: break
      }
      let expected = Self.walked(datagram)
      #expect(Self.noted(datagram) == expected, "seed \(seed): \(datagram)")
      kinds.insert("\(expected)".prefix(3).description)
    }
    #expect(kinds.count == 4, "every kind of note was met: \(kinds)")
  }
}
