import NtstatWire

extension Workload {
  /// A scripted host for tests and examples: `tcp` TCP connections (curl to port 443) and
  /// `udp` UDP flows (to port 53) open at t = 0 on Wi-Fi, closing at `closeAt` seconds or never.
  public static func scripted(tcp: Int, udp: Int = 0, closeAt: Double? = nil, duration: Double = 600) -> Workload {
    let process = SimulatedProcess(pid: 501, upid: 9001, name: "curl", uuid: UUIDBytes(high: 1, low: 2))
    let wifi = SimulatedInterface.standard[1]
    var flows: [FlowPlan] = []
    for index in 0..<tcp {
      flows.append(
        FlowPlan(
          id: flows.count + 1, provider: .tcpKernel, process: process, interface: wifi,
          local: .ipv4(IPv4Address(192, 168, 1, 23), port: UInt16(50_000 + index)),
          remote: .ipv4(IPv4Address(93, 184, 216, 34), port: 443), openAt: .zero,
          outcome: .connects(handshake: 10_000_000),
          closeAt: closeAt.map { .seconds($0) }, activeClose: false, rxBytesPerSecond: 10_000, txBytesPerSecond: 1_000))
    }
    for index in 0..<udp {
      flows.append(
        FlowPlan(
          id: flows.count + 1, provider: .udpKernel, process: process, interface: wifi,
          local: .ipv4(IPv4Address(192, 168, 1, 23), port: UInt16(60_000 + index)),
          remote: .ipv4(IPv4Address(8, 8, 8, 8), port: 53), openAt: .zero, outcome: .datagrams,
          closeAt: closeAt.map { .seconds($0) }, rxBytesPerSecond: 500, txBytesPerSecond: 100))
    }
    return Workload(flows: flows, duration: .seconds(duration))
  }
}
