import NtstatCapture
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat
@testable import NtstatReplay

/// The replay's core without files, sockets or clocks: synthetic frames in, the client's
/// timers and requests in, and properties of what comes out, over many random sessions.
@Suite(.hangLimit) struct ReplayCoreTests {
  static let family = LayoutFamily.xnu11215
  static let encoder = MessageEncoder(family: family)
  static let origin: UInt64 = 1_700_000_000_000_000_000

  static func frame(_ message: Message, at nanoseconds: UInt64, _ direction: Direction) -> CapturedFrame {
    let bytes = (try? encoder.encode(message, settingLength: true)) ?? []
    return CapturedFrame(timestamp: origin + nanoseconds, direction: direction, bytes: bytes)
  }

  /// Feeds `frames` to `core` whenever it asks, as ``ReplayTransport`` does.
  struct Driver {
    var core: ReplayCore
    var frames: [CapturedFrame]
    var position = 0

    /// `noted`: the kernel frames carry the contexts a capture reader notes
    /// (``CapturedFrame/notePackedContexts()``), which the core trusts in place of the bytes.
    init(_ frames: [CapturedFrame], matchWindow: UInt64 = 2_000_000_000, noted: Bool = false) {
      let frames = frames.map { frame in
        var frame = frame
        if noted { frame.notePackedContexts() }
        return frame
      }
      // The opening is empty: every frame goes through push, the path a long capture takes.
      let first = frames.first { $0.direction == .toKernel }
      // A capture with requests is matched only if the opening saw one: give it the first frame.
      var opening: [(index: UInt64, frame: CapturedFrame)] = []
      if let first, let index = frames.firstIndex(of: first), index == 0 { opening = [(1, first)] }
      core = ReplayCore(
        family: ReplayCoreTests.family, interfaceID: 0, opening: opening, framesRead: UInt64(opening.count))
      core.matchWindow = matchWindow
      self.frames = frames
      position = opening.count
    }

    mutating func feed() {
      if position < frames.count {
        core.push(frames[position])
        position += 1
      } else {
        core.endOfInput(damage: nil)
      }
    }

    mutating func next(deadline: MonotonicTime?) -> TransportInput {
      while true {
        switch core.next(deadline: deadline) {
        case .input(let input): return input
        case .needsFrame: feed()
        case .damaged(let error): Issue.record("damage in synthetic frames: \(error)")
        }
      }
    }

    mutating func send(_ message: Message) {
      var outcome = core.send((try? ReplayCoreTests.encoder.encode(message, settingLength: true)) ?? [])
      while case .needsFrame = outcome {
        feed()
        outcome = core.continueSend()
      }
    }
  }

  /// Every kernel frame is delivered once, in capture order, at its own time; the clock never
  /// goes back; a timer due no later than a frame runs first, at its deadline; then the end.
  @Test(arguments: 0..<200) func timersAndFramesInterleaveAsLive(seed: UInt64) {
    var random = SeededRandom(seed: seed)
    var time: UInt64 = 0
    var frames: [CapturedFrame] = []
    for ref in 0..<UInt64.random(in: 0...60, using: &random) {
      // Equal times are common in packed captures: a third of the gaps are zero.
      if Int.random(in: 0..<3, using: &random) > 0 { time += UInt64.random(in: 1...3_000_000, using: &random) }
      frames.append(Self.frame(Message(.sourceRemoved(SourceRef(ref))), at: time, .fromKernel))
    }
    let times = frames.map { MonotonicTime(nanoseconds: $0.timestamp - frames[0].timestamp) }
    var driver = Driver(frames)
    var deadline: MonotonicTime? = .zero
    var delivered: [UInt64] = []
    var clock = MonotonicTime.zero
    var heldAt: MonotonicTime?
    var steps = 0
    loop: while true {
      steps += 1
      guard steps < 10_000 else {
        Issue.record("seed \(seed): no end after 10,000 steps")
        return
      }
      let input = driver.next(deadline: deadline)
      switch input {
      case .datagram(let bytes, let at):
        let ref = UInt64(delivered.count)
        #expect(MessageHeader.readContext(in: bytes) == 0)
        #expect(at == times[Int(ref)], "seed \(seed): frame \(ref) at its own time")
        if let deadline {
          // A timer due before the frame would have run first; one due at the same instant
          // ran first (the frame was held for it once).
          #expect(
            deadline > at || (deadline == at && heldAt == at), "seed \(seed): timer \(deadline) before frame \(at)")
        }
        #expect(at >= clock)
        clock = at
        delivered.append(ref)
        heldAt = nil
      case .timeout(let at):
        #expect(at == deadline, "seed \(seed): a timeout fires at its deadline")
        #expect(at >= clock)
        clock = at
        heldAt = at
        // The client's next timer: sometimes at a frame's exact time, sometimes between.
        let nextFrame = delivered.count < times.count ? times[delivered.count] : clock
        switch Int.random(in: 0..<3, using: &random) {
        case 0: deadline = max(nextFrame, at)
        case 1: deadline = at.adding(nanoseconds: UInt64.random(in: 1...4_000_000, using: &random))
        default: deadline = nil
        }
      case .end:
        break loop
      case .dropped:
        Issue.record("seed \(seed): no drops were recorded")
      }
      if deadline == nil, Bool.random(using: &random) { deadline = clock.adding(nanoseconds: 500_000) }
    }
    #expect(delivered == Array(0..<UInt64(frames.count)), "seed \(seed): every frame once, in order")
    #expect(driver.core.framesDelivered == UInt64(frames.count))
  }

  /// A random recorded session of requests and their replies, replayed by a client that sends
  /// the same requests at the same times but numbers them differently, and leaves some out or
  /// adds others: what matched is mapped, every reply carries the client's context, and each
  /// omission and addition is one divergence of its kind.
  @Test(arguments: 0..<200, [false, true]) func requestsMatchLikeACassette(seed: UInt64, noted: Bool) {
    var random = SeededRandom(seed: seed)
    struct Recorded {
      var time: UInt64
      var message: Message
      var sent: Bool
      var extra: Bool
    }
    var session: [Recorded] = []
    var frames: [CapturedFrame] = []
    var time: UInt64 = 0
    let count = Int.random(in: 1...40, using: &random)
    for i in 0..<count {
      time += UInt64.random(in: 1...400_000_000, using: &random)
      let context = UInt64(i + 1)
      // Each request has its own key, so which recorded request a sent one matches is known.
      let body: MessageBody =
        Bool.random(using: &random) ? .getUpdate(SourceRef(UInt64(i))) : .querySource(SourceRef(UInt64(i)))
      let message = Message(context: context, body)
      frames.append(Self.frame(message, at: time, .toKernel))
      // The kernel's reply trails its request by microseconds.
      frames.append(Self.frame(Message(context: context, .sourceRemoved(SourceRef(9))), at: time + 20_000, .fromKernel))
      // One in six is never sent by the replaying client; one in eight gets an extra request
      // the recording never had sent just before it.
      session.append(
        Recorded(
          time: time, message: message, sent: Int.random(in: 0..<6, using: &random) > 0 || i == 0,
          extra: Int.random(in: 0..<8, using: &random) == 0))
    }
    var driver = Driver(frames, noted: noted)
    let offset: UInt64 = 1000
    var next = 0
    var replies: [UInt64] = []
    var missing = 0
    var extras = 0
    var deadline: MonotonicTime? = .zero
    var steps = 0
    while steps < 10_000 {
      steps += 1
      let input = driver.next(deadline: deadline)
      if case .end = input { break }
      if case .datagram(let bytes, _) = input { replies.append(MessageHeader.readContext(in: bytes)) }
      guard case .timeout(let at) = input else { continue }
      // The client's timer for its next request, at that request's recorded time.
      while next < session.count, MonotonicTime(nanoseconds: session[next].time - session[0].time) <= at {
        let request = session[next]
        if request.extra {
          driver.send(Message(context: 5000 + UInt64(next), .getUpdate(SourceRef(10_000))))
          extras += 1
        }
        if request.sent {
          var message = request.message
          message.header.context += offset
          driver.send(message)
        } else {
          missing += 1
        }
        next += 1
      }
      deadline = next < session.count ? MonotonicTime(nanoseconds: session[next].time - session[0].time) : nil
    }
    let cassette = driver.core.cassette
    let kinds = cassette.divergences.map(\.kind)
    #expect(cassette.requestsMatched == UInt64(session.count - missing), "seed \(seed)")
    #expect(kinds.filter { $0 == .missingRequest }.count == missing, "seed \(seed): \(cassette.divergences)")
    #expect(kinds.filter { $0 == .unexpectedRequest }.count == extras, "seed \(seed): \(cassette.divergences)")
    // Every reply is delivered; those to requests the client sent carry its context.
    #expect(replies.count == session.count, "seed \(seed)")
    for (i, request) in session.enumerated() where i < replies.count {
      let expected = request.message.header.context + (request.sent ? offset : 0)
      #expect(replies[i] == expected, "seed \(seed): reply \(i)")
    }
  }

  /// A recorded reply that comes before the replaying client has sent its request (the
  /// client's timer runs a little later than the recorded client's did) waits for that timer:
  /// the client sends, its context is mapped, and the reply reaches it with that context. The
  /// packed reply carries the request's context on every message, after one of its own.
  @Test(arguments: [false, true], [false, true]) func aReplyWaitsForItsRequestsTimer(packed: Bool, noted: Bool) throws {
    let request = Message(context: 7, .querySource(.all))
    var replyMessages = [Message(context: 7, .sourceRemoved(SourceRef(1)))]
    if packed {
      replyMessages =
        [Message(context: 0, .sourceRemoved(SourceRef(2)))]
        + (1...5).map { Message(context: 7, .sourceRemoved(SourceRef(UInt64(2 + $0)))) }
    }
    let replyBytes = try replyMessages.flatMap { try Self.encoder.encode($0, settingLength: true) }
    let frames = [
      Self.frame(request, at: 100_000_000, .toKernel),
      CapturedFrame(timestamp: Self.origin + 100_020_000, direction: .fromKernel, bytes: replyBytes),
    ]
    var driver = Driver(frames, noted: noted)
    #expect(driver.frames[1].packedContexts == (noted ? .one(7) : .unknown))
    // The client's timer: 480 µs after the reply, well within the match window.
    let timer = MonotonicTime(nanoseconds: 500_000)
    guard case .timeout(let at) = driver.next(deadline: timer) else {
      Issue.record("the reply was delivered before the timer of the request it answers")
      return
    }
    #expect(at == timer)
    driver.send(Message(context: 1007, .querySource(.all)))
    guard case .datagram(let bytes, _) = driver.next(deadline: nil) else {
      Issue.record("no reply after the request was sent")
      return
    }
    let contexts = try MessageDecoder(family: Self.family).decode(bytes).map(\.header.context)
    #expect(contexts.last == 1007, "the reply carries the client's context: \(contexts)")
    #expect(driver.core.cassette.requestsMatched == 1)
  }
}
