import Foundation

/// SplitMix64: a small, fast generator whose output depends only on its seed, on every
/// platform and Swift version, so a seed reproduces a workload byte for byte.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform value in `0..<bound` (bound > 0).
  mutating func below(_ bound: UInt64) -> UInt64 { next() % bound }

  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

  /// An exponentially distributed interval with the given mean, in nanoseconds.
  mutating func exponential(meanNanoseconds mean: Double) -> UInt64 {
    let u = (Double(next() >> 11) + 1) / Double(1 << 53)
    return UInt64(min(-mean * log(u), 1e15))
  }
}
