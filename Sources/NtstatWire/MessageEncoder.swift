/// Encodes ``Message`` values as the bytes a given layout family puts on the wire.
///
/// For every message ``MessageDecoder`` produced, `encode(decode(bytes)) == bytes`. Fields the
/// family lacks are left out; values that do not fit (a 64-bit source ref in a 32-bit family)
/// throw ``WireError`` with code ``WireError/Code/invalidField``.
public struct MessageEncoder: Sendable {
  public let family: LayoutFamily
  let layouts: FamilyLayouts

  public init(family: LayoutFamily) {
    self.family = family
    layouts = family.layouts
  }

  /// Encodes one message. With `settingLength`, `hdr.length` is set to the encoded size
  /// (xnu-3247+ families; what the kernel and a well-behaved client do); otherwise the header's
  /// `length` is written as stored.
  public func encode(_ message: Message, settingLength: Bool = false) throws(WireError) -> [UInt8] {
    let type = message.header.type
    func invalid(_ reason: String) -> WireError {
      WireError(.invalidField, offset: 0, messageType: type, reason: reason)
    }
    var w: ByteWriter
    switch message.body {
    case .success, .subscribeSysinfo:
      w = ByteWriter(count: MessageHeader.size)
    case .unknown(_, let payload):
      w = ByteWriter(count: MessageHeader.size + payload.count)
      w.set(payload, at: MessageHeader.size)
    case .error(let reply):
      let l = layouts.errorMessage
      w = ByteWriter(count: l.size + reply.failedRequest.count)
      w.set(UInt32(bitPattern: reply.errno), at: l.required(.error).offset)
      w.set(reply.reserved, in: l[.reserved])
      w.set(reply.failedRequest, at: l.size)
    case .addSource(let request):
      let l = layouts.addSourceMessage
      let parameters = try encodeParameters(request.parameters, type: type)
      let offset = l.required(.parameters).offset
      w = ByteWriter(count: offset + parameters.count)
      w.set(request.provider.rawValue, at: l.required(.provider).offset)
      w.set(request.reserved, in: l[.reserved])
      w.set(parameters, at: offset)
    case .addAllSources(let request):
      let l = layouts.addAllSourcesMessage
      w = ByteWriter(count: l.size)
      w.set(request.provider.rawValue, at: l.required(.provider).offset)
      w.set(request.filter, in: l[.filter])
      w.set(request.events, in: l[.events])
      w.set(request.targetPID.map { UInt32(bitPattern: $0) }, in: l[.targetPID])
      w.set(request.targetUUID, in: l[.targetUUID])
    case .removeSource(let ref), .querySource(let ref), .getSourceDescription(let ref), .getUpdate(let ref),
      .getDetails(let ref), .sourceRemoved(let ref):
      let l = layouts.sourceRefMessage
      w = ByteWriter(count: l.size)
      try setSourceRef(ref, in: l.required(.sourceRef), &w, type)
    case .setFilter(let request):
      guard let l = layouts.setFilterMessage else { throw invalid("\(family) has no SET_FILTER") }
      w = ByteWriter(count: l.size)
      try setSourceRef(request.sourceRef, in: l.required(.sourceRef), &w, type)
      w.set(request.filter, at: l.required(.filter).offset)
      w.set(request.reserved, in: l[.reserved])
    case .sourceAdded(let added):
      let l = layouts.sourceAddedMessage
      w = ByteWriter(count: l.size)
      try setSourceRef(added.sourceRef, in: l.required(.sourceRef), &w, type)
      w.set(added.provider.rawValue, at: l.required(.provider).offset)
      w.set(added.reserved, in: l[.reserved])
    case .sourceCounts(let counts):
      let l = layouts.sourceCountsMessage
      w = ByteWriter(count: l.size)
      try setSourceRef(counts.sourceRef, in: l.required(.sourceRef), &w, type)
      w.set(counts.eventFlags, in: l[.eventFlags])
      w.base = l.required(.counts).offset
      counts.counts.write(into: &w, layouts.counts)
      w.base = 0
    case .sourceDescription(let description):
      let l = layouts.sourceDescriptionMessage
      let dataOffset = l.required(.data).offset
      w = ByteWriter(count: dataOffset + (try descriptorSize(description.descriptor, type: type)))
      try setSourceRef(description.sourceRef, in: l.required(.sourceRef), &w, type)
      w.set(description.eventFlags, in: l[.eventFlags])
      w.set(description.provider.rawValue, at: l.required(.provider).offset)
      w.set(description.reserved, in: l[.reserved])
      w.base = dataOffset
      writeDescriptor(description.descriptor, into: &w)
      w.base = 0
    case .sourceUpdate(let update), .sourceExtendedUpdate(let update):
      guard let l = layouts.sourceUpdateMessage else { throw invalid("\(family) has no SRC_UPDATE") }
      let dataOffset = l.required(.data).offset
      let size = try descriptorSize(update.descriptor, type: type)
      w = ByteWriter(count: dataOffset + size + Self.itemBytes(update.items))
      try setSourceRef(update.sourceRef, in: l.required(.sourceRef), &w, type)
      w.set(update.eventFlags, in: l[.eventFlags])
      w.base = l.required(.counts).offset
      update.counts.write(into: &w, layouts.counts)
      w.base = 0
      w.set(update.provider.rawValue, at: l.required(.provider).offset)
      w.set(update.reserved, in: l[.reserved])
      w.base = dataOffset
      writeDescriptor(update.descriptor, into: &w)
      w.base = 0
      try writeItems(update.items, at: dataOffset + size, into: &w, type)
    case .sourceDetails(let details), .sourceExtendedDetails(let details):
      guard let l = layouts.sourceDetailsMessage else { throw invalid("\(family) has no SRC_DETAILS") }
      let dataOffset = l.required(.data).offset
      let size = try descriptorSize(details.descriptor, type: type)
      w = ByteWriter(count: dataOffset + size + Self.itemBytes(details.items))
      try setSourceRef(details.sourceRef, in: l.required(.sourceRef), &w, type)
      w.set(details.eventFlags, at: l.required(.eventFlags).offset)
      details.counts.write(into: &w, at: l.required(.detailedCounts).offset, layouts)
      w.set(details.provider.rawValue, at: l.required(.provider).offset)
      w.set(details.reserved, at: l.required(.reserved).offset)
      w.base = dataOffset
      writeDescriptor(details.descriptor, into: &w)
      w.base = 0
      try writeItems(details.items, at: dataOffset + size, into: &w, type)
    case .sysinfoCounts(let sysinfo):
      guard let l = layouts.sysinfoCountsMessage, let h = layouts.sysinfoCountsHeader,
        let kv = layouts.sysinfoKeyValue
      else { throw invalid("\(family) has no SYSINFO_COUNTS") }
      w = ByteWriter(count: l.size + sysinfo.keyValues.count * kv.size)
      try setSourceRef(sysinfo.sourceRef, in: l.required(.sourceRef), &w, type)
      let countsOffset = l.required(.counts).offset
      w.set(sysinfo.length, at: countsOffset + h.required(.length).offset)
      w.set(sysinfo.pad, at: countsOffset + h.required(.pad).offset)
      for (index, value) in sysinfo.keyValues.enumerated() {
        w.base = l.size + index * kv.size
        w.set(value.key, at: kv.required(.key).offset)
        w.set(value.flags, at: kv.required(.flags).offset)
        let slot = kv.required(.value)
        w.set(Array(value.value.prefix(slot.width)), at: slot.offset)
        w.set(value.valueSize, in: kv[.valueSize])
        w.setOpaque(value.opaque, kv[.reserved], kv.holes)
      }
      w.base = 0
    }
    w.bytes += message.trailingBytes
    // Header last: its length may depend on the encoded size.
    w.set(message.header.context, at: 0)
    w.set(type.rawValue, at: 8)
    var length = message.header.length
    if settingLength, family.hasLengthAndFlags {
      guard let fits = UInt16(exactly: w.bytes.count) else {
        throw invalid("message of \(w.bytes.count) bytes does not fit the 16-bit header length")
      }
      length = fits
    }
    w.set(length, at: 12)
    w.set(message.header.flags.rawValue, at: 14)
    return w.bytes
  }

  /// Packs messages back to back into one datagram, as the kernel does for ALL queries.
  public func encodeDatagram(_ messages: [Message], settingLength: Bool = true) throws(WireError) -> [UInt8] {
    var datagram: [UInt8] = []
    for message in messages { datagram += try encode(message, settingLength: settingLength) }
    return datagram
  }

  /// Bytes the extension items take: an 8-byte header each, the payload padded to 8.
  static func itemBytes(_ items: [ExtendedItem]) -> Int {
    items.reduce(0) { $0 + 8 + ((Int($1.length) + 7) & ~7) }
  }

  /// Writes extension items from `offset`, each stepped by its length rounded up to 8.
  func writeItems(
    _ items: [ExtendedItem], at offset: Int, into w: inout ByteWriter, _ type: MessageType
  ) throws(WireError) {
    func invalid(_ reason: String) -> WireError {
      WireError(.invalidField, offset: 0, messageType: type, reason: reason)
    }
    var cursor = offset
    for item in items {
      let padded = (Int(item.length) + 7) & ~7
      w.set(item.type.rawValue, at: cursor)
      w.set(item.length, at: cursor + 4)
      w.base = cursor + 8
      defer { w.base = 0 }
      switch item.payload {
      case .domain(let info):
        guard let l = layouts.domainInfo, l.size <= padded else { throw invalid("domain item does not fit") }
        info.write(into: &w, l)
      case .flowUUID(let uuid):
        guard padded >= 16 else { throw invalid("flow UUID item shorter than 16 bytes") }
        w.set(uuid, at: 0)
      case .bluetoothCounts(let counts):
        guard let l = layouts.interfaceCounts, l.size <= padded else { throw invalid("counts item does not fit") }
        counts.write(into: &w, l)
      case .bytes(let bytes):
        w.set(Array(bytes.prefix(padded)), at: 0)
      }
      cursor += 8 + padded
    }
  }

  func setSourceRef(
    _ ref: SourceRef, in slot: FieldSlot, _ w: inout ByteWriter, _ type: MessageType
  )
    throws(WireError)
  {
    if slot.width == 4 {
      if ref == .all {
        w.set(UInt32.max, at: slot.offset)
        return
      }
      guard ref.rawValue < UInt64(UInt32.max) else {
        throw WireError(
          .invalidField, offset: slot.offset, messageType: type,
          reason: "source ref \(ref.rawValue) does not fit \(family)'s 32-bit nstat_src_ref_t")
      }
    }
    w.set(uint: ref.rawValue, in: slot)
  }

  func descriptorSize(_ descriptor: Descriptor, type: MessageType) throws(WireError) -> Int {
    guard let size = family.descriptorSize(for: descriptor.kind) else {
      throw WireError(
        .invalidField, offset: 0, messageType: type, reason: "\(family) has no \(descriptor.kind) descriptor")
    }
    return size
  }

  func writeDescriptor(_ descriptor: Descriptor, into w: inout ByteWriter) {
    switch descriptor {
    case .tcp(let d): d.write(into: &w, layouts.tcpDescriptor)
    case .udp(let d): d.write(into: &w, layouts.udpDescriptor)
    case .route(let d): d.write(into: &w, layouts.routeDescriptor)
    case .ifnet(let d): if let l = layouts.interfaceDescriptor { d.write(into: &w, l) }
    case .sysinfo(let flags):
      if let l = layouts.sysinfoDescriptor { w.set(flags, at: l.required(.flags).offset) }
    case .connection(let d): if let l = layouts.connectionDescriptor { d.write(into: &w, l) }
    }
  }

  func encodeParameters(_ parameters: AddSourceParameters, type: MessageType) throws(WireError) -> [UInt8] {
    switch parameters {
    case .raw(let bytes):
      return bytes
    case .route(let destination, let mask, let ifindex):
      let l = layouts.routeAddParameters
      var w = ByteWriter(count: l.size)
      w.set(destination, in: l.required(.destination))
      w.set(mask, in: l.required(.mask))
      w.set(ifindex, at: l.required(.ifindex).offset)
      return w.bytes
    case .socket(let local, let remote):
      let l = layouts.tcpAddParameters
      var w = ByteWriter(count: l.size)
      w.set(local, in: l.required(.local))
      w.set(remote, in: l.required(.remote))
      return w.bytes
    case .ifnet(let threshold, let ifindex, let reserved):
      guard let l = layouts.interfaceAddParameters else {
        throw WireError(.invalidField, offset: 0, messageType: type, reason: "\(family) has no ifnet provider")
      }
      var w = ByteWriter(count: l.size)
      w.set(threshold, at: l.required(.threshold).offset)
      w.set(ifindex, at: l.required(.ifindex).offset)
      w.set(reserved, in: l[.reserved])
      return w.bytes
    case .sysinfo(let flags):
      guard let l = layouts.sysinfoAddParameters else {
        throw WireError(.invalidField, offset: 0, messageType: type, reason: "\(family) has no sysinfo provider")
      }
      var w = ByteWriter(count: l.size)
      w.set(flags, at: l.required(.flags).offset)
      return w.bytes
    }
  }
}
