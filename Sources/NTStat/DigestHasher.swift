/// The hash ``EventDigest`` keeps of an event: 64 bits, eight bytes at a time, each word folded
/// in with a full-width multiply (as wyhash mixes). `Hasher` (SipHash) spent a tenth of a
/// `diff`'s time combining one short field at a time. The seed is random per process, as
/// `Hasher`'s is, so which inputs collide cannot be chosen in advance; digests are compared
/// only within one process.
package struct DigestHasher {
  private var state: UInt64

  /// One random seed for every hasher of this process: digests of the two sides must agree.
  private static let seed: UInt64 = {
    var seeder = Hasher()
    seeder.combine(0x6E74_7374_6174 as UInt64)  // any value: Hasher's per-process seed does the rest
    return UInt64(truncatingIfNeeded: seeder.finalize())
  }()

  package init() { state = Self.seed }

  @inline(__always)
  private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let product = a.multipliedFullWidth(by: b)
    return product.high ^ product.low
  }

  package mutating func combine(_ value: UInt64) {
    state = Self.fold(state ^ value, 0x9E37_79B9_7F4A_7C15)
  }

  package mutating func combine(_ value: UInt8) { combine(UInt64(value) | 0x100) }

  /// The bytes and their count: `ab` then `c` differs from `a` then `bc`.
  ///
  /// The last one to eight bytes are read as at most two loads that may overlap what came
  /// before (as wyhash reads them), not byte by byte: most inputs are field names of ten or so
  /// bytes, and a byte loop for their tails was most of the cost (`callgrind`: 78 instructions a
  /// name). With the count folded in last, the words read still determine the bytes.
  package mutating func combine(bytes: UnsafeRawBufferPointer) {
    let count = bytes.count
    var tail: UInt64 = 0
    if count >= 8 {
      var offset = 0
      while offset + 8 < count {
        combine(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
      }
      tail = bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    } else if count >= 4 {
      let low = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
      let high = bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
      tail = UInt64(low) | UInt64(high) << 32
    } else if count > 0 {
      tail = UInt64(bytes[0]) | UInt64(bytes[count / 2]) << 8 | UInt64(bytes[count - 1]) << 16
    }
    combine(tail)
    combine(UInt64(count))
  }

  package func finalize() -> Int {
    Int(truncatingIfNeeded: Self.fold(state ^ 0xA076_1D64_78BD_642F, 0xE703_7ED1_A0B4_28DB))
  }
}
