import CAllocationCounter
import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatWire

#if canImport(Glibc)
  import Glibc
#else
  import Darwin
#endif

/// A host with `flows` long-lived TCP and UDP flows open from the start, and nothing else.
func steadyWorkload(flows: Int, family: LayoutFamily, seconds: Double) -> Workload {
  var rates = WorkloadRates()
  rates.initialFlows = flows
  rates.listeners = 0
  rates.connectionsPerSecond = 0
  rates.udpFlowsPerSecond = 0
  rates.quicFlowsPerSecond = 0
  rates.connFlowsPerSecond = 0
  rates.burstInterval = 0
  rates.meanLifetime = 1e6
  return Workload.random(seed: 7, duration: .seconds(seconds), rates: rates, family: family)
}

/// How fast the simulated kernel produces datagrams: ALL polls over 2,000 sources, drained as a
/// client would, in-process (no socket).
enum SimulatorBenchmark {
  static func run() {
    print("simulator: datagrams generated per second (2,000 sources, ALL polls, no socket)")
    let cases: [(LayoutFamily, MessageType, Bool)] = [
      (.xnu2422, .querySource, false), (.xnu4570, .querySource, false), (.xnu4570, .getUpdate, true),
      (.xnu11215, .querySource, true), (.xnu11215, .getUpdate, true),
    ]
    for (family, type, aggregate) in cases {
      var kernel = SimulatedKernel(
        family: family, workload: steadyWorkload(flows: 2000, family: family, seconds: 1e6),
        configuration: KernelConfiguration(receiveBufferSize: 64 << 20))
      let encoder = MessageEncoder(family: family)
      for kind in [ProviderKind.tcpKernel, .udpKernel] {
        let request = Message(context: 1, .addAllSources(AddAllSourcesRequest(provider: family.providerID(for: kind)!)))
        kernel.handleRequest(try! encoder.encode(request, settingLength: true), at: .zero)
      }
      while kernel.receive() != nil {}
      let flags: MessageFlags = aggregate ? [.supportsAggregate] : []
      let kind: MessageBody = type == .getUpdate ? .getUpdate(.all) : .querySource(.all)
      let poll = try! encoder.encode(Message(context: 2, flags: flags, kind), settingLength: true)
      var datagrams = 0
      var bytes = 0
      var messages: UInt64 = 0
      var second = 1.0
      let elapsed = DecodeBenchmark.best(3) {
        datagrams = 0
        bytes = 0
        let before = kernel.statistics.messagesQueued
        defer { messages = kernel.statistics.messagesQueued - before }
        for _ in 0..<100 {
          kernel.handleRequest(poll, at: .seconds(second))
          second += 1
          while let datagram = kernel.receive() {
            datagrams += 1
            bytes += datagram.count
          }
        }
      }
      let perPoll = datagrams / 100
      print(
        "  \(family.name.padding(10)) \(kind.messageType.name.padding(11)) \(aggregate ? "packed  " : "unpacked") \(format(Double(datagrams) / elapsed)) datagrams/s, \(format(Double(messages) / elapsed)) messages/s, \(format(Double(bytes) / elapsed / 1e6)) MB/s (\(perPoll) datagrams per poll)"
      )
    }
  }
}

/// How fast the client engine consumes kernel datagrams: a recorded session replayed into a
/// fresh engine (same configuration, so it issues the same requests), listener doing nothing.
enum EngineBenchmark {
  final class Tap: ClientTransport {
    let base: SimulatorTransport
    var inbound: [([UInt8], MonotonicTime)] = []
    init(_ base: SimulatorTransport) { self.base = base }
    var family: LayoutFamily { base.family }
    var now: MonotonicTime { base.now }
    func send(_ datagram: [UInt8]) throws { try base.send(datagram) }
    func receive(until deadline: MonotonicTime?) throws -> TransportInput {
      let input = try base.receive(until: deadline)
      if case .datagram(let bytes, let time) = input { inbound.append((bytes.array, time)) }
      return input
    }
    func close() { base.close() }
  }

  static func run() {
    print("engine: kernel datagrams consumed per second (recorded session replayed into the engine)")
    // xnu-12377 twice: as xnu-11215 is spoken to, and in details mode (832-byte SRC_DETAILS).
    let runs: [(LayoutFamily, Bool)] = [(.xnu2422, false), (.xnu4570, false), (.xnu11215, false), (.xnu12377, true)]
    for (family, details) in runs {
      var configuration = ClientConfiguration()
      configuration.details = details
      let workload = Workload.random(seed: 4, duration: .seconds(120), family: family)
      let kernel = SimulatedKernel(family: family, workload: workload)
      let tap = Tap(try! SimulatorTransport(kernel: kernel, receiveBufferSize: 1 << 20))
      let client = NetworkStatisticsClient(transport: tap, configuration: configuration)
      try! client.run { _ in }
      let session = tap.inbound
      let messages = Int(tap.base.kernel.statistics.messagesQueued)
      var events = 0
      let repetitions = Int(getenv("NTSTAT_BENCH_REPEAT").flatMap { Int(String(cString: $0)) } ?? 5)
      let elapsed = DecodeBenchmark.best(repetitions) {
        var engine = ClientEngine(configuration: configuration, family: family)
        engine.start(at: .zero)
        events = 0
        for (datagram, time) in session {
          engine.handleDatagram(datagram, at: time)
          if let due = engine.nextDeadline(), due <= time { engine.handleTimeout(at: time) }
          while engine.pollTransmit() != nil {}
          while engine.pollEvent() != nil { events += 1 }
        }
      }
      print(
        "  \((family.name + (details ? " details" : "")).padding(8)) \(format(Double(session.count) / elapsed)) datagrams/s, \(format(Double(messages) / elapsed)) messages/s (\(session.count) datagrams, \(messages) messages, \(events) events)"
      )
    }
    memoryPerSource()
  }

  /// Heap held per live source: the engine tracking N described sources, minus an empty one.
  static func memoryPerSource() {
    guard ntstat_allocation_counting_available() != 0 else { return }
    for family in [LayoutFamily.xnu2422, .xnu11215] {
      let count = 20_000
      let workload = steadyWorkload(flows: count, family: family, seconds: 5)
      let kernel = SimulatedKernel(family: family, workload: workload)
      let tap = Tap(try! SimulatorTransport(kernel: kernel, receiveBufferSize: 64 << 20))
      let client = NetworkStatisticsClient(transport: tap)
      try! client.run { _ in }
      let session = tap.inbound
      let before = ntstat_heap_bytes_in_use()
      var engine = ClientEngine(configuration: ClientConfiguration(), family: family)
      engine.start(at: .zero)
      for (datagram, time) in session {
        engine.handleDatagram(datagram, at: time)
        while engine.pollTransmit() != nil {}
        while engine.pollEvent() != nil {}
      }
      let after = ntstat_heap_bytes_in_use()
      let live = engine.liveStreams.count
      print(
        "  \(family.name.padding(8)) memory: \((after - before) / UInt64(max(live, 1))) bytes per live source (\(live) sources)"
      )
      withExtendedLifetime(engine) {}
    }
  }
}

func format(_ value: Double) -> String {
  if value >= 1e6 { return String(Double(Int(value / 1e4)) / 100) + " M" }
  if value >= 1e3 { return String(Double(Int(value / 10)) / 100) + " k" }
  return String(Double(Int(value * 100)) / 100)
}

extension String {
  func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
