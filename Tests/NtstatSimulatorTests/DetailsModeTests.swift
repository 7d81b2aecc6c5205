import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// xnu-12377's details mode as ProjectCalamari/xnu@a430cb1893d0's `ntstat.c` has it:
/// `nstat_client_handle_get_details` answers like GET_UPDATE with SRC_DETAILS, and the flag it
/// sets (NSTAT_FLAG_SUPPORTS_DETAILS) turns the client's final reports into SRC_DETAILS for
/// good (`nstat_client_send_goodbye`).
@Suite(.hangLimit) struct DetailsModeTests {
  static func subscribed(_ family: LayoutFamily = .xnu12377, flows: Int = 20) throws -> (KernelHarness, [SourceRef]) {
    // Half the flows close at 20 s, half at 50 s.
    var workload = Workload.scripted(tcp: flows, closeAt: 50, duration: 60)
    for index in workload.flows.indices where index % 2 == 0 { workload.flows[index].closeAt = .seconds(20) }
    var h = KernelHarness(
      family: family, workload: workload, configuration: KernelConfiguration(receiveBufferSize: 1 << 20))
    h.advance(to: 1)
    try h.send(.addAllSources(AddAllSourcesRequest(provider: h.provider(.tcpKernel), filter: 0, events: 0)))
    let refs = try h.drainMessages().compactMap { message -> SourceRef? in
      if case .sourceAdded(let added) = message.body { return added.sourceRef }
      return nil
    }
    return (h, refs)
  }

  /// Final reports (flows closing) as SRC_DETAILS+CLOSING once GET_DETAILS was sent, as
  /// SRC_UPDATE+CLOSING before, on the same kernel.
  @Test func getDetailsMakesFinalReportsDetailsForGood() throws {
    var (h, refs) = try Self.subscribed()
    #expect(refs.count == 20)
    try h.send(.getUpdate(.all), flags: [.supportsAggregate])
    _ = try h.drain()
    h.advance(to: 30)
    let beforeTags = Set(try h.drainMessages().map(\.tag))
    #expect(beforeTags.contains("UPDATE+CLOSING") && !beforeTags.contains("DETAILS+CLOSING"), "\(beforeTags)")

    try h.send(.getDetails(.all), flags: [.supportsAggregate])
    let answer = try h.drainMessages()
    #expect(answer.last?.tag == "SUCCESS")
    #expect(answer.dropLast().allSatisfy { $0.tag == "DETAILS" }, "\(Set(answer.map(\.tag)))")
    // A later GET_UPDATE does not switch it back.
    try h.send(.getUpdate(.all), flags: [.supportsAggregate])
    _ = try h.drain()
    h.advance(to: 61)
    let after = try h.drainMessages()
    #expect(after.contains { $0.tag == "DETAILS+CLOSING" })
    #expect(!after.contains { $0.tag == "UPDATE+CLOSING" })
  }

  /// Each closing flow's last SRC_DETAILS carries its traffic in `ms_total` and its medium.
  @Test func detailedCountsCarryTheFlowsTraffic() throws {
    var (h, _) = try Self.subscribed()
    try h.send(.getDetails(.all), flags: [.supportsAggregate])
    _ = try h.drain()
    h.advance(to: 61)
    var checked = 0
    for message in try h.drainMessages() {
      guard case .sourceDetails(let d) = message.body, message.header.flags.contains(.closing) else { continue }
      #expect(d.counts.total.rxBytes > 0 && d.counts.total.txBytes > 0)
      let media = Medium.allCases.dropFirst().filter { d.counts[$0] == d.counts.total }
      #expect(media.count == 1, "traffic in exactly one medium: \(media)")
      checked += 1
    }
    #expect(checked == 20)
  }

  /// GET_DETAILS for one source: its SRC_DETAILS with our context and no SUCCESS; for an
  /// unknown ref ENOENT; before xnu-12377 the request is EINVAL (`nstat_control_send` default).
  @Test func singleSourceAndOlderKernels() throws {
    var (h, refs) = try Self.subscribed()
    let context = try h.send(.getDetails(refs[3]))
    let one = try h.drainMessages()
    #expect(one.map(\.tag) == ["DETAILS"])
    #expect(one.first?.header.context == context && one.first?.sourceRef == refs[3])
    try h.send(.getDetails(SourceRef(9_999)))
    #expect(try h.drainMessages().map(\.tag) == ["ERROR(ENOENT)"])

    var (old, oldRefs) = try Self.subscribed(.xnu11215)
    try old.send(.getDetails(oldRefs[0]))
    #expect(try old.drainMessages().map(\.tag) == ["ERROR(EINVAL)"])
  }
}
