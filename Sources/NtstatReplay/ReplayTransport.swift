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
public final class ReplayTransport: ClientTransport {
  // The state lives in a struct: the class's stored properties would each be checked for
  // exclusive access at run time on every frame (measured: about a tenth of a top-speed
  // replay); a struct's are checked when compiled.
  private var cursor: ReplayCursor

  /// Opens `path` (a `.pcapng.zst` or `.pcapng`). The family is `family` if given, else the
  /// capture's, else detected from the sizes of the first kernel datagrams.
  public convenience init(path: String, speed: ReplaySpeed = .topSpeed, family: LayoutFamily? = nil) throws {
    try self.init(
      cursor: ReplayCursor(source: FrameSource(reader: CaptureFileReader(path: path)), speed: speed, family: family))
  }

  /// Replays frames held in memory (tests, tools).
  public convenience init(
    frames: [CapturedFrame], metadata: CaptureMetadata, speed: ReplaySpeed = .topSpeed, family: LayoutFamily? = nil
  ) throws {
    try self.init(
      cursor: ReplayCursor(source: FrameSource(frames: frames, metadata: metadata), speed: speed, family: family))
  }

  private init(cursor: ReplayCursor) { self.cursor = cursor }

  public var family: LayoutFamily { cursor.family }
  /// Why that family: the capture's metadata, the caller, or detection from struct sizes.
  public var familyReason: String { cursor.familyReason }
  public var metadata: CaptureMetadata { cursor.metadata }
  public var speed: ReplaySpeed { cursor.control.speed }
  /// Pause, resume or change the speed of a paced replay while it runs (any thread).
  public var control: ReplayControl { cursor.control }
  public var now: MonotonicTime { cursor.now }
  /// The first 1,000 divergences (``divergenceCount`` has them all).
  public var divergences: [ReplayDivergence] { cursor.divergences }
  public var divergenceCount: Int { cursor.divergenceCount }
  public var framesDelivered: UInt64 { cursor.framesDelivered }
  public var requestsMatched: UInt64 { cursor.requestsMatched }
  /// The capture frame number (from 0, as `ntstat cat`) of the last datagram delivered.
  public var lastFrameIndex: UInt64 { cursor.lastFrameIndex }
  /// Bytes of the capture file read so far (it is read a few zstd frames ahead), for progress.
  public var fileBytesRead: UInt64 { cursor.fileBytesRead }
  /// How far (in capture time) a request may be from its recorded twin and still match.
  public var matchWindow: Duration {
    get { .nanoseconds(Int64(clamping: cursor.matchWindow)) }
    set { cursor.matchWindow = newValue.wholeNanoseconds }
  }
  /// Stop after this capture time or frame (nil: the end).
  public var endTime: MonotonicTime? {
    get { cursor.endTime }
    set { cursor.endTime = newValue }
  }
  public var endFrame: UInt64? {
    get { cursor.endFrame }
    set { cursor.endFrame = newValue }
  }
  /// Pace only from this capture time on (earlier frames go at top speed).
  public var paceFrom: MonotonicTime {
    get { cursor.paceFrom }
    set { cursor.paceFrom = newValue }
  }

  /// The configuration the capture was recorded with (providers, interval, filters).
  public var recordedConfiguration: ClientConfiguration? { cursor.recordedConfiguration }

  /// Ends the replay from any thread (a signal handler's queue, a UI): a pacing wait returns
  /// within 100 ms and the replay ends after the frame it was waiting for; at top speed it ends
  /// within 256 frames.
  public func stop() { cursor.stopFlag.set() }

  public func setWaitHandler(_ handler: (() -> Void)?) { cursor.waitHandler = handler }

  /// The recorded kernel, from the capture's metadata (`uname -r` and `-v`). A version without
  /// a build number (older simulated captures say only `xnu-3789`) is not an exact version.
  public var kernelVersion: KernelVersion? {
    var kernel = KernelVersion(release: metadata.darwinRelease, version: metadata.kernelVersion)
    if let xnu = kernel.xnu, xnu.components.count < 2 { kernel.xnu = nil }
    return kernel.darwin == nil && kernel.xnu == nil ? nil : kernel
  }

  public func interrupt() { stop() }

  public func send(_ datagram: [UInt8]) throws { try cursor.send(datagram) }

  public func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    try cursor.receive(until: deadline)
  }

  public func close() {}
}

/// The replay's state and logic (see ``ReplayTransport``).
struct ReplayCursor {
  let family: LayoutFamily
  /// Why that family: the capture's metadata, the caller, or detection from struct sizes.
  let familyReason: String
  let metadata: CaptureMetadata
  let control: ReplayControl
  /// Paced (real time or ×N): a top-speed replay never reads ``control`` (a lock per frame).
  let paced: Bool
  var now: MonotonicTime = .zero
  /// The first 1,000 divergences (``divergenceCount`` has them all).
  var divergences: [ReplayDivergence] = []
  var divergenceCount = 0
  var framesDelivered: UInt64 = 0
  var requestsMatched: UInt64 = 0
  /// How far (in capture time) a request may be from its recorded twin and still match.
  var matchWindow: UInt64 = 2_000_000_000
  /// Stop after this capture time or frame (nil: the end).
  var endTime: MonotonicTime?
  var endFrame: UInt64?
  /// Pace only from this capture time on (earlier frames go at top speed).
  var paceFrom: MonotonicTime = .zero

  var fileBytesRead: UInt64 { source.compressedBytesRead }
  /// Set by ``ReplayTransport/stop()`` (from any thread): pacing waits end early.
  let stopFlag = StopFlag()
  /// Called before a paced wait (``ClientTransport/setWaitHandler(_:)``).
  var waitHandler: (() -> Void)?
  /// The flag was seen set: every later `receive` ends the replay.
  private var stopped = false
  private var receives = 0
  private var source: FrameSource
  private var lookahead = FIFO<(index: UInt64, frame: CapturedFrame)>()
  private var nextIndex: UInt64 = 0
  private var expected = RecordedRequests()
  private var contextMap: [UInt64: UInt64] = [:]
  /// Mappings in `contextMap` that change a context: while there are none (a client numbering
  /// its requests as the recorded one did), delivered frames are not rewritten or even parsed.
  private var changedContexts = 0
  private var origin: UInt64?
  private var lastFrameTime = MonotonicTime.zero
  /// The capture time and wall time pacing counts from: the first paced frame, then every pause,
  /// resume or change of speed (``ReplayControl``).
  private var anchor: (capture: MonotonicTime, wall: MonotonicTime)?
  private var anchorGeneration: UInt64 = 0
  private var pendingDrop: (count: UInt64, index: UInt64, frame: CapturedFrame)?
  private var lastHeld: UInt64?
  private let decoder: MessageDecoder
  private var exhausted = false
  private var deferredError: Error?
  /// Capture time of the last frame read from the source.
  private var horizon = MonotonicTime.zero
  private let interfaceID: UInt32
  private let hasRecordedRequests: Bool

  init(source: FrameSource, speed: ReplaySpeed, family override: LayoutFamily?) throws {
    var source = source
    control = ReplayControl(speed: speed)
    paced = speed.factor != nil
    // Read ahead to the first frame: the section header and interfaces come first.
    var buffered: [(UInt64, CapturedFrame)] = []
    var index: UInt64 = 0
    var kernelSample: [[UInt8]] = []
    var sawRequest = false
    var damage: Error?
    while buffered.count < 2048 {
      let frame: CapturedFrame
      do {
        guard let next = try source.next() else { break }
        frame = next
      } catch let error as CaptureError where error.isDamage {
        // Replay what came before the damage; the error is raised after those frames.
        damage = error
        break
      }
      index += 1
      if let first = buffered.first, frame.interfaceID != first.1.interfaceID { continue }
      buffered.append((index, frame))
      if frame.direction == .fromKernel, kernelSample.count < 512 { kernelSample.append(frame.bytes) }
      if frame.direction == .toKernel { sawRequest = true }
    }
    metadata = source.metadata ?? CaptureMetadata()
    interfaceID = buffered.first?.1.interfaceID ?? 0
    if let chosen = metadata.family(override: override) {
      (family, familyReason) = chosen
    } else if buffered.isEmpty, let damage {
      // Damaged before its first frame: that is the news, not the missing family.
      throw damage
    } else if let detected = FamilyDetection.detect(kernelDatagrams: kernelSample) {
      family = detected.family
      familyReason = "detected: " + detected.description
    } else if buffered.isEmpty, !source.foreignLinkTypes.isEmpty {
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
    decoder = MessageDecoder(family: family)
    self.source = source
    nextIndex = index
    // A capture whose first frames hold no request (a kernel-only export) is replayed without
    // matching: whatever the client asks, nothing was recorded to compare with.
    hasRecordedRequests = sawRequest
    origin = buffered.first?.1.timestamp
    deferredError = damage
    exhausted = damage != nil
    // Recorded requests read so far are expected; kernel frames wait to be delivered.
    for (i, frame) in buffered {
      let t = time(of: frame)
      horizon = t
      if frame.direction == .toKernel {
        expected.append(record(i, frame, at: t))
      } else {
        lookahead.push((i, frame))
      }
    }
  }

  /// The configuration the capture was recorded with (providers, interval, filters).
  var recordedConfiguration: ClientConfiguration? {
    metadata.configuration.map { ClientConfiguration(summary: $0) }
  }

  // MARK: Frames

  private mutating func pullFrame() throws -> (index: UInt64, frame: CapturedFrame)? {
    if let next = lookahead.pop() { return next }
    if let error = deferredError {
      deferredError = nil
      throw error
    }
    guard !exhausted else { return nil }
    while let frame = try source.next() {
      nextIndex += 1
      if frame.interfaceID != interfaceID { continue }
      horizon = time(of: frame)
      return (nextIndex, frame)
    }
    exhausted = true
    return nil
  }

  private mutating func time(of frame: CapturedFrame) -> MonotonicTime {
    if origin == nil { origin = frame.timestamp }
    return MonotonicTime(nanoseconds: frame.timestamp &- origin!)
  }

  private func beyondEnd(_ index: UInt64, _ time: MonotonicTime) -> Bool {
    Self.beyondEnd(index, time, endFrame: endFrame, endTime: endTime)
  }

  static func beyondEnd(_ index: UInt64, _ time: MonotonicTime, endFrame: UInt64?, endTime: MonotonicTime?) -> Bool {
    // `index` counts from 1; frame numbers given and shown count from 0, as `ntstat cat`.
    if let endFrame, index - 1 > endFrame { return true }
    if let endTime, time > endTime { return true }
    return false
  }

  // MARK: Transport

  mutating func send(_ datagram: [UInt8]) throws {
    guard hasRecordedRequests else { return }
    guard let message = try? decoder.decode(datagram, direction: .toKernel).first else {
      appendDivergence(
        ReplayDivergence(
          kind: .unexpectedRequest, frame: nextIndex + 1, time: now, expected: "a request", actual: "undecodable bytes")
      )
      return
    }
    let key = RequestKey(message, family: family)
    if let recorded = try findExpected(key) {
      let previous = contextMap.updateValue(message.header.context, forKey: recorded.context)
      if let previous, previous != recorded.context { changedContexts -= 1 }
      if message.header.context != recorded.context { changedContexts += 1 }
      requestsMatched += 1
      return
    }
    let first = expected.first()
    let next = first.map { "\($0.key) (frame \($0.index))" } ?? "no request"
    appendDivergence(
      ReplayDivergence(
        kind: .unexpectedRequest, frame: first?.index ?? (nextIndex + 1), time: now, expected: next,
        actual: key.description))
  }

  /// Takes the first recorded request with `key`, reading ahead (within the match window) if
  /// needed.
  private mutating func findExpected(_ key: RequestKey) throws -> RecordedRequests.Request? {
    if let recorded = expected.take(key) { return recorded }
    return try readAhead(until: now.adding(nanoseconds: matchWindow), lookingFor: key)
  }

  /// Reads frames past the lookahead, never re-reading one: kernel frames join the lookahead,
  /// recorded requests join `expected`. Stops at `limit` (capture time), at `maxLookahead`
  /// frames, at the end, or when a request with `key` turns up (it is returned, matched).
  private mutating func readAhead(
    until limit: MonotonicTime, lookingFor key: RequestKey
  ) throws -> RecordedRequests.Request? {
    while !exhausted, horizon <= limit, lookahead.count < Self.maxLookahead {
      let frame: CapturedFrame
      do {
        guard let next = try source.next() else {
          exhausted = true
          break
        }
        frame = next
      } catch let error as CaptureError where error.isDamage {
        deferredError = error
        exhausted = true
        break
      }
      nextIndex += 1
      if frame.interfaceID != interfaceID { continue }
      let t = time(of: frame)
      horizon = t
      if frame.direction == .toKernel {
        let recorded = record(nextIndex, frame, at: t)
        if recorded.key == key { return recorded }
        expected.append(recorded)
      } else {
        lookahead.push((nextIndex, frame))
      }
    }
    return nil
  }

  /// How many undelivered frames a read-ahead may hold (bounds memory on dense captures).
  static let maxLookahead = 8192

  private mutating func record(
    _ index: UInt64, _ frame: CapturedFrame, at time: MonotonicTime
  ) -> RecordedRequests.Request {
    let message = try? decoder.decode(frame.bytes, direction: .toKernel).first
    let context = MessageHeader.readContext(in: frame.bytes)
    let key = message.map { RequestKey($0, family: family) } ?? RequestKey(undecodable: frame.bytes)
    return RecordedRequests.Request(index: index, time: time, key: key, context: context)
  }

  mutating func receive(until deadline: MonotonicTime?) throws -> TransportInput {
    // The flag takes a lock, so at top speed it is read every 256th call only (a lock per frame
    // cost 6 % of a replay); a paced wait reads it itself and sets `stopped`.
    receives &+= 1
    if stopped || (receives & 255 == 0 && stopFlag.isSet) {
      stopped = true
      return .end(at: now)
    }
    if let drop = pendingDrop {
      pendingDrop = nil
      return deliver(drop.index, drop.frame)
    }
    while true {
      guard let (index, frame) = try pullFrame() else {
        // Let timers due before the capture's end run, then stop.
        if let deadline, deadline <= lastFrameTime, deadline > now {
          advance(to: deadline)
          return .timeout(at: now)
        }
        reportUnmatched(before: nil)
        return .end(at: now)
      }
      let t = time(of: frame)
      if beyondEnd(index, t) {
        exhausted = true
        lookahead = FIFO()
        reportUnmatched(before: nil)
        return .end(at: now)
      }
      lastFrameTime = max(lastFrameTime, t)
      // A recorded request is never delivered, only expected: it goes straight to the list
      // (holding it back behind a timer would hide it from the request it should match).
      if frame.direction == .toKernel {
        expected.append(record(index, frame, at: t))
        continue
      }
      // The client's timer first when it is due no later than the frame: live, a timer due at
      // the same instant ran before the frame was read.
      if let deadline, deadline < t || (deadline == t && lastHeld != index) {
        if deadline == t { lastHeld = index }
        lookahead.pushFront((index, frame))
        if deadline > now { advance(to: deadline) }
        return .timeout(at: now)
      }
      // A reply to a recorded request the client has not sent yet, while the client has a
      // timer due about now: let the timer run first (the client sends, the context is
      // mapped), then deliver. Recorded replies can trail their request by microseconds, less
      // than the client's own start-up offset.
      if let deadline, deadline.since(t) <= matchWindow, lastHeld != index,
        answersUnsentRequest(frame)
      {
        lastHeld = index
        lookahead.pushFront((index, frame))
        advance(to: deadline)
        return .timeout(at: now)
      }
      advance(to: t)
      reportUnmatched(before: t)
      if frame.dropsBefore > 0 {
        pendingDrop = (frame.dropsBefore, index, frame)
        return .dropped(count: frame.dropsBefore, at: now)
      }
      return deliver(index, frame)
    }
  }

  /// True when a message of `frame` carries the context of a recorded request still unmatched.
  private mutating func answersUnsentRequest(_ frame: CapturedFrame) -> Bool {
    guard !expected.isEmpty, let ranges = try? decoder.messageRanges(in: frame.bytes) else { return false }
    for range in ranges where range.count >= 8 {
      let context = MessageHeader.readContext(in: frame.bytes, at: range.lowerBound)
      if context != 0, contextMap[context] == nil, expected.contains(context: context) { return true }
    }
    return false
  }

  /// The capture frame number (from 0, as `ntstat cat`) of the last datagram delivered.
  var lastFrameIndex: UInt64 = 0

  private mutating func deliver(_ index: UInt64, _ frame: CapturedFrame) -> TransportInput {
    framesDelivered += 1
    lastFrameIndex = index - 1
    return .datagram(remapContexts(frame.bytes), at: now)
  }

  private mutating func appendDivergence(_ divergence: ReplayDivergence) {
    divergenceCount += 1
    var shown = divergence
    shown.frame = divergence.frame &- 1  // counted from 1 internally, shown from 0
    if divergences.count < 1000 { divergences.append(shown) }
  }

  /// Recorded requests left unmatched for longer than the window (all of them at the end,
  /// `time` nil) are missing. Oldest first, in constant amortised time per request.
  private mutating func reportUnmatched(before time: MonotonicTime?) {
    guard !expected.isEmpty else { return }
    let window = matchWindow
    let (endFrame, endTime) = (self.endFrame, self.endTime)
    func beyondEnd(_ request: RecordedRequests.Request) -> Bool {
      Self.beyondEnd(request.index, request.time, endFrame: endFrame, endTime: endTime)
    }
    var missing: [RecordedRequests.Request] = []
    expected.expire(
      where: { request in
        // Requests past a --to/--to-frame end were read ahead but are not part of this replay.
        beyondEnd(request) || time.map { $0.since(request.time) > window } ?? true
      },
      report: { request in
        if !beyondEnd(request) { missing.append(request) }
      })
    for request in missing {
      appendDivergence(
        ReplayDivergence(
          kind: .missingRequest, frame: request.index, time: request.time, expected: request.key.description,
          actual: "nothing"))
    }
  }

  private mutating func advance(to time: MonotonicTime) {
    guard time > now else { return }
    let previous = now
    now = time
    guard paced, now >= paceFrom else { return }
    let stop = stopFlag
    let control = self.control
    while true {
      let state = control.state
      if state.generation != anchorGeneration {
        // Paused, resumed or sped up: count on from the frame before this one, from now.
        anchorGeneration = state.generation
        anchor = (max(previous, paceFrom), SystemCalls.monotonicNow())
      }
      if state.paused {
        waitHandler?()
        SystemCalls.sleep(until: SystemCalls.monotonicNow().adding(nanoseconds: 50_000_000)) {
          stop.isSet || control.generation != state.generation
        }
        if stop.isSet {
          stopped = true
          return
        }
        continue
      }
      guard let factor = state.speed.factor else { return }
      let start = anchor ?? (paceFrom, SystemCalls.monotonicNow())
      if anchor == nil { anchor = start }
      let due = start.wall.adding(nanoseconds: UInt64(Double(now.since(start.capture)) / factor))
      if due > SystemCalls.monotonicNow() { waitHandler?() }
      SystemCalls.sleep(until: due, slice: 100_000_000) { stop.isSet || control.generation != state.generation }
      if stop.isSet {
        stopped = true
        return
      }
      if control.generation == state.generation { return }
    }
  }

  /// Recorded contexts → the client's, in every message of the datagram.
  private mutating func remapContexts(_ datagram: [UInt8]) -> [UInt8] {
    guard changedContexts > 0, let ranges = try? decoder.messageRanges(in: datagram) else { return datagram }
    var bytes = datagram
    for range in ranges where range.count >= 8 {
      let context = MessageHeader.readContext(in: bytes, at: range.lowerBound)
      guard context != 0, let mapped = contextMap[context], mapped != context else { continue }
      MessageHeader.writeContext(mapped, in: &bytes, at: range.lowerBound)
    }
    return bytes
  }

}

/// What identifies a request for matching: contexts are left out (a new client may number
/// them differently).
struct RequestKey: Hashable, Sendable, CustomStringConvertible {
  var type: MessageType
  var provider: UInt32?
  var sourceRef: SourceRef?
  var flags: MessageFlags
  var raw: [UInt8]?

  init(_ message: Message, family: LayoutFamily) {
    type = message.header.type
    // Only the flags that change what the kernel does.
    flags = family.hasLengthAndFlags ? message.header.flags.intersection([.continuation, .supportsAggregate]) : []
    switch message.body {
    case .addAllSources(let r): provider = r.provider.rawValue
    case .addSource(let r): provider = r.provider.rawValue
    case .removeSource(let ref), .querySource(let ref), .getSourceDescription(let ref), .getUpdate(let ref):
      sourceRef = ref
    case .setFilter(let r): sourceRef = r.sourceRef
    case .unknown(_, let payload): raw = payload
    default: break
    }
  }

  init(undecodable bytes: [UInt8]) {
    type = MessageType(rawValue: 0xFFFF_FFFF)
    flags = []
    raw = bytes
  }

  var description: String {
    var text = type.name
    if let provider { text += " provider \(provider)" }
    if let sourceRef { text += " ref \(sourceRef)" }
    if !flags.isEmpty { text += " [\(flags)]" }
    return text
  }
}

/// Frames from a capture file or from memory.
struct FrameSource {
  private var reader: CaptureReadAhead?
  private var frames: [CapturedFrame] = []
  /// Records read from the file and not yet handed out (a zstd frame's worth at most).
  private var batch: [CaptureRecord] = []
  private var position = 0
  private(set) var metadata: CaptureMetadata?

  init(reader: CaptureFileReader) { self.reader = CaptureReadAhead(reader: reader) }

  init(frames: [CapturedFrame], metadata: CaptureMetadata) {
    self.frames = frames
    self.metadata = metadata
  }

  /// Bytes of the file read so far (0 for frames held in memory).
  var compressedBytesRead: UInt64 { reader?.compressedBytes ?? 0 }

  /// Link types of the interfaces that are not ntstat's, and how many frames they carried.
  private(set) var foreignLinkTypes: Set<UInt16> = []
  private(set) var foreignFrames = 0
  private var interfaces: [Bool] = []  // per interface id in the current section: ntstat?

  mutating func next() throws -> CapturedFrame? {
    guard let reader else {
      guard position < frames.count else { return nil }
      position += 1
      return frames[position - 1]
    }
    while true {
      if position == batch.count {
        position = 0
        guard try reader.nextRecords(&batch) else { return nil }
      }
      let record = batch[position]
      position += 1
      switch record {
      case .section(let section):
        if metadata == nil { metadata = section }
        interfaces = []
      case .interface(let interface):
        interfaces.append(interface.isNtstat)
        if !interface.isNtstat { foreignLinkTypes.insert(interface.linkType) }
      case .frame(let frame):
        // Frames of another tool's interfaces (Ethernet, …) are not ntstat datagrams.
        if Int(frame.interfaceID) < interfaces.count, !interfaces[Int(frame.interfaceID)] {
          foreignFrames += 1
          continue
        }
        return frame
      case .statistics: continue
      }
    }
  }
}

public struct ReplayError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
