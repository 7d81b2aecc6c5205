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

  /// `self + interval`, saturating at the end of the time line: an instant plus a duration
  /// (two instants do not add).
  public func adding(_ interval: Duration) -> MonotonicTime { adding(nanoseconds: interval.wholeNanoseconds) }

  public static func + (lhs: MonotonicTime, rhs: Duration) -> MonotonicTime { lhs.adding(rhs) }

  /// The interval from `earlier` to `self` as a `Duration`, or zero if `earlier` is later.
  public func duration(since earlier: MonotonicTime) -> Duration { .nanoseconds(Int64(clamping: since(earlier))) }

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

extension Duration {
  /// Whole nanoseconds, clamped to `0…UInt64.max`: the integer clock the sans-IO parts count on.
  public var wholeNanoseconds: UInt64 {
    let (seconds, attoseconds) = components
    guard seconds >= 0, attoseconds >= 0 || seconds > 0 else { return 0 }
    let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return .max }
    let fraction = attoseconds / 1_000_000_000
    return fraction >= 0 ? whole &+ UInt64(fraction) : whole &- UInt64(-fraction)
  }
}
