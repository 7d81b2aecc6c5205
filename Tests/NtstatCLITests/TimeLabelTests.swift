import NtstatWire
import Testing

@testable import NtstatCLI

/// The `HH:MM:SS.mmm` every text and CSV line starts with, written in one piece into reserved
/// bytes: each field in its place, zero-padded, wrapped at midnight, shifted by a time zone's
/// offset either way. Live output on a Mac takes the wall-clock path, which no test here can run
/// through a kernel, so the clock is checked here on its own.
@Suite struct TimeLabelTests {
  static func clock(_ nanoseconds: UInt64, offset: Int64 = 0) -> String {
    let out = UnsafeMutablePointer<UInt8>.allocate(capacity: TimeLabel.width)
    defer { out.deallocate() }
    let count = TimeLabel.writeClock(nanoseconds, localOffset: offset, at: out)
    return String(decoding: UnsafeBufferPointer(start: out, count: count), as: UTF8.self)
  }

  @Test func clockFieldsArePaddedAndWrapped() {
    #expect(Self.clock(0) == "00:00:00.000")
    #expect(Self.clock(7_000_000) == "00:00:00.007")
    #expect(Self.clock(45_296_007_999_999) == "12:34:56.007")  // milliseconds truncated
    #expect(Self.clock(86_399_999_000_000) == "23:59:59.999")
    #expect(Self.clock(86_400_000_000_000 + 61_010_000_000) == "00:01:01.010")  // the next day
    #expect(Self.clock(3_600_123_000_000, offset: -7_200) == "23:00:00.123")  // west of UTC, wrapped back
    #expect(Self.clock(45_296_007_000_000, offset: 19_800) == "18:04:56.007")  // UTC+5:30
  }

  @Test func elapsedTimeIsSinceTheOrigin() {
    let label = TimeLabel.elapsed(origin: MonotonicTime(nanoseconds: 5_000_000_000))
    #expect(label.text(MonotonicTime(nanoseconds: 5_000_000_000 + 3_723_456_000_000)) == "01:02:03.456")
  }
}
