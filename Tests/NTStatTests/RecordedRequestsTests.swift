import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat
@testable import NtstatReplay

/// The replay's pending recorded requests: the same answers a list scan gave, in constant
/// amortised time (a capture whose every request diverges used to replay in quadratic time).
@Suite(.hangLimit) struct RecordedRequestsTests {
  static func request(_ index: UInt64, ref: UInt64, at seconds: Double) -> RecordedRequests.Request {
    let message = Message(context: index, .getUpdate(SourceRef(ref)))
    return RecordedRequests.Request(
      index: index, time: .seconds(seconds), key: RequestKey(message, family: .xnu11215), context: index)
  }

  @Test func takesTheOldestWithAKeyAndAgesOutInOrder() {
    var pending = RecordedRequests()
    for index in 1...6 { pending.append(Self.request(UInt64(index), ref: UInt64(index % 2), at: Double(index))) }
    // Refs alternate 1, 0, 1, 0, 1, 0: the oldest with ref 0 is index 2.
    #expect(pending.take(Self.request(0, ref: 0, at: 0).key)?.index == 2)
    #expect(pending.take(Self.request(0, ref: 0, at: 0).key)?.index == 4)
    #expect(pending.count == 4)
    #expect(pending.contains(context: 3) && !pending.contains(context: 2))
    #expect(pending.first()?.index == 1)
    var missing: [UInt64] = []
    // At t = 5.5 s with a 2 s window, indices 1 and 3 are too old (4 was matched).
    pending.expire(where: { MonotonicTime.seconds(5.5).since($0.time) > 2_000_000_000 }) { missing.append($0.index) }
    #expect(missing == [1, 3])
    #expect(pending.first()?.index == 5)
    pending.removeAll { missing.append($0.index) }
    #expect(missing == [1, 3, 5, 6])
    #expect(pending.isEmpty && pending.first() == nil)
  }

  @Test func staysCorrectAcrossCompaction() {
    var pending = RecordedRequests()
    var expected: [UInt64] = []
    // Many more than the compaction threshold, half matched, half aged out.
    for index in 1...10_000 {
      pending.append(Self.request(UInt64(index), ref: UInt64(index % 7), at: Double(index) / 1000))
      if index % 2 == 0 {
        let taken = pending.take(Self.request(0, ref: UInt64(index % 7), at: 0).key)
        #expect(taken != nil)
      }
      if index % 100 == 0 {
        pending.expire(where: { MonotonicTime.seconds(Double(index) / 1000).since($0.time) > 50_000_000 }) {
          expected.append($0.index)
        }
      }
    }
    var rest: [UInt64] = []
    pending.removeAll { rest.append($0.index) }
    #expect(expected.count + rest.count + 5000 == 10_000)
    #expect((expected + rest) == (expected + rest).sorted())
  }
}
