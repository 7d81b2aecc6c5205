/// Bounds-checked, unaligned, little-endian reads of a C struct inside a datagram.
///
/// The kernel writes host-order integers; every Mac that runs ntstat (x86_64, arm64) is
/// little-endian, so the wire is little-endian. Network-order fields (ports) are read with
/// ``bigEndianU16(_:)``. Offsets are relative to the struct's start; every read is checked
/// against the end of the message it belongs to and throws ``WireError`` past it.

@usableFromInline
struct StructReader {
  @usableFromInline let buffer: UnsafeRawBufferPointer
  /// Absolute offset of the struct in `buffer`.
  @usableFromInline let start: Int
  /// Absolute end (exclusive) of the message that holds the struct.
  @usableFromInline let end: Int
  @usableFromInline let messageType: MessageType?

  @inlinable
  init(buffer: UnsafeRawBufferPointer, start: Int, end: Int, messageType: MessageType?) {
    self.buffer = buffer
    self.start = start
    self.end = end
    self.messageType = messageType
  }

  /// A reader for a nested struct at `offset` from this one.
  @inlinable @inline(__always)
  func nested(at offset: Int) -> StructReader {
    StructReader(buffer: buffer, start: start + offset, end: end, messageType: messageType)
  }

  @inlinable @inline(__always)
  func check(_ offset: Int, _ width: Int) throws(WireError) {
    let absolute = start + offset
    guard offset >= 0, absolute <= end - width else {
      throw WireError(
        .truncated, offset: min(absolute, end), messageType: messageType,
        reason: "needs \(width) byte(s) at offset \(absolute), message ends at \(end)")
    }
  }

  /// Loads after a ``check(_:_:)`` that covered `offset..<offset+8`: for structs whose whole
  /// extent was checked once (the layout tables keep every field inside `size`).
  @inlinable @inline(__always)
  func u64(checked offset: Int) -> UInt64 {
    UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt64.self))
  }

  @inlinable @inline(__always)
  func u32(checked offset: Int) -> UInt32 {
    UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt32.self))
  }

  @inlinable @inline(__always)
  func u8(checked offset: Int) -> UInt8 { buffer[start + offset] }

  /// A width-dependent unsigned field, after a check that covered it.
  @inlinable @inline(__always)
  func uint(checked slot: FieldSlot) -> UInt64 {
    switch slot.width {
    case 1: return UInt64(buffer[start + slot.offset])
    case 2:
      return UInt64(UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: start + slot.offset, as: UInt16.self)))
    case 4: return UInt64(u32(checked: slot.offset))
    default: return u64(checked: slot.offset)
    }
  }

  @inlinable @inline(__always)
  func u8(_ offset: Int) throws(WireError) -> UInt8 {
    try check(offset, 1)
    return buffer[start + offset]
  }

  @inlinable @inline(__always)
  func u16(_ offset: Int) throws(WireError) -> UInt16 {
    try check(offset, 2)
    return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt16.self))
  }

  @inlinable @inline(__always)
  func bigEndianU16(_ offset: Int) throws(WireError) -> UInt16 {
    try check(offset, 2)
    return UInt16(bigEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt16.self))
  }

  @inlinable @inline(__always)
  func u32(_ offset: Int) throws(WireError) -> UInt32 {
    try check(offset, 4)
    return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt32.self))
  }

  @inlinable @inline(__always)
  func u64(_ offset: Int) throws(WireError) -> UInt64 {
    try check(offset, 8)
    return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt64.self))
  }

  /// Reads an unsigned integer whose width (1, 2, 4 or 8) depends on the family.
  @inlinable @inline(__always)
  func uint(_ slot: FieldSlot) throws(WireError) -> UInt64 {
    switch slot.width {
    case 1: return UInt64(try u8(slot.offset))
    case 2: return UInt64(try u16(slot.offset))
    case 4: return UInt64(try u32(slot.offset))
    default: return try u64(slot.offset)
    }
  }

  @inlinable @inline(__always)
  func u32(_ slot: FieldSlot?) throws(WireError) -> UInt32? {
    guard let slot else { return nil }
    return try u32(slot.offset)
  }

  @inlinable @inline(__always)
  func u64(_ slot: FieldSlot?) throws(WireError) -> UInt64? {
    guard let slot else { return nil }
    return try u64(slot.offset)
  }

  func bytes(_ offset: Int, count: Int) throws(WireError) -> [UInt8] {
    try check(offset, count)
    return Array(buffer[(start + offset)..<(start + offset + count)])
  }

  @inlinable
  func uuid(checked offset: Int) -> UUIDBytes {
    UUIDBytes(
      high: UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt64.self)),
      low: UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: start + offset + 8, as: UInt64.self)))
  }

  func cString(checked slot: FieldSlot) -> FixedCString {
    FixedCString(
      field: UnsafeRawBufferPointer(rebasing: buffer[(start + slot.offset)..<(start + slot.offset + slot.width)]))
  }

  func socketAddress(checked slot: FieldSlot) -> SocketAddress {
    SocketAddress(
      field: UnsafeRawBufferPointer(rebasing: buffer[(start + slot.offset)..<(start + slot.offset + slot.width)]))
  }

  func uuid(_ offset: Int) throws(WireError) -> UUIDBytes {
    try check(offset, 16)
    return UUIDBytes(
      high: UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: start + offset, as: UInt64.self)),
      low: UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: start + offset + 8, as: UInt64.self)))
  }

  func uuid(_ slot: FieldSlot?) throws(WireError) -> UUIDBytes? {
    guard let slot else { return nil }
    return try uuid(slot.offset)
  }

  func cString(_ slot: FieldSlot) throws(WireError) -> FixedCString {
    try check(slot.offset, slot.width)
    return FixedCString(
      field: UnsafeRawBufferPointer(rebasing: buffer[(start + slot.offset)..<(start + slot.offset + slot.width)]))
  }

  func cString(_ slot: FieldSlot?) throws(WireError) -> FixedCString? {
    guard let slot else { return nil }
    return try cString(slot)
  }

  func socketAddress(_ slot: FieldSlot) throws(WireError) -> SocketAddress {
    try check(slot.offset, slot.width)
    return SocketAddress(
      field: UnsafeRawBufferPointer(rebasing: buffer[(start + slot.offset)..<(start + slot.offset + slot.width)]))
  }
}

extension StructReader {
  /// Bytes of a reserved field and of compiler padding, concatenated; empty when all are zero
  /// (as the kernel writes them), so the common case allocates nothing.
  func opaque(_ reserved: FieldSlot?, _ holes: HoleList) throws(WireError) -> [UInt8] {
    var allZero = true
    if let reserved {
      try check(reserved.offset, reserved.width)
      for index in 0..<reserved.width where buffer[start + reserved.offset + index] != 0 { allZero = false }
    }
    if !holes.isEmpty {
      for slot in holes {
        try check(slot.offset, slot.width)
        for index in 0..<slot.width where buffer[start + slot.offset + index] != 0 { allZero = false }
      }
    }
    if allZero { return [] }
    var bytes: [UInt8] = []
    for slot in [reserved].compactMap({ $0 }) + Array(holes) {
      bytes += buffer[(start + slot.offset)..<(start + slot.offset + slot.width)]
    }
    return bytes
  }
}

extension ByteWriter {
  /// Writes back what ``StructReader/opaque(_:_:)`` read.
  mutating func setOpaque(_ bytes: [UInt8], _ reserved: FieldSlot?, _ holes: HoleList) {
    guard !bytes.isEmpty else { return }
    var cursor = 0
    for slot in [reserved].compactMap({ $0 }) + Array(holes) {
      let end = min(bytes.count, cursor + slot.width)
      if cursor < end { set(Array(bytes[cursor..<end]), at: slot.offset) }
      cursor += slot.width
    }
  }
}
