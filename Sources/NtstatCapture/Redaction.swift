import NtstatWire

/// What ``Redactor`` replaces besides addresses, names, UUIDs and the host name.
public struct RedactionOptions: Hashable, Sendable {
  /// The pseudonyms' key (16 bytes). The same key gives the same pseudonyms; it is never
  /// written into the output.
  public var key: [UInt8]
  /// Replace ports too (kept by default: they say which service, not who).
  public var ports = false
  /// Zero the traffic counters too (kept by default).
  public var counters = false

  public init(key: [UInt8], ports: Bool = false, counters: Bool = false) {
    self.key = key
    self.ports = ports
    self.counters = counters
  }

  /// A fresh random key (the default: pseudonyms that nobody can recompute).
  public static func randomKey() -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
  }

  /// What the output's metadata says was done (never the key).
  public var summary: String {
    var parts = ["addresses (prefix-preserving)", "process names", "UUIDs", "domain names", "host name"]
    if ports { parts.append("ports") }
    if counters { parts.append("counters") }
    return parts.joined(separator: ", ") + "; keyed pseudonyms"
  }
}

/// Redacts a capture's datagrams for sharing: every address, process name, UUID and domain
/// string becomes a consistent, keyed pseudonym, in every message kind of every family (kernel
/// messages, requests, and the requests echoed in ERROR), so the redacted capture replays to
/// the same structure: the same streams, counters and events. Sans-IO: datagrams in, datagrams
/// out.
///
/// - IPv4: the /24 prefix maps to a pseudonymous prefix in 10.0.0.0/8 (the same /24 always to
///   the same prefix), the last byte is kept. IPv6: the /64 prefix maps into fd00::/8, the
///   interface identifier (which can embed a MAC address) to a pseudonym of its own. Loopback,
///   link-local, unspecified and IPv4-mapped structure are kept.
/// - Process names become `p-` and 8 hex digits; UUIDs a keyed UUID (zero stays zero); domain
///   names, owners, tracker contexts and bundle ids `d-` and hex; NECP TLVs and unknown item bytes
///   are zeroed.
/// - A datagram that does not decode cannot be checked, so it is dropped and counted.
public struct Redactor: Sendable {
  public let family: LayoutFamily
  public let options: RedactionOptions
  let decoder: MessageDecoder
  let encoder: MessageEncoder
  let hash: SipHash24
  /// Datagrams dropped because they did not decode.
  public private(set) var dropped: UInt64 = 0

  public init(family: LayoutFamily, options: RedactionOptions) {
    self.family = family
    self.options = options
    decoder = MessageDecoder(family: family)
    encoder = MessageEncoder(family: family)
    hash = SipHash24(key: options.key)
  }

  /// Counts a datagram left out by the caller.
  public mutating func countDrop() { dropped += 1 }

  /// The datagram with everything private replaced; nil when it does not decode (dropped).
  public mutating func redact(_ datagram: [UInt8], direction: Direction) -> [UInt8]? {
    guard let messages = try? decoder.decode(datagram, direction: direction) else {
      dropped += 1
      return nil
    }
    do {
      return try encoder.encodeDatagram(messages.map { redact($0, direction: direction) }, settingLength: false)
    } catch {
      dropped += 1
      return nil
    }
  }

  func redact(_ message: Message, direction: Direction) -> Message {
    var message = message
    message.trailingBytes = [UInt8](repeating: 0, count: message.trailingBytes.count)
    switch message.body {
    case .sourceDescription(var body):
      body.descriptor = redact(body.descriptor)
      message.body = .sourceDescription(body)
    case .sourceCounts(var body):
      body.counts = redact(body.counts)
      message.body = .sourceCounts(body)
    case .sourceUpdate(var body):
      body = redact(body)
      message.body = .sourceUpdate(body)
    case .sourceExtendedUpdate(var body):
      body = redact(body)
      message.body = .sourceExtendedUpdate(body)
    case .sourceDetails(var body):
      body = redact(body)
      message.body = .sourceDetails(body)
    case .sourceExtendedDetails(var body):
      body = redact(body)
      message.body = .sourceExtendedDetails(body)
    case .addSource(var request):
      request.parameters = redact(request.parameters)
      message.body = .addSource(request)
    case .error(var reply):
      // The request echoed after the error is a request like any other.
      if !reply.failedRequest.isEmpty {
        var copy = self
        reply.failedRequest =
          copy.redact(reply.failedRequest, direction: .toKernel)
          ?? [UInt8](repeating: 0, count: reply.failedRequest.count)
      }
      message.body = .error(reply)
    case .unknown(let type, let payload):
      message.body = .unknown(type: type, payload: [UInt8](repeating: 0, count: payload.count))
    default:
      break
    }
    return message
  }

  func redact(_ update: SourceUpdate) -> SourceUpdate {
    var update = update
    update.counts = redact(update.counts)
    update.descriptor = redact(update.descriptor)
    update.items = redact(update.items)
    return update
  }

  func redact(_ details: SourceDetails) -> SourceDetails {
    var details = details
    if options.counters { details.counts = DetailedCounts() }
    details.descriptor = redact(details.descriptor)
    details.items = redact(details.items)
    return details
  }

  /// Extension items: names pseudonymised, addresses and UUIDs keyed, opaque bytes zeroed.
  func redact(_ items: [ExtendedItem]) -> [ExtendedItem] {
    items.map { item in
      var item = item
      switch item.payload {
      case .domain(var info):
        info.domainName = pseudonym(info.domainName, prefix: "d-")
        info.domainOwner = pseudonym(info.domainOwner, prefix: "d-")
        info.trackerContext = pseudonym(info.trackerContext, prefix: "d-")
        info.attributedBundleID = pseudonym(info.attributedBundleID, prefix: "d-")
        info.remote = info.remote.map(redact)
        info.opaque = [UInt8](repeating: 0, count: info.opaque.count)
        item.payload = .domain(info)
      case .flowUUID(let uuid):
        item.payload = .flowUUID(redact(uuid))
      case .bytes(let bytes):
        item.payload = .bytes([UInt8](repeating: 0, count: bytes.count))
      case .bluetoothCounts:
        break
      }
      return item
    }
  }

  func redact(_ descriptor: Descriptor) -> Descriptor {
    switch descriptor {
    case .tcp(var d):
      (d.local, d.remote) = (redact(d.local), redact(d.remote))
      d.processName = pseudonym(d.processName, prefix: "p-")
      (d.uuid, d.euuid, d.vuuid, d.fuuid) = (
        d.uuid.map(redact), d.euuid.map(redact), d.vuuid.map(redact), d.fuuid.map(redact)
      )
      return .tcp(d)
    case .udp(var d):
      (d.local, d.remote) = (redact(d.local), redact(d.remote))
      d.processName = pseudonym(d.processName, prefix: "p-")
      (d.uuid, d.euuid, d.vuuid, d.fuuid) = (
        d.uuid.map(redact), d.euuid.map(redact), d.vuuid.map(redact), d.fuuid.map(redact)
      )
      return .udp(d)
    case .connection(var d):
      d.processName = pseudonym(d.processName, prefix: "p-")
      (d.uuid, d.euuid, d.cuuid, d.puuid, d.fuuid) = (
        redact(d.uuid), redact(d.euuid), redact(d.cuuid), redact(d.puuid), redact(d.fuuid)
      )
      return .connection(d)
    case .route(var d):
      (d.destination, d.mask, d.gateway) = (redact(d.destination), d.mask, redact(d.gateway))
      d.opaque = [UInt8](repeating: 0, count: d.opaque.count)
      return .route(d)
    case .ifnet(var d):
      // The interface's name (en0) says nothing; its description can be a device's given name.
      d.interfaceDescription = pseudonym(d.interfaceDescription, prefix: "if-")
      return .ifnet(d)
    case .sysinfo:
      return descriptor
    }
  }

  func redact(_ parameters: AddSourceParameters) -> AddSourceParameters {
    switch parameters {
    case .socket(let local, let remote): return .socket(local: redact(local), remote: redact(remote))
    case .route(let destination, let mask, let ifindex):
      return .route(destination: redact(destination), mask: mask, ifindex: ifindex)
    case .raw(let bytes): return .raw([UInt8](repeating: 0, count: bytes.count))
    case .ifnet, .sysinfo: return parameters
    }
  }

  func redact(_ counts: Counts) -> Counts {
    guard options.counters else { return counts }
    var zeroed = Counts()
    // Which per-medium counters the family has stays visible (their presence is layout).
    zeroed.cellRxBytes = counts.cellRxBytes.map { _ in 0 }
    zeroed.cellTxBytes = counts.cellTxBytes.map { _ in 0 }
    zeroed.wifiRxBytes = counts.wifiRxBytes.map { _ in 0 }
    zeroed.wifiTxBytes = counts.wifiTxBytes.map { _ in 0 }
    zeroed.wiredRxBytes = counts.wiredRxBytes.map { _ in 0 }
    zeroed.wiredTxBytes = counts.wiredTxBytes.map { _ in 0 }
    zeroed.connectAttempts = counts.connectAttempts
    zeroed.connectSuccesses = counts.connectSuccesses
    return zeroed
  }

  // MARK: Pseudonyms

  public func redact(_ address: SocketAddress) -> SocketAddress {
    switch address {
    case .unspecified: return address
    case .ipv4(let a, let port): return .ipv4(redact(a), port: redact(port: port))
    case .ipv6(let a, let port, let flow, let scope):
      return .ipv6(redact(a), port: redact(port: port), flowInfo: flow, scopeID: scope)
    case .other(let bytes): return .other([UInt8](repeating: 0, count: bytes.count))
    }
  }

  public func redact(_ address: IPv4Address) -> IPv4Address {
    let value = address.rawValue
    // Loopback, link-local, unspecified and broadcast say nothing about anyone.
    if value >> 24 == 127 || value >> 16 == 0xA9FE || value == 0 || value == .max { return address }
    let prefix = hash.hash(tag: 4, UInt64(value >> 8))
    return IPv4Address(rawValue: 0x0A00_0000 | UInt32(truncatingIfNeeded: prefix & 0xFFFF) << 8 | value & 0xFF)
  }

  public func redact(_ address: IPv6Address) -> IPv6Address {
    if address.high == 0 && address.low <= 1 { return address }  // :: and ::1
    if address.high >> 54 == 0x3FA { return address }  // fe80::/10, link-local
    if address.high == 0, address.low >> 32 == 0xFFFF {
      // IPv4-mapped: the IPv4 address inside, redacted as one.
      let inner = redact(IPv4Address(rawValue: UInt32(truncatingIfNeeded: address.low)))
      return IPv6Address(high: 0, low: 0xFFFF_0000_0000 | UInt64(inner.rawValue))
    }
    let prefix = hash.hash(tag: 6, address.high)
    let interface = hash.hash(tag: 7, address.high ^ address.low.byteSwapped, address.low)
    return IPv6Address(high: 0xFD00_0000_0000_0000 | prefix >> 8, low: interface)
  }

  func redact(port: UInt16) -> UInt16 {
    guard options.ports, port != 0 else { return port }
    return UInt16(truncatingIfNeeded: hash.hash(tag: 16, UInt64(port)) % 64_511) + 1024
  }

  public func redact(_ uuid: UUIDBytes) -> UUIDBytes {
    guard !uuid.isZero else { return uuid }
    return UUIDBytes(high: hash.hash(tag: 32, uuid.high, uuid.low), low: hash.hash(tag: 33, uuid.high, uuid.low))
  }

  /// `prefix` and eight hex digits of the name's keyed hash (empty stays empty), within the
  /// field's room the way the kernel fills it.
  func pseudonym(_ name: FixedCString, prefix: String) -> FixedCString {
    guard !name.bytes.isEmpty else { return name }
    var value: UInt64 = 0
    for chunk in stride(from: 0, to: name.bytes.count, by: 8) {
      var word: UInt64 = 0
      for (index, byte) in name.bytes[chunk..<min(chunk + 8, name.bytes.count)].enumerated() {
        word |= UInt64(byte) << (8 * UInt64(index))
      }
      value = hash.hash(tag: 64, value, word)
    }
    let digits = String(UInt32(truncatingIfNeeded: value), radix: 16)
    return FixedCString(prefix + String(repeating: "0", count: 8 - digits.count) + digits)
  }

  /// The pseudonym of a piece of text outside the datagrams (host name, interface description,
  /// process names in a filter), `prefix` and eight hex digits.
  public func pseudonym(_ text: String, prefix: String) -> String {
    pseudonym(FixedCString(text), prefix: prefix).string
  }
}

/// SipHash-2-4 (Aumasson and Bernstein): a keyed pseudo-random function, so pseudonyms cannot be
/// reversed or recomputed without the key.
struct SipHash24: Sendable {
  let k0: UInt64
  let k1: UInt64

  init(key: [UInt8]) {
    var k: [UInt64] = [0, 0]
    for (index, byte) in key.prefix(16).enumerated() { k[index / 8] |= UInt64(byte) << (8 * UInt64(index % 8)) }
    (k0, k1) = (k[0], k[1])
  }

  /// The hash of the words `tag`, `values…` (the tag keeps different uses apart).
  func hash(tag: UInt64, _ values: UInt64...) -> UInt64 {
    var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
    var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
    var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
    var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
    func round() {
      v0 = v0 &+ v1
      v1 = (v1 << 13 | v1 >> 51) ^ v0
      v0 = v0 << 32 | v0 >> 32
      v2 = v2 &+ v3
      v3 = (v3 << 16 | v3 >> 48) ^ v2
      v0 = v0 &+ v3
      v3 = (v3 << 21 | v3 >> 43) ^ v0
      v2 = v2 &+ v1
      v1 = (v1 << 17 | v1 >> 47) ^ v2
      v2 = v2 << 32 | v2 >> 32
    }
    let words = [tag] + values
    for word in words {
      v3 ^= word
      round()
      round()
      v0 ^= word
    }
    let last = UInt64(words.count * 8) << 56
    v3 ^= last
    round()
    round()
    v0 ^= last
    v2 ^= 0xFF
    round()
    round()
    round()
    round()
    return v0 ^ v1 ^ v2 ^ v3
  }
}
