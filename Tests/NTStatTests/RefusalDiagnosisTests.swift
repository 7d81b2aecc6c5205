import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// What the client says when the kernel refuses every provider: ENOENT everywhere is a client
/// that sent ids the kernel does not know, not a privilege rule (`nstat_client_handle_add_all`
/// answers ENOENT only for an unknown provider id, EPERM for a missing privilege).
@Suite(.hangLimit) struct RefusalDiagnosisTests {
  @Test func enoentEverywhereIsAClientBugNotPrivilege() {
    var statistics = ClientStatistics()
    statistics.providersRefused = [.tcpKernel: DarwinErrno.enoent, .udpKernel: DarwinErrno.enoent]
    let diagnosis = statistics.refusalDiagnosis(family: .xnu12377) ?? ""
    #expect(diagnosis.contains("ENOENT for every provider"))
    #expect(diagnosis.contains("client bug"))
    #expect(!diagnosis.contains("try as root"))

    statistics.providersRefused = [.tcpKernel: DarwinErrno.eperm, .udpKernel: DarwinErrno.eperm]
    #expect(statistics.refusalDiagnosis(family: .xnu12377)?.contains("try as root") == true)

    statistics.providersSubscribed = [.tcpKernel]
    #expect(statistics.refusalDiagnosis(family: .xnu12377) == nil)
  }

  /// A plain user on the simulated xnu-12377 gets TCP, UDP and QUIC; only conn and UDP
  /// subflow need the privilege (EPERM), as on every kernel since xnu-8792.61.2.
  @Test func unprivilegedClientOnXNU12377GetsTheSocketProviders() throws {
    let workload = Workload.scripted(tcp: 5, udp: 5, duration: 5)
    let kernel = SimulatedKernel(
      family: .xnu12377, workload: workload, configuration: KernelConfiguration(privileged: false))
    let transport = try SimulatorTransport(kernel: kernel)
    let client = NetworkStatisticsClient(transport: transport, configuration: ClientConfiguration())
    try client.run { _ in }
    let statistics = client.statistics
    for kind in [ProviderKind.tcpKernel, .udpKernel, .tcpUserland, .udpUserland, .quicUserland] {
      #expect(statistics.providersSubscribed.contains(kind), "\(kind)")
    }
    #expect(statistics.providersRefused[.connUserland] == DarwinErrno.eperm)
    #expect(statistics.providersRefused[.udpSubflow] == DarwinErrno.eperm)
    #expect(statistics.refusalDiagnosis(family: .xnu12377) == nil)
  }
}
