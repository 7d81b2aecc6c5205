import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// The README's client example, run against the simulator (the README opens the kernel
/// control instead; everything after that line is the same code — keep the two in step).
@Suite(.hangLimit) struct ReadmeClientExampleTests {
  @Test func clientExampleRuns() async throws {
    var printed: [String] = []
    func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }
    let workload = Workload.random(seed: 1, duration: .seconds(5), family: .xnu11215)
    let transport = try SimulatorTransport(kernel: SimulatedKernel(family: .xnu11215, workload: workload))

    // --- README (transport line differs) ---
    let client = NetworkStatisticsClient(transport: transport)
    for try await event in client.events() {
      switch event {
      case .streamAdded(let s): print("+", s.key.protocolName, s.key.local, "→", s.key.remote, s.process.name)
      case .streamStatsUpdated(let s): print("#", s.id, s.counts.rxBytes, s.counts.txBytes)
      case .streamRemoved(let s): print("-", s.id, s.connectionFailed ? "FAILED" : "")
      case .notice(let notice): print("!", notice)
      }
    }
    // --- end ---

    #expect(printed.contains { $0.hasPrefix("+ tcp ") && $0.contains(" → ") })
    #expect(printed.contains { $0.hasPrefix("# ") })
    #expect(printed.contains { $0.hasPrefix("- ") })
  }
}
