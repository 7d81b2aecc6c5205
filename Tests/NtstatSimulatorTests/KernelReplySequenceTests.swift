import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// The simulated kernel's answers, request by request, for every family, as read from
/// `bsd/net/ntstat.c` (function names in each expectation; `docs/simulator.md` has the tags).
@Suite(.hangLimit) struct KernelReplySequenceTests {
  static let families = LayoutFamily.allCases

  @Test(arguments: families)
  func addAllSendsAddedNewestFirstThenSuccess(family: LayoutFamily) throws {
    // nstat_control_handle_add_all → nstat_tcp_add_watcher: one SRC_ADDED (context 0) per
    // existing pcb, newest first, then SUCCESS with the request's context.
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 3))
    let context = try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    let replies = try h.drainMessages()
    #expect(replies.map(\.tag) == ["ADDED", "ADDED", "ADDED", "SUCCESS"])
    #expect(replies.prefix(3).allSatisfy { $0.header.context == 0 })
    #expect(replies.last?.header.context == context)
    #expect(replies.prefix(3).compactMap(\.sourceRef) == [SourceRef(1), SourceRef(2), SourceRef(3)])
    #expect(h.kernel.groundTruth.map(\.sourceRef) == [SourceRef(3), SourceRef(2), SourceRef(1)])
    // A second ADD_ALL for the provider: EALREADY, with a copy of the request from 3247.
    let again = try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    let error = try #require(try h.drainMessages().first)
    #expect(error.tag == "ERROR(EALREADY)")
    #expect(error.header.context == again)
    guard case .error(let reply) = error.body else { return }
    #expect(reply.failedRequest.isEmpty == !family.hasLengthAndFlags)
  }

  @Test(arguments: families)
  func addAllErrors(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 1))
    // Unknown provider id: ENOENT (nstat_find_provider_by_id fails).
    try h.send(.addAllSources(AddAllSourcesRequest(provider: ProviderID(rawValue: 99))))
    #expect(try h.drainMessages().map(\.tag) == ["ERROR(ENOENT)"])
    // ifnet has no watcher: ENOTSUP (2422+; before, the provider does not exist).
    if let ifnet = family.providerID(for: .ifnet) {
      try h.send(.addAllSources(AddAllSourcesRequest(provider: ifnet)))
      #expect(try h.drainMessages().map(\.tag) == ["ERROR(ENOTSUP)"])
    }
    // QUIC is declared from 6153 but registered only from 8019.80.24 (SKYWALK): ENOENT before.
    if let quic = family.providerID(for: .quicUserland) {
      try h.send(.addAllSources(AddAllSourcesRequest(provider: quic)))
      let expected = family >= .xnu8019_61 ? ["SUCCESS"] : ["ERROR(ENOENT)"]
      #expect(try h.drainMessages().map(\.tag) == expected)
    }
  }

  @Test(arguments: families)
  func unprivilegedClientCannotWatchConnFlows(family: LayoutFamily) throws {
    guard let conn = family.providerID(for: .connUserland) else { return }
    var h = KernelHarness(
      family: family, workload: Workload.scripted(tcp: 1), configuration: KernelConfiguration(privileged: false))
    // 8792.61.2+: ADD_ALL for CONN needs PRIV_NET_PRIVILEGED_NETWORK_STATISTICS.
    try h.send(.addAllSources(AddAllSourcesRequest(provider: conn)))
    #expect(try h.drainMessages().map(\.tag) == ["ERROR(EPERM)"])
    try h.send(.subscribeSysinfo)
    #expect(try h.drainMessages().map(\.tag) == ["ERROR(EPERM)"])
  }

  @Test(arguments: families)
  func specificQueriesAnswerWithTheirContextAndNoSuccess(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 2))
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    _ = try h.drainMessages()
    h.advance(to: 2)
    // nstat_control_handle_query_request, specific ref: SRC_COUNTS with the context.
    let q = try h.send(.querySource(SourceRef(1)))
    let counts = try h.drainMessages()
    #expect(counts.map(\.tag) == ["COUNTS"])
    #expect(counts.first?.header.context == q)
    if case .sourceCounts(let c) = counts.first?.body { #expect(c.counts.rxBytes == 20_000 - 100) }
    // nstat_control_handle_get_src_description, specific.
    let d = try h.send(.getSourceDescription(SourceRef(2)))
    let description = try h.drainMessages()
    #expect(description.map(\.tag) == ["DESC"])
    #expect(description.first?.header.context == d)
    // Unknown refs: ENOENT.
    try h.send(.querySource(SourceRef(77)))
    try h.send(.getSourceDescription(SourceRef(77)))
    #expect(try h.drainMessages().map(\.tag) == ["ERROR(ENOENT)", "ERROR(ENOENT)"])
    // GET_UPDATE exists from 3247 (nstat_control_handle_get_update); unknown type before: EINVAL.
    let u = try h.send(.getUpdate(SourceRef(1)))
    let update = try h.drainMessages()
    if family.hasLengthAndFlags {
      #expect(update.map(\.tag) == ["UPDATE"])
      #expect(update.first?.header.context == u)
    } else {
      #expect(update.map(\.tag) == ["ERROR(EINVAL)"])
    }
  }

  @Test(arguments: families)
  func queryAllAnswersEverySourceThenSuccess(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 3, udp: 2))
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.udpKernel))))
    _ = try h.drainMessages()
    // Without SUPPORTS_AGGREGATE: one message per datagram, with the request's context
    // (11215+ packs regardless: the test is gone from nstat_control_handle_query_request).
    let plain = try h.send(.querySource(.all))
    let datagrams = try h.drain()
    #expect(datagrams.flatMap { $0 }.map(\.tag) == Array(repeating: "COUNTS", count: 5) + ["SUCCESS"])
    if family >= .xnu11215 {
      #expect(datagrams.count == 2)
      #expect(datagrams[0].allSatisfy { $0.header.context == 0 })
    } else {
      #expect(datagrams.count == 6)
      #expect(datagrams.flatMap { $0 }.allSatisfy { $0.header.context == plain })
    }
    // With SUPPORTS_AGGREGATE (3247+): packed, context 0, then SUCCESS alone.
    if family.hasLengthAndFlags {
      let packed = try h.send(.querySource(.all), flags: .supportsAggregate)
      let answer = try h.drain()
      #expect(answer.count == 2)
      #expect(answer[0].count == 5 && answer[0].allSatisfy { $0.header.context == 0 })
      #expect(answer[1].map(\.tag) == ["SUCCESS"] && answer[1][0].header.context == packed)
    }
    // GET_SRC_DESC ALL: ENOENT before 2422 (only a specific ref was accepted).
    try h.send(.getSourceDescription(.all))
    let descriptions = try h.drainMessages().map(\.tag)
    if family >= .xnu2422 {
      #expect(descriptions == Array(repeating: "DESC", count: 5) + ["SUCCESS"])
    } else {
      #expect(descriptions == ["ERROR(ENOENT)"])
    }
  }

  @Test(arguments: families.filter { $0.hasLengthAndFlags })
  func pacedUpdatesContinueInBatchesOfOneHundred(family: LayoutFamily) throws {
    // nstat_control_begin_query/_end_query: QUERY_CONTINUATION_SRC_COUNT (100 on macOS) per
    // answer, SUCCESS+CONTINUATION until the list is exhausted; the client resends the same
    // request (same context).
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 120, udp: 130))
    h.kernel.setReceiveBufferSize(1 << 20)
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.udpKernel))))
    _ = try h.drainMessages()
    let encoder = MessageEncoder(family: family)
    let request = try encoder.encode(
      Message(context: 7, flags: [.continuation, .supportsAggregate], .getUpdate(.all)), settingLength: true)
    var reported: [SourceRef] = []
    var rounds: [[String]] = []
    for _ in 0..<4 {
      _ = h.sendRaw(request)
      let messages = try h.drainMessages()
      let tags = messages.map(\.tag)
      rounds.append(Array(Set(tags)).sorted())
      reported += messages.compactMap(\.sourceRef)
      if tags.last == "SUCCESS" { break }
    }
    #expect(rounds.count == 3)
    #expect(rounds.map { $0.last } == ["UPDATE", "UPDATE", "UPDATE"])
    #expect(Set(reported).count == 250)
    #expect(reported.count == Set(reported).count, "a source reported twice in one sequence")
  }

  @Test(arguments: families.filter { $0.hasLengthAndFlags })
  func newPacedQueryCancelsTheOpenOneWithEAGAIN(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 150))
    h.kernel.setReceiveBufferSize(1 << 20)
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    _ = try h.drainMessages()
    let first = try h.send(.querySource(.all), flags: [.continuation, .supportsAggregate])
    #expect(try h.drainMessages().last?.tag == "SUCCESS+C")
    let second = try h.send(.querySource(.all), flags: [.continuation, .supportsAggregate])
    let replies = try h.drainMessages()
    #expect(replies.first?.tag == "ERROR(EAGAIN)")
    #expect(replies.first?.header.context == first)
    #expect(replies.last?.header.context == second)
    #expect(replies.last?.tag == "SUCCESS+C")
  }

  @Test(arguments: families)
  func removalSequencePerFamily(family: LayoutFamily) throws {
    // ≤2782 nstat_pcb_detach: COUNTS, DESC, REMOVED. 3247+ nstat_control_send_goodbye:
    // COUNTS+CLOSING and DESC+CLOSING, or UPDATE+CLOSING once the client has used GET_UPDATE;
    // then REMOVED.
    for updateMode in family.hasLengthAndFlags ? [false, true] : [false] {
      var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 1, closeAt: 5))
      try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
      if updateMode { try h.send(.getUpdate(SourceRef(1))) }
      _ = try h.drainMessages()
      h.advance(to: 6)
      let goodbye = try h.drainMessages()
      let expected: [String]
      if !family.hasLengthAndFlags {
        expected = ["COUNTS", "DESC", "REMOVED"]
      } else if updateMode {
        expected = ["UPDATE+CLOSING", "REMOVED"]
      } else {
        expected = ["COUNTS+CLOSING", "DESC+CLOSING", "REMOVED"]
      }
      #expect(goodbye.map(\.tag) == expected, "\(family) update mode \(updateMode)")
      #expect(goodbye.allSatisfy { $0.header.context == 0 })
      // Later requests for the ref: ENOENT.
      try h.send(.querySource(SourceRef(1)))
      #expect(try h.drainMessages().map(\.tag) == ["ERROR(ENOENT)"])
    }
  }

  @Test(arguments: families)
  func removeSourceSendsOnlyRemoved(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 1))
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    _ = try h.drainMessages()
    try h.send(.removeSource(SourceRef(1)))
    #expect(try h.drainMessages().map(\.tag) == ["REMOVED"])
    try h.send(.removeSource(SourceRef(1)))
    #expect(try h.drainMessages().map(\.tag) == ["ERROR(ENOENT)"])
  }

  @Test(arguments: families)
  func setFilterAndUnknownTypes(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 1))
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    _ = try h.drainMessages()
    if family >= .xnu2422 {
      // 2422–10063: no reply on success; 11215 no longer dispatches SET_FILTER.
      try h.send(.setFilter(SetFilterRequest(sourceRef: SourceRef(1), filter: 1)))
      #expect(try h.drainMessages().map(\.tag) == (family >= .xnu11215 ? ["ERROR(EINVAL)"] : []))
    }
    try h.send(.unknown(type: MessageType(rawValue: 1999), payload: [0, 0, 0, 0]))
    #expect(try h.drainMessages().map(\.tag) == ["ERROR(EINVAL)"])
  }

  @Test(arguments: families)
  func malformedRequests(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 1))
    // Shorter than a header: send() itself fails with EINVAL and nothing is queued.
    #expect(h.sendRaw([1, 2, 3]) == DarwinErrno.einval)
    #expect(try h.drainMessages().isEmpty)
    // A header-only QUERY_SRC: the handler's mbuf_copydata of the request fails → EINVAL.
    var query = [UInt8](repeating: 0, count: 16)
    query[0] = 9
    query[8] = 0xEC
    query[9] = 0x03  // 1004
    query[12] = 16
    _ = h.sendRaw(query)
    let replies = try h.drainMessages()
    #expect(replies.map(\.tag) == ["ERROR(EINVAL)"])
    #expect(replies.first?.header.context == 9)
    if family.hasLengthAndFlags, case .error(let e) = replies.first?.body {
      #expect(e.failedRequest == query)
    }
  }

  @Test(arguments: families.filter { $0.hasLengthAndFlags })
  func wrongLengthIsRewrittenAndFlagsCleared(family: LayoutFamily) throws {
    var h = KernelHarness(family: family, workload: Workload.scripted(tcp: 120))
    h.kernel.setReceiveBufferSize(1 << 20)
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel))))
    _ = try h.drainMessages()
    var request = try MessageEncoder(family: family).encode(
      Message(context: 5, flags: [.continuation, .supportsAggregate], .querySource(.all)), settingLength: true)
    request[12] &+= 8  // a length that is not the datagram's
    _ = h.sendRaw(request)
    let replies = try h.drainMessages()
    // Flags cleared: not paced (all 120 in one answer), not packed before 11215.
    #expect(replies.filter { $0.tag == "COUNTS" }.count == 120)
    #expect(replies.last?.tag == "SUCCESS")
  }
}
