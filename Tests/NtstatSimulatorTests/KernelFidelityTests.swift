import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// The kernel's uglier behaviour, as `ntstat.c` and `kern_control.c` have it, each pinned
/// against the function that does it.
@Suite(.hangLimit) struct KernelFidelityTests {
  static func manyFlows(_ family: LayoutFamily, count: Int = 300) -> Workload {
    Workload.scripted(tcp: count, duration: 60)
  }

  /// `nstat_control_begin_query`: up to 3789.21.4 a plain GET_UPDATE for one source, sent
  /// while a paced GET_UPDATE ALL is open, draws ERROR(EAGAIN) on the paced query's context;
  /// the paced query itself stays open and carries on where it was. From 3789.31.2 it does not.
  @Test(arguments: [
    (XNUVersion(3248, 60, 10), LayoutFamily.xnu3247, true), (XNUVersion(3789, 1, 32), .xnu3789, true),
    (XNUVersion(3789, 21, 4), .xnu3789, true), (XNUVersion(3789, 31, 2), .xnu3789, false),
    (XNUVersion(3789, 70, 16), .xnu3789, false), (XNUVersion(11417, 121, 6), .xnu11215, false),
  ])
  func plainQueryCancelsAnOpenPacedPoll(xnu: XNUVersion, family: LayoutFamily, cancels: Bool) throws {
    var h = KernelHarness(
      family: family, workload: Self.manyFlows(family),
      configuration: KernelConfiguration(receiveBufferSize: 1 << 20, xnu: xnu))
    h.advance(to: 1)
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel), filter: 0, events: 0)))
    let refs = try h.drainMessages().compactMap { message -> SourceRef? in
      if case .sourceAdded(let added) = message.body { return added.sourceRef }
      return nil
    }
    #expect(refs.count > 150)
    let poll = try h.send(.getUpdate(.all), flags: [.supportsAggregate, .continuation])
    let first = try h.drainMessages()
    #expect(first.last?.tag == "SUCCESS+C")
    try h.send(.getUpdate(refs[0]))
    let answer = try h.drainMessages()
    let cancelled = answer.contains { $0.tag == "ERROR(EAGAIN)" && $0.header.context == poll }
    #expect(cancelled == cancels, "\(xnu): EAGAIN \(cancelled)")
    #expect(h.kernel.statistics.pacedQueriesCancelled == (cancels ? 1 : 0))
    // The paced query is still open: the same context continues the sequence.
    h.context = poll - 1
    try h.send(.getUpdate(.all), flags: [.supportsAggregate, .continuation])
    let next = try h.drainMessages()
    let updates = next.filter { $0.tag.hasPrefix("UPDATE") }.count
    #expect(updates > 0 && updates <= 100)
  }

  /// `nstat_flush_accumulated_msgs`: a packed datagram that does not queue is freed, and the
  /// query still ends with SUCCESS.
  @Test(arguments: [LayoutFamily.xnu3247, .xnu3789, .xnu8019_61, .xnu11215])
  func packedAnswersAreLostSilently(family: LayoutFamily) throws {
    var h = KernelHarness(
      family: family, workload: Self.manyFlows(family, count: 400),
      configuration: KernelConfiguration(receiveBufferSize: 1 << 20))
    h.advance(to: 1)
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel), filter: 0, events: 0)))
    _ = try h.drain()
    h.kernel.setReceiveBufferSize(8192)
    try h.send(.getUpdate(.all), flags: [.supportsAggregate])
    let tags = try h.drainMessages().map(\.tag)
    #expect(tags.last == "SUCCESS")
    #expect(!tags.contains { $0.hasPrefix("ERROR") })
    #expect(h.kernel.statistics.packedDatagramsLost > 0)
    #expect(tags.filter { $0.hasPrefix("SRC_UPDATE") }.count < 400)
  }

  /// `ctl_rcvbspace`: critical messages take whatever fits, and grow a small buffer by up to a
  /// quarter (never past 256 KiB); ordinary ones stop once a quarter is left.
  @Test func criticalMessagesUseTheWholeBuffer() {
    var big = ReceiveQueue(capacity: 1 << 20, criticalReserve: true)
    let chunk = [UInt8](repeating: 0, count: 4096)
    var ordinary = 0
    while big.enqueue(chunk, critical: false) { ordinary += 1 }
    // Refused once less than a quarter is free.
    #expect(ordinary == (1 << 20) * 3 / 4 / 4096 + 1)
    var critical = 0
    while big.enqueue(chunk, critical: true) { critical += 1 }
    // Critical messages fill the megabyte; the 256 KiB cap is on growth, not on use.
    #expect(big.usedBytes > (1 << 20) - 4096 && big.capacity == 1 << 20)
    #expect(critical > 50)

    var small = ReceiveQueue(capacity: 8192, criticalReserve: true)
    while small.enqueue(chunk, critical: true) {}
    #expect(small.capacity > 8192 && small.capacity <= 10240)
  }

  /// `nstat_client_send`: a request that fails and whose ERROR does not fit either makes
  /// `send()` itself fail, with the error of queueing the ERROR.
  @Test(arguments: [LayoutFamily.xnu2422, .xnu11215])
  func sendFailsWhenTheErrorCannotBeQueued(family: LayoutFamily) throws {
    var h = KernelHarness(
      family: family, workload: Self.manyFlows(family, count: 10),
      configuration: KernelConfiguration(receiveBufferSize: 8192))
    h.advance(to: 1)
    let refused = try h.encoder.encode(Message(context: 7, .getSourceDescription(SourceRef(999))), settingLength: true)
    var results: [Int32] = []
    for _ in 0..<1000 {
      let result = h.sendRaw(refused)
      results.append(result)
      if result != 0 { break }
    }
    #expect(results.dropLast().allSatisfy { $0 == 0 })
    #expect(results.last == DarwinErrno.enobufs)
    #expect(h.kernel.statistics.failedSends == 1)
    // Once the client reads, sends succeed again.
    _ = try h.drain()
    #expect(h.sendRaw(refused) == 0)
  }

  /// `nstat_userland_protocol_add_watcher` (8019.80.24+): a SRC_ADDED that does not queue makes
  /// ADD_ALL answer ERROR(ENOBUFS), yet the subscription stands.
  @Test func userlandSubscriptionStandsDespiteItsError() throws {
    let family = LayoutFamily.xnu11215
    let tcp = Workload.scripted(tcp: 400, duration: 30)
    let flows = tcp.flows.map { flow -> FlowPlan in
      var userland = flow
      userland.provider = .tcpUserland
      return userland
    }
    let workload = Workload(flows: flows, duration: tcp.duration)
    var h = KernelHarness(
      family: family, workload: workload, configuration: KernelConfiguration(receiveBufferSize: 8192))
    h.advance(to: 1)
    let context = try h.send(
      .addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpUserland), filter: 0, events: 0)))
    let answer = try h.drainMessages()
    #expect(answer.last?.tag == "ERROR(ENOBUFS)" && answer.last?.header.context == context)
    #expect(answer.contains { $0.tag == "ADDED" })
    // Subscribed all the same: asking again is EALREADY.
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpUserland), filter: 0, events: 0)))
    #expect(try h.drainMessages().last?.tag == "ERROR(EALREADY)")
    // The kernel TCP watcher ignores the same failure and answers SUCCESS.
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel), filter: 0, events: 0)))
    #expect(try h.drainMessages().last?.tag == "SUCCESS")
  }
}
