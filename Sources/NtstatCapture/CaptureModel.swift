import NtstatWire

/// One ntstat datagram as recorded: when, which way, on which connection, and its bytes.
public struct CapturedFrame: Hashable, Sendable {
  /// Nanoseconds since the Unix epoch (wall clock derived from a monotonic clock anchored once
  /// at the start of recording, so it never goes backwards within a capture).
  public var timestamp: UInt64
  public var direction: Direction
  /// The pcapng interface (one per ntstat connection) within its section.
  public var interfaceID: UInt32
  /// The datagram exactly as read from or written to the socket. A frame read from a capture
  /// holds a range of the reader's memory, not an array of its own (``DatagramBytes``).
  public var bytes: DatagramBytes
  /// Datagrams lost just before this one (kernel ENOBUFS, failed sends, recorder overflow).
  public var dropsBefore: UInt64
  /// The contexts of a kernel datagram's messages, noted by the capture reader while its bytes
  /// were in cache (``notePackedContexts()``); `unknown` for frames made in memory. Derived
  /// from ``bytes``, so not part of equality; and not kept in step with them: a frame whose
  /// bytes were changed after reading is noted again before it is replayed (`FrameSource`).
  package var packedContexts = PackedContexts.unknown

  public init(
    timestamp: UInt64, direction: Direction, interfaceID: UInt32 = 0, bytes: DatagramBytes, dropsBefore: UInt64 = 0
  ) {
    self.timestamp = timestamp
    self.direction = direction
    self.interfaceID = interfaceID
    self.bytes = bytes
    self.dropsBefore = dropsBefore
  }

  /// A frame of the datagram in `bytes`.
  public init(timestamp: UInt64, direction: Direction, interfaceID: UInt32 = 0, bytes: [UInt8], dropsBefore: UInt64 = 0)
  {
    self.init(
      timestamp: timestamp, direction: direction, interfaceID: interfaceID, bytes: DatagramBytes(bytes),
      dropsBefore: dropsBefore)
  }

  /// A frame read from a capture, with its note of the bytes' contexts.
  package init(
    timestamp: UInt64, direction: Direction, interfaceID: UInt32, bytes: DatagramBytes, dropsBefore: UInt64,
    packedContexts: PackedContexts
  ) {
    self.init(
      timestamp: timestamp, direction: direction, interfaceID: interfaceID, bytes: bytes, dropsBefore: dropsBefore)
    self.packedContexts = packedContexts
  }

  /// Notes ``packedContexts`` afresh from the bytes.
  package mutating func notePackedContexts() {
    let direction = direction
    packedContexts = bytes.withUnsafeBytes { PackedContexts(datagram: $0, direction: direction) }
  }

  public static func == (lhs: CapturedFrame, rhs: CapturedFrame) -> Bool {
    lhs.timestamp == rhs.timestamp && lhs.direction == rhs.direction && lhs.interfaceID == rhs.interfaceID
      && lhs.bytes == rhs.bytes && lhs.dropsBefore == rhs.dropsBefore
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(timestamp)
    hasher.combine(direction)
    hasher.combine(interfaceID)
    hasher.combine(bytes)
    hasher.combine(dropsBefore)
  }
}

/// What replay needs to know about a recording, so that nothing is passed by hand.
/// Stored in standard pcapng options where one exists and as `key=value` comments otherwise
/// (docs/capture-format.md).
public struct CaptureMetadata: Hashable, Sendable {
  /// `kern.version`, e.g. `Darwin Kernel Version 24.5.0: …; root:xnu-11417.121.6~2/RELEASE_ARM64_T6000`.
  public var kernelVersion: String?
  /// `kern.osrelease`, e.g. `24.5.0`.
  public var darwinRelease: String?
  public var macOSVersion: String?
  public var macOSBuild: String?
  /// `hw.model` and architecture, e.g. `MacBookPro18,3 arm64`.
  public var hardware: String?
  /// Omitted with `--anonymize`.
  public var hostName: String?
  public var recorderName: String = "ntstat"
  public var recorderVersion: String?
  /// The layout family the recorder decoded with.
  public var family: LayoutFamily?
  /// Client configuration (providers, interval, filters), as the recorder describes it.
  public var configuration: String?
  /// `SO_RCVBUF` of the recorded socket.
  public var receiveBufferSize: Int?
  /// True for captures produced by the simulator rather than a Mac's kernel.
  public var simulated: Bool = false
  /// Other `key=value` pairs found in a capture, kept in order.
  public var extra: [String: String] = [:]

  public init() {}

  /// `shb_os`: the operating system line.
  var osLine: String? {
    let parts = [
      macOSVersion.map { "macOS \($0)" }, macOSBuild.map { "(\($0))" }, darwinRelease.map { "Darwin \($0)" },
    ].compactMap { $0 }
    if parts.isEmpty { return simulated ? "ntstat simulator" : nil }
    return parts.joined(separator: " ") + (simulated ? " (simulated)" : "")
  }

  /// `key=value` pairs written as comments, in a fixed order (keys `ntstat.…`, then the extras).
  public var keyValues: [(String, String)] {
    var pairs: [(String, String)] = []
    func add(_ key: String, _ value: String?) { if let value { pairs.append((key, value)) } }
    add("ntstat.kernel_version", kernelVersion)
    add("ntstat.darwin_release", darwinRelease)
    add("ntstat.macos_version", macOSVersion)
    add("ntstat.macos_build", macOSBuild)
    add("ntstat.hardware", hardware)
    add("ntstat.hostname", hostName)
    add("ntstat.recorder", recorderName)
    add("ntstat.recorder_version", recorderVersion)
    add("ntstat.family", family?.name)
    add("ntstat.configuration", configuration)
    add("ntstat.rcvbuf", receiveBufferSize.map(String.init))
    add("ntstat.simulated", simulated ? "true" : nil)
    for key in extra.keys.sorted() { pairs.append((key, extra[key] ?? "")) }
    return pairs
  }

  mutating func apply(key: String, value: String) {
    switch key {
    case "ntstat.kernel_version": kernelVersion = value
    case "ntstat.darwin_release": darwinRelease = value
    case "ntstat.macos_version": macOSVersion = value
    case "ntstat.macos_build": macOSBuild = value
    case "ntstat.hardware": hardware = value
    case "ntstat.hostname": hostName = value
    case "ntstat.recorder": recorderName = value
    case "ntstat.recorder_version": recorderVersion = value
    case "ntstat.family": family = LayoutFamily(rawValue: value)
    case "ntstat.configuration": configuration = value
    case "ntstat.rcvbuf": receiveBufferSize = Int(value)
    case "ntstat.simulated": simulated = value == "true"
    default: extra[key] = value
    }
  }
}

/// Counters written in the Interface Statistics Block when a recording closes cleanly.
public struct CaptureStatistics: Hashable, Sendable {
  public var startTime: UInt64?
  public var endTime: UInt64?
  public var framesReceived: UInt64?
  public var drops: UInt64?
  public var framesDelivered: UInt64?

  public init(
    startTime: UInt64? = nil, endTime: UInt64? = nil, framesReceived: UInt64? = nil, drops: UInt64? = nil,
    framesDelivered: UInt64? = nil
  ) {
    self.startTime = startTime
    self.endTime = endTime
    self.framesReceived = framesReceived
    self.drops = drops
    self.framesDelivered = framesDelivered
  }
}

/// One pcapng interface: in our captures, one ntstat connection.
public struct CaptureInterface: Hashable, Sendable {
  public var linkType: UInt16
  public var name: String?
  public var description: String?
  /// Timestamp units per second (10^9 for ours).
  public var timestampsPerSecond: UInt64
  /// Whether this interface carries ntstat datagrams (our link type).
  public var isNtstat: Bool { linkType == PcapngFormat.ntstatLinkType }

  public init(linkType: UInt16, name: String?, description: String?, timestampsPerSecond: UInt64) {
    self.linkType = linkType
    self.name = name
    self.description = description
    self.timestampsPerSecond = timestampsPerSecond
  }
}

/// What a capture reader yields, in file order.
public enum CaptureRecord: Hashable, Sendable {
  /// A new section starts (a capture's beginning; concatenated captures have several).
  // Indirect: the metadata is 176 bytes, and every frame record would move that much.
  indirect case section(CaptureMetadata)
  indirect case interface(CaptureInterface)
  case frame(CapturedFrame)
  indirect case statistics(interfaceID: UInt32, CaptureStatistics)
}
