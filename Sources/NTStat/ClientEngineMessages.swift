import NtstatWire

/// A descriptor as received, with the stream fields derived from it once (descriptors are
/// hundreds of bytes; sources and events share this box instead of copying them).
// `decoded` and `derived` are read and written under `lock`; `raw` changes only in `reuse`, which
// runs only while nothing but the engine holds the box. That is the exclusive access the
// run-time check would enforce, so the mutable state is `@exclusivity(unchecked)`: `reuse`, run
// for almost every update, checked two accesses a call (`callgrind`: 1.6 % of a replay).
final class DescribedSource: @unchecked Sendable {
  let provider: ProviderKind
  // Either decoded at once, or kept as bytes and decoded on first use: most updates are never
  // looked at field by field (a poll's worth of counters), so their descriptors stay bytes.
  @exclusivity(unchecked) private var decoded: Descriptor?
  /// Whether `decoded` is set and `derived` is current, kept apart from them: testing or
  /// storing an optional of one copies all of it (400 and 209 bytes), and
  /// ``reuse(bytes:providerID:)``, which runs for almost every update, would do both for each
  /// (`callgrind`: five `memcpy`s an update).
  @exclusivity(unchecked) private var hasDecoded: Bool
  @exclusivity(unchecked) private var hasDerived = false
  /// Whether the detail fields (``DerivedFields/updateDetails(from:)``) are current as well.
  @exclusivity(unchecked) private var hasDerivedDetails = false
  @exclusivity(unchecked) private var raw: [UInt8]
  private let rawProvider: ProviderID
  private let decoder: MessageDecoder?
  /// Lazy decodes can happen on any thread that holds an event. One lock for every box made
  /// the two threads of a `diff` queue on each other (`perf`: 6–7 % of its time in futex
  /// wake-ups alone); a lock per box would be an allocation per descriptor; so boxes share
  /// sixteen mutexes picked by address (`NSLock`s picked from an array cost the engine 3–5 %,
  /// raw mutexes not).
  private static let locks = StripedLocks()

  init(_ descriptor: Descriptor, provider: ProviderKind) {
    decoded = descriptor
    hasDecoded = true
    self.provider = provider
    raw = []
    rawProvider = ProviderID(rawValue: 0)
    decoder = nil
    derived = DerivedFields(placeholderNamed: "")
  }

  /// `previous`: the box this one replaces for the same source, whose process name is kept
  /// if the new descriptor carries the same one.
  init(
    bytes: UnsafeRawBufferPointer, providerID: ProviderID, provider: ProviderKind, decoder: MessageDecoder,
    previous: DescribedSource?
  ) {
    raw = Array(bytes)
    hasDecoded = false
    rawProvider = providerID
    self.provider = provider
    self.decoder = decoder
    derived = DerivedFields(placeholderNamed: previous?.latestName ?? "")
  }

  /// Takes a newer descriptor of the same provider, in place. Only for a box nothing else
  /// holds (no event, no listener): it saves two allocations and two frees per update.
  func reuse(bytes: UnsafeRawBufferPointer, providerID: ProviderID) -> Bool {
    guard providerID == rawProvider, bytes.count == raw.count, decoder != nil else { return false }
    raw.withUnsafeMutableBytes { $0.copyMemory(from: bytes) }
    // Most updates (a replay without output, a poll's counters) are never decoded or derived.
    if hasDecoded {
      decoded = nil
      hasDecoded = false
    }
    // The fields derived from the last descriptor stay until the next derivation: their
    // process name is that derivation's hint.
    hasDerived = false
    hasDerivedDetails = false
    return true
  }

  /// The process name this box or the one before it last derived (empty if none did): a
  /// stream's next descriptor almost always carries the same one, and making a name longer
  /// than 15 bytes into a `String` allocates.
  private var latestName: String { Self.locks.withLock(for: self) { derived.process.name } }

  /// The stream fields derived from the descriptor, computed once per descriptor: a renderer
  /// reads half a dozen of them per event, and each read of ``descriptor`` is a lock and a copy.
  /// Current only while `hasDerived`; before that, what the last descriptor (or the box before
  /// this one) gave, of which only the process name is read, as a hint. Not an optional: each
  /// read of one copied all of it out, retaining its strings (`callgrind`: 800 instructions
  /// an event of a text replay).
  @exclusivity(unchecked) private var derived: DerivedFields

  var fields: DerivedFields { withFields { $0 } }

  /// `body` with the derived fields, in place: an accessor that wants one of them copies only
  /// that one (a copy of them all, with its strings retained and released, cost a text replay
  /// a tenth of its time). Lent `inout` though `body` only reads them: lent `borrowing`, this
  /// class's stored property was copied for every call (`callgrind`: 230 instructions an event
  /// of a text replay); `inout` passes its address.
  ///
  /// Without `details`, only the fields a line of text or CSV prints are current (those
  /// ``DerivedFields/updateDetails(from:)`` leaves out may be the last descriptor's): reading
  /// the TCP windows and the UUIDs was a fifth of deriving, for a renderer that prints neither.
  func withFields<Result>(details: Bool = true, _ body: (inout DerivedFields) -> Result) -> Result {
    Self.locks.withLock(for: self) {
      if !hasDerived || (details && !hasDerivedDetails) { deriveLocked(details: details) }
      return body(&derived)
    }
  }

  var descriptor: Descriptor { Self.locks.withLock(for: self) { decodedLocked() } }

  /// TCP and UDP descriptors (almost every event) are read in place for the handful of
  /// fields derived from them; decoding the whole descriptor would build every string, UUID
  /// and reserved byte of it.
  ///
  /// Written over the last derivation in place: building a new value and assigning it copied
  /// and destroyed all of it once more per event (`callgrind`: a tenth of a text replay's
  /// output work).
  private func deriveLocked(details: Bool) {
    if !hasDecoded, let decoder {
      let provider = self.provider
      let (deriveCore, deriveDetails) = (!hasDerived, details && !hasDerivedDetails)
      let derivedInPlace = raw.withUnsafeBytes { bytes in
        guard let view = decoder.socketDescriptorView(bytes, provider: rawProvider) else { return false }
        if deriveCore { derived.update(from: view, provider: provider) }
        if deriveDetails { derived.updateDetails(from: view) }
        return true
      }
      if derivedInPlace {
        hasDerived = true
        hasDerivedDetails = hasDerivedDetails || deriveDetails
        return
      }
    }
    derived = DerivedFields(decodedLocked(), provider: provider)
    hasDerived = true
    hasDerivedDetails = true
  }

  private func decodedLocked() -> Descriptor {
    if hasDecoded, let decoded { return decoded }
    // The view checked the size for this provider, so decoding cannot fail; an empty
    // descriptor of the right kind is the fallback all the same.
    let value = (try? decoder?.decodeDescriptor(raw, provider: rawProvider)) ?? Self.empty(provider)
    decoded = value
    hasDecoded = true
    return value
  }

  static func empty(_ provider: ProviderKind) -> Descriptor {
    switch provider.descriptorKind {
    case .tcp: return .tcp(TCPDescriptor())
    case .udp: return .udp(UDPDescriptor())
    case .connection: return .connection(ConnectionDescriptor())
    case .route: return .route(RouteDescriptor())
    case .ifnet: return .ifnet(InterfaceDescriptor())
    case .sysinfo: return .sysinfo(flags: 0)
    }
  }

  // Derived on first access: a client that ignores most fields of most updates pays for none.
  var key: StreamKey { withFields(details: false) { $0.key } }
  var process: StreamProcess { withFields { $0.process } }
  var tcpState: TCPState? { withFields(details: false) { $0.tcpState } }
  var tcpWindows: TCPWindows? { withFields { $0.tcpWindows } }
  var interfaceProperties: InterfaceProperties? { withFields(details: false) { $0.interfaceProperties } }
  var isListener: Bool { withFields(details: false) { $0.isListener } }
  var interfaceClass: InterfaceClass { withFields(details: false) { $0.interfaceClass } }
}

/// What a stream's descriptor says, lifted out once (``DescribedSource/fields``).
package struct DerivedFields: Sendable {
  package var key: StreamKey
  package var process: StreamProcess
  package var tcpState: TCPState?
  package var tcpWindows: TCPWindows?
  package var interfaceProperties: InterfaceProperties?

  /// Fields derived from nothing yet, carrying only a process name to reuse.
  init(placeholderNamed name: String) {
    key = StreamKey(protocolName: "", local: .unspecified, remote: .unspecified, interfaceIndex: 0)
    process = StreamProcess(pid: 0, upid: 0, name: name)
  }

  init(_ descriptor: Descriptor, provider: ProviderKind) {
    key = StreamKey(protocolName: provider.protocolName, local: .unspecified, remote: .unspecified, interfaceIndex: 0)
    process = StreamProcess(pid: 0, upid: 0, name: "")
    switch descriptor {
    case .tcp(let d):
      (key.local, key.remote, key.interfaceIndex) = (d.local, d.remote, d.ifindex)
      process = StreamProcess(
        pid: d.pid, upid: d.upid, name: d.processName.string, epid: d.epid, uuid: d.uuid, euuid: d.euuid)
      tcpState = d.state
      tcpWindows = TCPWindows(
        txWindow: d.txWindow, txCongestionWindow: d.txCongestionWindow, txUnacked: d.txUnacked,
        sendBufferSize: d.sendBufferSize, sendBufferUsed: d.sendBufferUsed, receiveBufferSize: d.receiveBufferSize,
        receiveBufferUsed: d.receiveBufferUsed)
      interfaceProperties = d.interfaceProperties
    case .udp(let d):
      (key.local, key.remote, key.interfaceIndex) = (d.local, d.remote, d.ifindex)
      process = StreamProcess(
        pid: d.pid, upid: d.upid, name: d.processName.string, epid: d.epid, uuid: d.uuid, euuid: d.euuid)
      interfaceProperties = d.interfaceProperties
    case .connection(let d):
      process = StreamProcess(
        pid: d.pid, upid: d.upid, name: d.processName.string, epid: d.epid, uuid: d.uuid, euuid: d.euuid)
      interfaceProperties = d.interfaceProperties
    default:
      break
    }
  }

  /// The same fields as from the decoded descriptor (`DerivedFieldsTests` holds the two to
  /// each other on every corpus capture), read in place and written over these: with
  /// ``updateDetails(from:)``, all of them; alone, those a line of text or CSV prints. The
  /// process name is kept when the descriptor carries the same one (a stream's next descriptor
  /// almost always does, and making a name longer than 15 bytes into a `String` allocates).
  mutating func update(from view: SocketDescriptorView, provider: ProviderKind) {
    key.protocolName = provider.protocolName
    key.local = view.local
    key.remote = view.remote
    key.interfaceIndex = view.ifindex
    process.pid = view.pid
    process.name = view.processName(reusing: process.name)
    tcpState = view.isTCP ? view.state : nil
    interfaceProperties = view.interfaceProperties
  }

  /// The rest: the process's other ids and UUIDs, and a TCP source's windows and buffers.
  mutating func updateDetails(from view: SocketDescriptorView) {
    process.upid = view.upid
    process.epid = view.epid
    process.uuid = view.uuid
    process.euuid = view.euuid
    tcpWindows =
      view.isTCP
      ? TCPWindows(
        txWindow: view.tcpField(.txWindow) ?? 0, txCongestionWindow: view.tcpField(.txCongestionWindow) ?? 0,
        txUnacked: view.tcpField(.txUnacked) ?? 0, sendBufferSize: view.tcpField(.sendBufferSize) ?? 0,
        sendBufferUsed: view.tcpField(.sendBufferUsed) ?? 0,
        receiveBufferSize: view.tcpField(.receiveBufferSize) ?? 0,
        receiveBufferUsed: view.tcpField(.receiveBufferUsed) ?? 0)
      : nil
  }

  package var isListener: Bool {
    tcpState == .listen || (interfaceProperties?.contains(.sourceIsListener) ?? false)
  }

  /// The interface class from the kernel's interface properties; before xnu-3247, only
  /// loopback is recognised (from the addresses).
  package var interfaceClass: InterfaceClass {
    if let properties = interfaceProperties {
      if properties.contains(.loopback) { return .loopback }
      if properties.contains(.wifi) { return .wifi }
      if properties.contains(.wired) { return .wired }
      if properties.contains(.cellular) { return .cellular }
      return .other
    }
    return key.local.isLoopback || key.remote.isLoopback ? .loopback : .other
  }
}

/// What the engine holds about one source ref.
struct TrackedSource: Sendable {
  /// What the source's streams show but their counters, shared with them until either side
  /// changes it: read and written through the properties below, each write on a state nothing
  /// else holds.
  private var shown: StreamState
  /// The counters and their time, kept here and copied into each stream: they change with every
  /// update, and written into the shared state they would make it be copied whenever a listener
  /// keeps the source's last stream.
  private(set) var counts = Counts()
  var lastUpdated: MonotonicTime
  var ref: SourceRef
  var hasCounts = false
  var announced = false
  /// Filtered out: tracked, never reported.
  var ignored = false
  var createdAt: MonotonicTime
  var removedAt: MonotonicTime?
  var sawConnectAttempt = false
  var sawEstablished = false
  /// The context of the last ALL poll that reported this source (for the sweep).
  var seenInPoll: UInt64 = 0

  /// A new record, in `spare` if given (a state nothing else holds).
  init(
    ref: SourceRef, provider: ProviderKind? = nil, firstSeen: MonotonicTime, lastUpdated: MonotonicTime,
    createdAt: MonotonicTime, reusing spare: StreamState? = nil
  ) {
    shown = spare ?? StreamState()
    shown.reset(id: ref, provider: provider, firstSeen: firstSeen)
    self.lastUpdated = lastUpdated
    self.ref = ref
    self.createdAt = createdAt
  }

  /// The record's state, if nothing else holds it (no stream a listener kept): for a new record.
  mutating func spareState() -> StreamState? {
    isKnownUniquelyReferenced(&shown) ? shown : nil
  }

  var provider: ProviderKind? {
    get { shown.provider }
    set { StreamState.unique(&shown).provider = newValue }
  }
  var described: DescribedSource? { shown.described }
  var detailed: DetailedCountsBox? {
    get { shown.detailed }
    set { StreamState.unique(&shown).detailed = newValue }
  }
  var firstSeen: MonotonicTime {
    get { shown.firstSeen }
    set { StreamState.unique(&shown).firstSeen = newValue }
  }
  var removal: RemovalReason? { shown.removal }

  /// Whether ``stream`` is there: the source has a description and a provider.
  var hasStream: Bool { shown.described != nil && shown.provider != nil }

  /// A stream with the record's counters, sharing the rest, or nil before the source has a
  /// description and a provider.
  var stream: NetworkStream? { hasStream ? unsafeStream : nil }

  /// ``stream`` when ``hasStream``, with no optional to unwrap.
  var unsafeStream: NetworkStream {
    @inline(__always) get { NetworkStream(counts: counts, lastUpdated: lastUpdated, sharing: shown) }
  }

  /// Counters from the kernel, stored in the record alone.
  mutating func store(counts: Counts, at now: MonotonicTime) {
    self.counts = counts
    lastUpdated = now
    hasCounts = true
    observe(counts: counts)
  }

  /// Gone at `now`: a TCP connection that tried to connect and never got there is marked
  /// failed, once, here, since nothing about a removed source changes after.
  mutating func markRemoved(at now: MonotonicTime, reason: RemovalReason) {
    removedAt = now
    lastUpdated = now
    let state = StreamState.unique(&shown)
    state.removal = reason
    // Whether it is a listener is asked last: that derives the descriptor's fields.
    state.connectionFailed =
      state.provider == .tcpKernel && sawConnectAttempt && !sawEstablished
      && state.described.map { !$0.isListener } ?? false
  }

  mutating func describe(_ descriptor: Descriptor) {
    guard let provider else { return }
    let described = DescribedSource(descriptor, provider: provider)
    let own = StreamState.unique(&shown)
    own.described = described
    own.formerDescription = nil
    if let state = described.tcpState { observe(state: state) }
  }

  /// A descriptor kept as bytes; `state` is read in place by the caller.
  mutating func describe(
    bytes: UnsafeRawBufferPointer, providerID: ProviderID, state: TCPState?, decoder: MessageDecoder
  ) {
    guard let provider else { return }
    // Reused in place only if no stream holds it: the state made unique first copies a shared
    // one, which leaves the description shared too. A new source takes the one its state's
    // former source left, which nothing holds unless a listener kept that source's streams.
    let own = StreamState.unique(&shown)
    if own.described == nil { swap(&own.described, &own.formerDescription) }
    if !(isKnownUniquelyReferenced(&own.described) && own.described?.provider == provider
      && own.described?.reuse(bytes: bytes, providerID: providerID) == true)
    {
      own.described = DescribedSource(
        bytes: bytes, providerID: providerID, provider: provider, decoder: decoder, previous: own.described)
    }
    if let state { observe(state: state) }
  }

  /// Connection progress, from the state and from the connect counters (which the kernel
  /// derives from the state at report time, so both read 0 once the pcb is CLOSED).
  mutating func observe(state: TCPState) {
    if state == .synSent || state == .synReceived { sawConnectAttempt = true }
    if state.rawValue >= TCPState.established.rawValue { sawEstablished = true }
  }

  /// Received payload also proves the connection was established: TCP delivers data only on
  /// a synchronised connection, and `rxbytes` counts payload.
  mutating func observe(counts: Counts) {
    if counts.connectAttempts > 0 { sawConnectAttempt = true }
    if counts.connectSuccesses > 0 || counts.rxBytes > 0 { sawEstablished = true }
  }
}

extension ClientEngine {
  mutating func handle(_ message: Message, deliver: (ClientEvent) -> Bool) {
    let context = message.header.context
    let flags = family.hasLengthAndFlags ? message.header.flags : []
    switch message.body {
    case .success:
      guard let request = pending[context] else { return }
      if case .poll(let kind) = request.kind, flags.contains(.continuation) {
        // Paced poll: resend the identical request until a SUCCESS without CONTINUATION.
        var again = request
        again.sentAt = now
        pending[context] = again
        transmitQueue.push(request.bytes)
        statistics.requestsSent += 1
        _ = kind
        return
      }
      pending[context] = nil
      finish(request, .succeeded)
    case .error(let reply):
      statistics.errorsReceived += 1
      guard let request = pending.removeValue(forKey: context) else {
        // An EAGAIN for a paced query the kernel cancelled, already finished here.
        return
      }
      finish(request, reply.errno == 0 ? .succeeded : .failed(errno: reply.errno))
    case .sourceAdded(let added):
      let kind = providerKind(for: added.provider)
      if pending[context].map({ if case .addAll = $0.kind { return false } else { return true } }) ?? false {
        pending[context] = nil
      }
      if let held = sources[added.sourceRef], held.removedAt == nil {
        // Up to xnu-3248 the kernel reuses a ref once its source is gone: a SRC_ADDED for a ref
        // we still hold means that source's SRC_REMOVED was lost. From 3789 refs are never
        // reused, so it is a duplicate, and the source stays as it is.
        guard !family.reusesSourceRefs else {
          statistics.lostRemovals += 1
          removed(added.sourceRef, reason: .lost)
          track(added.sourceRef, provider: kind, added: true)
          return
        }
        return
      }
      track(added.sourceRef, provider: kind, added: true)
    case .sourceRemoved(let ref):
      removed(ref, reason: reason(for: flags))
    case .sourceDescription(let description):
      handleDescription(ref: description.sourceRef, providerID: description.provider, context: context) {
        $0.describe(description.descriptor)
      }
    case .sourceCounts(let counts):
      handleCounts(ref: counts.sourceRef, counts: counts.counts, context: context, flags: flags, deliver: deliver)
    case .sourceUpdate(let update), .sourceExtendedUpdate(let update):
      handleUpdate(
        ref: update.sourceRef, providerID: update.provider, counts: update.counts, context: context, flags: flags,
        deliver: deliver
      ) { $0.describe(update.descriptor) }
    case .sourceDetails(let details), .sourceExtendedDetails(let details):
      handleUpdate(
        ref: details.sourceRef, providerID: details.provider, counts: details.counts.classicCounts,
        context: context, flags: flags, deliver: deliver
      ) {
        $0.describe(details.descriptor)
        $0.detailed = DetailedCountsBox(details.counts)
      }
    case .sysinfoCounts, .unknown:
      break
    default:
      // Requests echoed to the client are not expected; ignore.
      break
    }
  }

  /// SRC_DESC, decoded or read in place (`describe` stores the descriptor either way).
  mutating func handleDescription(
    ref: SourceRef, providerID: ProviderID, context: UInt64, describe: (inout TrackedSource) -> Void
  ) {
    completeSpecific(context, ref: ref)
    guard let slot = track(ref, provider: providerKind(for: providerID)) else { return }
    let now = self.now
    sources.withRecord(slot: slot) { source in
      describe(&source)
      source.lastUpdated = now
    }
    announceIfReady(slot: slot)
  }

  /// SRC_COUNTS, decoded or read in place.
  mutating func handleCounts(
    ref: SourceRef, counts: Counts, context: UInt64, flags: MessageFlags, deliver: (ClientEvent) -> Bool
  ) {
    completeSpecific(context, ref: ref)
    let poll = pollKind(for: context, packed: context == 0)
    guard let slot = sources.slot(of: ref), sources[slot: slot].removedAt == nil else {
      // Counts for a source we do not hold (its SRC_ADDED was lost on our side): describe it.
      if flags.contains(.closing) || sources.slot(of: ref) != nil { return }
      track(ref, provider: nil)
      return
    }
    // The provider read before the call: read in its arguments, it made the engine copy itself
    // for the call, and retain and release everything it holds.
    let provider = sources[slot: slot].provider
    if let poll, !polled(by: poll, provider: provider) { return }
    let seenInPoll = activePolls[.counts]?.context
    let now = self.now
    let closing = flags.contains(.closing)
    let atOnce = deliversAtOnce(deliver)
    // The record stored and its update made in one access: a second one checked the table's
    // storage for sharing again.
    withRecordAndEvents(slot: slot) { source, events in
      if let seenInPoll { source.seenInPoll = seenInPoll }
      source.store(counts: counts, at: now)
      guard !closing, source.announced, source.removedAt == nil else { return }
      Self.reportUpdate(of: &source, atOnce: atOnce, deliver, else: &events)
    }
  }

  /// SRC_UPDATE / SRC_EXTENDED_UPDATE, decoded or read in place (`describe` stores the
  /// descriptor either way).
  mutating func handleUpdate(
    ref: SourceRef, providerID: ProviderID, counts: Counts, context: UInt64, flags: MessageFlags,
    deliver: (ClientEvent) -> Bool, describe: (inout TrackedSource) -> Void
  ) {
    completeSpecific(context, ref: ref)
    guard let slot = track(ref, provider: providerKind(for: providerID)) else { return }
    let poll = context == 0 ? activePolls[.updates]?.context : nil
    let now = self.now
    let atOnce = deliversAtOnce(deliver)
    // One in-place access for the whole update: reading a record's fields one by one through
    // the table copies the record each time (measured on the replay's hot path).
    let wasAnnounced = withRecordAndEvents(slot: slot) { source, events -> Bool in
      if let poll { source.seenInPoll = poll }
      let wasAnnounced = source.announced
      describe(&source)
      source.store(counts: counts, at: now)
      guard wasAnnounced, source.removedAt == nil, !flags.contains(.closing) else { return wasAnnounced }
      Self.reportUpdate(of: &source, atOnce: atOnce, deliver, else: &events)
      return true
    }
    if !wasAnnounced { announceIfReady(slot: slot) }
  }

  /// An update of `source` (if it has a stream), handed to `deliver` when `atOnce`, or queued in
  /// `events` when not, or refused: built where the listener reads it or where it is stored.
  @inline(__always)
  static func reportUpdate(
    of source: inout TrackedSource, atOnce: Bool, _ deliver: (ClientEvent) -> Bool,
    else events: inout FIFO<ClientEvent>
  ) {
    guard source.hasStream else { return }
    if atOnce, deliver(.streamStatsUpdated(source.unsafeStream)) { return }
    events.push { .streamStatsUpdated(source.unsafeStream) }
  }

  /// Runs `body` on a record in place with the event queue beside it, so that an event made
  /// from the record is queued where it is made, in the same access to the table: handed out of
  /// the record's closure first, the stream was moved twice more for every update (`callgrind`,
  /// when a stream was 176 bytes).
  @inline(__always)
  mutating func withRecordAndEvents<Result>(
    slot: Int, _ body: (inout TrackedSource, inout FIFO<ClientEvent>) -> Result
  ) -> Result {
    body(&sources[slot: slot], &eventQueue)
  }

  /// The hot path: the messages that make up nearly all of the traffic (updates, details,
  /// counts, descriptions, removals) read in place, descriptors kept as bytes. Building a
  /// ``Message`` for each, then copying and destroying it, was most of a replay's engine time
  /// for clients that poll with QUERY_SRC and describe with GET_SRC_DESC. False when the
  /// message is not one this path takes (the caller decodes it fully, and handles it the same).
  mutating func handleInPlace(_ view: MessageView, deliver: (ClientEvent) -> Bool) throws(WireError) -> Bool {
    let flags = family.hasLengthAndFlags ? view.header.flags : []
    let context = view.header.context
    let detailed: DetailedCountsBox?
    let counts: Counts
    switch view.type {
    case .sourceUpdate, .sourceExtendedUpdate:
      guard let c = try view.counts() else { return false }
      (detailed, counts) = (nil, c)
    case .sourceDetails, .sourceExtendedDetails:
      guard let d = try view.detailedCountsView()?.counts else { return false }
      (detailed, counts) = (DetailedCountsBox(d), d.classicCounts)
    case .sourceCounts:
      guard let (ref, counts) = try view.sourceCounts() else { return false }
      handleCounts(ref: ref, counts: counts.counts, context: context, flags: flags, deliver: deliver)
      return true
    case .sourceDescription:
      guard let ref = try view.sourceRef(), let (providerID, bytes, state) = try view.descriptorRegionAndState() else {
        return false
      }
      let decoder = self.decoder
      handleDescription(ref: ref, providerID: providerID, context: context) {
        $0.describe(bytes: bytes, providerID: providerID, state: state, decoder: decoder)
      }
      return true
    case .sourceRemoved:
      guard let ref = try view.sourceRef() else { return false }
      removed(ref, reason: reason(for: flags))
      return true
    default:
      return false
    }
    guard let ref = try view.sourceRef(), let (providerID, bytes, state) = try view.descriptorRegionAndState() else {
      return false
    }
    let decoder = self.decoder
    handleUpdate(
      ref: ref, providerID: providerID, counts: counts, context: context, flags: flags, deliver: deliver
    ) {
      $0.describe(bytes: bytes, providerID: providerID, state: state, decoder: decoder)
      if let detailed { $0.detailed = detailed }
    }
    return true
  }

  func reason(for flags: MessageFlags) -> RemovalReason {
    if flags.contains(.closedAfterDrop) { return .closedAfterDrop }
    if flags.contains(.closedAfterFilter) { return .closedAfterFilter }
    return .closed
  }

  func pollKind(for context: UInt64, packed: Bool) -> PollKind? {
    if packed { return activePolls[.counts] != nil ? .counts : nil }
    return activePolls.kind(forContext: context)
  }

  /// A per-source answer with our context ends that specific request (no SUCCESS follows).
  /// The test for a context inlined: most answers (a packed poll's counters) have none, and a
  /// call to learn that cost 16 instructions a counter (`callgrind`).
  @inline(__always)
  mutating func completeSpecific(_ context: UInt64, ref: SourceRef) {
    if context != 0 { completeSpecificRequest(context, ref: ref) }
  }

  mutating func completeSpecificRequest(_ context: UInt64, ref: SourceRef) {
    guard let request = pending[context] else { return }
    switch request.kind {
    case .describe(let r), .probe(let r), .refresh(let r):
      guard r == ref else { return }
      pending[context] = nil
      probeAnswered(request)
    default: break
    }
  }

  /// The slot of the source for `ref`, created (and described) if new. Nil for a ref whose
  /// source was removed: a late or duplicated message about it is ignored, unless it is the
  /// SRC_ADDED of a reused ref (`added`, ≤ xnu-3248).
  @discardableResult
  mutating func track(_ ref: SourceRef, provider: ProviderKind?, added: Bool = false) -> Int? {
    if let slot = sources.slot(of: ref) {
      if sources[slot: slot].removedAt == nil {
        if sources[slot: slot].provider == nil, let provider { sources[slot: slot].provider = provider }
        return slot
      }
      guard added else { return nil }
      sources[ref] = nil
    }
    sources.add(ref, provider: provider, at: now)
    statistics.liveSources = sources.count
    describe(ref)
    return sources.slot(of: ref)
  }

  // Both read the record in place: reading its fields through the table copied the record out
  // (retaining its box, which a retained box's next update then cannot reuse).
  mutating func announceIfReady(slot: Int) {
    let filter = configuration.filter
    let now = self.now
    let added = sources.withRecord(slot: slot) { source -> NetworkStream? in
      guard !source.announced, !source.ignored, source.hasStream else { return nil }
      if !filter.matches(source.stream.unsafelyUnwrapped) {
        source.ignored = true
        return nil
      }
      source.announced = true
      source.firstSeen = now
      return source.stream
    }
    if let added { eventQueue.push(.streamAdded(added)) }
  }

  mutating func removed(_ ref: SourceRef, reason: RemovalReason) {
    guard let slot = sources.slot(of: ref), sources[slot: slot].removedAt == nil else { return }
    let now = self.now
    // In place: a copy of the record out and back retained and released its box.
    let (stream, undescribed) = sources.withRecord(slot: slot) { source -> (NetworkStream?, Bool) in
      source.markRemoved(at: now, reason: reason)
      return (source.announced ? source.stream : nil, source.described == nil)
    }
    if reason == .closedAfterDrop { statistics.kernelDrops += 1 }
    if let stream {
      eventQueue.push(.streamRemoved(stream))
    } else if undescribed {
      statistics.undescribedRemovals += 1
    }
    purgeQueue.push((now.adding(nanoseconds: removedRetention), ref))
  }

  /// A request is over, one of three ways.
  enum RequestOutcome: Hashable, Sendable {
    /// SUCCESS (or the answer that completes a single-source request).
    case succeeded
    /// ERROR with this errno (or a `send()` that failed for lack of buffer space).
    case failed(errno: Int32)
    /// No answer within the request timeout.
    case timedOut
  }

  mutating func finish(_ request: PendingRequest, _ outcome: RequestOutcome) {
    switch request.kind {
    case .addAll(let kind):
      subscriptionAnswered(kind, outcome)
      subscribeNext()
    case .describe(let ref), .probe(let ref), .refresh(let ref):
      guard let source = sources[ref], source.removedAt == nil else { return }
      switch outcome {
      case .failed(DarwinErrno.enoent):
        statistics.lostRemovals += 1
        removed(ref, reason: .lost)
      case .failed(DarwinErrno.enobufs), .failed(DarwinErrno.enomem):
        statistics.kernelDrops += 1
        // The answer did not fit the kernel's buffer: ask again once the window frees.
        if case .describe = request.kind, source.described == nil { describe(ref) }
      case .timedOut:
        if case .describe = request.kind, source.described == nil { describe(ref) }
      case .succeeded, .failed:
        break
      }
    case .poll(let kind):
      guard var poll = activePolls.removeValue(forKey: kind), poll.context == request.context else { return }
      switch outcome {
      case .timedOut:
        // No SUCCESS: up to xnu-2422 there is no reserve for it once the answers fill the
        // buffer, so a timed-out poll means the same as ENOBUFS.
        statistics.kernelDrops += 1
        perSourceUntil = now.adding(nanoseconds: pollInterval &* 10)
      case .failed(let errno):
        poll.failed = true
        guard errno == DarwinErrno.enobufs || errno == DarwinErrno.enomem else { return }
        statistics.kernelDrops += 1
        notice(
          .kernelDropped, "\(name(of: request.kind)) answered \(errnoName(errno)); polling source by source for a while"
        )
        // The answers to one ALL poll do not fit the receive buffer: poll each source on its
        // own for ten intervals, starting now, then try ALL again.
        perSourceUntil = now.adding(nanoseconds: pollInterval &* 10)
        let soon = now.adding(nanoseconds: min(pollInterval, 50_000_000))
        nextPoll = min(nextPoll ?? soon, soon)
      case .succeeded:
        sweep(after: poll, kind: kind)
      }
    }
  }

  /// After a complete poll, a held source the kernel did not report may be one whose
  /// SRC_REMOVED was lost: probe it, and ENOENT removes it.
  mutating func sweep(after poll: ActivePoll, kind: PollKind) {
    var probes: [SourceRef] = []
    for source in sources.records
    where source.removedAt == nil && source.createdAt < poll.startedAt && source.seenInPoll != poll.context
      && polled(by: kind, provider: source.provider)
    {
      probes.append(source.ref)
    }
    guard !probes.isEmpty else {
      sweepBackoff = 0
      sweepsToSkip = 0
      return
    }
    if sweepsToSkip > 0 {
      sweepsToSkip -= 1
      statistics.sweepsDeferred += 1
      return
    }
    // Up to xnu-2782 a full buffer drops answers silently (SUCCESS still comes): this is the
    // only sign of it. Later kernels also land here after a lost SRC_REMOVED.
    notice(
      .resynchronised,
      "\(probes.count) stream(s) missing from \(name(of: .poll(kind))); probing each")
    for ref in probes.sorted() {
      request(.probe(ref), kind == .updates ? updateRequest(ref) : .querySource(ref))
    }
  }
}
