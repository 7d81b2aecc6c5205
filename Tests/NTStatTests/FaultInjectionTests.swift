import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// Seeded faults between the client and the simulated kernel: datagrams dropped, duplicated,
/// reordered, truncated and corrupted; requests lost or answered with an error of every kind;
/// a kernel that says nothing for seconds. The client keeps running, counts what happened, and
/// once the faults stop it converges: no stream it holds is gone in the kernel, and every
/// source the kernel has made since is known to it.
@Suite(.hangLimit) struct FaultInjectionTests {
  final class FaultyTransport: ClientTransport {
    let base: SimulatorTransport
    var random: SeededRandom
    let faultsUntil: MonotonicTime
    let silence: ClosedRange<MonotonicTime>
    var stash: [TransportInput] = []
    let encoder: MessageEncoder
    var injected: [String: Int] = [:]

    init(base: SimulatorTransport, seed: UInt64, faultsUntil: MonotonicTime, silence: ClosedRange<MonotonicTime>) {
      self.base = base
      random = SeededRandom(seed: seed)
      self.faultsUntil = faultsUntil
      self.silence = silence
      encoder = MessageEncoder(family: base.family)
    }

    var family: LayoutFamily { base.family }
    var now: MonotonicTime { base.now }
    func close() { base.close() }
    var faulty: Bool { now < faultsUntil }

    func roll(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    func send(_ datagram: [UInt8]) throws {
      if faulty, roll(5) {
        injected["request lost", default: 0] += 1
        return
      }
      if faulty, roll(5), datagram.count >= 16 {
        // The kernel refuses the request: ERROR with its context, and one of the errnos it uses.
        var context: UInt64 = 0
        for i in 0..<8 { context |= UInt64(datagram[i]) << (8 * UInt64(i)) }
        let errnos = [
          DarwinErrno.einval, DarwinErrno.enobufs, DarwinErrno.enoent, DarwinErrno.eagain, DarwinErrno.eperm,
        ]
        let errno = errnos[Int(random.next() % UInt64(errnos.count))]
        let failed = family.hasLengthAndFlags ? datagram : []
        let reply = try encoder.encode(
          Message(
            context: context,
            .error(ErrorReply(errno: errno, reserved: family >= .xnu4570 ? 0 : nil, failedRequest: failed))),
          settingLength: true)
        injected["request refused", default: 0] += 1
        stash.append(.datagram(DatagramBytes(reply), at: now))
        return
      }
      try base.send(datagram)
    }

    func receive(until deadline: MonotonicTime?) throws -> TransportInput {
      if !stash.isEmpty { return stash.removeFirst() }
      while true {
        let input = try base.receive(until: deadline)
        guard case .datagram(var bytes, let at) = input, faulty || silence.contains(at) else { return input }
        if silence.contains(at) {
          injected["silent kernel", default: 0] += 1
          continue
        }
        switch random.next() % 100 {
        case 0..<4:
          injected["dropped", default: 0] += 1
          continue
        case 4..<7:
          injected["duplicated", default: 0] += 1
          stash.append(.datagram(bytes, at: at))
        case 7..<10:
          // Swapped with the next datagram.
          injected["reordered", default: 0] += 1
          let next = try base.receive(until: deadline)
          stash.append(.datagram(bytes, at: at))
          return next
        case 10..<13:
          injected["truncated", default: 0] += 1
          bytes = DatagramBytes(Array(bytes.prefix(Int(random.next() % UInt64(max(bytes.count, 1))))))
        case 13..<16:
          injected["corrupted", default: 0] += 1
          if !bytes.isEmpty { bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1 + random.next() % 255) }
        default:
          break
        }
        return .datagram(bytes, at: at)
      }
    }
  }

  @Test(arguments: [LayoutFamily.xnu2050, .xnu2782, .xnu3789, .xnu7195, .xnu11215])
  func clientSurvivesFaultsAndConverges(family: LayoutFamily) throws {
    var rates = WorkloadRates()
    rates.connectionsPerSecond = 6
    rates.udpFlowsPerSecond = 2
    rates.burstInterval = 12
    rates.burstSize = 60
    rates.meanLifetime = 4
    let workload = Workload.random(seed: 77, duration: .seconds(45), rates: rates, family: family)
    let simulator = try SimulatorTransport(
      kernel: SimulatedKernel(family: family, workload: workload), receiveBufferSize: 1 << 20)
    let faulty = FaultyTransport(
      base: simulator, seed: 5, faultsUntil: .seconds(20), silence: MonotonicTime.seconds(8)...MonotonicTime.seconds(11)
    )
    let client = NetworkStatisticsClient(transport: faulty)
    var live: [SourceRef: NetworkStream] = [:]
    var notices = Set<ClientNotice.Kind>()
    try client.run { event in
      switch event {
      case .streamAdded(let s): live[s.id] = s
      case .streamRemoved(let s): live[s.id] = nil
      case .streamStatsUpdated: break
      case .notice(let n): notices.insert(n.kind)
      }
    }
    for kind in [
      "dropped", "duplicated", "reordered", "truncated", "corrupted", "request lost", "request refused",
      "silent kernel",
    ] {
      #expect(faulty.injected[kind, default: 0] > 0, "no \(kind) fault was injected")
    }
    let stats = client.statistics
    #expect(stats.malformedDatagrams > 0)
    #expect(stats.errorsReceived > 0)
    #expect(stats.requestTimeouts > 0)
    #expect(notices.contains(.requestTimedOut))
    // Converged: nothing stale…
    let kernel = simulator.kernel
    let kernelLive = Set(kernel.liveSourceRefs)
    let stale = live.keys.filter { !kernelLive.contains($0) }
    #expect(stale.isEmpty, "\(stale.count) stale streams in \(family)")
    // …and every source the kernel made after the faults, and has had time to describe, is known.
    let recent = kernel.groundTruth.filter {
      guard let ref = $0.sourceRef, kernelLive.contains(ref) else { return false }
      return $0.flow.openAt > .seconds(21) && $0.flow.openAt < .seconds(43)
    }
    #expect(!recent.isEmpty)
    for record in recent {
      #expect(live[record.sourceRef!] != nil, "flow \(record.flow.id) unknown to the client in \(family)")
    }
  }
}
