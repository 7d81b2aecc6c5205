import NtstatWire

/// Where ``CanonicalEvent`` writes an event's fields: a field tree (``FieldBuilder``) or JSON
/// bytes (``JSONObjectWriter``). One list of fields serves both, so they cannot drift apart. A
/// nil value leaves the field out (a field the family lacks).
protocol CanonicalFieldSink {
  mutating func add(_ name: StaticString, _ value: UInt64?)
  mutating func add(_ name: StaticString, _ value: String?)
  mutating func add(_ name: StaticString, _ value: StaticString)
  mutating func add(_ name: StaticString, _ value: Bool)
  /// An endpoint as its text (`SocketAddress.description`).
  mutating func add(_ name: StaticString, _ address: SocketAddress)
  /// A UUID as its text (`UUIDBytes.description`); nil leaves the field out.
  mutating func add(_ name: StaticString, _ uuid: UUIDBytes?)
}

extension CanonicalFieldSink {
  mutating func add(_ name: StaticString, _ address: SocketAddress) { add(name, address.description) }
  mutating func add(_ name: StaticString, _ uuid: UUIDBytes?) { add(name, uuid?.description) }
}

extension FieldBuilder: CanonicalFieldSink {
  mutating func add(_ name: StaticString, _ value: UInt64?) {
    if let value { add(name.description, FieldValue.uint(value)) }
  }
  mutating func add(_ name: StaticString, _ value: String?) {
    if let value { add(name.description, FieldValue.string(value)) }
  }
  mutating func add(_ name: StaticString, _ value: StaticString) {
    add(name.description, FieldValue.string(value.description))
  }
  mutating func add(_ name: StaticString, _ value: Bool) { add(name.description, FieldValue.bool(value)) }
}

/// Writes one flat JSON object as bytes, exactly as `FieldValue.jsonText` spells it: keys in
/// the order given, no whitespace, strings escaped the same way.
struct JSONObjectWriter<Bytes: TextSink>: CanonicalFieldSink {
  private var bytes: Bytes
  private var first = true

  /// Starts an object at the end of `bytes`, taking the buffer over (left empty meanwhile, so
  /// that appending never copies it).
  init(taking bytes: inout Bytes, emptied empty: Bytes) {
    self.bytes = bytes
    bytes = empty
    self.bytes.appendByte(UInt8(ascii: "{"))
  }

  /// Closes the object and hands the bytes back.
  mutating func finish() -> Bytes {
    bytes.appendByte(UInt8(ascii: "}"))
    return bytes
  }

  private mutating func key(_ name: StaticString) {
    TextBytes.append(first ? "\"" : ",\"", to: &bytes)
    first = false
    TextBytes.append(name, to: &bytes)
    TextBytes.append("\":", to: &bytes)
  }

  mutating func add(_ name: StaticString, _ value: UInt64?) {
    guard let value else { return }
    key(name)
    TextBytes.appendDecimal(value, to: &bytes)
  }

  mutating func add(_ name: StaticString, _ value: String?) {
    guard let value else { return }
    key(name)
    Self.appendString(value, to: &bytes)
  }

  mutating func add(_ name: StaticString, _ value: StaticString) {
    key(name)
    bytes.appendByte(UInt8(ascii: "\""))
    TextBytes.append(value, to: &bytes)
    bytes.appendByte(UInt8(ascii: "\""))
  }

  /// Written as bytes: an address's text never needs escaping.
  mutating func add(_ name: StaticString, _ address: SocketAddress) {
    key(name)
    bytes.appendByte(UInt8(ascii: "\""))
    address.appendDescription(to: &bytes)
    bytes.appendByte(UInt8(ascii: "\""))
  }

  /// Written as bytes: a UUID's text never needs escaping.
  mutating func add(_ name: StaticString, _ uuid: UUIDBytes?) {
    guard let uuid else { return }
    key(name)
    bytes.appendByte(UInt8(ascii: "\""))
    uuid.appendText(to: &bytes)
    bytes.appendByte(UInt8(ascii: "\""))
  }

  mutating func add(_ name: StaticString, _ value: Bool) {
    key(name)
    TextBytes.append(value ? "true" : "false", to: &bytes)
  }

  /// A JSON string: `"`, `\\`, newline, return and tab escaped by name, other control
  /// characters as `\\u00XX`, everything else as its UTF-8 bytes.
  static func appendString(_ value: String, to bytes: inout Bytes) {
    bytes.appendByte(UInt8(ascii: "\""))
    var value = value
    value.withUTF8 { utf8 in
      // Most strings need no escaping: copied whole.
      guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
        bytes.appendBytes(UnsafeRawBufferPointer(utf8))
        return
      }
      for byte in utf8 {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
          bytes.appendByte(UInt8(ascii: "\\"))
          bytes.appendByte(byte)
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
          bytes.appendByte(UInt8(ascii: "\\"))
          bytes.appendByte(
            byte == UInt8(ascii: "\n")
              ? UInt8(ascii: "n") : byte == UInt8(ascii: "\r") ? UInt8(ascii: "r") : UInt8(ascii: "t"))
        case 0..<0x20:
          let hex: StaticString = "0123456789abcdef"
          hex.withUTF8Buffer { digits in
            TextBytes.append("\\u00", to: &bytes)
            bytes.appendByte(digits[Int(byte >> 4)])
            bytes.appendByte(digits[Int(byte & 0xF)])
          }
        default: bytes.appendByte(byte)
        }
      }
    }
    bytes.appendByte(UInt8(ascii: "\""))
  }
}

/// Builds an event's fields as ``CanonicalEventFile`` holds them, as if its JSON line had been
/// written and parsed again (integers that fit `Int64` are `.integer`), without doing either:
/// `diff` of a capture compares events this way.
struct FlatFieldsSink: CanonicalFieldSink {
  var fields: CanonicalEventFile.Fields = []

  mutating func add(_ name: StaticString, _ value: UInt64?) {
    guard let value else { return }
    fields.append((name.description, FlatJSONValue(parsedFrom: value)))
  }
  mutating func add(_ name: StaticString, _ value: String?) {
    if let value { fields.append((name.description, .string(value))) }
  }
  mutating func add(_ name: StaticString, _ value: StaticString) {
    fields.append((name.description, .string(value.description)))
  }
  mutating func add(_ name: StaticString, _ value: Bool) { fields.append((name.description, .bool(value))) }
}
