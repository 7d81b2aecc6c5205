import Testing

@testable import NTStat

/// `diff` treats two events with equal digests as equal, so the hash must tell apart inputs
/// that differ only in where one field ends and the next begins, or in one byte of a tail.
@Suite struct DigestHasherTests {
  static func hash(_ parts: [[UInt8]]) -> Int {
    var hasher = DigestHasher()
    for part in parts { part.withUnsafeBytes { hasher.combine(bytes: $0) } }
    return hasher.finalize()
  }

  @Test func equalInputsHashAlike() {
    let parts: [[UInt8]] = [Array("local".utf8), Array("[::1]:80".utf8)]
    #expect(Self.hash(parts) == Self.hash(parts))
  }

  @Test func splitsLengthsAndSingleBytesAllDiffer() {
    let text = Array("0123456789abcdefghij".utf8)
    var seen: [Int: String] = [:]
    func record(_ parts: [[UInt8]]) {
      let label = parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "|")
      let h = Self.hash(parts)
      #expect(seen[h] == nil, "\(label) collides with \(seen[h] ?? "")")
      seen[h] = label
    }
    // Every prefix (so every tail length 0–7 and every word count), whole and split in two.
    for length in 0...text.count {
      record([Array(text[..<length])])
      for cut in 0...length where cut > 0 && cut < length {
        record([Array(text[..<cut]), Array(text[cut..<length])])
      }
    }
    // A trailing zero byte: a tail padded with zeros must not read as a shorter one.
    for length in [3, 8, 13] { record([Array(text[..<length]) + [0]]) }
    // One byte changed anywhere in a 20-byte input.
    for index in text.indices {
      var changed = text
      changed[index] ^= 1
      record([changed])
    }
  }
}
