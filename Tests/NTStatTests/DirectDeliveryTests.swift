import NtstatCapture
import NtstatFuzzChecks
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat

/// The engine can hand a datagram's updates to the listener as they are made
/// (``ClientEngine/handleDatagram(_:at:deliver:)``) instead of queuing them for
/// ``ClientEngine/pollEvent()``. The listener must see the same events in the same order and
/// the engine must count the same either way, whatever the listener refuses: a refused event
/// stays queued, first, with everything made after it.
@Suite(.hangLimit) struct DirectDeliveryTests {
  /// Every corpus capture's kernel datagrams fed to two engines alike, one queuing everything,
  /// one handing updates over at once to a listener that refuses some of them.
  @Test(arguments: Corpus.captures)
  func deliveredEventsAreTheQueuedOnes(capture: String) throws {
    let transport = try ReplayTransport(path: Corpus.path(capture))
    let frames = try CaptureContents(path: Corpus.path(capture)).frames.filter { $0.direction == .fromKernel }
    let first = try #require(frames.first).timestamp
    var engines = DeliveryComparison(
      configuration: transport.recordedConfiguration ?? ClientConfiguration(), family: transport.family)
    var random = SeededRandom(seed: 7)
    for frame in frames {
      // Refuse one in four, and everything in some datagrams, as a listener that fails would.
      let refusesAll = random.next() % 16 == 0
      engines.handle(frame.bytes, at: MonotonicTime(nanoseconds: frame.timestamp - first)) { _ in
        refusesAll || random.next() % 4 == 0
      }
    }
    #expect(engines.difference == nil, "\(capture)")
    #expect(engines.taken > 0 && engines.refused > 0, "\(capture): \(engines.taken) taken, \(engines.refused) refused")
  }

  /// While a tentative family is being checked, events wait (``LayoutVerifier``): none may
  /// reach the listener before the family is borne out, and the notice that says so comes
  /// first, whichever way the events go out.
  @Test func nothingIsHandedOverWhileTheFamilyIsTentative() throws {
    let capture = try #require(Corpus.captures.first { $0 == "xnu-12377.pcapng.zst" })
    let transport = try ReplayTransport(path: Corpus.path(capture))
    var configuration = transport.recordedConfiguration ?? ClientConfiguration()
    configuration.familyTrust = .tentative(kernel: "99.0.0")
    var engine = ClientEngine(configuration: configuration, family: transport.family)
    engine.start(at: .zero)
    let frames = try CaptureContents(path: Corpus.path(capture)).frames.filter { $0.direction == .fromKernel }
    let first = try #require(frames.first).timestamp
    var out: [(event: ClientEvent, handed: Bool)] = []
    for frame in frames {
      let time = MonotonicTime(nanoseconds: frame.timestamp - first)
      engine.handleDatagram(frame.bytes, at: time) { event in
        out.append((event, true))
        return true
      }
      if let due = engine.nextDeadline(), due <= time { engine.handleTimeout(at: time) }
      while engine.pollTransmit() != nil {}
      while let event = engine.pollEvent() { out.append((event, false)) }
    }
    #expect(out.contains { $0.handed })
    let firstOut = try #require(out.first).event
    guard case .notice(let notice) = firstOut else {
      Issue.record("the first event out is \(firstOut)")
      return
    }
    #expect(notice.kind == .layoutVerified)
  }

  /// A handler that throws ends the run with its error, having seen exactly the events before
  /// it, in order, however many the engine had made in the same datagram.
  @Test func aThrowingHandlerEndsTheRunWhereItThrew() throws {
    struct Enough: Error {}
    let capture = try #require(Corpus.captures.first { $0 == "xnu-11215.pcapng.zst" })
    func client() throws -> NetworkStatisticsClient {
      let transport = try ReplayTransport(path: Corpus.path(capture))
      return NetworkStatisticsClient(
        transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    }
    var all: [ClientEvent] = []
    try client().run { all.append($0) }
    // Stop at an update that most likely shares its datagram with others.
    let stopAt = try #require(
      all.indices.dropFirst(all.count / 2).first { index in
        if case .streamStatsUpdated = all[index] { return true } else { return false }
      })
    var seen: [ClientEvent] = []
    #expect(throws: Enough.self) {
      try client().run { event in
        seen.append(event)
        if seen.count == stopAt + 1 { throw Enough() }
      }
    }
    #expect(seen.count == stopAt + 1)
    #expect(zip(seen, all).allSatisfy { $0 == $1 }, "the events seen are not the run's first ones")
  }

  /// On a live socket a kernel waits on the requests a datagram brings (a paced poll's next
  /// round, asked for by resending it), so they go out before the handler sees the datagram's
  /// events; elsewhere updates go to the handler while the datagram is read. A host of
  /// 400 sources polled 100 a round (`KernelBehaviour/continuationBatch`), through a transport
  /// that says it is live and notes each datagram, request and event in turn.
  @Test(arguments: [true, false])
  func requestsGoOutBeforeEventsOnlyOnALiveSocket(live: Bool) throws {
    let workload = Workload.scripted(tcp: 400, duration: 5)
    let transport = NotingTransport(
      try SimulatorTransport(kernel: SimulatedKernel(family: .xnu11215, workload: workload)), live: live)
    let client = NetworkStatisticsClient(transport: transport)
    try client.run { event in
      if case .streamStatsUpdated = event { transport.log.append(.update) }
    }
    // Per datagram: did a request follow one of its updates?
    var (requestsAfterUpdates, requestsBeforeUpdates) = (0, 0)
    var sawUpdate = false
    var sentBeforeUpdate = false
    for entry in transport.log {
      switch entry {
      // A timer's requests (the next poll) are not the datagram's: each input starts afresh.
      case .datagram, .otherInput: (sawUpdate, sentBeforeUpdate) = (false, false)
      case .update:
        if sentBeforeUpdate, !sawUpdate { requestsBeforeUpdates += 1 }
        sawUpdate = true
      case .request:
        if sawUpdate { requestsAfterUpdates += 1 } else { sentBeforeUpdate = true }
      }
    }
    if live {
      #expect(requestsAfterUpdates == 0)
      #expect(requestsBeforeUpdates > 0, "no datagram both brought a request and held updates")
    } else {
      #expect(requestsAfterUpdates > 0, "updates went to the handler only after the requests")
    }
  }
}

/// A transport that notes each input it hands over and each request it sends, and says it is
/// live (``ClientTransport/waitsUninterruptibly``) or not, as asked.
private final class NotingTransport: ClientTransport {
  enum Entry { case datagram, otherInput, request, update }
  let base: SimulatorTransport
  let live: Bool
  var log: [Entry] = []

  init(_ base: SimulatorTransport, live: Bool) {
    self.base = base
    self.live = live
  }

  var family: LayoutFamily { base.family }
  var now: MonotonicTime { base.now }
  var waitsUninterruptibly: Bool { live }
  func close() { base.close() }

  func send(_ datagram: [UInt8]) throws {
    log.append(.request)
    try base.send(datagram)
  }

  func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    let input = try base.receive(until: deadline)
    if case .datagram = input { log.append(.datagram) } else { log.append(.otherInput) }
    return input
  }
}
