/// Which way a datagram travelled. Kernel datagrams may pack several messages (xnu-3247+);
/// a client's datagram is always one request.
public enum Direction: String, Hashable, Sendable {
  /// Kernel → client.
  case fromKernel = "in"
  /// Client → kernel.
  case toKernel = "out"
}

/// Decodes ntstat datagrams of one layout family into ``Message`` values.
///
/// Every read is bounds-checked: malformed input throws ``WireError`` naming the byte offset
/// and message type, and never traps. Decoding keeps every byte (unknown types, bytes past the
/// family's struct, non-zero reserved fields), so ``MessageEncoder`` reproduces the input.
public struct MessageDecoder: Sendable {
  /// Unowned: every family's tables live as long as the process (``DecoderTables/shared(_:)``).
  /// A counted reference made each copy of a decoder two atomic operations, and the client
  /// engine copies its decoder for every datagram and every update it reads in place.
  @usableFromInline unowned(unsafe) let tables: DecoderTables
  public var family: LayoutFamily { tables.family }
  var layouts: FamilyLayouts { tables.layouts }
  @usableFromInline var packs: Bool { tables.packs }
  var providerKinds: [ProviderKind?] { tables.providerKinds }

  public init(family: LayoutFamily) {
    tables = .shared(family)
  }

  init(tables: DecoderTables) {
    self.tables = tables
  }

  func providerKind(_ id: ProviderID) -> ProviderKind? {
    id.rawValue < providerKinds.count ? providerKinds[Int(id.rawValue)] : nil
  }

  /// From the tables' own layouts: this runs for every update read in place.
  func descriptorSize(_ kind: DescriptorKind) -> Int? { layouts.descriptorSize(for: kind) }

  /// Decodes descriptor bytes taken from a message by ``MessageView/descriptorBytes()``.
  public func decodeDescriptor(_ bytes: [UInt8], provider: ProviderID) throws(WireError) -> Descriptor {
    try withBytes(bytes) { (buffer) throws(WireError) in
      let r = StructReader(buffer: buffer, start: 0, end: buffer.count, messageType: nil)
      return try decodeDescriptor(r, at: 0, end: buffer.count, provider: provider).0
    }
  }

  /// A view of descriptor bytes taken by ``MessageView/descriptorBytes()`` when they hold a TCP
  /// or UDP descriptor of this family, whole; nil otherwise. This reads the fields a monitor
  /// labels flows by without decoding the rest of the descriptor. The view reads `bytes` in
  /// place and must not outlive them. (Not generic over a closure: a generic entry point is
  /// not specialized across modules, and looking up its metadata cost a text replay 2 %.)
  public func socketDescriptorView(_ bytes: UnsafeRawBufferPointer, provider: ProviderID) -> SocketDescriptorView? {
    // From the hot table: through `layouts` and `providerKinds`, the family's whole layout set
    // was copied twice and the provider list retained and released (`callgrind`: 200
    // instructions a descriptor, a fifth of deriving its fields).
    let hot = tables.hot
    guard let (isTCP, size) = hot.pointee.socketDescriptor(provider: provider.rawValue), bytes.count >= size else {
      return nil
    }
    return SocketDescriptorView(
      reader: StructReader(buffer: bytes, start: 0, end: bytes.count, messageType: nil),
      tcp: isTCP ? hot.pointee.tcp : nil, udp: isTCP ? nil : hot.pointee.udp)
  }

  /// Decodes every message of a datagram.
  public func decode(_ datagram: [UInt8], direction: Direction = .fromKernel) throws(WireError) -> [Message] {
    try withBytes(datagram) { (buffer) throws(WireError) in try decode(buffer, direction: direction) }
  }

  /// ``decode(_:direction:)`` of a datagram read in place.
  public func decode(_ datagram: DatagramBytes, direction: Direction = .fromKernel) throws(WireError) -> [Message] {
    try datagram.withUnsafeBytes { (buffer) throws(WireError) in try decode(buffer, direction: direction) }
  }

  private func decode(_ buffer: UnsafeRawBufferPointer, direction: Direction) throws(WireError) -> [Message] {
    var messages: [Message] = []
    try forEachMessage(in: buffer, direction: direction) { messages.append($0) }
    return messages
  }

  /// Calls `body` with a view of each message of a datagram: its header, and accessors that
  /// decode only what is asked for (``MessageView/counts()``, ``MessageView/sourceRef()``,
  /// ``MessageView/decode()``). The view reads `datagram` in place and must not outlive `body`.
  /// This is the hot path: a counts frame read this way allocates nothing and copies only its
  /// counters. Malformed framing throws ``WireError``; errors thrown by `body` propagate.
  @inlinable
  public func forEachView(
    in datagram: UnsafeRawBufferPointer, direction: Direction = .fromKernel,
    _ body: (MessageView) throws -> Void
  ) throws {
    var offset = 0
    repeat {
      let end = try messageEnd(in: datagram, at: offset, direction: direction)
      // messageEnd guaranteed the 16 header bytes.
      let r = StructReader(buffer: datagram, start: offset, end: end, messageType: nil)
      let header = MessageHeader(
        context: r.u64(checked: 0), type: MessageType(rawValue: r.u32(checked: 8)),
        length: UInt16(truncatingIfNeeded: r.uint(checked: FieldSlot(12, 2))),
        flags: MessageFlags(rawValue: UInt16(truncatingIfNeeded: r.uint(checked: FieldSlot(14, 2)))))
      try body(MessageView(tables: tables, buffer: datagram, start: offset, end: end, header: header))
      offset = end
    } while offset < datagram.count
  }

  /// Calls `body` with each message of a datagram, in order, without collecting them.
  public func forEachMessage(
    in datagram: UnsafeRawBufferPointer, direction: Direction = .fromKernel, _ body: (Message) -> Void
  ) throws(WireError) {
    var offset = 0
    repeat {
      let end = try messageEnd(in: datagram, at: offset, direction: direction)
      body(try decodeMessage(in: datagram, start: offset, end: end))
      offset = end
    } while offset < datagram.count
  }

  /// The byte ranges of the messages in a datagram (splitting packed kernel datagrams).
  public func messageRanges(in datagram: [UInt8], direction: Direction = .fromKernel) throws(WireError) -> [Range<Int>]
  {
    try withBytes(datagram) { (buffer) throws(WireError) in try messageRanges(in: buffer, direction: direction) }
  }

  /// ``messageRanges(in:direction:)`` of a datagram read in place.
  public func messageRanges(
    in datagram: DatagramBytes, direction: Direction = .fromKernel
  ) throws(WireError) -> [Range<Int>] {
    try datagram.withUnsafeBytes { (buffer) throws(WireError) in try messageRanges(in: buffer, direction: direction) }
  }

  private func messageRanges(in buffer: UnsafeRawBufferPointer, direction: Direction) throws(WireError) -> [Range<Int>]
  {
    var ranges: [Range<Int>] = []
    var offset = 0
    repeat {
      let end = try messageEnd(in: buffer, at: offset, direction: direction)
      ranges.append(offset..<end)
      offset = end
    } while offset < buffer.count
    return ranges
  }

  /// Where the message starting at `offset` ends: the datagram's end for requests and for
  /// families before xnu-3247, else `offset + hdr.length`.
  // Inlined into every loop over a datagram's messages, its failures built out of line: with the
  // error text in the same function it was a call of about 40 instructions for every message.
  @inlinable @inline(__always)
  func messageEnd(in datagram: UnsafeRawBufferPointer, at offset: Int, direction: Direction) throws(WireError) -> Int {
    let left = datagram.count - offset
    guard left >= MessageHeader.size else { throw Self.framingError(in: datagram, at: offset) }
    guard packs, direction == .fromKernel else { return datagram.count }
    guard let end = Self.packedMessageEnd(in: datagram, at: offset) else {
      throw Self.framingError(in: datagram, at: offset)
    }
    return end
  }

  /// Where a packed message starting at `offset` ends (`offset + hdr.length`), or nil when it
  /// does not frame: fewer bytes left than a header, or a length shorter than the header or
  /// past the datagram's end.
  @inlinable @inline(__always)
  static func packedMessageEnd(in datagram: UnsafeRawBufferPointer, at offset: Int) -> Int? {
    let left = datagram.count - offset
    guard left >= MessageHeader.size else { return nil }
    let length = Int(UInt16(littleEndian: datagram.loadUnaligned(fromByteOffset: offset + 12, as: UInt16.self)))
    guard length >= MessageHeader.size, length <= left else { return nil }
    return offset + length
  }

  /// Why the message at `offset` does not frame: fewer bytes left than a header, or a header
  /// length shorter than the header or past the datagram's end.
  @usableFromInline @inline(never)
  static func framingError(in datagram: UnsafeRawBufferPointer, at offset: Int) -> WireError {
    let left = datagram.count - offset
    guard left >= MessageHeader.size else {
      return WireError(
        .truncated, offset: offset, reason: "\(left) byte(s) left, a message header needs \(MessageHeader.size)")
    }
    let reader = StructReader(buffer: datagram, start: offset, end: datagram.count, messageType: nil)
    let length = Int(reader.uint(checked: FieldSlot(12, 2)))
    let type = MessageType(rawValue: reader.u32(checked: 8))
    guard length >= MessageHeader.size else {
      return WireError(
        .lengthMismatch, offset: offset + 12, messageType: type,
        reason: "header length \(length) is shorter than the \(MessageHeader.size)-byte header")
    }
    return WireError(
      .truncated, offset: offset, messageType: type,
      reason: "header length \(length) runs past the datagram's end (\(left) byte(s) left)")
  }

  /// Decodes the single message occupying `start..<end` of `datagram`.
  func decodeMessage(in datagram: UnsafeRawBufferPointer, start: Int, end: Int) throws(WireError) -> Message {
    let headerReader = StructReader(buffer: datagram, start: start, end: end, messageType: nil)
    let type = MessageType(rawValue: try headerReader.u32(8))
    let r = StructReader(buffer: datagram, start: start, end: end, messageType: type)
    let header = MessageHeader(
      context: try r.u64(0), type: type, length: try r.u16(12), flags: MessageFlags(rawValue: try r.u16(14)))
    let length = end - start
    var consumed = MessageHeader.size
    let body: MessageBody

    func need(_ size: Int) throws(WireError) {
      guard length >= size else {
        throw WireError(
          .lengthMismatch, offset: start, messageType: type,
          reason: "message is \(length) byte(s); \(family) defines it as \(size)")
      }
      consumed = size
    }

    switch type {
    case .success:
      body = .success
    case .subscribeSysinfo where packs:
      body = .subscribeSysinfo
    case .error:
      let l = layouts.errorMessage
      try need(l.size)
      let errno = Int32(bitPattern: try r.u32(l.required(.error).offset))
      let reserved = try r.u32(l[.reserved])
      var failedRequest: [UInt8] = []
      if packs, length > l.size {
        failedRequest = try r.bytes(l.size, count: length - l.size)
        consumed = length
      }
      body = .error(ErrorReply(errno: errno, reserved: reserved, failedRequest: failedRequest))
    case .addSource:
      let l = layouts.addSourceMessage
      try need(l.required(.parameters).offset)
      let provider = ProviderID(rawValue: try r.u32(l.required(.provider).offset))
      let reserved = try r.u32(l[.reserved])
      let parameters = try decodeParameters(r.nested(at: consumed), count: length - consumed, provider: provider)
      consumed = length
      body = .addSource(AddSourceRequest(provider: provider, reserved: reserved, parameters: parameters))
    case .addAllSources:
      let l = layouts.addAllSourcesMessage
      try need(l.size)
      body = .addAllSources(
        AddAllSourcesRequest(
          provider: ProviderID(rawValue: try r.u32(l.required(.provider).offset)),
          filter: try r.u64(l[.filter]), events: try r.u64(l[.events]),
          targetPID: try r.u32(l[.targetPID]).map { Int32(bitPattern: $0) }, targetUUID: try r.uuid(l[.targetUUID])))
    case .removeSource, .querySource, .getSourceDescription, .sourceRemoved, .getUpdate, .getDetails:
      if !tables.definesSourceRefMessage(type) {
        body = .unknown(type: type, payload: try r.bytes(MessageHeader.size, count: length - MessageHeader.size))
        consumed = length
        break
      }
      let l = layouts.sourceRefMessage
      try need(l.size)
      let ref = try sourceRef(r, l.required(.sourceRef))
      switch type {
      case .removeSource: body = .removeSource(ref)
      case .querySource: body = .querySource(ref)
      case .getSourceDescription: body = .getSourceDescription(ref)
      case .getUpdate: body = .getUpdate(ref)
      case .getDetails: body = .getDetails(ref)
      default: body = .sourceRemoved(ref)
      }
    case .setFilter where layouts.setFilterMessage != nil:
      let l = layouts.setFilterMessage!
      try need(l.size)
      body = .setFilter(
        SetFilterRequest(
          sourceRef: try sourceRef(r, l.required(.sourceRef)), filter: try r.u32(l.required(.filter).offset),
          reserved: try r.u32(l[.reserved])))
    case .sourceAdded:
      let l = layouts.sourceAddedMessage
      try need(l.size)
      body = .sourceAdded(
        SourceAdded(
          sourceRef: try sourceRef(r, l.required(.sourceRef)),
          provider: ProviderID(rawValue: try r.u32(l.required(.provider).offset)), reserved: try r.u32(l[.reserved])))
    case .sourceCounts:
      let l = layouts.sourceCountsMessage
      try need(l.size)
      body = .sourceCounts(
        SourceCounts(
          sourceRef: try sourceRef(r, l.required(.sourceRef)), eventFlags: try r.u64(l[.eventFlags]),
          counts: try Counts(reading: r.nested(at: l.required(.counts).offset), layouts.counts)))
    case .sourceDescription:
      let l = layouts.sourceDescriptionMessage
      let dataOffset = l.required(.data).offset
      try need(dataOffset)
      let provider = ProviderID(rawValue: try r.u32(l.required(.provider).offset))
      let (descriptor, size) = try decodeDescriptor(r, at: dataOffset, end: length, provider: provider)
      consumed = dataOffset + size
      body = .sourceDescription(
        SourceDescription(
          sourceRef: try sourceRef(r, l.required(.sourceRef)), eventFlags: try r.u64(l[.eventFlags]),
          provider: provider, reserved: try r.u32(l[.reserved]), descriptor: descriptor))
    case .sourceUpdate where layouts.sourceUpdateMessage != nil,
      .sourceExtendedUpdate where layouts.domainInfo != nil:
      let l = layouts.sourceUpdateMessage!
      let (provider, descriptor, items) = try described(
        r, data: l.required(.data).offset, provider: l.required(.provider).offset, length: length,
        extended: type == .sourceExtendedUpdate, consumed: &consumed)
      let update = SourceUpdate(
        sourceRef: try sourceRef(r, l.required(.sourceRef)), eventFlags: try r.u64(l[.eventFlags]),
        counts: try Counts(reading: r.nested(at: l.required(.counts).offset), layouts.counts), provider: provider,
        reserved: try r.u32(l[.reserved]), descriptor: descriptor, items: items)
      body = type == .sourceUpdate ? .sourceUpdate(update) : .sourceExtendedUpdate(update)
    case .sourceDetails where layouts.sourceDetailsMessage != nil,
      .sourceExtendedDetails where layouts.sourceDetailsMessage != nil:
      let l = layouts.sourceDetailsMessage!
      let (provider, descriptor, items) = try described(
        r, data: l.required(.data).offset, provider: l.required(.provider).offset, length: length,
        extended: type == .sourceExtendedDetails, consumed: &consumed)
      let details = SourceDetails(
        sourceRef: try sourceRef(r, l.required(.sourceRef)), eventFlags: try r.u64(l.required(.eventFlags).offset),
        counts: try DetailedCounts(reading: r.nested(at: l.required(.detailedCounts).offset), layouts),
        provider: provider, reserved: try r.u32(l.required(.reserved).offset), descriptor: descriptor, items: items)
      body = type == .sourceDetails ? .sourceDetails(details) : .sourceExtendedDetails(details)
    case .sysinfoCounts where layouts.sysinfoCountsMessage != nil:
      let l = layouts.sysinfoCountsMessage!
      let h = layouts.sysinfoCountsHeader!
      let kv = layouts.sysinfoKeyValue!
      try need(l.size)
      let countsReader = r.nested(at: l.required(.counts).offset)
      let keyvalsStart = l.required(.counts).offset + h.required(.keyvals).offset
      let count = (length - keyvalsStart) / kv.size
      var keyValues: [SysinfoKeyValue] = []
      keyValues.reserveCapacity(count)
      for index in 0..<count {
        let k = r.nested(at: keyvalsStart + index * kv.size)
        let value = kv.required(.value)
        keyValues.append(
          SysinfoKeyValue(
            key: try k.u32(kv.required(.key).offset), flags: try k.u32(kv.required(.flags).offset),
            value: try k.bytes(value.offset, count: value.width), valueSize: try k.u32(kv[.valueSize]),
            opaque: try k.opaque(kv[.reserved], kv.holes)))
      }
      consumed = keyvalsStart + count * kv.size
      body = .sysinfoCounts(
        SysinfoCounts(
          sourceRef: try sourceRef(r, l.required(.sourceRef)), length: try countsReader.u32(h.required(.length).offset),
          pad: try countsReader.u32(h.required(.pad).offset), keyValues: keyValues))
    default:
      body = .unknown(type: type, payload: try r.bytes(MessageHeader.size, count: length - MessageHeader.size))
      consumed = length
    }
    let trailing = consumed < length ? try r.bytes(consumed, count: length - consumed) : []
    return Message(header: header, body: body, trailingBytes: trailing)
  }

  /// The provider, descriptor and (for the extended types) extension items of an update or
  /// details message, whose descriptor starts at `data`; `consumed` ends after what was read.
  func described(
    _ r: StructReader, data: Int, provider providerOffset: Int, length: Int, extended: Bool, consumed: inout Int
  ) throws(WireError) -> (ProviderID, Descriptor, [ExtendedItem]) {
    guard length >= data else {
      throw WireError(
        .lengthMismatch, offset: r.start, messageType: r.messageType,
        reason: "message is \(length) byte(s); \(family) defines it as \(data)")
    }
    consumed = data
    let provider = ProviderID(rawValue: try r.u32(providerOffset))
    let (descriptor, size) = try decodeDescriptor(r, at: data, end: length, provider: provider)
    consumed = data + size
    guard extended else { return (provider, descriptor, []) }
    let items = try decodeItems(r, from: consumed, to: length)
    consumed = length
    return (provider, descriptor, items)
  }

  func sourceRef(_ r: StructReader, _ slot: FieldSlot) throws(WireError) -> SourceRef {
    let raw = try r.uint(slot)
    if slot.width == 4, raw == UInt64(UInt32.max) { return .all }
    return SourceRef(rawValue: raw)
  }

  func decodeParameters(
    _ r: StructReader, count: Int, provider: ProviderID
  ) throws(WireError)
    -> AddSourceParameters
  {
    switch providerKind(provider) {
    case .route? where count == layouts.routeAddParameters.size:
      let l = layouts.routeAddParameters
      return .route(
        destination: try r.socketAddress(l.required(.destination)), mask: try r.socketAddress(l.required(.mask)),
        ifindex: try r.u32(l.required(.ifindex).offset))
    case .tcpKernel?, .udpKernel?, .tcpUserland?, .udpUserland?, .quicUserland?, .udpSubflow?:
      let l = layouts.tcpAddParameters
      guard count == l.size else { break }
      return .socket(local: try r.socketAddress(l.required(.local)), remote: try r.socketAddress(l.required(.remote)))
    case .ifnet?:
      guard let l = layouts.interfaceAddParameters, count == l.size else { break }
      return .ifnet(
        threshold: try r.u64(l.required(.threshold).offset), ifindex: try r.u32(l.required(.ifindex).offset),
        reserved: try r.u32(l[.reserved]))
    case .sysinfo?:
      guard let l = layouts.sysinfoAddParameters, count == l.size else { break }
      return .sysinfo(flags: try r.u32(l.required(.flags).offset))
    default:
      break
    }
    return .raw(try r.bytes(0, count: count))
  }

  /// Decodes the provider's descriptor at `offset`; returns it and its size.
  func decodeDescriptor(
    _ r: StructReader, at offset: Int, end: Int, provider: ProviderID
  ) throws(WireError)
    -> (Descriptor, Int)
  {
    guard let kind = providerKind(provider)?.descriptorKind else {
      throw WireError(
        .unknownProvider, offset: r.start + offset - 8, messageType: r.messageType,
        reason: "provider \(provider) is not defined in \(family)")
    }
    guard let size = descriptorSize(kind) else {
      throw WireError(
        .unknownProvider, offset: r.start + offset - 8, messageType: r.messageType,
        reason: "\(family) has no \(kind) descriptor")
    }
    guard end - offset >= size else {
      throw WireError(
        .lengthMismatch, offset: r.start + offset, messageType: r.messageType,
        reason: "\(end - offset) byte(s) left for a \(size)-byte \(kind) descriptor of \(family)")
    }
    let d = r.nested(at: offset)
    let descriptor: Descriptor
    switch kind {
    case .tcp: descriptor = .tcp(try TCPDescriptor(reading: d, layouts.tcpDescriptor))
    case .udp: descriptor = .udp(try UDPDescriptor(reading: d, layouts.udpDescriptor))
    case .route: descriptor = .route(try RouteDescriptor(reading: d, layouts.routeDescriptor))
    case .ifnet: descriptor = .ifnet(try InterfaceDescriptor(reading: d, layouts.interfaceDescriptor!))
    case .sysinfo: descriptor = .sysinfo(flags: try d.u32(layouts.sysinfoDescriptor!.required(.flags).offset))
    case .connection: descriptor = .connection(try ConnectionDescriptor(reading: d, layouts.connectionDescriptor!))
    }
    return (descriptor, size)
  }

  /// Extension items from `offset` to `end`, each stepped by its length rounded up to 8.
  func decodeItems(_ r: StructReader, from offset: Int, to end: Int) throws(WireError) -> [ExtendedItem] {
    var items: [ExtendedItem] = []
    var cursor = offset
    while cursor < end {
      guard end - cursor >= 8 else {
        throw WireError(
          .truncated, offset: r.start + cursor, messageType: r.messageType,
          reason: "\(end - cursor) byte(s) left, an extended item header needs 8")
      }
      let type = ExtendedItemType(rawValue: try r.u32(cursor))
      let length = try r.u32(cursor + 4)
      let padded = (Int(length) + 7) & ~7
      guard padded <= end - cursor - 8 else {
        throw WireError(
          .truncated, offset: r.start + cursor + 4, messageType: r.messageType,
          reason: "extended item \(type) of length \(length) (padded \(padded)) runs past the message end")
      }
      let p = r.nested(at: cursor + 8)
      let payload: ExtendedPayload
      switch type {
      case .domain, .originalDomain:
        if let l = layouts.domainInfo, padded == l.size, Int(length) == l.size {
          payload = .domain(try DomainInfo(reading: p, l))
        } else {
          payload = .bytes(try p.bytes(0, count: padded))
        }
      case .flowUUID where length == 16:
        payload = .flowUUID(try p.uuid(0))
      case .bluetoothCounts where layouts.interfaceCounts != nil && Int(length) == layouts.interfaceCounts!.size:
        payload = .bluetoothCounts(try InterfaceCounts(reading: p, layouts.interfaceCounts!))
      default:
        payload = .bytes(try p.bytes(0, count: padded))
      }
      items.append(ExtendedItem(type: type, length: length, payload: payload))
      cursor += 8 + padded
    }
    return items
  }
}

/// `Array.withUnsafeBytes` for a body with typed throws.
func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(WireError) -> R) throws(WireError) -> R {
  let result: Result<R, WireError> = array.withUnsafeBytes { buffer in
    do throws(WireError) { return .success(try body(buffer)) } catch { return .failure(error) }
  }
  return try result.get()
}
