import NtstatReplay
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

  /// A new source takes the description its state's former source left and writes its own
  /// descriptor into it: it shows the new source alone, in every derived field. A description a
  /// kept stream still holds is left to it.
  @Test func formerDescriptionsServeNewSourcesShowingOnlyThem() throws {
    let capture = "xnu-11215.pcapng.zst"
    let family = try ReplayTransport(path: Corpus.path(capture)).family
    let decoder = MessageDecoder(family: family)
    // Descriptors as the kernel sent them, by provider and size, each process's first.
    var regions: [String: [(provider: ProviderID, bytes: [UInt8], state: TCPState?)]] = [:]
    var names = Set<String>()
    for frame in try CaptureContents(path: Corpus.path(capture)).frames where frame.direction == .fromKernel {
      try frame.bytes.withUnsafeBytes { bytes in
        try decoder.forEachView(in: bytes, direction: .fromKernel) { view in
          guard let region = try view.descriptorRegionAndState(),
            let kind = family.providerKind(for: region.provider)
          else { return }
          let name = DescribedSource(
            bytes: region.bytes, providerID: region.provider, provider: kind, decoder: decoder, previous: nil
          ).fields.process.name
          guard names.insert(name).inserted else { return }
          regions["\(region.provider.rawValue)/\(region.bytes.count)", default: []].append(
            (region.provider, Array(region.bytes), region.state))
        }
      }
    }
    let three = try #require(regions.values.first { $0.count >= 3 }, "three processes' descriptors of one kind")
    let kind = try #require(family.providerKind(for: three[0].provider))
    var table = SourceTable()
    func describe(_ ref: SourceRef, _ index: Int) {
      table.add(ref, provider: kind, at: .zero)
      let region = three[index]
      table.withRecord(slot: table.slot(of: ref)!) { record in
        region.bytes.withUnsafeBytes {
          record.describe(bytes: $0, providerID: region.provider, state: region.state, decoder: decoder)
        }
      }
    }
    func expectShows(_ described: DescribedSource?, _ index: Int, _ comment: Comment) throws {
      let shown = try #require(described, comment).fields
      let region = three[index]
      let truth = region.bytes.withUnsafeBytes {
        DescribedSource(bytes: $0, providerID: region.provider, provider: kind, decoder: decoder, previous: nil)
      }
      #expect(described?.descriptor == truth.descriptor, comment)
      #expect(shown.key == truth.fields.key, comment)
      #expect(shown.process == truth.fields.process, comment)
      #expect(shown.tcpState == truth.fields.tcpState, comment)
      #expect(shown.tcpWindows == truth.fields.tcpWindows, comment)
      #expect(shown.interfaceProperties == truth.fields.interfaceProperties, comment)
    }
    describe(SourceRef(1), 0)
    // Held weakly: a strong reference here would keep it from being taken.
    weak var first = table[SourceRef(1)]?.described
    _ = first?.fields  // derived, so that a stale derivation would show
    #expect(first != nil)
    table[SourceRef(1)] = nil
    describe(SourceRef(2), 1)
    let second = try #require(table[SourceRef(2)]?.described)
    #expect(second === first, "the former source's description was not taken")
    try expectShows(second, 1, "a taken description")
    // Kept by a listener that wrote into its stream: the stream has a state of its own, so the
    // record's is free for the next source, but the description in both is the stream's too.
    var kept = try #require(table[SourceRef(2)]?.stream)
    kept.firstSeen = MonotonicTime(nanoseconds: 1)
    table[SourceRef(2)] = nil
    #expect(table.spareStateCount == 1)
    describe(SourceRef(3), 2)
    let third = try #require(table[SourceRef(3)]?.described)
    #expect(third !== second, "a description a kept stream holds was taken")
    try expectShows(third, 2, "a new description")
    try expectShows(kept.described, 1, "a kept stream's description")
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
