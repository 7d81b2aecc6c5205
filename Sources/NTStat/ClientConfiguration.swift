import NtstatWire

/// What a ``ClientEngine`` subscribes to, how often it polls, and what it reports.
public struct ClientConfiguration: Hashable, Sendable {
  /// Providers to subscribe to; those the family or kernel lacks are skipped with a notice.
  public var providers: [ProviderKind] = [
    .tcpKernel, .udpKernel, .tcpUserland, .udpUserland, .quicUserland, .connUserland, .udpSubflow,
  ]
  /// How often counters are polled. Sub-second values are fine: the kernel paces nothing itself.
  public var updateInterval: Duration = .seconds(1)
  /// What to report (sources that do not match are tracked, never reported).
  public var filter = StreamFilter()
  /// Force a layout family instead of the transport's.
  public var family: LayoutFamily?
  /// How long a removed source is remembered, to recognise its late messages, before it is purged.
  public var removedRetention: Duration = .seconds(10)
  /// Requests in flight at once: the kernel's receive buffer is small, so answers to many
  /// requests at once would overflow it.
  public var maxOutstandingRequests = 8
  /// A request with no answer after this long is abandoned and counted.
  public var requestTimeout: Duration = .seconds(5)
  /// The receive buffer a live transport asks for (`SO_RCVBUF`); the kernel's default is 8 KiB.
  public var receiveBufferSize = 1 << 20
  /// How counters are asked for.
  public var polling = Polling.automatic
  /// Details mode (xnu-12377+): poll and describe with GET_DETAILS instead of GET_UPDATE, so
  /// streams carry per-medium counters (``NetworkStream/detailedCounts``). The kernel then
  /// sends SRC_DETAILS for events and final reports too, for the rest of the connection. Off,
  /// the client speaks to xnu-12377 exactly as to xnu-11215. Ignored by families without it.
  public var details = false
  /// How far the layout family is trusted: the engine checks what the kernel sends against
  /// it either way (``LayoutVerifier``), and holds events back while it is only tentative.
  public var familyTrust = FamilyTrust.known

  public enum FamilyTrust: Hashable, Sendable {
    /// The kernel's version is one the family covers: a systematic mismatch stops the client.
    case known
    /// The kernel is newer than every known family and this one is assumed until the kernel's
    /// first replies bear it out (`kernel` says which kernel, for the notice).
    case tentative(kernel: String)
    /// Forced by the user (`--assume-newest`, `--family`): mismatches are reported, not fatal.
    case forced
  }

  public enum Polling: String, Hashable, Sendable, CaseIterable {
    /// GET_UPDATE (paced, packed) where the family has it, QUERY_SRC ALL before.
    case automatic
    /// As libntstat did in every family: GET_SRC_DESC for each new source and a plain,
    /// unpaced QUERY_SRC ALL each interval. For replaying libntstat recordings with matching
    /// requests.
    case plainCounts = "plain-counts"
  }

  public init() {}

  /// Reads back ``summary`` (as stored in a capture's `ntstat.configuration`), so a replay runs
  /// the client the way it was recorded. Unknown keys and values are ignored.
  public init(summary: String) {
    self.init()
    for part in summary.split(separator: " ") {
      let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
      guard pair.count == 2 else { continue }
      switch pair[0] {
      case "providers":
        let kinds = pair[1].split(separator: ",").compactMap { ProviderKind(rawValue: String($0)) }
        if !kinds.isEmpty { providers = kinds }
      case "interval_ms":
        if let ms = Int64(pair[1]), ms > 0 { updateInterval = .milliseconds(ms) }
      case "rcvbuf":
        if let bytes = Int(pair[1]) { receiveBufferSize = bytes }
      case "filter":
        filter = StreamFilter(summary: pair[1])
      case "family":
        family = LayoutFamily(rawValue: pair[1])
      case "polling":
        polling = Polling(rawValue: pair[1]) ?? .automatic
      case "details":
        details = pair[1] == "on"
      default:
        break
      }
    }
  }

  /// The configuration as `key=value` text for capture metadata.
  public var summary: String {
    var parts = [
      "providers=" + providers.map(\.rawValue).joined(separator: ","),
      "interval_ms=\(updateInterval.wholeNanoseconds / 1_000_000)",
      "rcvbuf=\(receiveBufferSize)",
    ]
    if !filter.isEmpty { parts.append("filter=" + filter.summary) }
    if let family { parts.append("family=\(family)") }
    if polling != .automatic { parts.append("polling=\(polling.rawValue)") }
    if details { parts.append("details=on") }
    return parts.joined(separator: " ")
  }
}

/// Client-side filters. Applied once a stream's description is known, the same way in every
/// family (the kernel's own filters differ between families and some are never enforced).
public struct StreamFilter: Hashable, Sendable {
  public var pids: Set<UInt32> = []
  public var processNames: Set<String> = []
  /// tcp, udp, quic, conn.
  public var protocols: Set<String> = []
  /// Matches the local or the remote port.
  public var ports: Set<UInt16> = []
  public var interfaceClasses: Set<InterfaceClass> = []
  public var skipLoopback = false

  public init() {}

  public var isEmpty: Bool { self == StreamFilter() }

  public func matches(_ stream: NetworkStream) -> Bool {
    if !pids.isEmpty, !pids.contains(stream.process.pid) { return false }
    if !processNames.isEmpty, !processNames.contains(stream.process.name) { return false }
    if !protocols.isEmpty, !protocols.contains(stream.key.protocolName) { return false }
    if !ports.isEmpty, !(stream.key.local.port.map(ports.contains) ?? false),
      !(stream.key.remote.port.map(ports.contains) ?? false)
    {
      return false
    }
    if skipLoopback || !interfaceClasses.isEmpty {
      let interfaceClass = stream.interfaceClass
      if skipLoopback, interfaceClass == .loopback { return false }
      if !interfaceClasses.isEmpty, !interfaceClasses.contains(interfaceClass) { return false }
    }
    return true
  }

  init(summary: String) {
    self.init()
    for part in summary.split(separator: ",") {
      let pair = part.split(separator: ":", maxSplits: 1).map(String.init)
      let values = pair.count == 2 ? pair[1].split(separator: "|").map(String.init) : []
      switch pair[0] {
      case "pid": pids = Set(values.compactMap { UInt32($0) })
      case "process": processNames = Set(values)
      case "protocol": protocols = Set(values)
      case "port": ports = Set(values.compactMap { UInt16($0) })
      case "interface": interfaceClasses = Set(values.compactMap { InterfaceClass(rawValue: $0) })
      case "skip-loopback": skipLoopback = true
      default: break
      }
    }
  }

  var summary: String {
    var parts: [String] = []
    if !pids.isEmpty { parts.append("pid:" + pids.sorted().map(String.init).joined(separator: "|")) }
    if !processNames.isEmpty { parts.append("process:" + processNames.sorted().joined(separator: "|")) }
    if !protocols.isEmpty { parts.append("protocol:" + protocols.sorted().joined(separator: "|")) }
    if !ports.isEmpty { parts.append("port:" + ports.sorted().map(String.init).joined(separator: "|")) }
    if !interfaceClasses.isEmpty {
      parts.append("interface:" + interfaceClasses.map(\.rawValue).sorted().joined(separator: "|"))
    }
    if skipLoopback { parts.append("skip-loopback") }
    return parts.joined(separator: ",")
  }
}

/// The kind of interface a stream runs over.
public enum InterfaceClass: String, CaseIterable, Hashable, Sendable {
  case loopback, wifi, wired, cellular, other

  /// ``rawValue`` as static text, for writers that copy its bytes without a `String`
  /// (`CanonicalJSONTests` holds the two to each other).
  var rawValueText: StaticString {
    switch self {
    case .loopback: "loopback"
    case .wifi: "wifi"
    case .wired: "wired"
    case .cellular: "cellular"
    case .other: "other"
    }
  }
}
