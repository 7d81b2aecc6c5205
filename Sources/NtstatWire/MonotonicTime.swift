/// A point on a monotonic time line, in nanoseconds since an arbitrary origin.
///
/// The sans-IO parts (the client engine, the simulated kernel) never read a clock: every call
/// that depends on time takes a `MonotonicTime`. Live transports pass the system's monotonic
/// clock, the simulator and the replayer pass a virtual one. Integer nanoseconds keep
/// arithmetic exact, so a replay at any speed computes the same deadlines.
public struct MonotonicTime: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var nanoseconds: UInt64

  public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

  public static let zero = MonotonicTime(nanoseconds: 0)

  public static func seconds(_ value: Double) -> MonotonicTime {
    MonotonicTime(nanoseconds: UInt64(max(0, value * 1e9).rounded()))
  }

  public static func milliseconds(_ value: UInt64) -> MonotonicTime {
    MonotonicTime(nanoseconds: value &* 1_000_000)
  }

  public var seconds: Double { Double(nanoseconds) / 1e9 }

  /// `self + interval`, saturating at the end of the time line.
  public func adding(nanoseconds interval: UInt64) -> MonotonicTime {
    let (sum, overflow) = nanoseconds.addingReportingOverflow(interval)
    return MonotonicTime(nanoseconds: overflow ? .max : sum)
  }

  public static func + (lhs: MonotonicTime, rhs: MonotonicTime) -> MonotonicTime {
    lhs.adding(nanoseconds: rhs.nanoseconds)
  }

  /// The interval from `earlier` to `self`, or zero if `earlier` is later.
  public func since(_ earlier: MonotonicTime) -> UInt64 {
    nanoseconds >= earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0
  }

  public static func < (lhs: MonotonicTime, rhs: MonotonicTime) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

  /// Seconds with nanosecond precision, e.g. `12.000250000`.
  public var description: String {
    let fraction = String(nanoseconds % 1_000_000_000)
    return "\(nanoseconds / 1_000_000_000)." + String(repeating: "0", count: 9 - fraction.count) + fraction
  }
}
