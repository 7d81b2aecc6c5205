import NtstatWire

/// One network flow as the client sees it: what libntstat called a stream.
public struct NetworkStream: Hashable, Sendable, Identifiable {
  /// Cumulative counters as last reported. In details mode, computed from the detailed
  /// counters as the kernel computes `nstat_counts` (``DetailedCounts/classicCounts``).
  public var counts: Counts
  /// When the stream last changed, on the transport's clock.
  public var lastUpdated: MonotonicTime
  /// The rest, shared with the engine's record until either side changes it (``StreamState``).
  private var state: StreamState

  /// A stream showing `counts` and `state`, which must have a provider and a description.
  init(counts: Counts, lastUpdated: MonotonicTime, sharing state: StreamState) {
    self.counts = counts
    self.lastUpdated = lastUpdated
    self.state = state
  }

  /// The kernel's source ref, unique per client connection.
  public var id: SourceRef {
    get { state.id }
    set { StreamState.unique(&state).id = newValue }
  }
  public var provider: ProviderKind {
    get { state.provider! }
    set { StreamState.unique(&state).provider = newValue }
  }
  /// Details mode (xnu-12377+, ``ClientConfiguration/details``): the per-medium counters and
  /// activity bitmaps of the last SRC_DETAILS; nil otherwise.
  public var detailedCounts: DetailedCounts? { state.detailed?.value }
  /// A TCP connection seen attempting to connect (SYN_SENT, or connect-attempt counter) that
  /// never reached ESTABLISHED. Set on removal.
  public var connectionFailed: Bool {
    get { state.connectionFailed }
    set { StreamState.unique(&state).connectionFailed = newValue }
  }
  /// Why the stream was removed (set on removal).
  public var removal: RemovalReason? {
    get { state.removal }
    set { StreamState.unique(&state).removal = newValue }
  }
  /// When the stream was first described, on the transport's clock.
  public var firstSeen: MonotonicTime {
    get { state.firstSeen }
    set { StreamState.unique(&state).firstSeen = newValue }
  }
  // The descriptor and what is derived from it, shared rather than copied.
  var described: DescribedSource { state.described! }

  public var key: StreamKey { described.key }
  public var process: StreamProcess { described.process }
  /// TCP and QUIC: `t_state`.
  public var tcpState: TCPState? { described.tcpState }
  public var tcpWindows: TCPWindows? { described.tcpWindows }
  /// `ifnet_properties` (xnu-3247+).
  public var interfaceProperties: InterfaceProperties? { described.interfaceProperties }
  /// A listening socket (state LISTEN, or NSTAT_SOURCE_IS_LISTENER from xnu-10002).
  public var isListener: Bool { described.isListener }
  /// The last descriptor the kernel sent, for fields not lifted out above.
  public var descriptor: Descriptor { described.descriptor }

  /// `body` with the derived fields, in place: a renderer takes out the few it prints without
  /// copying them all (under the lock that guards them, so `body` should do nothing more, and
  /// only read them: they are lent `inout` so as not to be copied, see
  /// ``DescribedSource/withFields(details:_:)``). Without `details`, only the fields a line of
  /// text or CSV prints are current.
  package func withDerivedFields<Result>(details: Bool = true, _ body: (inout DerivedFields) -> Result) -> Result {
    described.withFields(details: details, body)
  }

  public static func == (lhs: NetworkStream, rhs: NetworkStream) -> Bool {
    guard lhs.counts == rhs.counts, lhs.lastUpdated == rhs.lastUpdated else { return false }
    if lhs.state === rhs.state { return true }
    return lhs.id == rhs.id && lhs.provider == rhs.provider && lhs.detailedCounts == rhs.detailedCounts
      && lhs.connectionFailed == rhs.connectionFailed && lhs.removal == rhs.removal && lhs.firstSeen == rhs.firstSeen
      && (lhs.described === rhs.described || lhs.described.descriptor == rhs.described.descriptor)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(id)
    hasher.combine(lastUpdated)
    hasher.combine(counts)
  }

  /// The interface class from the kernel's interface properties; before xnu-3247, only
  /// loopback is recognised (from the addresses).
  public var interfaceClass: InterfaceClass { described.interfaceClass }
}

/// Detailed counters behind one reference, so that streams and records without them stay small.
final class DetailedCountsBox: Sendable {
  let value: DetailedCounts
  init(_ value: DetailedCounts) { self.value = value }
}

/// What identifies a stream on the wire.
public struct StreamKey: Hashable, Sendable {
  /// tcp, udp, quic, conn.
  public var protocolName: String
  public var local: SocketAddress
  public var remote: SocketAddress
  public var interfaceIndex: UInt32

  /// `ipv4`, `ipv6`, or `unspecified`.
  public var addressFamily: String { Self.addressFamilyText(local, remote).description }

  /// ``addressFamily`` as static text, for writers that copy its bytes without a `String`.
  static func addressFamilyText(_ local: SocketAddress, _ remote: SocketAddress) -> StaticString {
    switch (local, remote) {
    case (.ipv6, _), (_, .ipv6): return "ipv6"
    case (.ipv4, _), (_, .ipv4): return "ipv4"
    default: return "unspecified"
    }
  }
}

/// The process that owns a stream.
public struct StreamProcess: Hashable, Sendable {
  public var pid: UInt32
  /// Unique process id: unlike pids, never reused.
  public var upid: UInt64
  public var name: String
  /// The effective (delegated) process, when the family reports it.
  public var epid: UInt32?
  public var uuid: UUIDBytes?
  public var euuid: UUIDBytes?
}

/// TCP window and buffer figures from the descriptor.
public struct TCPWindows: Hashable, Sendable {
  public var txWindow: UInt32
  public var txCongestionWindow: UInt32
  public var txUnacked: UInt32
  public var sendBufferSize: UInt32
  public var sendBufferUsed: UInt32
  public var receiveBufferSize: UInt32
  public var receiveBufferUsed: UInt32
}

/// Why a stream was reported removed.
public enum RemovalReason: String, Hashable, Sendable {
  /// SRC_REMOVED with no flags: the flow closed and its final report arrived.
  case closed
  /// CLOSED_AFTER_DROP (xnu-8019.61+): the final report could not be queued.
  case closedAfterDrop = "closed-after-drop"
  /// CLOSED_AFTER_FILTER (xnu-8019.61+): the final report was filtered.
  case closedAfterFilter = "closed-after-filter"
  /// The kernel answered ENOENT for a source the client still held: its SRC_REMOVED was lost.
  case lost
}

extension SocketAddress {
  var isLoopback: Bool {
    switch self {
    case .ipv4(let address, _): return address.isLoopback
    case .ipv6(let address, _, _, _): return address.isLoopback
    default: return false
    }
  }
}

/// What the client reports.
public enum ClientEvent: Hashable, Sendable {
  /// A stream's description is known (sent once per stream, before anything else about it).
  case streamAdded(NetworkStream)
  /// New counters from a poll.
  case streamStatsUpdated(NetworkStream)
  /// The stream is gone; its counters are final.
  case streamRemoved(NetworkStream)
  /// Something the user should know: a provider unavailable, kernel drops, a resync.
  case notice(ClientNotice)

  /// When it happened, on the transport's clock: an added stream's first sight, an update's or
  /// removal's last change, a notice's time.
  public var time: MonotonicTime {
    switch self {
    case .streamAdded(let s): return s.firstSeen
    case .streamStatsUpdated(let s), .streamRemoved(let s): return s.lastUpdated
    case .notice(let n): return n.time
    }
  }
}

/// A condition worth reporting that is not about one stream.
public struct ClientNotice: Hashable, Sendable, CustomStringConvertible {
  public enum Kind: String, Hashable, Sendable {
    /// ADD_ALL failed: the kernel does not register the provider, or refused it.
    case providerUnavailable = "provider-unavailable"
    /// The kernel could not queue a poll's answers (ERROR ENOBUFS): the client polls again.
    case kernelDropped = "kernel-dropped"
    /// Streams the kernel no longer knew were removed after a poll.
    case resynchronised
    /// A request was never answered.
    case requestTimedOut = "request-timed-out"
    /// The transport reported datagrams lost before they reached the client.
    case transportDropped = "transport-dropped"
    /// An `events()` consumer fell behind its buffer: events were dropped.
    case eventsDropped = "events-dropped"
    /// `send()` failed for lack of kernel buffer space: the request is retried after a pause.
    case sendFailed = "send-failed"
    /// Every provider asked for was refused: the client has nothing to report.
    case allProvidersRefused = "all-providers-refused"
    /// A datagram did not decode with the chosen layout family.
    case decodeFailed = "decode-failed"
    /// Details mode was asked for, and the family has no GET_DETAILS.
    case detailsUnavailable = "details-unavailable"
    /// The layout family was checked against what the kernel sent (``LayoutVerifier``).
    case layoutVerified = "layout-verified"
    /// What the kernel sent does not fit the layout family: decoding would be wrong.
    case layoutMismatch = "layout-mismatch"
  }

  public var kind: Kind
  public var time: MonotonicTime
  public var detail: String

  public var description: String { "\(kind.rawValue): \(detail)" }
}

/// What the client has seen and done.
public struct ClientStatistics: Hashable, Sendable {
  public var datagramsReceived: UInt64 = 0
  public var messagesReceived: UInt64 = 0
  public var requestsSent: UInt64 = 0
  public var errorsReceived: UInt64 = 0
  /// Malformed datagrams (decode errors), skipped.
  public var malformedDatagrams: UInt64 = 0
  /// ERROR(ENOBUFS) answers and CLOSED_AFTER_DROP removals: messages the kernel lost.
  public var kernelDrops: UInt64 = 0
  /// Datagrams the transport says were lost (socket overflow, recorder queue).
  public var transportDrops: UInt64 = 0
  public var requestTimeouts: UInt64 = 0
  /// Streams removed because the kernel answered ENOENT for them.
  public var lostRemovals: UInt64 = 0
  /// Sources removed before their description ever arrived (never reported).
  public var undescribedRemovals: UInt64 = 0
  public var polls: UInt64 = 0
  /// Polls skipped because the previous one had not finished.
  public var pollOverruns: UInt64 = 0
  public var liveSources: Int = 0
  /// `send()` calls that failed for lack of kernel buffer space (retried).
  public var sendFailures: UInt64 = 0
  /// Sweeps of missing sources put off because the kernel keeps dropping answers silently.
  public var sweepsDeferred: UInt64 = 0
  /// Providers the kernel accepted, and refused (with the errno it gave).
  public var providersSubscribed: [ProviderKind] {
    get { providers.subscribed }
    set { providers = ProviderOutcomes(subscribed: newValue, refused: providers.refused) }
  }
  public var providersRefused: [ProviderKind: Int32] {
    get { providers.refused }
    set { providers = ProviderOutcomes(subscribed: providers.subscribed, refused: newValue) }
  }
  /// Both collections behind one reference, replaced when either changes (a few times a run):
  /// the client publishes a copy of the statistics after every input, and each collection
  /// held directly was a reference to retain and release.
  private var providers = ProviderOutcomes.none

  public init() {}

  /// Becomes `other`, taking its provider lists only if they are another box. The client
  /// publishes its statistics after every input: a whole-value assignment retained the new
  /// box and released the old one each time, two atomic operations for what rarely changes.
  mutating func assign(_ other: borrowing ClientStatistics) {
    guard providers === other.providers else {
      self = copy other
      return
    }
    // The same box: every other stored property is a plain number, so copying the bytes
    // leaves this value holding the one reference it held, and the box's count as it was.
    withUnsafeMutableBytes(of: &self) { target in
      withUnsafeBytes(of: other) { target.copyMemory(from: $0) }
    }
  }
}

/// The providers a client's subscriptions were accepted and refused for. Immutable.
final class ProviderOutcomes: Hashable, Sendable {
  let subscribed: [ProviderKind]
  let refused: [ProviderKind: Int32]

  static let none = ProviderOutcomes(subscribed: [], refused: [:])

  init(subscribed: [ProviderKind], refused: [ProviderKind: Int32]) {
    self.subscribed = subscribed
    self.refused = refused
  }

  static func == (lhs: ProviderOutcomes, rhs: ProviderOutcomes) -> Bool {
    lhs === rhs || (lhs.subscribed == rhs.subscribed && lhs.refused == rhs.refused)
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(subscribed)
    hasher.combine(refused)
  }
}
