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
      table[SourceRef(ref)] = TrackedSource(ref: SourceRef(ref), at: .zero)
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
}
