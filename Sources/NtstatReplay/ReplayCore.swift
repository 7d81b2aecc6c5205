import NTStat
import NtstatCapture
import NtstatWire

/// What ``ReplayCore/next(deadline:)`` gives.
enum ReplayStep {
  /// For the client: a datagram, a timeout, drops or the end, at the core's clock.
  case input(TransportInput)
  /// The core has nothing to decide with: ``ReplayCore/push(_:)`` the capture's next frame, or
  /// ``ReplayCore/endOfInput(damage:)``, and ask again.
  case needsFrame
  /// Every frame before the capture's damage was given; this is the damage.
  case damaged(CaptureError)
}

/// What ``ReplayCore/send(_:)`` and ``ReplayCore/continueSend()`` give.
enum RequestOutcome {
  /// Matched, or recorded as a divergence.
  case settled
  /// The twin may be further on in the capture: push the next frame and ``ReplayCore/continueSend()``.
  case needsFrame
}

/// The replay's logic, sans-IO: capture frames in, the client's requests in; datagrams,
/// timeouts, drops and the end out, each at an instant of the capture's clock. It reads no file
/// and no clock, never sleeps and takes no lock: ``ReplayTransport`` feeds it from a capture and
/// paces what it gives against the wall clock.
///
/// The ordering rules, which make a replay reproduce a live session:
/// - a client timer due no later than the next frame runs first (``VirtualClock``);
/// - a recorded request is never delivered, only expected (``ReplayCassette``);
/// - a reply to a recorded request the client has not sent yet waits for a timer due within the
///   match window, so that the client sends first and its context is mapped.
struct ReplayCore {
  private(set) var cassette: ReplayCassette
  /// Where this replay stops.
  var end = ReplayEnd()
  /// The capture's clock: the time of the last frame or timer given.
  private(set) var now: MonotonicTime = .zero
  private(set) var framesDelivered: UInt64 = 0
  /// The capture frame number (from 0, as `ntstat cat`) of the last datagram delivered.
  private(set) var lastFrameIndex: UInt64 = 0
  /// Frames pushed so far, on any interface (frame numbers count them from 1).
  private(set) var framesRead: UInt64 = 0

  /// The pcapng interface replayed: the first frame's (one interface per ntstat connection).
  private let interfaceID: UInt32
  /// A capture whose first frames hold no request (a kernel-only export) is replayed without
  /// matching: whatever the client asks, nothing was recorded to compare with.
  private let hasRecordedRequests: Bool
  private var origin: UInt64?
  /// Kernel frames read ahead and not yet given.
  private var lookahead = FIFO<NumberedFrame>()
  /// The frame pushed in answer to a `.needsFrame` of ``next(deadline:)``.
  private var pulled: NumberedFrame?
  /// A request waiting for frames further on, where its recorded twin may be.
  private var pendingRequest: (key: RequestKey, context: UInt64, limit: MonotonicTime)?
  private var pendingDrop: NumberedFrame?
  /// A frame held back once for a timer of the same instant is given next time.
  private var lastHeld: UInt64?
  private var lastFrameTime = MonotonicTime.zero
  /// Capture time of the last frame pushed.
  private var horizon = MonotonicTime.zero
  private var exhausted = false
  private var damage: CaptureError?

  /// How many undelivered frames a read-ahead may hold (bounds memory on dense captures).
  static let maxLookahead = 8192

  /// - Parameters:
  ///   - opening: the frames the family was chosen from, numbered from 1 on all interfaces;
  ///     `framesRead` counts those interfaces' frames too.
  init(
    family: LayoutFamily, interfaceID: UInt32, opening: [(index: UInt64, frame: CapturedFrame)], framesRead: UInt64
  ) {
    cassette = ReplayCassette(family: family)
    self.interfaceID = interfaceID
    hasRecordedRequests = opening.contains { $0.frame.direction == .toKernel }
    self.framesRead = framesRead
    for (index, frame) in opening { readAhead(index, frame) }
  }

  var matchWindow: UInt64 {
    get { cassette.matchWindow }
    set { cassette.matchWindow = newValue }
  }

  // MARK: Input

  /// The capture's next frame (on any interface: others are counted and skipped).
  mutating func push(_ frame: consuming CapturedFrame) {
    framesRead += 1
    guard frame.interfaceID == interfaceID else { return }
    if pendingRequest != nil {
      readAhead(framesRead, frame)
    } else {
      horizon = time(of: frame)
      pulled = NumberedFrame(index: framesRead, frame: frame)
    }
  }

  /// The capture has no more frames; `damage` when it ended in a truncation or corruption.
  mutating func endOfInput(damage: CaptureError?) {
    exhausted = true
    self.damage = damage
  }

  /// A frame read ahead: a recorded request is expected (or matches the pending one), a kernel
  /// frame waits in the lookahead.
  private mutating func readAhead(_ index: UInt64, _ frame: consuming CapturedFrame) {
    let t = time(of: frame)
    horizon = t
    guard frame.direction == .toKernel else {
      lookahead.push(NumberedFrame(index: index, frame: frame))
      return
    }
    let recorded = cassette.recorded(index, frame.bytes, at: t)
    if let pending = pendingRequest, recorded.key == pending.key {
      cassette.matched(recorded, clientContext: pending.context)
      pendingRequest = nil
      return
    }
    cassette.expect(recorded)
  }

  private mutating func time(of frame: CapturedFrame) -> MonotonicTime {
    if origin == nil { origin = frame.timestamp }
    return MonotonicTime(nanoseconds: frame.timestamp &- origin!)
  }

  // MARK: Requests

  /// The client sent `datagram`: match it against the recording.
  mutating func send(_ datagram: [UInt8]) -> RequestOutcome {
    guard hasRecordedRequests else { return .settled }
    guard let (key, context) = cassette.key(ofSent: datagram) else {
      cassette.undecodable(nextFrame: framesRead + 1, at: now)
      return .settled
    }
    if let recorded = cassette.take(key) {
      cassette.matched(recorded, clientContext: context)
      return .settled
    }
    pendingRequest = (key, context, now.adding(nanoseconds: matchWindow))
    return continueSend()
  }

  /// After a `.needsFrame` from ``send(_:)``: reads on, within the match window and the
  /// lookahead's bound, until the request's twin turns up or cannot.
  mutating func continueSend() -> RequestOutcome {
    guard let pending = pendingRequest else { return .settled }
    if !exhausted, horizon <= pending.limit, lookahead.count < Self.maxLookahead { return .needsFrame }
    pendingRequest = nil
    cassette.unexpected(pending.key, nextFrame: framesRead + 1, at: now)
    return .settled
  }

  // MARK: Output

  private enum Pull {
    case frame(NumberedFrame)
    case needsFrame
    case damaged(CaptureError)
    case exhausted
  }

  /// Whether ``next(deadline:)`` would ask for a frame before anything else: a driver that
  /// pushes one first saves a call per frame (at top speed, a tenth of the core's work).
  var wantsFrame: Bool {
    // Matched, not compared with nil: a comparison copied each optional (a frame, an error).
    if case .some = pendingDrop { return false }
    if case .some = pulled { return false }
    if case .some = damage { return false }
    return lookahead.isEmpty && !exhausted
  }

  private mutating func pullFrame() -> Pull {
    if let next = lookahead.pop() { return .frame(next) }
    // Moved out (`take`), not copied and cleared: a frame holds its slab.
    if let next = pulled.take() { return .frame(next) }
    if let error = damage.take() { return .damaged(error) }
    return exhausted ? .exhausted : .needsFrame
  }

  /// What the client gets next, given its earliest timer (`deadline`).
  mutating func next(deadline: MonotonicTime?) -> ReplayStep {
    if let drop = pendingDrop.take() {
      return .input(deliver(drop.index, drop.frame))
    }
    while true {
      let index: UInt64
      let frame: CapturedFrame
      switch pullFrame() {
      case .frame(let numbered): (index, frame) = (numbered.index, numbered.frame)
      case .needsFrame: return .needsFrame
      case .damaged(let error): return .damaged(error)
      case .exhausted:
        // Let timers due before the capture's end run, then stop.
        if let deadline, deadline <= lastFrameTime, deadline > now {
          advance(to: deadline)
          return .input(.timeout(at: now))
        }
        cassette.reportUnmatched(before: nil, end: end)
        return .input(.end(at: now))
      }
      let t = time(of: frame)
      if end.excludes(index, t) {
        exhausted = true
        lookahead = FIFO()
        pulled = nil
        damage = nil
        cassette.reportUnmatched(before: nil, end: end)
        return .input(.end(at: now))
      }
      lastFrameTime = max(lastFrameTime, t)
      // A recorded request is never delivered, only expected: it goes straight to the cassette
      // (holding it back behind a timer would hide it from the request it should match).
      if frame.direction == .toKernel {
        cassette.expect(cassette.recorded(index, frame.bytes, at: t))
        continue
      }
      if let deadline, VirtualClock.timerRunsFirst(deadline: deadline, datagramAt: t),
        !(deadline == t && lastHeld == index)
      {
        if deadline == t { lastHeld = index }
        lookahead.pushFront(NumberedFrame(index: index, frame: frame))
        advance(to: deadline)
        return .input(.timeout(at: now))
      }
      // A reply to a recorded request the client has not sent yet, while the client has a
      // timer due about now: let the timer run first (the client sends, the context is
      // mapped), then deliver. Recorded replies can trail their request by microseconds, less
      // than the client's own start-up offset.
      if let deadline, deadline.since(t) <= matchWindow, lastHeld != index, cassette.answersUnsentRequest(frame) {
        lastHeld = index
        lookahead.pushFront(NumberedFrame(index: index, frame: frame))
        advance(to: deadline)
        return .input(.timeout(at: now))
      }
      advance(to: t)
      cassette.reportUnmatched(before: t, end: end)
      if frame.dropsBefore > 0 {
        pendingDrop = NumberedFrame(index: index, frame: frame)
        return .input(.dropped(count: frame.dropsBefore, at: now))
      }
      return .input(deliver(index, frame))
    }
  }

  private mutating func advance(to time: MonotonicTime) {
    if time > now { now = time }
  }

  private mutating func deliver(_ index: UInt64, _ frame: CapturedFrame) -> TransportInput {
    framesDelivered += 1
    lastFrameIndex = index - 1
    return .datagram(cassette.remapContexts(frame), at: now)
  }
}

/// A frame and its number in the capture (from 1, on every interface). A struct, not a tuple:
/// the compiler copied the tuple through the runtime's generic tuple witness (`callgrind`: about
/// 120 instructions a frame in the lookahead).
struct NumberedFrame {
  var index: UInt64
  var frame: CapturedFrame
}
