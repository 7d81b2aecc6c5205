/// One message of a datagram, not yet decoded: its header, and accessors that read only the
/// fields asked for, in place.
///
/// Handed out by ``MessageDecoder/forEachView(in:direction:_:)``; it points into the datagram and
/// is valid only inside that call. Every accessor is bounds-checked like the full decoder.
public struct MessageView {
  /// Unretained: a family's tables live as long as the process (``DecoderTables/shared(_:)``).
  @usableFromInline let tablesRef: Unmanaged<DecoderTables>
  @usableFromInline let hot: UnsafePointer<HotOffsets>
  var tables: DecoderTables { tablesRef.takeUnretainedValue() }
  @usableFromInline let buffer: UnsafeRawBufferPointer
  @usableFromInline let start: Int
  @usableFromInline let end: Int
  public let header: MessageHeader

  @inlinable
  init(tables: DecoderTables, buffer: UnsafeRawBufferPointer, start: Int, end: Int, header: MessageHeader) {
    tablesRef = Unmanaged.passUnretained(tables)
    hot = tables.hot
    self.buffer = buffer
    self.start = start
    self.end = end
    self.header = header
  }

  public var type: MessageType { header.type }
  /// The message's size in the datagram.
  @inlinable public var length: Int { end - start }
  /// The message's offset in the datagram.
  public var offset: Int { start }

  @inlinable var reader: StructReader { StructReader(buffer: buffer, start: start, end: end, messageType: header.type) }

  /// The source a message is about, for the types that carry one (nil for others).
  @inlinable
  public func sourceRef() throws(WireError) -> SourceRef? {
    let h = hot
    let slot: FieldSlot
    let size: Int
    switch header.type {
    case .sourceCounts: (slot, size) = (h.pointee.countsMessageRef, h.pointee.countsMessageSize)
    case .sourceUpdate, .sourceExtendedUpdate:
      guard h.pointee.updateData >= 0 else { return nil }
      (slot, size) = (h.pointee.updateRef, h.pointee.updateData)
    case .sourceDetails, .sourceExtendedDetails:
      guard h.pointee.detailsData >= 0 else { return nil }
      (slot, size) = (h.pointee.detailsRef, h.pointee.detailsData)
    case .sourceDescription: (slot, size) = (h.pointee.descriptionRef, h.pointee.descriptionData)
    case .sourceAdded: (slot, size) = (h.pointee.addedRef, h.pointee.addedSize)
    case .sourceRemoved, .removeSource, .querySource, .getSourceDescription, .getUpdate, .getDetails:
      (slot, size) = (h.pointee.refMessageRef, h.pointee.refMessageSize)
    default: return nil
    }
    try need(size)
    return sourceRef(checked: slot)
  }

  /// The srcref in `slot`, after a length check that covered it (a 32-bit all-ones srcref is
  /// `NSTAT_SRC_REF_ALL`).
  @inlinable @inline(__always)
  func sourceRef(checked slot: FieldSlot) -> SourceRef {
    let raw = reader.uint(checked: slot)
    return slot.width == 4 && raw == UInt64(UInt32.max) ? .all : SourceRef(rawValue: raw)
  }

  /// SRC_COUNTS read in place with one length check: its source, and a view of its counters
  /// (nil for other types). Read apart, the two checked the length and chose the type's offsets
  /// twice for the message that makes up most of a polled capture. Always inlined: called, it and
  /// handing its result back cost a polled replay 34 instructions a counter more (`callgrind`).
  @inlinable @inline(__always)
  public func sourceCounts() throws(WireError) -> (ref: SourceRef, counts: CountsView)? {
    guard header.type == .sourceCounts else { return nil }
    let h = hot
    try need(h.pointee.countsMessageSize)
    return (sourceRef(checked: h.pointee.countsMessageRef), countsView(at: h.pointee.countsInCountsMessage))
  }

  /// The source a request names: REM_SRC, QUERY_SRC, GET_SRC_DESC, GET_UPDATE or GET_DETAILS,
  /// where the family defines it (as the full decoder reads it). Nil for every other message.
  public func requestedSourceRef() throws(WireError) -> SourceRef? {
    guard header.type != .sourceRemoved, tables.definesSourceRefMessage(header.type) else { return nil }
    return try sourceRef()
  }

  /// The counters of SRC_COUNTS, SRC_UPDATE and SRC_EXTENDED_UPDATE (nil for other types).
  @inlinable
  public func counts() throws(WireError) -> Counts? {
    try countsView()?.counts
  }

  /// Decodes the whole message.
  public func decode() throws(WireError) -> Message {
    try MessageDecoder(tables: tables).decodeMessage(in: buffer, start: start, end: end)
  }

  @inlinable
  func need(_ size: Int) throws(WireError) {
    guard length >= size else { throw tooShort(size) }
  }

  @usableFromInline
  func tooShort(_ size: Int) -> WireError {
    WireError(
      .lengthMismatch, offset: start, messageType: header.type,
      reason: "message is \(length) byte(s); \(tables.family) defines it as \(size)")
  }
}
