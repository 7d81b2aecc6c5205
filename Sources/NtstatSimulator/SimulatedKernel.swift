import NtstatWire

/// Settings of the simulated kernel control.
public struct KernelConfiguration: Hashable, Sendable {
  /// The control's receive buffer (`net.stats.recvspace`, 8192 from xnu-2782); a client may
  /// raise it as `setsockopt(SO_RCVBUF)` does.
  public var receiveBufferSize = 8192
  /// Whether the client holds `PRIV_NET_PRIVILEGED_NETWORK_STATISTICS` (root, or a MAC policy
  /// grant). Unprivileged clients get EPERM for SUBSCRIBE_SYSINFO and, from 8792.61.2, for
  /// ADD_ALL on conn and UDP-subflow.
  public var privileged = true
  /// The exact kernel whose behaviour is modelled (nil: the family's newest public tag).
  /// Some rules changed inside a family (``KernelBehaviour/eagainOnPlainQuery``).
  public var xnu: XNUVersion?
  /// The Darwin release the kernel reports (`uname -r`), to simulate a kernel newer than the
  /// family it speaks (nil: the release of the family's modelled tag).
  public var reportedRelease: DarwinVersion?
  /// Layouts changed from the family's, as a kernel newer than the library might have them.
  public var layoutChange: LayoutChange?

  public init(
    receiveBufferSize: Int = 8192, privileged: Bool = true, xnu: XNUVersion? = nil,
    reportedRelease: DarwinVersion? = nil, layoutChange: LayoutChange? = nil
  ) {
    self.receiveBufferSize = receiveBufferSize
    self.privileged = privileged
    self.xnu = xnu
    self.reportedRelease = reportedRelease
    self.layoutChange = layoutChange
  }
}

/// Counters of what the simulated kernel did.
public struct KernelStatistics: Hashable, Sendable {
  public var requests: UInt64 = 0
  public var datagramsQueued: UInt64 = 0
  public var messagesQueued: UInt64 = 0
  public var bytesQueued: UInt64 = 0
  /// Datagrams refused by the receive buffer (`kcs_enqueue_fullsock`).
  public var enobufs: UInt64 = 0
  public var errorsSent: UInt64 = 0
  /// Unsolicited SRC_ADDED that did not fit: the kernel frees the source and never tells.
  public var sourcesNotAdded: UInt64 = 0
  /// Packed datagrams whose flush failed: freed, and the query still answered SUCCESS
  /// (`nstat_flush_accumulated_msgs`), so the client is never told.
  public var packedDatagramsLost: UInt64 = 0
  /// Requests whose ERROR did not fit either: `send()` itself failed with ENOBUFS.
  public var failedSends: UInt64 = 0
  /// ERROR(EAGAIN) sent to cancel an open paced query.
  public var pacedQueriesCancelled: UInt64 = 0

  public init() {}
}

/// The kernel side of one `com.apple.network.statistics` client socket, modelled on
/// `bsd/net/ntstat.c` for one layout family. Sans-IO: it takes request datagrams and time and
/// queues reply datagrams, which the client collects with ``receive()`` as it would with
/// `recv()`. The host it reports on is a ``Workload``.
public struct SimulatedKernel: Sendable {
  public let behaviour: KernelBehaviour
  public var family: LayoutFamily { behaviour.family }
  public let configuration: KernelConfiguration
  public let workload: Workload
  let encoder: MessageEncoder
  let decoder: MessageDecoder
  let patcher: UpdatePatcher?
  /// Every flow of the workload by id, dead or alive (a goodbye describes a dead one).
  let plans: [Int: FlowRecord]

  public internal(set) var now = MonotonicTime.zero
  public internal(set) var statistics = KernelStatistics()
  var queue: ReceiveQueue

  // The host: flows that exist now, and what happens next.
  var nextOpen = 0
  var events = EventHeap()
  var live: [Int: FlowPlan] = [:]
  /// Live flow ids per provider, in creation order (the watcher walks newest first).
  var liveOrder: [ProviderKind: [Int]] = [:]

  // The client state (`nstat_control_state`).
  var subscriptions: [ProviderKind: Subscription] = [:]
  var sources: [SourceRef: KernelSource] = [:]
  /// Source refs in insertion order; removed ones are dropped lazily. Reports walk it
  /// backwards, newest first, as the kernel's head-inserted list does.
  var order: [SourceRef] = []
  var sourceByFlow: [Int: SourceRef] = [:]
  var nextRef: UInt64 = 0
  /// NSTAT_FLAG_SUPPORTS_UPDATES.
  var supportsUpdates = false
  /// NSTAT_FLAG_SUPPORTS_DETAILS (12377): set by the first GET_DETAILS, never cleared.
  var supportsDetails = false
  /// NSTAT_FLAG_REQCOUNTS (≤10063 idle check).
  var requestedCounts = true
  /// `ncs_context`/`ncs_seq` of an open paced query.
  var queryContext: UInt64 = 0
  var querySequence: UInt64 = 0
  var truth: GroundTruthLedger

  struct Subscription: Hashable, Sendable {
    var filter: UInt64
    var events: UInt64
  }

  struct KernelSource: Hashable, Sendable {
    var ref: SourceRef
    var provider: ProviderKind
    var object: Object
    /// Per-source SET_FILTER / PROVIDER_NOZEROBYTES (only NOZEROBYTES is meaningful).
    var filter: UInt32 = 0
    var sequence: UInt64 = 0
  }

  enum Object: Hashable, Sendable {
    case flow(Int)
    case interface(UInt32)
    case sysinfo
  }

  public init(family: LayoutFamily, workload: Workload, configuration: KernelConfiguration = KernelConfiguration()) {
    behaviour = KernelBehaviour(family: family, xnu: configuration.xnu)
    self.configuration = configuration
    self.workload = workload
    encoder = MessageEncoder(family: family)
    decoder = MessageDecoder(family: family)
    patcher = UpdatePatcher(family: family)
    queue = ReceiveQueue(capacity: configuration.receiveBufferSize, criticalReserve: behaviour.criticalReserve)
    truth = GroundTruthLedger()
    plans = Dictionary(workload.flows.map { ($0.id, FlowRecord($0)) }, uniquingKeysWith: { first, _ in first })
    events.push(.idleCheck, at: .seconds(60))
  }

  // MARK: Socket side

  /// The next datagram for the client, as `recv()` returns it.
  public mutating func receive() -> [UInt8]? { queue.dequeue() }

  /// The refs of the sources this client socket has now.
  public var liveSourceRefs: [SourceRef] { sources.keys.sorted() }

  /// Datagrams waiting in the receive buffer.
  public var queuedDatagrams: Int { queue.count }

  /// As `setsockopt(SO_RCVBUF)` on the client's socket.
  public mutating func setReceiveBufferSize(_ bytes: Int) { queue.resize(to: bytes) }

  /// When the host next changes on its own (a flow opens, closes or dies, the idle check).
  public var nextEventTime: MonotonicTime? {
    let open = nextOpen < workload.flows.count ? workload.flows[nextOpen].openAt : nil
    switch (open, events.earliest) {
    case (let a?, let b?): return min(a, b)
    case (let a?, nil): return a
    case (nil, let b): return b
    }
  }

  // MARK: Time

  /// Runs the host up to `time`: flows open and close, sources are added and removed, and the
  /// unsolicited messages that causes are queued.
  public mutating func advance(to time: MonotonicTime) {
    while true {
      let open = nextOpen < workload.flows.count ? workload.flows[nextOpen].openAt : nil
      let scheduled = events.earliest
      if let open, open <= time, scheduled.map({ open <= $0 }) ?? true {
        now = max(now, open)
        openFlow(workload.flows[nextOpen])
        nextOpen += 1
      } else if let scheduled, scheduled <= time, let entry = events.pop() {
        now = max(now, scheduled)
        handle(entry.event)
      } else {
        break
      }
    }
    now = max(now, time)
  }

  mutating func handle(_ event: WorldEvent) {
    switch event {
    case .close(let id):
      // ≤2422: a pcb in TIME_WAIT counts as gone; it is reported at the next query or idle
      // check. Nothing is sent now.
      _ = id
    case .detach(let id):
      detachFlow(id)
    case .idleCheck:
      idleCheck()
      events.push(.idleCheck, at: now.adding(nanoseconds: 60_000_000_000))
    }
  }

  mutating func openFlow(_ flow: FlowPlan) {
    live[flow.id] = flow
    liveOrder[flow.provider, default: []].append(flow.id)
    truth.opened(flow)
    if let closeAt = flow.closeAt { events.push(.close(flowID: flow.id), at: closeAt) }
    if let detachAt = detachTime(flow) { events.push(.detach(flowID: flow.id), at: detachAt) }
    if let subscription = subscriptions[flow.provider] {
      // `nstat_tcp_new_pcb` / the provider's new-flow hook → `nstat_control_source_add`.
      _ = addWatchedSource(flow, subscription: subscription, context: 0)
    }
  }

  /// When ntstat hears of the pcb's end: at TIME_WAIT entry from 3247 (`add_to_time_wait` →
  /// `nstat_pcb_detach`), otherwise when the pcb is freed (`in_pcbdetach`).
  func detachTime(_ flow: FlowPlan) -> MonotonicTime? {
    if flow.isKernelTCP, behaviour.timeWaitDetaches { return flow.closeAt }
    return flow.deadAt
  }

  /// `nstat_tcp_gone`/`nstat_udp_gone` for a source whose object still exists.
  func isGone(_ source: KernelSource) -> Bool {
    guard case .flow(let id) = source.object, let flow = live[id] else { return false }
    return flow.isKernelTCP && behaviour.timeWaitIsGone && flow.state(at: now) == .timeWait
  }

  mutating func detachFlow(_ id: Int) {
    guard let flow = live.removeValue(forKey: id) else { return }
    liveOrder[flow.provider]?.removeAll { $0 == id }
    truth.detached(id, at: now, counts: familyCounts(flow.counts(at: now)))
    if let ref = sourceByFlow[id], let source = sources[ref] {
      sendGoodbye(source, liveFlow: flow)
    }
  }

  /// `nstat_idle_check`: sources whose object is gone are cleaned up (with their goodbye).
  /// Up to 10063 a client that polled QUERY_SRC ALL since the last check is skipped.
  mutating func idleCheck() {
    if behaviour.idleCheckHonoursQueries, requestedCounts {
      requestedCounts = false
      return
    }
    for ref in order.reversed() {
      guard let source = sources[ref], isGone(source), case .flow(let id) = source.object, let flow = live[id]
      else { continue }
      sendGoodbye(source, liveFlow: flow)
    }
  }

  // MARK: Sources

  mutating func allocateRef() -> SourceRef {
    if family >= .xnu3789 {
      // `nstat_control_next_src_ref`: `++ncs_next_srcref`, never reused.
      nextRef += 1
      return SourceRef(nextRef)
    }
    // ≤3248: the first value from the counter that is not in use, skipping 0 and ALL.
    for _ in 0..<1000 {
      nextRef = nextRef >= 0xFFFF_FFFE ? 1 : nextRef + 1
      let candidate = SourceRef(nextRef)
      if sources[candidate] == nil { return candidate }
    }
    return .invalid
  }

  mutating func insert(_ source: KernelSource) {
    sources[source.ref] = source
    order.append(source.ref)
    if case .flow(let id) = source.object {
      sourceByFlow[id] = source.ref
      truth.sourceCreated(id, ref: source.ref)
    }
  }

  mutating func removeSource(_ ref: SourceRef) {
    guard let source = sources.removeValue(forKey: ref) else { return }
    if case .flow(let id) = source.object { sourceByFlow[id] = nil }
    if order.count > 64, sources.count * 2 < order.count {
      order.removeAll { sources[$0] == nil }
    }
  }

  /// `nstat_control_source_add` for a watched provider: the source exists only if its
  /// SRC_ADDED was queued (or suppressed).
  mutating func addWatchedSource(_ flow: FlowPlan, subscription: Subscription, context: UInt64) -> Bool {
    let ref = allocateRef()
    guard ref != .invalid else { return false }
    let source = KernelSource(
      ref: ref, provider: flow.provider, object: .flow(flow.id),
      filter: subscription.filter & ProviderFilter.noZeroBytes(family) != 0 ? 1 : 0)
    if subscription.filter & behaviour.suppressSourceAddedFilter != 0, behaviour.modernHeader {
      insert(source)
      return true
    }
    let added = Message(
      context: context, .sourceAdded(SourceAdded(sourceRef: ref, provider: providerID(flow.provider))))
    guard enqueue([added], critical: false) else {
      statistics.sourcesNotAdded += 1
      truth.addDropped(flow.id)
      return false
    }
    insert(source)
    return true
  }

  func providerID(_ kind: ProviderKind) -> ProviderID {
    family.providerID(for: kind) ?? ProviderID(rawValue: 0)
  }

  /// `nstat_control_reporting_allowed`: the provider's interface filter (3247+).
  func reportingAllowed(_ source: KernelSource) -> Bool {
    guard let subscription = subscriptions[source.provider], case .flow(let id) = source.object,
      let flow = plans[id]?.plan
    else { return true }
    let accept = subscription.filter & behaviour.interfaceFilterMask
    guard accept != 0 else { return true }
    return accept & UInt64(flow.interface.kind.properties.rawValue) != 0
  }

  /// `nstat_control_send_goodbye` (3247+) or the counts/description/removed sequence of
  /// `nstat_pcb_detach` (≤2782), then the source is gone.
  mutating func sendGoodbye(_ source: KernelSource, liveFlow: FlowPlan?) {
    var removedFlags: MessageFlags = []
    if !behaviour.modernHeader {
      _ = enqueue([countsMessage(source, context: 0)], critical: false)
      if !isGone(source), let description = descriptionMessage(source, context: 0) {
        _ = enqueue([description], critical: false)
      }
    } else if reportingAllowed(source) {
      var delivered = true
      // `nstat_client_send_goodbye` (12377): details first, then updates, then counts and
      // description. `nstat_client_send_details` fails (EOPNOTSUPP) for a provider without
      // `nstat_details`, which the removal then reports as CLOSED_AFTER_DROP.
      if supportsDetails {
        delivered =
          providerReportsDetails(source.provider)
          && enqueue([detailsMessage(source, context: 0, flags: .closing)], critical: false)
      } else if supportsUpdates {
        delivered = enqueue([updateMessage(source, context: 0, flags: .closing)], critical: false)
      } else {
        delivered = enqueue([countsMessage(source, context: 0, flags: .closing)], critical: false)
        if let description = descriptionMessage(source, context: 0, flags: .closing) {
          delivered = enqueue([description], critical: false) && delivered
        }
      }
      if !delivered { removedFlags.insert(.closedAfterDrop) }
    } else {
      removedFlags.insert(.closedAfterFilter)
    }
    if !behaviour.closedAfterFlags { removedFlags = [] }
    let removed = Message(context: 0, flags: removedFlags, .sourceRemoved(source.ref))
    let reported = enqueue([removed], critical: true)
    if case .flow(let id) = source.object { truth.removed(id, delivered: reported, flags: removedFlags) }
    removeSource(source.ref)
  }

  // MARK: Queueing

  /// Encodes and queues one datagram; false (and a counted ENOBUFS) if it does not fit.
  mutating func enqueue(_ messages: [Message], critical: Bool) -> Bool {
    guard let datagram = try? encoder.encodeDatagram(messages, settingLength: true) else { return false }
    return enqueue(datagram: datagram, messages: messages.count, critical: critical)
  }

  mutating func enqueue(datagram original: [UInt8], messages: Int, critical: Bool) -> Bool {
    var datagram = original
    if let layoutChange = configuration.layoutChange { datagram = layoutChange.apply(to: datagram, decoder: decoder) }
    guard queue.enqueue(datagram, critical: critical) else {
      statistics.enobufs += 1
      return false
    }
    statistics.datagramsQueued += 1
    statistics.messagesQueued += UInt64(messages)
    statistics.bytesQueued += UInt64(datagram.count)
    return true
  }

  /// What `uname` says on this kernel: its Darwin release and an XNU version string.
  public var reportedKernel: KernelVersion {
    if let release = configuration.reportedRelease {
      let xnu = KernelBehaviour.xnu(forDarwinMajor: release.major) ?? behaviour.xnu
      return KernelVersion(darwin: release, xnu: xnu)
    }
    return KernelVersion(darwin: KernelBehaviour.darwinRelease(of: behaviour.xnu), xnu: behaviour.xnu)
  }

  /// `uname -v` as the kernel would print it.
  public var reportedVersionString: String {
    let kernel = reportedKernel
    let release = kernel.darwin.map(\.description) ?? "?"
    let build = (kernel.xnu ?? behaviour.xnu).description.dropFirst(4)
    return "Darwin Kernel Version \(release): simulated; root:xnu-\(build)~1/RELEASE_ARM64_T8103"
  }

  /// The ground truth so far: every flow the host had, what the client was told.
  public var groundTruth: [GroundTruthRecord] { truth.records(workload: workload, now: now) }
}

/// Provider-filter bits whose value moved between families.
enum ProviderFilter {
  /// `NSTAT_FILTER_PROVIDER_NOZEROBYTES`: 0x100 in 3247, 0x400000 from 3789.
  static func noZeroBytes(_ family: LayoutFamily) -> UInt64 {
    family >= .xnu3789 ? 0x40_0000 : family >= .xnu3247 ? 0x100 : 0
  }
}
