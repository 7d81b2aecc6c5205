/// One message of a datagram, not yet decoded: its header, and accessors that read only the
/// fields asked for, in place.
///
/// Handed out by ``MessageDecoder/forEachView(in:direction:_:)``; it points into the datagram and
/// is valid only inside that call. Every accessor is bounds-checked like the full decoder.
public struct MessageView {
  /// Unretained: the decoder that made the view outlives it (views never escape `forEachView`).
  let tablesRef: Unmanaged<DecoderTables>
  var tables: DecoderTables { tablesRef.takeUnretainedValue() }
  let buffer: UnsafeRawBufferPointer
  let start: Int
  let end: Int
  public let header: MessageHeader

  init(tables: DecoderTables, buffer: UnsafeRawBufferPointer, start: Int, end: Int, header: MessageHeader) {
    tablesRef = Unmanaged.passUnretained(tables)
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
    let slot: FieldSlot? = tablesRef._withUnsafeGuaranteedRef { t in
      switch header.type.rawValue {
      case 10004: return t.sourceCountsMessage.required(.sourceRef)
      case 10006, 10007: return t.sourceUpdateMessage?.required(.sourceRef)
      case 10003: return t.sourceDescriptionMessage.required(.sourceRef)
      case 10001: return t.sourceAddedMessage.required(.sourceRef)
      case 10002, 1003, 1004, 1005, 1007: return t.sourceRefMessage.required(.sourceRef)
      default: return nil
      }
    }
    guard let slot else { return nil }
    try need(slot.offset + slot.width)
    let raw = try reader.uint(slot)
    if slot.width == 4, raw == UInt64(UInt32.max) { return .all }
    return SourceRef(rawValue: raw)
  }

  /// The counters of SRC_COUNTS, SRC_UPDATE and SRC_EXTENDED_UPDATE (nil for other types).
  public func counts() throws(WireError) -> Counts? {
    let place: (offset: Int, size: Int, layout: StructLayout<CountsField>)? = tablesRef._withUnsafeGuaranteedRef { t in
      switch header.type.rawValue {
      case 10004:
        return (t.sourceCountsMessage.required(.counts).offset, t.sourceCountsMessage.size, t.counts)
      case 10006, 10007:
        guard let u = t.sourceUpdateMessage else { return nil }
        return (u.required(.counts).offset, u.required(.data).offset, t.counts)
      default: return nil
      }
    }
    guard let place else { return nil }
    try need(place.size)
    return try Counts(reading: reader.nested(at: place.offset), place.layout)
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
