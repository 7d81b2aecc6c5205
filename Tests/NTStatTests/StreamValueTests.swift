import NTStat
import NtstatReplay
import NtstatTestSupport
import NtstatWire
import Testing

/// A ``NetworkStream`` shares its storage with the engine's record of the source until either
/// changes (copy on write). It must still behave as a value: a stream a listener keeps shows
/// what it showed when reported, and what a listener writes into its streams reaches nothing
/// else.
@Suite(.hangLimit) struct StreamValueTests {
  /// Captures with repeated updates of the same sources, one of them with detailed counters.
  static let captures = ["xnu-11215.pcapng.zst", "xnu-12377-details.pcapng.zst"]

  /// Every event kept to the end renders as it did when it was handed over, though the engine
  /// went on updating the sources those streams came from.
  @Test(arguments: captures)
  func keptStreamsStayAsReported(capture: String) throws {
    let transport = try ReplayTransport(path: Corpus.path(capture))
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    var kept: [(event: ClientEvent, line: [UInt8])] = []
    var updates: [SourceRef: Int] = [:]
    try client.run { event in
      var line: [UInt8] = []
      CanonicalEvent.appendJSONLine(event, origin: .zero, to: &line)
      kept.append((event, line))
      if case .streamStatsUpdated(let stream) = event { updates[stream.id, default: 0] += 1 }
    }
    // The engine must have written over sources whose streams were kept, or this proves nothing.
    #expect(updates.values.contains { $0 > 1 }, "\(capture): no source updated twice")
    var changed = 0
    for (event, line) in kept {
      var now: [UInt8] = []
      CanonicalEvent.appendJSONLine(event, origin: .zero, to: &now)
      if now != line { changed += 1 }
    }
    #expect(changed == 0, "\(capture): \(changed) of \(kept.count) kept events changed after they were handed over")
  }

  /// A listener that rewrites every stream it gets (and keeps the rewritten copies) sees the
  /// same events as one that only reads them: its writes stay in its copies.
  @Test(arguments: captures)
  func writesToAStreamStayInIt(capture: String) throws {
    let plain = try Self.lines(capture) { _ in }
    var rewritten: [NetworkStream] = []
    let rewriting = try Self.lines(capture) { event in
      switch event {
      case .streamAdded(var stream), .streamStatsUpdated(var stream), .streamRemoved(var stream):
        // Fields the engine sets once and never again, and fields it rewrites on every update.
        stream.id = SourceRef(stream.id.rawValue &+ 1_000_000)
        stream.provider = stream.provider == .udpKernel ? .tcpKernel : .udpKernel
        stream.firstSeen = .zero
        stream.lastUpdated = .zero
        stream.counts.rxBytes &+= 1
        stream.removal = .lost
        stream.connectionFailed.toggle()
        rewritten.append(stream)
      case .notice:
        break
      }
    }
    #expect(!rewritten.isEmpty)
    #expect(rewriting.count == plain.count, "\(capture)")
    if let index = plain.indices.first(where: { $0 < rewriting.count && rewriting[$0] != plain[$0] }) {
      let (seen, expected) = (
        String(decoding: rewriting[index], as: UTF8.self), String(decoding: plain[index], as: UTF8.self)
      )
      Issue.record("\(capture): a listener's writes to its streams changed event \(index): \(seen), not \(expected)")
    }
  }

  /// The capture's events as canonical JSON Lines, each rendered before `listener` sees it.
  static func lines(_ capture: String, listener: (ClientEvent) -> Void) throws -> [[UInt8]] {
    let transport = try ReplayTransport(path: Corpus.path(capture))
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    var lines: [[UInt8]] = []
    try client.run { event in
      var line: [UInt8] = []
      CanonicalEvent.appendJSONLine(event, origin: .zero, to: &line)
      lines.append(line)
      listener(event)
    }
    return lines
  }
}
