import NtstatWire

/// Rates and shapes for a generated workload. Every field has a default that gives a busy
/// but ordinary laptop: web traffic, DNS, a few listeners, and a burst now and then.
public struct WorkloadRates: Hashable, Sendable {
  /// New outbound TCP connections per second.
  public var connectionsPerSecond = 20.0
  /// New UDP flows per second.
  public var udpFlowsPerSecond = 5.0
  /// New QUIC flows per second (families whose kernel registers the QUIC provider).
  public var quicFlowsPerSecond = 2.0
  /// New conn flows per second (families whose kernel registers the conn provider).
  public var connFlowsPerSecond = 1.0
  /// Share of TCP connections that never get an answer to their SYN.
  public var failedFraction = 0.1
  /// Share of flows over IPv6.
  public var ipv6Fraction = 0.3
  /// Flows already open when the client connects (reported by ADD_ALL).
  public var initialFlows = 30
  /// Listening TCP sockets open from the start.
  public var listeners = 4
  /// Seconds between bursts (0: none).
  public var burstInterval = 15.0
  /// Connections opened within 50 ms in each burst.
  public var burstSize = 200
  /// Mean lifetime of a flow, seconds.
  public var meanLifetime = 5.0

  public init() {}
}

extension Workload {
  /// A seeded random workload: the same seed, duration, rates and family give the same flows.
  public static func random(
    seed: UInt64, duration: MonotonicTime, rates: WorkloadRates = WorkloadRates(), family: LayoutFamily
  ) -> Workload {
    var generator = WorkloadGenerator(seed: seed, rates: rates, providers: KernelBehaviour(family: family).registered)
    return generator.generate(duration: duration)
  }
}

/// Draws flows one by one. Processes come and go; their pids come from a small pool so pids
/// are reused (upids never are), as on a real host.
struct WorkloadGenerator {
  var random: SeededRandom
  let rates: WorkloadRates
  let providers: Set<ProviderKind>
  let interfaces = SimulatedInterface.standard
  var flows: [FlowPlan] = []
  var processes: [SimulatedProcess] = []
  var freePIDs: [UInt32] = Array(400..<424)
  var nextUPID: UInt64 = 1000
  var nextPort: UInt16 = 49152

  static let names = [
    "Safari", "curl", "mDNSResponder", "cloudd", "apsd", "nsurlsessiond", "Slack", "ssh", "timed", "Music",
    "com.apple.WebKit.Networking", "softwareupdated",
  ]

  init(seed: UInt64, rates: WorkloadRates, providers: Set<ProviderKind>) {
    random = SeededRandom(seed: seed)
    self.rates = rates
    self.providers = providers
    for _ in 0..<6 { spawnProcess() }
  }

  mutating func generate(duration: MonotonicTime) -> Workload {
    for _ in 0..<rates.listeners {
      addFlow(.tcpKernel, at: .zero, outcome: .listens, lifetime: nil)
    }
    for _ in 0..<rates.initialFlows {
      addFlow(random.chance(0.8) ? .tcpKernel : .udpKernel, at: .zero, outcome: nil, lifetime: lifetime())
    }
    arrivals(ratePerSecond: rates.connectionsPerSecond, until: duration) { g, t in
      let provider: ProviderKind =
        g.providers.contains(.tcpUserland) && g.random.chance(0.1) ? .tcpUserland : .tcpKernel
      g.addFlow(provider, at: t, outcome: nil, lifetime: g.lifetime())
    }
    arrivals(ratePerSecond: rates.udpFlowsPerSecond, until: duration) { g, t in
      let roll = g.random.below(10)
      let provider: ProviderKind =
        roll == 0 && g.providers.contains(.udpUserland)
        ? .udpUserland : roll == 1 && g.providers.contains(.udpSubflow) ? .udpSubflow : .udpKernel
      g.addFlow(provider, at: t, outcome: .datagrams, lifetime: g.lifetime())
    }
    if providers.contains(.quicUserland) {
      arrivals(ratePerSecond: rates.quicFlowsPerSecond, until: duration) { g, t in
        g.addFlow(.quicUserland, at: t, outcome: nil, lifetime: g.lifetime())
      }
    }
    if providers.contains(.connUserland) {
      arrivals(ratePerSecond: rates.connFlowsPerSecond, until: duration) { g, t in
        g.addFlow(.connUserland, at: t, outcome: .datagrams, lifetime: g.lifetime())
      }
    }
    if rates.burstInterval > 0, rates.burstSize > 0 {
      var t = MonotonicTime.seconds(rates.burstInterval)
      while t < duration {
        for _ in 0..<rates.burstSize {
          let at = t.adding(nanoseconds: random.below(50_000_000))
          addFlow(.tcpKernel, at: at, outcome: nil, lifetime: 200_000_000 + random.below(2_000_000_000))
        }
        t = t.adding(nanoseconds: UInt64(rates.burstInterval * 1e9))
      }
    }
    return Workload(interfaces: interfaces, flows: flows, duration: duration)
  }

  /// Poisson arrivals.
  mutating func arrivals(
    ratePerSecond: Double, until end: MonotonicTime, _ body: (inout WorkloadGenerator, MonotonicTime) -> Void
  ) {
    guard ratePerSecond > 0 else { return }
    var t = MonotonicTime.zero
    while true {
      t = t.adding(nanoseconds: random.exponential(meanNanoseconds: 1e9 / ratePerSecond))
      guard t < end else { return }
      body(&self, t)
    }
  }

  mutating func lifetime() -> UInt64 {
    max(5_000_000, random.exponential(meanNanoseconds: rates.meanLifetime * 1e9))
  }

  mutating func spawnProcess() {
    let pid = freePIDs.isEmpty ? UInt32(1000 + nextUPID) : freePIDs.removeFirst()
    nextUPID += 1
    let name = Self.names[Int(random.below(UInt64(Self.names.count)))]
    processes.append(
      SimulatedProcess(pid: pid, upid: nextUPID, name: name, uuid: UUIDBytes(high: random.next(), low: random.next())))
  }

  /// Now and then a process exits (its pid goes back to the pool) and another starts.
  mutating func pickProcess() -> SimulatedProcess {
    if random.chance(0.02), processes.count > 2 {
      let gone = processes.remove(at: Int(random.below(UInt64(processes.count))))
      freePIDs.append(gone.pid)
      spawnProcess()
    }
    return processes[Int(random.below(UInt64(processes.count)))]
  }

  mutating func pickInterface() -> SimulatedInterface {
    let roll = random.below(100)
    let kind: InterfaceKind = roll < 60 ? .wifi : roll < 80 ? .wired : roll < 90 ? .cellular : .loopback
    return interfaces.first { $0.kind == kind }!
  }

  mutating func addFlow(_ provider: ProviderKind, at time: MonotonicTime, outcome: FlowOutcome?, lifetime: UInt64?) {
    let interface = provider == .tcpKernel && outcome == .listens ? interfaces[1] : pickInterface()
    let v6 = random.chance(rates.ipv6Fraction)
    let isTCP = provider.descriptorKind == .tcp
    let outcome =
      outcome
      ?? (isTCP
        ? (random.chance(rates.failedFraction) && provider == .tcpKernel
          ? .failsToConnect : .connects(handshake: 1_000_000 + random.below(80_000_000))) : .datagrams)
    let port: UInt16
    let remotePort: UInt16
    switch outcome {
    case .listens:
      port = [22, 5000, 7000, 8080, 3306, 631][Int(random.below(6))]
      remotePort = 0
    default:
      port = nextPort
      nextPort = nextPort == 65535 ? 49152 : nextPort + 1
      remotePort =
        isTCP ? [443, 443, 443, 80, 22, 993][Int(random.below(6))] : [53, 443, 123, 5353][Int(random.below(4))]
    }
    let local = address(interface: interface, v6: v6, port: port, localSide: true, listening: outcome == .listens)
    let connectedUDP = provider.descriptorKind != .udp || random.chance(0.7)
    let remote =
      outcome == .listens || !connectedUDP
      ? .unspecified : address(interface: interface, v6: v6, port: remotePort, localSide: false, listening: false)
    let closeAt: MonotonicTime?
    switch outcome {
    case .failsToConnect:
      // Gives up after its SYN retransmissions (about 75 s on Darwin) or earlier on RST.
      closeAt = time.adding(nanoseconds: random.chance(0.5) ? 75_000_000_000 : 50_000_000 + random.below(500_000_000))
    case .connects(let handshake):
      // A connection is closed only after it is established (else it would be a failure).
      closeAt = lifetime.map { time.adding(nanoseconds: max($0, handshake + 1_000_000)) }
    default:
      closeAt = lifetime.map { time.adding(nanoseconds: $0) }
    }
    let heavy = random.chance(0.1)
    let rx =
      outcome == .listens || outcome == .failsToConnect
      ? 0 : (heavy ? 2_000_000 : 2_000) + random.below(heavy ? 8_000_000 : 60_000)
    flows.append(
      FlowPlan(
        id: flows.count + 1, provider: provider, process: pickProcess(), interface: interface, local: local,
        remote: remote, openAt: time, outcome: outcome, closeAt: closeAt, activeClose: random.chance(0.5),
        rxBytesPerSecond: rx, txBytesPerSecond: rx / (3 + random.below(20)),
        rttMicroseconds: interface.kind == .loopback ? 50 : UInt32(5_000 + random.below(120_000))))
  }

  mutating func address(
    interface: SimulatedInterface, v6: Bool, port: UInt16, localSide: Bool, listening: Bool
  )
    -> SocketAddress
  {
    if listening { return v6 ? .ipv6(.any, port: port) : .ipv4(.any, port: port) }
    if interface.kind == .loopback {
      return v6 ? .ipv6(IPv6Address(high: 0, low: 1), port: port) : .ipv4(IPv4Address(127, 0, 0, 1), port: port)
    }
    if localSide {
      let host: UInt8 = interface.kind == .wifi ? 23 : interface.kind == .wired ? 42 : 7
      return v6
        ? .ipv6(IPv6Address(high: 0x2001_0db8_0001_0000, low: UInt64(host)), port: port)
        : .ipv4(IPv4Address(interface.kind == .cellular ? 100 : 192, 168, 1, host), port: port)
    }
    return v6
      ? .ipv6(IPv6Address(high: 0x2606_2800_0220_0001, low: random.below(1 << 16)), port: port)
      : .ipv4(IPv4Address(93, 184, UInt8(random.below(256)), UInt8(1 + random.below(254))), port: port)
  }
}
