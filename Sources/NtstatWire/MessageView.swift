/// One message of a datagram, not yet decoded: its header, and accessors that read only the
/// fields asked for, in place.
///
/// Handed out by ``MessageDecoder/forEachView(in:direction:_:)``; it points into the datagram and
/// is valid only inside that call. Every accessor is bounds-checked like the full decoder.
public struct MessageView {
  unowned(unsafe) let tables: DecoderTables
  let buffer: UnsafeRawBufferPointer
  let start: Int
  let end: Int
  public let header: MessageHeader

  init(tables: DecoderTables, buffer: UnsafeRawBufferPointer, start: Int, end: Int, header: MessageHeader) {
    self.tables = tables
    self.buffer = buffer
    self.start = start
    self.end = end
    self.header = header
  }

  public var type: MessageType { header.type }
  /// The message's size in the datagram.
  public var length: Int { end - start }
  /// The message's offset in the datagram.
  public var offset: Int { start }

  var reader: StructReader { StructReader(buffer: buffer, start: start, end: end, messageType: header.type) }

  /// The source a message is about, for the types that carry one (nil for others).
  public func sourceRef() throws(WireError) -> SourceRef? {
    let l = tables.layouts
    let slot: FieldSlot
    switch header.type.rawValue {
    case 10004: slot = l.sourceCountsMessage.required(.sourceRef)
    case 10006, 10007:
      guard let u = l.sourceUpdateMessage else { return nil }
      slot = u.required(.sourceRef)
    case 10003: slot = l.sourceDescriptionMessage.required(.sourceRef)
    case 10001: slot = l.sourceAddedMessage.required(.sourceRef)
    case 10002, 1003, 1004, 1005, 1007: slot = l.sourceRefMessage.required(.sourceRef)
    default: return nil
    }
    try need(slot.offset + slot.width)
    let raw = try reader.uint(slot)
    if slot.width == 4, raw == UInt64(UInt32.max) { return .all }
    return SourceRef(rawValue: raw)
  }

  /// The counters of SRC_COUNTS, SRC_UPDATE and SRC_EXTENDED_UPDATE (nil for other types).
  public func counts() throws(WireError) -> Counts? {
    let l = tables.layouts
    let offset: Int
    let size: Int
    switch header.type.rawValue {
    case 10004:
      offset = l.sourceCountsMessage.required(.counts).offset
      size = l.sourceCountsMessage.size
    case 10006, 10007:
      guard let u = l.sourceUpdateMessage else { return nil }
      offset = u.required(.counts).offset
      size = u.required(.data).offset
    default: return nil
    }
    try need(size)
    return try Counts(reading: reader.nested(at: offset), l.counts)
  }

  /// Decodes the whole message.
  public func decode() throws(WireError) -> Message {
    try MessageDecoder(tables: tables).decodeMessage(in: buffer, start: start, end: end)
  }

  func need(_ size: Int) throws(WireError) {
    guard length >= size else {
      throw WireError(
        .lengthMismatch, offset: start, messageType: header.type,
        reason: "message is \(length) byte(s); \(tables.family) defines it as \(size)")
    }
  }
}
