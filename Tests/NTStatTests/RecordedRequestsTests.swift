import NtstatSimulator
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

  /// Random appends, takes and expiries across many compactions, held to a plain list scanned
  /// in full for every answer; the key index never holds more keys than unmatched requests.
  @Test(arguments: [1, 2, 3])
  func agreesWithAListScan(seed: UInt64) {
    var random = SeededRandom(seed: seed)
    var pending = RecordedRequests()
    var model: [RecordedRequests.Request] = []
    var index: UInt64 = 0
    for step in 0..<20_000 {
      switch random.next() % 8 {
      case 0, 1, 2, 3:
        index += 1
        let request = Self.request(index, ref: random.next() % 50, at: Double(index) / 1000)
        pending.append(request)
        model.append(request)
      case 4, 5:
        let key = Self.request(0, ref: random.next() % 50, at: 0).key
        let expected = model.firstIndex { $0.key == key }.map { model.remove(at: $0) }
        #expect(pending.take(key)?.index == expected?.index, "step \(step)")
      case 6:
        let cutoff = MonotonicTime.seconds(Double(index) / 1000 - Double(random.next() % 300) / 1000)
        var aged: [UInt64] = []
        pending.expire(where: { $0.time < cutoff }) { aged.append($0.index) }
        let expected = model.prefix { $0.time < cutoff }.map(\.index)
        model.removeFirst(expected.count)
        #expect(aged == expected, "step \(step)")
      default:
        let context = random.next() % (index + 1)
        #expect(pending.contains(context: context) == model.contains { $0.context == context }, "step \(step)")
        #expect(pending.first()?.index == model.first?.index, "step \(step)")
      }
      #expect(pending.count == model.count)
      #expect(pending.indexedKeys <= pending.count)
    }
  }
}
