import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// Writes `captures/legacy/ntstat-xnu-3789.70.16.bin`: a session in libntstat's recording
/// format, made by a client that behaves as libntstat's did (ADD_ALL for kernel TCP and UDP,
/// GET_SRC_DESC for each new source, QUERY_SRC ALL every second, 16-bit request numbers, whole
/// seconds for timestamps) against the simulator. Runs only with NTSTAT_RECORD_CORPUS=1
/// (Tests/Tools/make-captures.sh); otherwise checks the committed file still parses.
@Suite(.hangLimit) struct LegacyRecordingGenerator {
  static let path = "captures/legacy/ntstat-xnu-3789.70.16.bin"

  static var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  @Test func legacyRecording() throws {
    let url = Self.packageRoot.appendingPathComponent(Self.path)
    if ProcessInfo.processInfo.environment["NTSTAT_RECORD_CORPUS"] == "1" {
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(try Self.generate()).write(to: url)
    }
    let bytes = try [UInt8](Data(contentsOf: url))
    #expect(bytes.count > 10_000)
    // The committed file parses as libntstat's format, whole, and is what the generator makes.
    var decoder = LegacyRecordingDecoder()
    var frames: [CapturedFrame] = []
    try bytes.withUnsafeBytes { try decoder.push($0, into: &frames) }
    #expect(!decoder.hasPartialRecord)
    #expect(frames.count > 400)
    #expect(frames.contains { $0.direction == .toKernel } && frames.contains { $0.direction == .fromKernel })
    #expect(try Self.generate() == bytes)
  }

  static func generate() throws -> [UInt8] {
    let family = LayoutFamily.xnu3789
    var rates = WorkloadRates()
    rates.connectionsPerSecond = 3
    rates.udpFlowsPerSecond = 1
    rates.initialFlows = 12
    rates.listeners = 2
    rates.burstInterval = 0
    rates.failedFraction = 0.2
    var kernel = SimulatedKernel(
      family: family, workload: Workload.random(seed: 21, duration: .seconds(15), rates: rates, family: family),
      configuration: KernelConfiguration(receiveBufferSize: 1 << 20))
    let encoder = MessageEncoder(family: family)
    let decoder = MessageDecoder(family: family)
    var out: [UInt8] = []
    var sequence: UInt16 = 0
    var now = MonotonicTime.zero
    func record(_ bytes: [UInt8]) {
      let seconds = UInt32(1_700_000_000 + now.nanoseconds / 1_000_000_000)
      withUnsafeBytes(of: seconds.littleEndian) { out += $0 }
      withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out += $0 }
      out += bytes
    }
    func send(_ body: MessageBody) throws {
      sequence &+= 1
      let bytes = try encoder.encode(Message(context: UInt64(sequence), body))
      record(bytes)
      kernel.handleRequest(bytes, at: now)
    }
    func drain() throws {
      while let datagram = kernel.receive() {
        record(datagram)
        for message in try decoder.decode(datagram) {
          if case .sourceAdded(let added) = message.body { try send(.getSourceDescription(added.sourceRef)) }
        }
      }
    }
    try send(.addAllSources(AddAllSourcesRequest(provider: family.providerID(for: .tcpKernel)!, filter: 0, events: 0)))
    try drain()
    try send(.addAllSources(AddAllSourcesRequest(provider: family.providerID(for: .udpKernel)!, filter: 0, events: 0)))
    try drain()
    var second = MonotonicTime.seconds(1)
    while second <= .seconds(15) {
      // Flows that open and close between polls are reported as they happen.
      while let next = kernel.nextEventTime, next < second {
        now = next
        kernel.advance(to: next)
        try drain()
      }
      now = second
      kernel.advance(to: second)
      try drain()
      try send(.querySource(.all))
      try drain()
      second = second.adding(nanoseconds: 1_000_000_000)
    }
    return out
  }
}
