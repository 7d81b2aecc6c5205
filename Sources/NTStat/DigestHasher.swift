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
  package mutating func combine(bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset + 8 <= bytes.count {
      combine(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      offset += 8
    }
    var tail = UInt64(bytes.count) << 56
    var shift: UInt64 = 0
    while offset < bytes.count {
      tail |= UInt64(bytes[offset]) << shift
      shift += 8
      offset += 1
    }
    combine(tail)
  }

  package func finalize() -> Int {
    Int(truncatingIfNeeded: Self.fold(state ^ 0xA076_1D64_78BD_642F, 0xE703_7ED1_A0B4_28DB))
  }
}
