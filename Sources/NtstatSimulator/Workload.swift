import NtstatWire

/// A process as ntstat describes it: pid (reused by the OS), upid (never reused), name, uuid.
public struct SimulatedProcess: Hashable, Sendable {
  public var pid: UInt32
  public var upid: UInt64
  public var name: String
  public var uuid: UUIDBytes

  public init(pid: UInt32, upid: UInt64, name: String, uuid: UUIDBytes) {
    self.pid = pid
    self.upid = upid
    self.name = name
    self.uuid = uuid
  }
}

/// The interface kinds whose traffic ntstat counts separately.
public enum InterfaceKind: String, CaseIterable, Hashable, Sendable, Codable {
  case loopback, wifi, wired, cellular

  /// `NSTAT_IFNET_IS_*` bits the kernel reports for a source on this kind of interface.
  public var properties: InterfaceProperties {
    switch self {
    case .loopback: return .loopback
    case .wifi: return .wifi
    case .wired: return .wired
    case .cellular: return [.cellular, .expensive]
    }
  }
}

/// A network interface of the simulated host.
public struct SimulatedInterface: Hashable, Sendable {
  public var index: UInt32
  public var name: String
  public var kind: InterfaceKind

  public init(index: UInt32, name: String, kind: InterfaceKind) {
    self.index = index
    self.name = name
    self.kind = kind
  }

  /// The host's interfaces: lo0, en0 (Wi-Fi), en5 (Ethernet), pdp_ip0 (cellular).
  public static let standard: [SimulatedInterface] = [
    SimulatedInterface(index: 1, name: "lo0", kind: .loopback),
    SimulatedInterface(index: 4, name: "en0", kind: .wifi),
    SimulatedInterface(index: 6, name: "en5", kind: .wired),
    SimulatedInterface(index: 8, name: "pdp_ip0", kind: .cellular),
  ]
}

/// How a flow's life goes.
public enum FlowOutcome: Hashable, Sendable {
  /// TCP/QUIC: SYN_SENT, then ESTABLISHED after `handshake` nanoseconds.
  case connects(handshake: UInt64)
  /// TCP: stays in SYN_SENT, retransmitting SYNs, until it gives up at `closeAt`.
  case failsToConnect
  /// TCP: a listening socket (LISTEN, no peer, no traffic).
  case listens
  /// UDP and conn flows: traffic from the start.
  case datagrams
}

/// One flow of the workload, from creation to death; its counters and state at any instant
/// follow from these numbers (``state(at:)``, ``counts(at:)``), so the kernel model never
/// stores per-packet state.
public struct FlowPlan: Hashable, Sendable {
  public var id: Int
  public var provider: ProviderKind
  public var process: SimulatedProcess
  public var interface: SimulatedInterface
  public var local: SocketAddress
  public var remote: SocketAddress
  public var openAt: MonotonicTime
  public var outcome: FlowOutcome
  /// When the owner closes (or the connect attempt fails); nil: still open at the end.
  public var closeAt: MonotonicTime?
  /// TCP: the local side closes first, so the pcb lingers in TIME_WAIT for 2 MSL.
  public var activeClose: Bool
  public var rxBytesPerSecond: UInt64
  public var txBytesPerSecond: UInt64
  /// Smoothed round-trip time, microseconds.
  public var rttMicroseconds: UInt32

  public init(
    id: Int, provider: ProviderKind, process: SimulatedProcess, interface: SimulatedInterface,
    local: SocketAddress, remote: SocketAddress, openAt: MonotonicTime, outcome: FlowOutcome,
    closeAt: MonotonicTime?, activeClose: Bool = false, rxBytesPerSecond: UInt64 = 0,
    txBytesPerSecond: UInt64 = 0, rttMicroseconds: UInt32 = 20_000
  ) {
    self.id = id
    self.provider = provider
    self.process = process
    self.interface = interface
    self.local = local
    self.remote = remote
    self.openAt = openAt
    self.outcome = outcome
    self.closeAt = closeAt
    self.activeClose = activeClose
    self.rxBytesPerSecond = rxBytesPerSecond
    self.txBytesPerSecond = txBytesPerSecond
    self.rttMicroseconds = rttMicroseconds
  }

  /// 2 × MSL: Darwin's `net.inet.tcp.msl` is 15 s.
  public static let timeWaitNanoseconds: UInt64 = 30_000_000_000

  var isTCPLike: Bool { provider.descriptorKind == .tcp }
  var isKernelTCP: Bool { provider == .tcpKernel }

  /// When the pcb (or flow) dies and the kernel detaches its sources.
  public var deadAt: MonotonicTime? {
    guard let closeAt else { return nil }
    if isKernelTCP, activeClose, case .connects = outcome {
      return closeAt.adding(nanoseconds: Self.timeWaitNanoseconds)
    }
    return closeAt
  }

  var establishedAt: MonotonicTime? {
    switch outcome {
    case .connects(let handshake): return openAt.adding(nanoseconds: handshake)
    case .datagrams: return openAt
    case .failsToConnect, .listens: return nil
    }
  }

  /// `tcpcb->t_state` at `time` (TCP-like providers).
  public func state(at time: MonotonicTime) -> TCPState {
    if let closeAt, time >= closeAt {
      if let deadAt, time < deadAt { return .timeWait }
      return .closed
    }
    switch outcome {
    case .listens: return .listen
    case .failsToConnect: return .synSent
    case .connects: return time >= establishedAt! ? .established : .synSent
    case .datagrams: return .established
    }
  }

  /// Bytes moved up to `time`: rate × time spent carrying traffic.
  func transferred(at time: MonotonicTime) -> (rx: UInt64, tx: UInt64) {
    guard let start = establishedAt, time > start else { return (0, 0) }
    let end = min(time, closeAt ?? time)
    let nanoseconds = end.since(start)
    return (rate(rxBytesPerSecond, nanoseconds), rate(txBytesPerSecond, nanoseconds))
  }

  // Full-width arithmetic keeps hours-long flows at high rates from overflowing.
  private func rate(_ bytesPerSecond: UInt64, _ nanoseconds: UInt64) -> UInt64 {
    let product = bytesPerSecond.multipliedFullWidth(by: nanoseconds)
    return (1_000_000_000 as UInt64).dividingFullWidth((product.high, product.low)).quotient
  }

  /// `nstat_counts` at `time`, as the provider's `nstat_*_counts` computes it.
  public func counts(at time: MonotonicTime) -> Counts {
    var c = Counts()
    let (rx, tx) = transferred(at: time)
    let segment: UInt64 = isTCPLike ? 1448 : 512
    c.rxBytes = rx
    c.txBytes = tx
    c.rxPackets = rx == 0 ? 0 : (rx + segment - 1) / segment
    c.txPackets = tx == 0 ? 0 : (tx + segment - 1) / segment
    // Every per-medium counter the kernel has is reported; only the flow's medium moves.
    (c.cellRxBytes, c.cellTxBytes, c.wifiRxBytes, c.wifiTxBytes, c.wiredRxBytes, c.wiredTxBytes) = (0, 0, 0, 0, 0, 0)
    switch interface.kind {
    case .loopback: break
    case .wifi: (c.wifiRxBytes, c.wifiTxBytes) = (rx, tx)
    case .wired: (c.wiredRxBytes, c.wiredTxBytes) = (rx, tx)
    case .cellular: (c.cellRxBytes, c.cellTxBytes) = (rx, tx)
    }
    if isKernelTCP {
      let state = self.state(at: time)
      switch outcome {
      case .connects:
        // Handshake: SYN out, SYN-ACK in, ACK out.
        if state != .closed || rx + tx > 0 {
          c.txPackets += time >= establishedAt! ? 2 : 1
          c.rxPackets += time >= establishedAt! ? 1 : 0
        }
      case .failsToConnect:
        // SYN retransmissions back off 1, 2, 4… s; count those sent so far.
        let elapsed = min(time, closeAt ?? time).since(openAt) / 1_000_000_000
        var sent: UInt64 = 1
        var next: UInt64 = 1
        while next <= elapsed, sent < 8 {
          sent += 1
          next *= 2
        }
        c.txPackets = sent
      default: break
      }
      // The kernel derives both from the current state (ntstat.c, nstat_tcp_counts).
      c.connectAttempts = state.rawValue >= TCPState.synSent.rawValue ? 1 : 0
      c.connectSuccesses = state.rawValue >= TCPState.established.rawValue ? 1 : 0
      if case .connects = outcome, time >= establishedAt! {
        let rttMs = rttMicroseconds / 1000
        c.avgRTT = rttMs * 32
        c.minRTT = rttMs * 32 * 7 / 8
        c.varRTT = rttMs * 8
        c.txRetransmit = UInt32(truncatingIfNeeded: tx / 100_000)
      }
    }
    return c
  }
}

/// Everything that happens on the simulated host: interfaces, processes, flows.
public struct Workload: Sendable {
  public var interfaces: [SimulatedInterface]
  /// Flows ordered by `openAt`.
  public var flows: [FlowPlan]
  /// The end of the scripted time (the run's duration).
  public var duration: MonotonicTime

  public init(
    interfaces: [SimulatedInterface] = SimulatedInterface.standard, flows: [FlowPlan], duration: MonotonicTime
  ) {
    self.interfaces = interfaces
    self.flows = flows.sorted { ($0.openAt, $0.id) < ($1.openAt, $1.id) }
    self.duration = duration
  }
}
