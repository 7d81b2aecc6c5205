import NTStat
import NtstatCapture
import NtstatWire

/// The requests a replay expects, like a cassette: the recorded requests not yet matched, the
/// map from recorded contexts to the client's, and the divergences found. Pure bookkeeping: it
/// is fed requests and frames and never reads a file or a clock.
///
/// Requests are matched by type, provider, source ref and pacing flags (``RequestKey``), in
/// order; each match maps the recorded context to the client's, and recorded replies are then
/// rewritten to carry the client's contexts (``remapContexts(_:)``).
struct ReplayCassette {
  let family: LayoutFamily
  let decoder: MessageDecoder
  /// How far (in capture time) a request may be from its recorded twin and still match.
  var matchWindow: UInt64 = 2_000_000_000
  /// The first 1,000 divergences (``divergenceCount`` has them all).
  private(set) var divergences: [ReplayDivergence] = []
  private(set) var divergenceCount = 0
  private(set) var requestsMatched: UInt64 = 0
  private(set) var expected = RecordedRequests()
  private var contextMap: [UInt64: UInt64] = [:]
  /// Mappings in `contextMap` that change a context: while there are none (a client numbering
  /// its requests as the recorded one did), delivered frames are not rewritten or even parsed.
  private var changedContexts = 0

  init(family: LayoutFamily) {
    self.family = family
    decoder = MessageDecoder(family: family)
  }

  /// The key of a request the client sent, or nil when it does not decode.
  func key(ofSent datagram: [UInt8]) -> (key: RequestKey, context: UInt64)? {
    let (decoder, family) = (decoder, family)
    return datagram.withUnsafeBytes { Self.requestKey(in: $0, decoder, family) }
  }

  /// A recorded request read from the capture (frame `index`, counted from 1).
  func recorded(_ index: UInt64, _ datagram: DatagramBytes, at time: MonotonicTime) -> RecordedRequests.Request {
    let context = MessageHeader.readContext(in: datagram)
    // The closure is handed the decoder, not the cassette: capturing `self`, it made the
    // compiler copy the whole cassette, its tables retained, for every recorded request.
    let (decoder, family) = (decoder, family)
    let key =
      datagram.withUnsafeBytes { Self.requestKey(in: $0, decoder, family)?.key }
      ?? RequestKey(undecodable: datagram.array)
    return RecordedRequests.Request(index: index, time: time, key: key, context: context)
  }

  /// The key and context of the request a datagram holds (a request is a datagram of its own),
  /// or nil when it does not decode. A request naming one source, most of what a replay
  /// matches, is keyed where it lies; others are decoded whole.
  private static func requestKey(
    in datagram: UnsafeRawBufferPointer, _ decoder: MessageDecoder, _ family: LayoutFamily
  ) -> (key: RequestKey, context: UInt64)? {
    var result: (key: RequestKey, context: UInt64)?
    try? decoder.forEachView(in: datagram, direction: .toKernel) { view in
      guard result == nil else { return }
      let key: RequestKey
      if let ref = try view.requestedSourceRef() {
        key = RequestKey(type: view.type, sourceRef: ref, flags: view.header.flags, family: family)
      } else {
        key = RequestKey(try view.decode(), family: family)
      }
      result = (key, view.header.context)
    }
    return result
  }

  mutating func expect(_ request: RecordedRequests.Request) { expected.append(request) }

  /// Takes the oldest unmatched recorded request with `key`.
  mutating func take(_ key: RequestKey) -> RecordedRequests.Request? { expected.take(key) }

  /// The client's request (with `context`) matched `recorded`: its replies are remapped.
  mutating func matched(_ recorded: RecordedRequests.Request, clientContext context: UInt64) {
    let previous = contextMap.updateValue(context, forKey: recorded.context)
    if let previous, previous != recorded.context { changedContexts -= 1 }
    if context != recorded.context { changedContexts += 1 }
    requestsMatched += 1
  }

  /// The client sent `key`, which no recorded request matches. `nextFrame` is the next frame
  /// the replay has not delivered (counted from 1): the divergence is placed at the oldest
  /// unmatched recorded request, or there when none is left.
  mutating func unexpected(_ key: RequestKey, nextFrame: UInt64, at time: MonotonicTime) {
    let first = expected.first()
    append(
      ReplayDivergence(
        kind: .unexpectedRequest, frame: first?.index ?? nextFrame, time: time,
        expected: first.map { "\($0.key) (frame \($0.index))" } ?? "no request", actual: key.description))
  }

  /// The client sent bytes that do not decode as a request.
  mutating func undecodable(nextFrame: UInt64, at time: MonotonicTime) {
    append(
      ReplayDivergence(
        kind: .unexpectedRequest, frame: nextFrame, time: time, expected: "a request", actual: "undecodable bytes"))
  }

  /// Recorded requests left unmatched for longer than the window (all of them at the end,
  /// `time` nil) are missing. Oldest first, in constant amortised time per request. Requests
  /// past a `--to`/`--to-frame` end were read ahead but are not part of this replay.
  // The checks that find nothing to do, for nearly every frame, are inlined into the replay's
  // loop; the work is not (each call cost a frame about 20 to 50 instructions).
  @inline(__always)
  mutating func reportUnmatched(before time: MonotonicTime?, end: ReplayEnd) {
    if !expected.isEmpty { expireUnmatched(before: time, end: end) }
  }

  private mutating func expireUnmatched(before time: MonotonicTime?, end: ReplayEnd) {
    let window = matchWindow
    while let request = expected.popExpired(where: { request in
      end.excludes(request.index, request.time) || time.map { $0.since(request.time) > window } ?? true
    }) {
      guard !end.excludes(request.index, request.time) else { continue }
      append(
        ReplayDivergence(
          kind: .missingRequest, frame: request.index, time: request.time, expected: request.key.description,
          actual: "nothing"))
    }
  }

  /// True when a message of a kernel `frame` carries the context of a recorded request still
  /// unmatched.
  @inline(__always)
  func answersUnsentRequest(_ frame: CapturedFrame) -> Bool {
    !expected.isEmpty && carriesUnmatchedContext(frame)
  }

  /// The reader's note of a kernel frame's contexts, when it frames as this family does
  /// (families before xnu-3247 do not pack): it saves reading the bytes again.
  private func note(of frame: CapturedFrame) -> PackedContexts {
    decoder.family.hasLengthAndFlags ? frame.packedContexts : .unknown
  }

  private func carriesUnmatchedContext(_ frame: CapturedFrame) -> Bool {
    switch note(of: frame) {
    case .unframed, .none: return false
    case .one(let context): return isUnsent(context)
    case .unknown, .several: break
    }
    // A poll's answers come dozens to a datagram with one context, which is looked up once.
    var checked: UInt64 = 0
    var answers = false
    let whole = forEachContext(in: frame.bytes) { _, context in
      guard !answers, context != 0, context != checked else { return }
      checked = context
      if isUnsent(context) { answers = true }
    }
    // A datagram that does not split into messages answers nothing, as it decodes to nothing.
    return whole && answers
  }

  /// Whether recorded `context` is that of a request expected and not yet sent by the client.
  private func isUnsent(_ context: UInt64) -> Bool {
    contextMap[context] == nil && expected.contains(context: context)
  }

  /// Recorded contexts → the client's, in every message of a kernel `frame`.
  @inline(__always)
  func remapContexts(_ frame: CapturedFrame) -> DatagramBytes {
    changedContexts > 0 ? remapped(frame) : frame.bytes
  }

  private func remapped(_ frame: CapturedFrame) -> DatagramBytes {
    let datagram = frame.bytes
    switch note(of: frame) {
    case .unframed, .none: return datagram
    case .one(let context) where (contextMap[context] ?? context) == context: return datagram
    case .one, .unknown, .several: break
    }
    var changes: [(offset: Int, context: UInt64)] = []
    let whole = forEachContext(in: datagram) { offset, context in
      guard context != 0, let mapped = contextMap[context], mapped != context else { return }
      changes.append((offset, mapped))
    }
    // Copied only when a context changes: most datagrams carry none the client remapped.
    guard whole, !changes.isEmpty else { return datagram }
    var copy = datagram.array
    for change in changes { MessageHeader.writeContext(change.context, in: &copy, at: change.offset) }
    return DatagramBytes(copy)
  }

  /// Each message's offset and context, read from the headers where they lie in one pass (a
  /// list of the messages' ranges, then each context read through the datagram, cost a packed
  /// datagram 8,000 instructions). False when the datagram does not split into messages.
  private func forEachContext(in datagram: DatagramBytes, _ body: (_ offset: Int, _ context: UInt64) -> Void) -> Bool {
    datagram.withUnsafeBytes { buffer in
      (try? decoder.forEachView(in: buffer, direction: .fromKernel) { body($0.offset, $0.header.context) }) != nil
    }
  }

  /// Counts a divergence, and keeps the first 1,000. The rest are not even made: their text
  /// (a request key spelled out twice) was a sixth of a replay whose every request diverges.
  private mutating func append(_ divergence: @autoclosure () -> ReplayDivergence) {
    divergenceCount += 1
    guard divergences.count < 1000 else { return }
    var shown = divergence()
    shown.frame &-= 1  // counted from 1 internally, shown from 0
    divergences.append(shown)
  }
}

/// Where a replay stops: after a capture time or a frame (nil: the end).
struct ReplayEnd {
  var time: MonotonicTime?
  /// Counted from 0, as `ntstat cat` numbers frames.
  var frame: UInt64?

  /// Whether frame `index` (counted from 1) at `time` is past the end.
  func excludes(_ index: UInt64, _ time: MonotonicTime) -> Bool {
    if let frame, index - 1 > frame { return true }
    if let end = self.time, time > end { return true }
    return false
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
    flags = Self.matchedFlags(message.header.flags, family: family)
    switch message.body {
    case .addAllSources(let r): provider = r.provider.rawValue
    case .addSource(let r): provider = r.provider.rawValue
    case .removeSource(let ref), .querySource(let ref), .getSourceDescription(let ref), .getUpdate(let ref),
      .getDetails(let ref):
      sourceRef = ref
    case .setFilter(let r): sourceRef = r.sourceRef
    case .unknown(_, let payload): raw = payload
    default: break
    }
  }

  /// A request naming one source, read in place (``MessageView/requestedSourceRef()``): the
  /// same key as the decoded message gives.
  init(type: MessageType, sourceRef: SourceRef, flags: MessageFlags, family: LayoutFamily) {
    self.type = type
    self.sourceRef = sourceRef
    self.flags = Self.matchedFlags(flags, family: family)
  }

  /// Only the flags that change what the kernel does.
  static func matchedFlags(_ flags: MessageFlags, family: LayoutFamily) -> MessageFlags {
    family.hasLengthAndFlags ? flags.intersection([.continuation, .supportsAggregate]) : []
  }

  init(undecodable bytes: [UInt8]) {
    type = MessageType(rawValue: 0xFFFF_FFFF)
    flags = []
    raw = bytes
  }

  /// The fields that tell requests apart in practice, as one word each: the synthesised hash
  /// also walked every optional's case and the raw bytes, which only an unknown request has
  /// (a replay whose every request diverges hashes each key two or three times).
  func hash(into hasher: inout Hasher) {
    hasher.combine(UInt64(type.rawValue) << 32 | UInt64(flags.rawValue))
    hasher.combine(sourceRef?.rawValue ?? UInt64(provider ?? 0))
  }

  var description: String {
    var text = type.name
    if let provider { text += " provider \(provider)" }
    if let sourceRef { text += " ref \(sourceRef)" }
    if !flags.isEmpty { text += " [\(flags)]" }
    return text
  }
}
