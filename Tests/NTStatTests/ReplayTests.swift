import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// Replay drives the same engine a live run does: a simulated session recorded through the
/// real socket path replays to the same canonical events at any speed.
@Suite(.hangLimit) struct ReplayTests {
  struct Session {
    var path: String
    var events: [String]
  }

  /// Records a simulated session (client + recorder + simulator over a socketpair).
  static func record(
    _ name: String, family: LayoutFamily, seconds: Double, seed: UInt64 = 6, rates: WorkloadRates = WorkloadRates(),
    receiveBufferSize: Int = 1 << 20
  ) throws -> Session {
    let path = Repository.temporaryPath(name)
    let workload = Workload.random(seed: seed, duration: .seconds(seconds), rates: rates, family: family)
    let simulator = try SimulatorTransport(
      kernel: SimulatedKernel(family: family, workload: workload), receiveBufferSize: receiveBufferSize)
    var configuration = ClientConfiguration()
    configuration.receiveBufferSize = receiveBufferSize
    var metadata = CaptureMetadata()
    metadata.family = family
    metadata.simulated = true
    metadata.configuration = configuration.summary
    let writer = try CaptureFileWriter(path: path, metadata: metadata, interfaces: ["com.apple.network.statistics"])
    let recorder = RecordingTransport(wrapping: simulator, writer: writer, wallClockAnchor: 1_800_000_000_000_000_000)
    let client = NetworkStatisticsClient(transport: recorder, configuration: configuration)
    var events: [String] = []
    let origin = recorder.now
    try client.run { events.append(CanonicalEvent.fields($0, origin: origin).jsonText) }
    try writer.close(statistics: [0: recorder.captureStatistics])
    return Session(path: path, events: events)
  }

  static func replay(
    _ path: String, speed: ReplaySpeed, configuration: ClientConfiguration? = nil
  ) throws -> (events: [String], transport: ReplayTransport) {
    let transport = try ReplayTransport(path: path, speed: speed)
    let client = NetworkStatisticsClient(
      transport: transport, configuration: configuration ?? transport.recordedConfiguration ?? ClientConfiguration())
    var events: [String] = []
    try client.run { events.append(CanonicalEvent.fields($0, origin: .zero).jsonText) }
    return (events, transport)
  }

  @Test(arguments: [LayoutFamily.xnu2050, .xnu3789, .xnu7195, .xnu11215])
  func replayAtTopSpeedReproducesTheLiveSession(family: LayoutFamily) throws {
    let session = try Self.record("live-\(family).pcapng.zst", family: family, seconds: 30)
    #expect(session.events.count > 500)
    let (events, transport) = try Self.replay(session.path, speed: .topSpeed)
    #expect(transport.divergences.isEmpty, "\(transport.divergences.prefix(3))")
    #expect(transport.requestsMatched > 100)
    #expect(events == session.events)
  }

  @Test func outputIsTheSameAtRealTimeHundredfoldAndTopSpeed() throws {
    let session = try Self.record("speeds.pcapng.zst", family: .xnu10002, seconds: 2.5)
    let clock = ContinuousClock()
    var results: [ReplaySpeed: [String]] = [:]
    var elapsed: [ReplaySpeed: Duration] = [:]
    var paced: [ReplaySpeed: Duration] = [:]
    for speed in [ReplaySpeed.topSpeed, .factor(100), .realtime] {
      var replay: (events: [String], transport: ReplayTransport)?
      elapsed[speed] = try clock.measure { replay = try Self.replay(session.path, speed: speed) }
      results[speed] = replay?.events
      paced[speed] = replay?.transport.control.pacedDuration
    }
    #expect(results[.topSpeed] == session.events)
    #expect(results[.factor(100)] == session.events)
    #expect(results[.realtime] == session.events)
    // Real time takes at least the capture's length (2.5 s), however loaded the machine. What
    // each speed asked of the clock, which no load changes: the capture's length, a hundredth
    // of it, nothing.
    #expect(elapsed[.realtime]! >= .seconds(2.3))
    let length = try #require(paced[.realtime])
    #expect(length > .seconds(2.3) && length <= .seconds(2.6), "\(length)")
    let hundredth = try #require(paced[.factor(100)])
    #expect(hundredth > length / 100 - .milliseconds(1) && hundredth < length / 100 + .milliseconds(1), "\(hundredth)")
    #expect(paced[.topSpeed] == .zero)
  }

  @Test func aChangedClientDiverges() throws {
    let session = try Self.record("diverge.pcapng.zst", family: .xnu8019_61, seconds: 10)
    // Deliberately different client: polls every 2 s instead of 1 s, and no UDP.
    var changed = ClientConfiguration()
    changed.updateInterval = .seconds(2)
    changed.providers = [.tcpKernel, .tcpUserland, .udpUserland, .quicUserland, .connUserland, .udpSubflow]
    let (events, transport) = try Self.replay(session.path, speed: .topSpeed, configuration: changed)
    let kinds = Set(transport.divergences.map(\.kind))
    #expect(kinds == [.missingRequest, .unexpectedRequest])
    let missingUDP = transport.divergences.first {
      $0.kind == .missingRequest && $0.expected.hasPrefix("ADD_ALL_SRCS provider 4")
    }
    #expect(missingUDP != nil, "the recorded UDP subscription is reported missing")
    #expect(transport.divergences.allSatisfy { $0.frame > 0 })
    // Recorded replies are still fed: the changed client still sees streams.
    #expect(events.contains { $0.hasPrefix(#"{"event":"added""#) })
  }

  @Test func recordedContextsAreRemappedToTheClients() throws {
    // A recording whose client numbered its requests from 5000: every recorded context is
    // shifted, in the requests and in the replies that echo them.
    let session = try Self.record("contexts.pcapng.zst", family: .xnu4570, seconds: 8)
    let reader = try CaptureFileReader(path: session.path)
    var frames: [CapturedFrame] = []
    var metadata = CaptureMetadata()
    let decoder = MessageDecoder(family: .xnu4570)
    while let record = try reader.next() {
      switch record {
      case .section(let m): metadata = m
      case .frame(var frame):
        for range in try decoder.messageRanges(in: frame.bytes, direction: frame.direction) {
          var context: UInt64 = 0
          for i in 0..<8 { context |= UInt64(frame.bytes[range.lowerBound + i]) << (8 * UInt64(i)) }
          guard context != 0 else { continue }
          context += 5000
          for i in 0..<8 { frame.bytes[range.lowerBound + i] = UInt8(truncatingIfNeeded: context >> (8 * UInt64(i))) }
        }
        frames.append(frame)
      default: break
      }
    }
    let transport = try ReplayTransport(frames: frames, metadata: metadata)
    let client = NetworkStatisticsClient(transport: transport, configuration: transport.recordedConfiguration!)
    var events: [String] = []
    try client.run { events.append(CanonicalEvent.fields($0, origin: .zero).jsonText) }
    #expect(transport.divergences.isEmpty)
    #expect(events == session.events)
  }

  @Test func familyIsDetectedWhenTheCaptureDoesNotSayIt() throws {
    for family in [LayoutFamily.xnu2422, .xnu3247, .xnu6153, .xnu11215] {
      let session = try Self.record("detect-\(family).pcapng.zst", family: family, seconds: 5)
      let reader = try CaptureFileReader(path: session.path)
      var frames: [CapturedFrame] = []
      while let record = try reader.next() { if case .frame(let f) = record { frames.append(f) } }
      let transport = try ReplayTransport(frames: frames, metadata: CaptureMetadata())
      #expect(transport.familyReason.hasPrefix("detected: "))
      // Families with identical structs for everything seen cannot be told apart: the chosen
      // one must decode the session exactly as the right one does, event for event.
      func events(_ transport: ReplayTransport) throws -> [String] {
        var configuration = ClientConfiguration()
        configuration.providers = [.tcpKernel, .udpKernel]
        var lines: [String] = []
        try NetworkStatisticsClient(transport: transport, configuration: configuration).run {
          lines.append(CanonicalEvent.fields($0, origin: .zero).jsonText)
        }
        return lines
      }
      let detected = try events(transport)
      let right = try events(try ReplayTransport(frames: frames, metadata: CaptureMetadata(), family: family))
      #expect(detected.count > 20)
      #expect(detected == right, "\(family) detected as \(transport.family): the events differ")
    }
  }

  /// The client's `stop()` from another thread ends a real-time replay promptly, even while it
  /// waits for the next frame's time, and what was delivered before it stands.
  @Test func stopEndsARealTimeReplayMidWait() throws {
    let path = CapturesCorpusTests.root.appendingPathComponent("xnu-11215.pcapng.zst").path
    let transport = try ReplayTransport(path: path, speed: .realtime)
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    let stopper = Thread { [client] in
      Thread.sleep(forTimeInterval: 0.5)
      client.stop()
    }
    let start = Date()
    stopper.start()
    var events = 0
    try client.run { _ in events += 1 }
    let elapsed = Date().timeIntervalSince(start)
    // The capture spans 15 s at real time; the stop lands at 0.5 s, and waits are sliced by
    // 100 ms. How far the replay got is told by its capture clock, which a loaded machine can
    // only hold back; the wall-clock bound is a hang limit, well short of the 15 s.
    #expect(elapsed >= 0.5)
    #expect(elapsed < 10, "stopped after \(elapsed) s")
    #expect(events > 0)
    #expect(transport.now < MonotonicTime(nanoseconds: 3_000_000_000))
  }

  /// `ReplayControl` (what `ntstat top`'s `p`, `+` and `-` use): a paused replay delivers
  /// nothing and its capture clock stands still; resumed and sped up, it goes on from where it
  /// was with no catch-up burst, and the events are those of a top-speed replay.
  @Test func pauseAndSpeedChangeKeepTheEvents() throws {
    let path = CapturesCorpusTests.root.appendingPathComponent("xnu-11215.pcapng.zst").path
    let expected = try Self.replay(path, speed: .topSpeed).events
    let transport = try ReplayTransport(path: path, speed: .factor(10))
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    let observed = ObservedPause()
    let control = transport.control
    let clock = ContinuousClock()
    let start = clock.now
    let controller = Thread {
      Thread.sleep(forTimeInterval: 0.3)
      control.setPaused(true)
      observed.record(pausedAt: clock.now - start)
      Thread.sleep(forTimeInterval: 0.65)
      observed.record(resumedAt: clock.now - start)
      control.setPaused(false)
      control.setSpeed(.factor(40))
    }
    var events: [String] = []
    var arrivals: [Duration] = []
    controller.start()
    try client.run {
      events.append(CanonicalEvent.fields($0, origin: .zero).jsonText)
      arrivals.append(clock.now - start)
    }
    let elapsed = clock.now - start
    #expect(events == expected)
    let (paused, resumed) = observed.value
    // A frame already due may land just after the pause; none while it lasts.
    let during = arrivals.filter { $0 > paused + .milliseconds(100) && $0 < resumed }
    #expect(during.isEmpty, "\(during.count) event(s) while paused")
    #expect(arrivals.contains { $0 < paused } && arrivals.contains { $0 > resumed })
    // 15 s of capture: 0.3 s at ×10 (3 s), then 0.65 s paused, then 12 s at ×40 (0.3 s). The
    // pause shows in the wall time, which a loaded machine can only make longer. The speed
    // change shows in the time the pacing called for, which no load changes: 0.6 s, or
    // 0.375 s if the machine fell behind before the pause; 1.5 s had ×40 been ignored.
    #expect(elapsed > .seconds(1.1), "\(elapsed)")
    let paced = control.pacedDuration
    #expect(paced > .milliseconds(350) && paced < .milliseconds(900), "\(paced)")
  }
}

/// What the controlling thread saw during the pause.
final class ObservedPause: @unchecked Sendable {  // `stored` is read and written under `lock`
  private let lock = NSLock()
  private var stored: (Duration, Duration) = (.zero, .zero)
  func record(pausedAt: Duration) { lock.withLock { stored.0 = pausedAt } }
  func record(resumedAt: Duration) { lock.withLock { stored.1 = resumedAt } }
  var value: (Duration, Duration) { lock.withLock { stored } }
}
