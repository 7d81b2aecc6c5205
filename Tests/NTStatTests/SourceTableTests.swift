import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat

/// The engine's ref index against a Dictionary, through random inserts, updates and removals
/// (backward-shift deletion is easy to get subtly wrong).
@Suite(.hangLimit) struct SourceTableTests {
  @Test func refIndexAgreesWithDictionary() {
    var index = RefIndex()
    var reference: [UInt64: Int] = [:]
    var state: UInt64 = 12345
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    for step in 0..<200_000 {
      // Small key space so keys collide, repeat and get removed often.
      let key = next() % 5000
      switch next() % 3 {
      case 0, 1:
        index[SourceRef(key)] = step
        reference[key] = step
      default:
        index[SourceRef(key)] = nil
        reference[key] = nil
      }
      if step % 1000 == 0 {
        for probe in 0..<5000 as Range<UInt64> where index[SourceRef(probe)] != reference[probe] {
          Issue.record("key \(probe) differs at step \(step)")
          return
        }
      }
    }
  }

  @Test func tableKeepsSlotsRightAcrossRemovals() {
    var table = SourceTable()
    for ref in 1...100 as ClosedRange<UInt64> {
      table[SourceRef(ref)] = TrackedSource(ref: SourceRef(ref), firstSeen: .zero, lastUpdated: .zero, createdAt: .zero)
    }
    for ref in stride(from: 1, through: 100, by: 3) { table[SourceRef(UInt64(ref))] = nil }
    #expect(table.count == 66)
    for ref in 1...100 as ClosedRange<UInt64> {
      let present = table[SourceRef(ref)]
      #expect((present != nil) == ((ref - 1) % 3 != 0))
      if let present { #expect(present.ref == SourceRef(ref)) }
      if let slot = table.slot(of: SourceRef(ref)) { #expect(table[slot: slot].ref == SourceRef(ref)) }
    }
  }

  /// A removed record's state serves the next new record only if nothing else holds it, and
  /// then blank: nothing of the source before shows through.
  @Test func removedStatesServeNewRecordsBlankAndOnlyWhenFree() {
    var table = SourceTable()
    let first = SourceRef(1)
    let second = SourceRef(2)
    let third = SourceRef(3)
    let time = MonotonicTime(nanoseconds: 7)
    table.add(first, provider: .tcpKernel, at: time)
    Self.wear(&table, first)
    // Held elsewhere (as a listener's stream would hold it): not reused, and not changed.
    let held = table[first]
    table[first] = nil
    #expect(table.spareStateCount == 0)
    table.add(second, provider: .udpKernel, at: .zero)
    Self.wear(&table, second, rxBytes: 99)
    #expect(held?.counts.rxBytes == 42)
    #expect(held?.removal == .lost)
    #expect(held?.provider == .tcpKernel)
    // Free: reused for the next record, which starts blank.
    table[second] = nil
    #expect(table.spareStateCount == 1)
    table.add(third, provider: nil, at: .zero)
    #expect(table.spareStateCount == 0)
    let blank = table[third]
    #expect(blank?.counts == Counts())
    #expect(blank?.removal == nil)
    #expect(blank?.provider == nil)
    #expect(blank?.detailed == nil)
    #expect(blank?.described == nil)
    #expect(blank?.firstSeen == .zero && blank?.lastUpdated == .zero)
  }

  /// Gives the record of `ref` counters, details, a later time and a removal.
  static func wear(_ table: inout SourceTable, _ ref: SourceRef, rxBytes: UInt64 = 42) {
    guard let slot = table.slot(of: ref) else { return }
    var counts = Counts()
    counts.rxBytes = rxBytes
    table.withRecord(slot: slot) { record in
      record.store(counts: counts, at: MonotonicTime(nanoseconds: 100))
      record.detailed = DetailedCountsBox(DetailedCounts())
      record.markRemoved(at: MonotonicTime(nanoseconds: 200), reason: .lost)
    }
  }
}
