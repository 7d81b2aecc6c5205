import NtstatWire

/// The ntstat client as a state machine: it takes datagrams and instants and hands back
/// requests to send, events, and the instant it next needs to run. No I/O and no clock
/// reads, so the same engine runs live, against the simulator, and in a replay at any speed.
///
/// How it speaks to each family (see `docs/protocol.md` and `docs/client.md`):
/// - ADD_ALL_SRCS per provider, one at a time (each answer can be a burst of SRC_ADDED).
/// - A new source is described with GET_UPDATE (xnu-3247+) or GET_SRC_DESC; the stream is
///   reported added once its descriptor is known.
/// - Every `updateInterval`, a poll: GET_UPDATE ALL with SUPPORTS_AGGREGATE and CONTINUATION
///   (resent until a SUCCESS without CONTINUATION), or QUERY_SRC ALL before xnu-3247. Where
///   a provider's updates are too large for the kernel to pack (TCP in xnu-7195), QUERY_SRC
///   ALL polls its counters as well.
/// - After a complete poll, any stream the kernel did not report is probed; ENOENT removes it
///   (its SRC_REMOVED was lost). ERROR(ENOBUFS) on a poll triggers an early repoll.
public struct ClientEngine: Sendable {
  public let family: LayoutFamily
  public let configuration: ClientConfiguration
  /// The configuration's intervals in the engine's integer nanoseconds, converted once.
  let pollInterval: UInt64
  let requestTimeout: UInt64
  let removedRetention: UInt64
  let decoder: MessageDecoder
  let encoder: MessageEncoder

  public internal(set) var statistics = ClientStatistics()

  var nextContext: UInt64 = 1
  var pending = PendingRequests()
  var backlog = FIFO<PendingRequest>()
  var transmitQueue = FIFO<[UInt8]>()
  var eventQueue = FIFO<ClientEvent>()
  /// Whether the datagram being handled came with a listener to hand its updates to
  /// (``handleDatagram(_:at:deliver:)``).
  var delivers = false
  var sources = SourceTable()
  var purgeQueue = FIFO<(time: MonotonicTime, ref: SourceRef)>()
  var started = false
  var now = MonotonicTime.zero
  var nextPoll: MonotonicTime?
  var activePolls = ActivePolls()
  /// Provider kinds by id (the family's table is a computed list; this is read per message).
  let providerKinds: [ProviderKind?]
  /// Providers whose SRC_UPDATE is larger than the kernel packs in an ALL poll.
  let unpackable: Set<ProviderKind>
  var subscriptionQueue: [ProviderKind]
  /// After ERROR(ENOBUFS) on an ALL poll, poll source by source until then.
  var perSourceUntil: MonotonicTime?
  /// Requests whose `send()` failed for lack of kernel buffer space, with when to retry them.
  var retries: [(due: MonotonicTime, request: PendingRequest)] = []
  /// Failed sends in a row (the retry pause doubles with each), and when the last one was.
  var sendFailuresInARow = 0
  var lastSendFailure: MonotonicTime?
  /// Probes of the last sweep that found their source alive: answers the kernel lost silently.
  var probesAnsweredAlive = 0
  /// Polls whose sweep is put off, and how many the next back-off puts off.
  var sweepsToSkip = 0
  var sweepBackoff = 0
  /// xnu-3247 to 3789.21.4 cancel an open paced poll when any other query arrives
  /// (``KernelBehaviour``'s `eagainOnPlainQuery` in the simulator): single-source requests then
  /// wait until the poll is over.
  public let holdsRequestsDuringPacedPoll: Bool
  /// ADD_ALL requests not yet answered.
  var subscriptionsOutstanding = 0
  /// The layout family checked against what the kernel sends.
  public internal(set) var verifier: LayoutVerifier
  /// The message types that have opened a datagram which passed the layout checks, a bit each
  /// (``checkBit(openingTypeOf:)``).
  var typesPassed: UInt64 = 0
  /// A tentative family was settled (borne out, or run on for want of evidence).
  var familySettled: Bool
  /// Set when what the kernel sends does not fit the family: the client stops.
  public internal(set) var layoutMismatch: String?
  /// A mismatch on a forced family was said (once).
  var forcedMismatchReported = false
  var startedAt = MonotonicTime.zero
  /// Whether the common messages are read in place (``handleInPlace(_:deliver:)``). Off only in tests,
  /// which hold the two paths to the same events.
  var readsInPlace = true

  /// - Parameter kernel: the kernel's exact XNU version, where known. Only the paced-poll rule
  ///   of xnu-3789 depends on it; unknown, the client assumes the kernel that cancels.
  public init(configuration: ClientConfiguration, family: LayoutFamily, kernel: XNUVersion? = nil) {
    let family = configuration.family ?? family
    self.family = family
    self.configuration = configuration
    pollInterval = configuration.updateInterval.wholeNanoseconds
    requestTimeout = configuration.requestTimeout.wholeNanoseconds
    removedRetention = configuration.removedRetention.wholeNanoseconds
    holdsRequestsDuringPacedPoll =
      family == .xnu3247 || (family == .xnu3789 && (kernel.map { $0 < XNUVersion(3789, 31, 2) } ?? true))
    decoder = MessageDecoder(family: family)
    encoder = MessageEncoder(family: family)
    var seen = Set<ProviderKind>()
    subscriptionQueue = configuration.providers.filter { family.providerID(for: $0) != nil && seen.insert($0).inserted }
    subscriptionsOutstanding = subscriptionQueue.count
    verifier = LayoutVerifier(family: family)
    if case .tentative = configuration.familyTrust { familySettled = false } else { familySettled = true }
    var kinds = [ProviderKind?](repeating: nil, count: 16)
    for (id, kind) in family.providers where id.rawValue < 16 { kinds[Int(id.rawValue)] = kind }
    providerKinds = kinds
    unpackable = Self.unpackableProviders(family: family, encoder: encoder, providers: subscriptionQueue)
  }

  /// `nstat_control_append_update` refuses updates over 512 bytes (2048 from xnu-8019): the
  /// kernel then skips those sources in GET_UPDATE ALL.
  static func unpackableProviders(
    family: LayoutFamily, encoder: MessageEncoder, providers: [ProviderKind]
  )
    -> Set<ProviderKind>
  {
    guard family.hasLengthAndFlags else { return [] }
    let limit = family >= .xnu8019_41 ? 2048 : 512
    var result = Set<ProviderKind>()
    for kind in providers {
      let empty: Descriptor
      switch kind.descriptorKind {
      case .tcp: empty = .tcp(TCPDescriptor())
      case .udp: empty = .udp(UDPDescriptor())
      case .connection: empty = .connection(ConnectionDescriptor())
      default: continue
      }
      let update = Message(
        .sourceUpdate(
          SourceUpdate(sourceRef: SourceRef(1), counts: Counts(), provider: ProviderID(rawValue: 1), descriptor: empty))
      )
      if let bytes = try? encoder.encode(update), bytes.count > limit { result.insert(kind) }
    }
    return result
  }

  // MARK: Driving the engine

  func providerKind(for id: ProviderID) -> ProviderKind? {
    id.rawValue < 16 ? providerKinds[Int(id.rawValue)] : nil
  }

  /// Subscribes to the configured providers and schedules the first poll.
  public mutating func start(at time: MonotonicTime) {
    guard !started else { return }
    started = true
    now = time
    startedAt = time
    if configuration.details, !family.hasDetails {
      notice(
        .detailsUnavailable,
        "\(family) has no GET_DETAILS (details mode needs xnu-12377, macOS 26, or newer): polling with SRC_UPDATE")
    }
    subscribeNext()
    nextPoll = time.adding(nanoseconds: pollInterval)
    pump()
  }

  /// One datagram from the kernel.
  public mutating func handleDatagram(_ datagram: [UInt8], at time: MonotonicTime) {
    datagram.withUnsafeBytes { handleDatagram(bytes: $0, at: time) { _ in false } }
  }

  /// One datagram from the kernel, read where it lies (a range of a capture reader's memory).
  public mutating func handleDatagram(_ datagram: DatagramBytes, at time: MonotonicTime) {
    datagram.withUnsafeBytes { handleDatagram(bytes: $0, at: time) { _ in false } }
  }

  /// One datagram from the kernel, read where it lies, with the stream updates it brings handed
  /// to `deliver` as they are made instead of queued for ``pollEvent()``: the events come in
  /// the same order either way (what was queued before an update is handed to `deliver` first),
  /// and what is still queued afterwards is for ``pollEvent()``. `deliver` returns whether it
  /// took the event; one it refuses stays queued, with everything after it.
  ///
  /// The requests the datagram brings (``pollTransmit()``) can only be sent afterwards, so a
  /// driver whose kernel waits on them (a live socket) uses ``handleDatagram(_:at:)`` and sends
  /// them before handing the events over, as ``NetworkStatisticsClient`` does.
  ///
  /// A queued update is copied into the queue, copied out again and destroyed there; handed
  /// over at once, it skips the queue: about 5 % of a replay's client-thread instructions when
  /// it polls thousands of sources a second, measured when an update carried its stream's 176
  /// bytes by value (docs/performance.md).
  public mutating func handleDatagram(
    _ datagram: DatagramBytes, at time: MonotonicTime, deliver: (ClientEvent) -> Bool
  ) {
    delivers = true
    defer { delivers = false }
    datagram.withUnsafeBytes { handleDatagram(bytes: $0, at: time, deliver) }
  }

  /// `deliver` is called only while ``delivers`` is set.
  private mutating func handleDatagram(
    bytes datagram: UnsafeRawBufferPointer, at time: MonotonicTime, _ deliver: (ClientEvent) -> Bool
  ) {
    now = max(now, time)
    statistics.datagramsReceived += 1
    // Every datagram early on and while the family is tentative. After that: each that opens
    // with a message type no datagram has passed with yet (a kernel's layout is fixed for the
    // run, so a type that passed once is checked only to catch values gone implausible), every
    // one while a recent check failed (so a mismatch is called within a few datagrams of the
    // first failure), and one in 1,024 of the rest. One in 64 of them all was 7 % of a replay's
    // client thread (`callgrind`: a check decodes and encodes its messages again).
    let opening = Self.checkBit(openingTypeOf: datagram)
    let sampled =
      statistics.datagramsReceived <= 256 || typesPassed & opening == 0 || verifier.recentFailures > 0
      || statistics.datagramsReceived % 1024 == 0
    if layoutMismatch == nil, !familySettled || sampled {
      let failedBefore = verifier.failed
      verifier.check(Array(datagram))
      if verifier.failed == failedBefore { typesPassed |= opening }
      verifyLayout()
      // Nothing decoded with a family the kernel does not speak may reach a listener.
      if layoutMismatch != nil { return }
    }
    // Each message is handled as it is read, so those before a malformed one in a packed
    // datagram still count. Updates, counts, descriptions and removals, nearly all of the
    // traffic, are read in place.
    do {
      try decoder.forEachView(in: datagram, direction: .fromKernel) { view in
        statistics.messagesReceived += 1
        if readsInPlace, try handleInPlace(view, deliver: deliver) { return }
        handle(try view.decode(), deliver: deliver)
      }
    } catch {
      statistics.malformedDatagrams += 1
      if statistics.malformedDatagrams <= 3 || statistics.malformedDatagrams.nonzeroBitCount == 1 {
        notice(.decodeFailed, "datagram of \(datagram.count) bytes skipped: \(error)")
      }
    }
    pump()
  }

  /// Datagrams lost before they reached the engine (a transport's own overflow). The engine
  /// cannot know what they held, so it repolls at once.
  public mutating func handleTransportDrop(count: UInt64, at time: MonotonicTime) {
    now = max(now, time)
    statistics.transportDrops += count
    notice(.transportDropped, "\(count) datagram(s) lost before the client read them; repolling")
    nextPoll = min(nextPoll ?? time, time)
    handleTimeout(at: time)
  }

  /// Runs timers due at `time`: polls, request timeouts, purges.
  public mutating func handleTimeout(at time: MonotonicTime) {
    now = max(now, time)
    expireRequests()
    purgeRemoved()
    releaseRetries()
    if !familySettled { verifyLayout() }
    if let due = nextPoll, due <= now {
      startPoll()
      nextPoll = now.adding(nanoseconds: pollInterval)
    }
    pump()
  }

  /// The next request datagram to send, if any.
  public mutating func pollTransmit() -> [UInt8]? { transmitQueue.pop() }

  /// The next event, if any. While a tentative family is being checked, none: events wait
  /// until the kernel's replies bear the family out (``LayoutVerifier``).
  public mutating func pollEvent() -> ClientEvent? { familySettled ? eventQueue.pop() : nil }

  /// Whether an event made now may go straight to `deliver`: the datagram being handled came
  /// with it, the family is settled (events wait while it is not), and every event queued
  /// before this one has been taken (handed to `deliver` first, in order).
  @inline(__always)
  mutating func deliversAtOnce(_ deliver: (ClientEvent) -> Bool) -> Bool {
    guard delivers, familySettled else { return false }
    return eventQueue.isEmpty || deliverQueued(deliver)
  }

  /// Hands the queued events to `deliver`, oldest first, until it refuses one (which stays
  /// first in the queue): true if none is left.
  mutating func deliverQueued(_ deliver: (ClientEvent) -> Bool) -> Bool {
    while let event = eventQueue.pop() {
      guard deliver(event) else {
        eventQueue.pushFront(event)
        return false
      }
    }
    return true
  }

  /// When ``handleTimeout(at:)`` should next be called.
  // Inlined: called on the run loop's `var` engine, out of line it was handed a copy of the
  // whole engine (750 bytes, a `memcpy` each input).
  @inline(__always)
  public func nextDeadline() -> MonotonicTime? {
    var deadline = nextPoll
    func consider(_ time: MonotonicTime?) {
      guard let time else { return }
      deadline = deadline.map { min($0, time) } ?? time
    }
    if !familySettled { consider(startedAt.adding(nanoseconds: Self.verificationWindow)) }
    consider(pending.oldestSentAt?.adding(nanoseconds: requestTimeout))
    consider(purgeQueue.first?.time)
    for retry in retries { consider(retry.due) }
    return deadline
  }

  /// The streams currently known and reported.
  public var liveStreams: [NetworkStream] {
    sources.records.compactMap { $0.announced && $0.removedAt == nil ? $0.stream : nil }.sorted { $0.id < $1.id }
  }

  // MARK: Requests

  mutating func request(_ kind: RequestKind, _ body: MessageBody, flags: MessageFlags = []) {
    let context = nextContext
    nextContext &+= 1
    let message = Message(context: context, flags: family.hasLengthAndFlags ? flags : [], body)
    guard let bytes = try? encoder.encode(message, settingLength: true) else { return }
    backlog.push(PendingRequest(context: context, kind: kind, bytes: bytes, sentAt: now))
  }

  /// Moves backlog requests into flight while the window allows.
  mutating func pump() {
    while pending.count < configuration.maxOutstandingRequests, let first = backlog.first {
      if holdsRequestsDuringPacedPoll, first.kind.isSingleSource, pacedPollInFlight { break }
      guard var next = backlog.pop() else { break }
      next.sentAt = now
      pending[next.context] = next
      transmitQueue.push(next.bytes)
      statistics.requestsSent += 1
    }
  }

  mutating func subscribeNext() {
    guard !subscriptionQueue.isEmpty else { return }
    let kind = subscriptionQueue.removeFirst()
    guard let id = family.providerID(for: kind) else { return }
    let filter: UInt64? = family.hasLengthAndFlags ? 0 : nil
    let events: UInt64? = family >= .xnu3789 ? 0 : nil
    request(.addAll(kind), .addAllSources(AddAllSourcesRequest(provider: id, filter: filter, events: events)))
  }

  /// GET_UPDATE polls (and describes) only in automatic polling from xnu-3247.
  var usesUpdates: Bool { family.hasLengthAndFlags && configuration.polling == .automatic }

  /// Details mode: GET_DETAILS wherever GET_UPDATE would be sent.
  var usesDetails: Bool { usesUpdates && configuration.details && family.hasDetails }

  /// The request for one source's (or every source's) counters and descriptor.
  @inline(__always)
  func updateRequest(_ ref: SourceRef) -> MessageBody {
    usesDetails ? .getDetails(ref) : .getUpdate(ref)
  }

  /// A request as notices name it: a poll by the message it sends (GET_DETAILS in details mode).
  func name(of kind: RequestKind) -> String {
    if case .poll(.updates) = kind, usesDetails { return "GET_DETAILS ALL" }
    return kind.description
  }

  mutating func describe(_ ref: SourceRef) {
    if usesUpdates {
      request(.describe(ref), updateRequest(ref))
    } else {
      request(.describe(ref), .getSourceDescription(ref))
    }
  }

  mutating func startPoll() {
    statistics.polls += 1
    noteSilentLoss()
    if let until = perSourceUntil, now < until {
      pollEachSource()
      return
    }
    perSourceUntil = nil
    let kinds: [PollKind] = usesUpdates ? (unpackable.isEmpty ? [.updates] : [.updates, .counts]) : [.counts]
    for kind in kinds {
      if let stale = activePolls.removeValue(forKey: kind) {
        // Still unanswered a whole interval later: the kernel answers an ALL poll at once, so
        // its SUCCESS was lost with the answers (up to xnu-2422 a full buffer drops it too).
        statistics.pollOverruns += 1
        statistics.kernelDrops += 1
        pending[stale.context] = nil
        notice(
          .kernelDropped,
          "\(name(of: .poll(kind))) unanswered after one interval; polling source by source for a while")
        perSourceUntil = now.adding(nanoseconds: pollInterval &* 10)
        pollEachSource()
        continue
      }
      let context = nextContext
      activePolls[kind] = ActivePoll(context: context, startedAt: now)
      // Plain polling sends what libntstat sent: no pacing, no packing.
      let flags: MessageFlags = configuration.polling == .automatic ? [.supportsAggregate, .continuation] : []
      switch kind {
      case .updates: request(.poll(kind), updateRequest(.all), flags: flags)
      case .counts: request(.poll(kind), .querySource(.all), flags: flags)
      }
    }
  }

  /// The degraded poll after an ALL poll overflowed the kernel's buffer: one specific request
  /// per source, paced by the request window, so no answer is larger than one message.
  mutating func pollEachSource() {
    guard backlog.isEmpty else {
      statistics.pollOverruns += 1
      return
    }
    for ref in sources.refs.sorted() where sources[ref]?.removedAt == nil {
      request(.refresh(ref), usesUpdates ? updateRequest(ref) : .querySource(ref))
    }
  }

  /// Sources a poll kind is responsible for.
  // Inlined, as are the other non-mutating methods the message handlers call: out of line, a
  // call from a mutating method was handed a copy of the whole engine (a 750-byte `memcpy`,
  // `callgrind`: 1,500 instructions a polled SRC_COUNTS with the copy's reference counting).
  @inline(__always)
  func polled(by kind: PollKind, provider: ProviderKind?) -> Bool {
    guard usesUpdates else { return true }
    let heavy = provider.map(unpackable.contains) ?? false
    return kind == .counts ? heavy : !heavy
  }

  mutating func expireRequests() {
    let timeout = requestTimeout
    let expired = pending.values.filter { now.since($0.sentAt) >= timeout }.sorted { $0.context < $1.context }
    for request in expired {
      pending[request.context] = nil
      statistics.requestTimeouts += 1
      notice(.requestTimedOut, "no answer to \(name(of: request.kind)) (context \(request.context))")
      finish(request, .timedOut)
    }
  }

  mutating func purgeRemoved() {
    while let first = purgeQueue.first, first.time <= now {
      _ = purgeQueue.pop()
      // Asked in place: a copy of the record would hold its state, which could not be reused.
      if let slot = sources.slot(of: first.ref), sources[slot: slot].removedAt != nil { sources.remove(at: slot) }
    }
    statistics.liveSources = sources.count
  }

  mutating func notice(_ kind: ClientNotice.Kind, _ detail: String) {
    eventQueue.push(.notice(ClientNotice(kind: kind, time: now, detail: detail)))
  }
}

enum PollKind: Hashable, Sendable {
  /// GET_UPDATE ALL (or GET_DETAILS ALL in details mode).
  case updates
  /// QUERY_SRC ALL.
  case counts

}

/// The poll in progress of each kind (two slots, read on every message: no hashing).
struct ActivePolls: Sendable {
  private var updates: ActivePoll?
  private var counts: ActivePoll?

  subscript(kind: PollKind) -> ActivePoll? {
    get { kind == .updates ? updates : counts }
    set {
      if kind == .updates { updates = newValue } else { counts = newValue }
    }
  }

  mutating func removeValue(forKey kind: PollKind) -> ActivePoll? {
    defer { self[kind] = nil }
    return self[kind]
  }

  func kind(forContext context: UInt64) -> PollKind? {
    if updates?.context == context { return .updates }
    if counts?.context == context { return .counts }
    return nil
  }
}

struct ActivePoll: Sendable {
  var context: UInt64
  var startedAt: MonotonicTime
  var failed = false
}

enum RequestKind: Hashable, Sendable, CustomStringConvertible {
  case addAll(ProviderKind)
  case describe(SourceRef)
  case probe(SourceRef)
  case refresh(SourceRef)
  case poll(PollKind)

  /// A query about one source (which the older paced-poll kernels treat as a plain query).
  var isSingleSource: Bool {
    switch self {
    case .describe, .probe, .refresh: return true
    case .addAll, .poll: return false
    }
  }

  var description: String {
    switch self {
    case .addAll(let kind): return "ADD_ALL_SRCS \(kind)"
    case .describe(let ref): return "describe \(ref)"
    case .probe(let ref): return "probe \(ref)"
    case .refresh(let ref): return "refresh \(ref)"
    case .poll(let kind): return kind == .updates ? "GET_UPDATE ALL" : "QUERY_SRC ALL"
    }
  }
}

struct PendingRequest: Sendable {
  var context: UInt64
  var kind: RequestKind
  var bytes: [UInt8]
  var sentAt: MonotonicTime
}

/// The requests in flight, by context: at most a window's worth (8 by default), so a plain
/// array beats a dictionary both for lookups and for the oldest-request scan that runs after
/// every datagram (a dictionary's bucket walk showed up in replay profiles).
struct PendingRequests: Sendable {
  private(set) var values: [PendingRequest] = []

  var count: Int { values.count }

  subscript(context: UInt64) -> PendingRequest? {
    get {
      for request in values where request.context == context { return request }
      return nil
    }
    set {
      if let index = values.firstIndex(where: { $0.context == context }) {
        if let newValue { values[index] = newValue } else { values.remove(at: index) }
      } else if let newValue {
        values.append(newValue)
      }
    }
  }

  @discardableResult
  mutating func removeValue(forKey context: UInt64) -> PendingRequest? {
    guard let index = values.firstIndex(where: { $0.context == context }) else { return nil }
    return values.remove(at: index)
  }

  /// When the longest-waiting request was sent. Each request's time is read where it lies:
  /// iterating the requests copied each one out, its bytes retained and released (asked after
  /// every input).
  var oldestSentAt: MonotonicTime? {
    var oldest: MonotonicTime?
    for index in values.indices {
      let sentAt = values[index].sentAt
      if oldest.map({ sentAt < $0 }) ?? true { oldest = sentAt }
    }
    return oldest
  }
}
