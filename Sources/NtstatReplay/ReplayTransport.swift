import NTStat
import NtstatCapture
import NtstatWire

/// How fast a replay runs, against the capture's own timestamps.
public enum ReplaySpeed: Hashable, Sendable, CustomStringConvertible {
  /// As recorded.
  case realtime
  /// `factor` times faster than recorded (any positive value).
  case factor(Double)
  /// As fast as the client consumes frames.
  case topSpeed

  var factor: Double? {
    switch self {
    case .realtime: return 1
    case .factor(let value): return value > 0 ? value : nil
    case .topSpeed: return nil
    }
  }

  public var description: String {
    switch self {
    case .realtime: return "real time"
    case .factor(let value): return "×\(value)"
    case .topSpeed: return "top speed"
    }
  }
}

/// A request that did not match the recording.
public struct ReplayDivergence: Hashable, Sendable, CustomStringConvertible {
  public enum Kind: String, Hashable, Sendable {
    /// The client sent a request the recording does not have.
    case unexpectedRequest = "unexpected-request"
    /// The recording has a request the client never sent.
    case missingRequest = "missing-request"
  }

  public var kind: Kind
  /// The capture frame, numbered from 0 as `ntstat cat` numbers them: the recorded request, or for an
  /// unexpected one the next frame the replay had not yet delivered.
  public var frame: UInt64
  /// Replay time (since the capture's first frame).
  public var time: MonotonicTime
  /// What the recording had at that point, and what the client did.
  public var expected: String
  public var actual: String

  public var description: String {
    "\(kind.rawValue) at frame \(frame), \(time) s: expected \(expected), got \(actual)"
  }
}

/// Replays a capture's kernel frames to a client, on a virtual clock that follows the
/// capture's timestamps, and matches the client's requests against the recorded ones.
///
/// The client runs exactly as live: its timers fire at the same capture times at any speed,
/// because the clock is the capture's. Requests are matched like a cassette: by type,
/// provider, source ref and pacing flags, in order, within `matchWindow` of the recorded time;
/// each matched request's recorded context is mapped to the client's, and recorded replies are
/// rewritten to carry the client's contexts. Whatever does not match is a ``ReplayDivergence``;
/// recorded replies are fed either way.
///
/// The decisions are ``ReplayCore``'s, which does no I/O; this class reads the capture into it
/// and paces what it gives against the wall clock (``WallClockPacer``).
public final class ReplayTransport: ClientTransport {
  // The state lives in a struct: the class's stored properties would each be checked for
  // exclusive access at run time on every frame (measured: about a tenth of a top-speed
  // replay); a struct's are checked when compiled. The struct itself is not checked either: a
  // client sends and receives on its one run-loop thread (``ClientTransport``), and the stop
  // signal, the one thing another thread touches, is a lock of its own.
  @exclusivity(unchecked) private var driver: ReplayDriver
  private let stopSignal: StopSignal
  public let family: LayoutFamily
  /// Why that family: the capture's metadata, the caller, or detection from struct sizes.
  public let familyReason: String
  public let metadata: CaptureMetadata
  /// Pause, resume or change the speed of a paced replay while it runs (any thread).
  public let control: ReplayControl

  /// Opens `path` (a `.pcapng.zst` or `.pcapng`). The family is `family` if given, else the
  /// capture's, else detected from the sizes of the first kernel datagrams.
  ///
  /// The file is read on a thread of its own when the process has two CPUs for each of the
  /// `replaysAtOnce` replays it runs together, else on the client's thread: `ntstat diff`
  /// replays its two sides at once, and on two CPUs four threads only took turns (about 6 %
  /// longer, docs/performance.md).
  public convenience init(
    path: String, speed: ReplaySpeed = .topSpeed, family: LayoutFamily? = nil, replaysAtOnce: Int = 1
  ) throws {
    let reader = try CaptureFileReader(path: path)
    let source = FrameSource(reader: reader, threaded: AvailableCPUs.count >= 2 * max(1, replaysAtOnce))
    try self.init(source: source, speed: speed, family: family)
  }

  /// Replays frames held in memory (tests, tools).
  public convenience init(
    frames: [CapturedFrame], metadata: CaptureMetadata, speed: ReplaySpeed = .topSpeed, family: LayoutFamily? = nil
  ) throws {
    try self.init(source: FrameSource(frames: frames, metadata: metadata), speed: speed, family: family)
  }

  private init(source: FrameSource, speed: ReplaySpeed, family override: LayoutFamily?) throws {
    var source = source
    let opening = try ReplayOpening(source: &source, family: override)
    family = opening.family
    familyReason = opening.reason
    metadata = opening.metadata
    control = ReplayControl(speed: speed)
    let signal = StopSignal()
    stopSignal = signal
    driver = ReplayDriver(
      core: ReplayCore(
        family: opening.family, interfaceID: opening.interfaceID, opening: opening.frames,
        framesRead: opening.framesRead),
      source: source, pacer: WallClockPacer(control: control), stop: signal, damage: opening.damage)
  }

  public var speed: ReplaySpeed { control.speed }
  public var now: MonotonicTime { driver.core.now }
  /// The first 1,000 divergences (``divergenceCount`` has them all).
  public var divergences: [ReplayDivergence] { driver.core.cassette.divergences }
  public var divergenceCount: Int { driver.core.cassette.divergenceCount }
  public var framesDelivered: UInt64 { driver.core.framesDelivered }
  public var requestsMatched: UInt64 { driver.core.cassette.requestsMatched }
  /// The capture frame number (from 0, as `ntstat cat`) of the last datagram delivered.
  public var lastFrameIndex: UInt64 { driver.core.lastFrameIndex }
  /// Bytes of the capture file read so far (it is read a zstd frame ahead), for progress.
  public var fileBytesRead: UInt64 { driver.source.compressedBytesRead }
  /// How far (in capture time) a request may be from its recorded twin and still match.
  public var matchWindow: Duration {
    get { .nanoseconds(Int64(clamping: driver.core.matchWindow)) }
    set { driver.core.matchWindow = newValue.wholeNanoseconds }
  }
  /// Stop after this capture time or frame (nil: the end).
  public var endTime: MonotonicTime? {
    get { driver.core.end.time }
    set { driver.core.end.time = newValue }
  }
  public var endFrame: UInt64? {
    get { driver.core.end.frame }
    set { driver.core.end.frame = newValue }
  }
  /// Pace only from this capture time on (earlier frames go at top speed).
  public var paceFrom: MonotonicTime {
    get { driver.pacer.paceFrom }
    set { driver.pacer.paceFrom = newValue }
  }

  /// The configuration the capture was recorded with (providers, interval, filters).
  public var recordedConfiguration: ClientConfiguration? {
    metadata.configuration.map { ClientConfiguration(summary: $0) }
  }

  /// Ends the replay from any thread (a signal handler's queue, a UI): a pacing wait returns
  /// within 100 ms and the replay ends after the frame it was waiting for; at top speed it ends
  /// at the next frame.
  public func stop() { stopSignal.set() }

  public func setWaitHandler(_ handler: (() -> Void)?) { driver.pacer.waitHandler = handler }

  /// The recorded kernel, from the capture's metadata (`uname -r` and `-v`). A version without
  /// a build number (older simulated captures say only `xnu-3789`) is not an exact version.
  public var kernelVersion: KernelVersion? {
    var kernel = KernelVersion(release: metadata.darwinRelease, version: metadata.kernelVersion)
    if let xnu = kernel.xnu, xnu.components.count < 2 { kernel.xnu = nil }
    return kernel.darwin == nil && kernel.xnu == nil ? nil : kernel
  }

  public func interrupt() { stop() }

  public func send(_ datagram: [UInt8]) throws { try driver.send(datagram) }

  public func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    try driver.receive(until: deadline)
  }

  public func close() {}
}

/// Wires a capture's frames into a ``ReplayCore`` and paces what comes out.
private struct ReplayDriver {
  var core: ReplayCore
  var source: FrameSource
  var pacer: WallClockPacer
  let stop: StopSignal
  /// The stop signal was seen set: every later `receive` ends the replay.
  private var stopped = false

  init(core: ReplayCore, source: FrameSource, pacer: WallClockPacer, stop: StopSignal, damage: CaptureError?) {
    self.core = core
    self.source = source
    self.pacer = pacer
    self.stop = stop
    // Damaged within the opening frames: replay those, then raise it.
    if let damage { self.core.endOfInput(damage: damage) }
  }

  mutating func send(_ datagram: [UInt8]) throws {
    var outcome = core.send(datagram)
    while case .needsFrame = outcome {
      try feed()
      outcome = core.continueSend()
    }
  }

  mutating func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    if stopped || stop.isSet {
      stopped = true
      return .end(at: core.now)
    }
    let previous = core.now
    if core.wantsFrame { try feed() }
    while true {
      switch core.next(deadline: deadline) {
      case .input(let input):
        if !pacer.wait(from: previous, to: core.now, stop: stop) { stopped = true }
        return input
      case .needsFrame: try feed()
      case .damaged(let error): throw error
      }
    }
  }

  /// Moves the capture's next frame into the core. A damaged capture ends its input there
  /// (the core gives every frame before the damage first); other errors are thrown at once.
  private mutating func feed() throws {
    do {
      if let frame = try source.next() { core.push(frame) } else { core.endOfInput(damage: nil) }
    } catch let error as CaptureError where error.isDamage {
      core.endOfInput(damage: error)
    }
  }
}

/// The start of a replay: the first frames (up to 2,048), read to choose the family and the
/// interface, and handed to the core as its read-ahead.
private struct ReplayOpening {
  var family: LayoutFamily
  var reason: String
  var metadata: CaptureMetadata
  var interfaceID: UInt32
  var frames: [(index: UInt64, frame: CapturedFrame)] = []
  var framesRead: UInt64 = 0
  var damage: CaptureError?

  init(source: inout FrameSource, family override: LayoutFamily?) throws {
    var kernelSample: [[UInt8]] = []
    while frames.count < 2048 {
      let frame: CapturedFrame
      do {
        guard let next = try source.next() else { break }
        frame = next
      } catch let error as CaptureError where error.isDamage {
        // Replay what came before the damage; the error is raised after those frames.
        damage = error
        break
      }
      framesRead += 1
      if let first = frames.first, frame.interfaceID != first.frame.interfaceID { continue }
      frames.append((framesRead, frame))
      if frame.direction == .fromKernel, kernelSample.count < 512 { kernelSample.append(frame.bytes.array) }
    }
    metadata = source.metadata ?? CaptureMetadata()
    interfaceID = frames.first?.frame.interfaceID ?? 0
    if let chosen = metadata.family(override: override) {
      (family, reason) = chosen
    } else if frames.isEmpty, let damage {
      // Damaged before its first frame: that is the news, not the missing family.
      throw damage
    } else if let detected = FamilyDetection.detect(kernelDatagrams: kernelSample) {
      family = detected.family
      reason = "detected: " + detected.description
    } else if frames.isEmpty, !source.foreignLinkTypes.isEmpty {
      let types = source.foreignLinkTypes.sorted().map(String.init).joined(separator: ", ")
      throw ReplayError(
        message:
          "no ntstat frames: the capture's interfaces have link type \(types), not \(PcapngFormat.ntstatLinkType) (ntstat)"
      )
    } else if kernelSample.isEmpty {
      throw ReplayError(message: "the capture has no family in its metadata and no kernel frames to detect it from")
    } else {
      throw ReplayError(
        message:
          "the capture has no family in its metadata, and no layout family decodes its kernel frames; pass --family")
    }
  }
}

public struct ReplayError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
