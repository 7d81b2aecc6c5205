import Foundation
import NtstatWire

/// A scenario file: an exact, scripted workload for tests and demonstrations
/// (format in `docs/simulator.md`).
///
/// ```json
/// {"duration": 10,
///  "flows": [{"at": 0.5, "provider": "tcp", "process": "curl", "pid": 501,
///             "local": "192.168.1.23:52100", "remote": "93.184.216.34:443",
///             "interface": "en0", "outcome": "connects", "close": 3.5,
///             "activeClose": true, "rx": 100000, "tx": 5000, "rttMs": 20}]}
/// ```
public struct Scenario: Decodable, Sendable {
  public var duration: Double
  public var flows: [Flow]

  public struct Flow: Decodable, Sendable {
    /// Seconds from the start.
    public var at: Double
    /// A provider name as `ntstat families` prints it: tcp, udp, tcp-userland, quic, conn, …
    public var provider: String
    public var process: String
    public var pid: UInt32
    public var local: String
    public var remote: String?
    /// lo0, en0 (Wi-Fi), en5 (wired) or pdp_ip0 (cellular).
    public var interface: String?
    /// connects, fails, listens or datagrams; the default follows the provider.
    public var outcome: String?
    /// Seconds from the start at which the owner closes it (absent: open to the end).
    public var close: Double?
    public var activeClose: Bool?
    public var handshakeMs: Double?
    /// Bytes per second.
    public var rx: UInt64?
    public var tx: UInt64?
    public var rttMs: Double?
  }

  public static func load(_ data: Data) throws -> Scenario {
    try JSONDecoder().decode(Scenario.self, from: data)
  }

  /// The workload the scenario describes; errors name the flow and the field.
  public func workload() throws -> Workload {
    let interfaces = SimulatedInterface.standard
    var upids: [String: UInt64] = [:]
    var plans: [FlowPlan] = []
    for (index, flow) in flows.enumerated() {
      func fail(_ message: String) -> ScenarioError { ScenarioError(flow: index, message: message) }
      guard let provider = ProviderKind(rawValue: flow.provider) else {
        throw fail("unknown provider \"\(flow.provider)\"")
      }
      let interfaceName = flow.interface ?? "en0"
      guard let interface = interfaces.first(where: { $0.name == interfaceName }) else {
        throw fail("unknown interface \"\(interfaceName)\" (have \(interfaces.map(\.name).joined(separator: ", ")))")
      }
      guard let local = SocketAddress(endpoint: flow.local) else { throw fail("bad local address \"\(flow.local)\"") }
      let remote = try flow.remote.map { text -> SocketAddress in
        guard let address = SocketAddress(endpoint: text) else { throw fail("bad remote address \"\(text)\"") }
        return address
      }
      let outcome: FlowOutcome
      switch flow.outcome ?? (provider.descriptorKind == .tcp ? "connects" : "datagrams") {
      case "connects": outcome = .connects(handshake: UInt64((flow.handshakeMs ?? 20) * 1e6))
      case "fails": outcome = .failsToConnect
      case "listens": outcome = .listens
      case "datagrams": outcome = .datagrams
      case let other: throw fail("unknown outcome \"\(other)\" (connects, fails, listens, datagrams)")
      }
      let key = "\(flow.pid)/\(flow.process)"
      let upid = upids[key] ?? UInt64(100_000 + upids.count)
      upids[key] = upid
      var uuid = UUIDBytes(high: 0x5343_454E_0000_0000, low: 0)
      for byte in flow.process.utf8 { uuid.low = uuid.low &* 31 &+ UInt64(byte) }
      let process = SimulatedProcess(pid: flow.pid, upid: upid, name: flow.process, uuid: uuid)
      plans.append(
        FlowPlan(
          id: index + 1, provider: provider, process: process, interface: interface, local: local,
          remote: remote ?? .unspecified, openAt: .seconds(flow.at), outcome: outcome,
          closeAt: flow.close.map { .seconds($0) }, activeClose: flow.activeClose ?? false,
          rxBytesPerSecond: flow.rx ?? 0, txBytesPerSecond: flow.tx ?? 0,
          rttMicroseconds: UInt32((flow.rttMs ?? 20) * 1000)))
    }
    return Workload(interfaces: interfaces, flows: plans, duration: .seconds(duration))
  }
}

public struct ScenarioError: Error, CustomStringConvertible {
  public var flow: Int
  public var message: String
  public var description: String { "scenario flow \(flow): \(message)" }
}

extension SocketAddress {
  /// Parses `1.2.3.4:80` or `[2001:db8::1]:443`.
  public init?(endpoint text: String) {
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
      let host = String(text[text.index(after: text.startIndex)..<close])
      let rest = text[text.index(after: close)...]
      guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), let address = IPv6Address(host) else {
        return nil
      }
      self = .ipv6(address, port: port)
      return
    }
    guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
      let address = IPv4Address(String(text[..<colon]))
    else { return nil }
    self = .ipv4(address, port: port)
  }
}
