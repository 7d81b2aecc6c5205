import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat

/// Which datagrams the engine runs through ``LayoutVerifier`` on a known kernel once the first
/// 256 have passed: one in 1,024, every datagram that opens with a message type none has passed
/// with, and every datagram while a recent check failed. The checks cost a fraction of the
/// replay's client thread; these tests hold the rule to what it is for.
@Suite struct LayoutSamplingTests {
  static let family = LayoutFamily.xnu11215

  static func counts(rxPackets: UInt64, rxBytes: UInt64) throws -> [UInt8] {
    var counts = Counts()
    (counts.rxPackets, counts.rxBytes, counts.txPackets, counts.txBytes) = (rxPackets, rxBytes, 2, 300)
    let message = Message(
      context: 0, .sourceCounts(SourceCounts(sourceRef: SourceRef(1), eventFlags: 0, counts: counts)))
    return try MessageEncoder(family: family).encode(message, settingLength: true)
  }

  static let plausible: [UInt8] = try! counts(rxPackets: 3, rxBytes: 1_500)
  /// Packets above bytes: what two swapped counters look like once data has moved.
  static let swapped: [UInt8] = try! counts(rxPackets: 1_500, rxBytes: 3)

  static func engine() -> ClientEngine {
    var engine = ClientEngine(configuration: ClientConfiguration(), family: family)
    engine.start(at: .zero)
    while engine.pollTransmit() != nil {}
    return engine
  }

  @Test func datagramsOfTypesThatPassedAreSampled() {
    var engine = Self.engine()
    for _ in 0..<5_000 { engine.handleDatagram(Self.plausible, at: .zero) }
    // The first 256, then the 1,024th, 2,048th, 3,072nd and 4,096th.
    #expect(engine.verifier.checked == 260)
    #expect(engine.verifier.failed == 0)
    #expect(engine.layoutMismatch == nil)
  }

  @Test func aTypeFirstSeenLateIsCheckedAtOnce() throws {
    var engine = Self.engine()
    for _ in 0..<300 { engine.handleDatagram(Self.plausible, at: .zero) }
    var descriptor = TCPDescriptor()
    descriptor.state = TCPState(rawValue: 99)
    let description = Message(
      context: 0,
      .sourceDescription(
        SourceDescription(
          sourceRef: SourceRef(1), eventFlags: 0, provider: Self.family.providerID(for: .tcpKernel)!,
          descriptor: .tcp(descriptor))))
    engine.handleDatagram(try MessageEncoder(family: Self.family).encode(description, settingLength: true), at: .zero)
    #expect(engine.verifier.checked == 257)
    #expect(engine.verifier.failed == 1)
  }

  /// Values that turn implausible late (counters swapped, noticed once traffic flows): the first
  /// sampled failure puts every datagram under check, and the mismatch is called within one
  /// sampling interval and a few dozen datagrams, not after thousands.
  @Test func aFailureChecksEveryDatagramUntilTheVerdict() {
    var engine = Self.engine()
    for _ in 0..<2_000 { engine.handleDatagram(Self.plausible, at: .zero) }
    var sent = 0
    while engine.layoutMismatch == nil, sent < 5_000 {
      engine.handleDatagram(Self.swapped, at: .zero)
      sent += 1
    }
    #expect(engine.layoutMismatch != nil)
    #expect(sent <= 1_024 + 64, "\(sent) swapped datagrams before the mismatch was called")
  }
}
