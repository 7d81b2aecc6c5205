import NtstatWire

/// Numbers of the pcapng format (IETF draft-ietf-opsawg-pcapng) that ntstat captures use.
public enum PcapngFormat {
  public static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
  public static let interfaceDescriptionType: UInt32 = 1
  public static let interfaceStatisticsType: UInt32 = 5
  public static let enhancedPacketType: UInt32 = 6
  public static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
  /// LINKTYPE_USER0: a link type reserved for private use; ntstat datagrams are not a network
  /// protocol any dissector knows, and a user type keeps tools from misreading them.
  public static let ntstatLinkType: UInt16 = 147
  /// The interface name: the kernel control's name.
  public static let controlName = "com.apple.network.statistics"

  /// An interface description naming the layout family, `com.apple.network.statistics
  /// (xnu-11215)`: Wireshark shows it as `frame.interface_description`, which is how the
  /// dissector (`ntstat wireshark-dissector`) learns the family of a capture.
  public static func interfaceDescription(_ base: String = controlName, family: LayoutFamily?) -> String {
    guard let family else { return base }
    return "\(base) (\(family.name))"
  }

  /// The family an interface description names (`… (xnu-11215)`), if any.
  public static func family(inInterfaceDescription description: String?) -> LayoutFamily? {
    guard let description, description.hasSuffix(")"), let open = description.lastIndex(of: "(") else { return nil }
    return LayoutFamily(
      rawValue: String(description[description.index(after: open)..<description.index(before: description.endIndex)]))
  }

  /// The description the recorder writes: the control's name, with or without the family.
  public static func isControlDescription(_ description: String?) -> Bool {
    guard let description else { return false }
    return description == controlName
      || family(inInterfaceDescription: description).map { description == interfaceDescription(family: $0) } == true
  }

  // Option codes.
  static let endOfOptions: UInt16 = 0
  static let comment: UInt16 = 1
  static let shbHardware: UInt16 = 2
  static let shbOS: UInt16 = 3
  static let shbUserApplication: UInt16 = 4
  static let ifName: UInt16 = 2
  static let ifDescription: UInt16 = 3
  static let ifTimestampResolution: UInt16 = 9
  static let epbFlags: UInt16 = 2
  static let epbDropCount: UInt16 = 4
  static let isbStartTime: UInt16 = 2
  static let isbEndTime: UInt16 = 3
  static let isbInterfaceReceived: UInt16 = 4
  static let isbInterfaceDropped: UInt16 = 5
  static let isbUserDelivered: UInt16 = 8

  /// Largest block the reader accepts (a datagram is at most 64 KiB; options are small).
  public static let maximumBlockLength = 1 << 20
}

/// Builds pcapng blocks (little-endian) into byte arrays; does no I/O.
public struct PcapngEncoder: Sendable {
  public init() {}

  /// Section Header Block with the capture's metadata.
  public func sectionHeader(_ metadata: CaptureMetadata) -> [UInt8] {
    var body = Bytes()
    body.u32(PcapngFormat.byteOrderMagic)
    body.u16(1)
    body.u16(0)
    body.u64(UInt64.max)  // section length unknown (-1): we stream
    var options = Options()
    options.string(PcapngFormat.shbHardware, metadata.hardware)
    options.string(PcapngFormat.shbOS, metadata.osLine)
    options.string(
      PcapngFormat.shbUserApplication,
      metadata.recorderName + (metadata.recorderVersion.map { " " + $0 } ?? ""))
    for (key, value) in metadata.keyValues { options.string(PcapngFormat.comment, "\(key)=\(value)") }
    return block(PcapngFormat.sectionHeaderType, body.bytes + options.finished)
  }

  /// A Section Header Block as another recorder writes one: only the standard `shb_os` and
  /// `shb_userappl` options, none of ntstat's comments (for importing and for tests of
  /// captures from other tools).
  public func foreignSectionHeader(os: String?, application: String?) -> [UInt8] {
    var body = Bytes()
    body.u32(PcapngFormat.byteOrderMagic)
    body.u16(1)
    body.u16(0)
    body.u64(UInt64.max)
    var options = Options()
    options.string(PcapngFormat.shbOS, os)
    options.string(PcapngFormat.shbUserApplication, application)
    return block(PcapngFormat.sectionHeaderType, body.bytes + options.finished)
  }

  /// Interface Description Block for one ntstat connection (nanosecond timestamps).
  public func interfaceDescription(name: String = PcapngFormat.controlName, description: String?) -> [UInt8] {
    var body = Bytes()
    body.u16(PcapngFormat.ntstatLinkType)
    body.u16(0)
    body.u32(0)  // snaplen 0: no limit
    var options = Options()
    options.string(PcapngFormat.ifName, name)
    options.string(PcapngFormat.ifDescription, description)
    options.raw(PcapngFormat.ifTimestampResolution, [9])
    return block(PcapngFormat.interfaceDescriptionType, body.bytes + options.finished)
  }

  /// Appends an Enhanced Packet Block for one datagram to `out` (no intermediate arrays: this
  /// runs once per recorded datagram).
  public func appendEnhancedPacket(_ frame: CapturedFrame, to out: inout [UInt8]) {
    let padded = (frame.bytes.count + 3) & ~3
    let options = frame.dropsBefore > 0 ? 8 + 12 + 4 : 8 + 4
    let total = UInt32(12 + 20 + padded + options)
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    u32(PcapngFormat.enhancedPacketType)
    u32(total)
    u32(frame.interfaceID)
    u32(UInt32(truncatingIfNeeded: frame.timestamp >> 32))
    u32(UInt32(truncatingIfNeeded: frame.timestamp))
    u32(UInt32(truncatingIfNeeded: frame.bytes.count))
    u32(UInt32(truncatingIfNeeded: frame.bytes.count))
    frame.bytes.withUnsafeBytes { out.append(contentsOf: $0) }
    for _ in frame.bytes.count..<padded { out.append(0) }
    u32(UInt32(PcapngFormat.epbFlags) | 4 << 16)  // code, length 4 (little-endian u16 pair)
    u32(frame.direction == .fromKernel ? 1 : 2)
    if frame.dropsBefore > 0 {
      u32(UInt32(PcapngFormat.epbDropCount) | 8 << 16)
      withUnsafeBytes(of: frame.dropsBefore.littleEndian) { out.append(contentsOf: $0) }
    }
    u32(0)  // opt_endofopt
    u32(total)
  }

  /// Enhanced Packet Block for one datagram; direction in `epb_flags`, drops in `epb_dropcount`.
  public func enhancedPacket(_ frame: CapturedFrame) -> [UInt8] {
    var body = Bytes()
    body.u32(frame.interfaceID)
    body.u32(UInt32(truncatingIfNeeded: frame.timestamp >> 32))
    body.u32(UInt32(truncatingIfNeeded: frame.timestamp))
    body.u32(UInt32(truncatingIfNeeded: frame.bytes.count))
    body.u32(UInt32(truncatingIfNeeded: frame.bytes.count))
    body.append(frame.bytes.array)
    body.pad()
    var options = Options()
    options.u32(PcapngFormat.epbFlags, frame.direction == .fromKernel ? 1 : 2)
    if frame.dropsBefore > 0 { options.u64(PcapngFormat.epbDropCount, frame.dropsBefore) }
    return block(PcapngFormat.enhancedPacketType, body.bytes + options.finished)
  }

  /// Interface Statistics Block written at a clean close.
  public func interfaceStatistics(interfaceID: UInt32, timestamp: UInt64, _ statistics: CaptureStatistics) -> [UInt8] {
    var body = Bytes()
    body.u32(interfaceID)
    body.u32(UInt32(truncatingIfNeeded: timestamp >> 32))
    body.u32(UInt32(truncatingIfNeeded: timestamp))
    var options = Options()
    if let t = statistics.startTime { options.timestamp(PcapngFormat.isbStartTime, t) }
    if let t = statistics.endTime { options.timestamp(PcapngFormat.isbEndTime, t) }
    if let n = statistics.framesReceived { options.u64(PcapngFormat.isbInterfaceReceived, n) }
    if let n = statistics.drops { options.u64(PcapngFormat.isbInterfaceDropped, n) }
    if let n = statistics.framesDelivered { options.u64(PcapngFormat.isbUserDelivered, n) }
    return block(PcapngFormat.interfaceStatisticsType, body.bytes + options.finished)
  }

  func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
    let total = UInt32(12 + body.count)
    var out = Bytes()
    out.u32(type)
    out.u32(total)
    out.append(body)
    out.u32(total)
    return out.bytes
  }
}

/// A little-endian byte builder.
struct Bytes {
  var bytes: [UInt8] = []
  mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func append(_ b: [UInt8]) { bytes += b }
  mutating func pad() { while bytes.count % 4 != 0 { bytes.append(0) } }
}

/// Builds an options list, ending with `opt_endofopt` when any option was added.
struct Options {
  var out = Bytes()
  var any = false

  mutating func raw(_ code: UInt16, _ value: [UInt8]) {
    out.u16(code)
    out.u16(UInt16(truncatingIfNeeded: value.count))
    out.append(value)
    out.pad()
    any = true
  }
  mutating func string(_ code: UInt16, _ value: String?) {
    guard let value, !value.isEmpty else { return }
    raw(code, Array(value.utf8.prefix(65_000)))
  }
  mutating func u32(_ code: UInt16, _ value: UInt32) {
    var b = Bytes()
    b.u32(value)
    raw(code, b.bytes)
  }
  mutating func u64(_ code: UInt16, _ value: UInt64) {
    var b = Bytes()
    b.u64(value)
    raw(code, b.bytes)
  }
  /// pcapng timestamps in options are two 32-bit halves, high first.
  mutating func timestamp(_ code: UInt16, _ value: UInt64) {
    var b = Bytes()
    b.u32(UInt32(truncatingIfNeeded: value >> 32))
    b.u32(UInt32(truncatingIfNeeded: value))
    raw(code, b.bytes)
  }
  var finished: [UInt8] {
    guard any else { return [] }
    var copy = out
    copy.u16(PcapngFormat.endOfOptions)
    copy.u16(0)
    return copy.bytes
  }
}
