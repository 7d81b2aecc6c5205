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
///
/// It writes into a ``TextBuffer`` only: generic over ``TextSink``, its specialisations called
/// the buffer through protocol witnesses, each write a call, not inlined.
struct JSONObjectWriter: CanonicalFieldSink {
  typealias Bytes = TextBuffer
  private var bytes: Bytes
  private var first = true
  /// The bytes of the key ``key(_:valueBytes:)`` wrote, until ``commit(_:)`` counts them.
  private var pending = 0

  /// Starts an object at the end of `bytes`. The buffer is handed back by ``finish()``: its
  /// memory may move as it grows, so the caller's copy is stale until then.
  init(appendingTo bytes: Bytes) {
    self.bytes = bytes
    self.bytes.appendByte(UInt8(ascii: "{"))
  }

  /// Closes the object and hands the bytes back.
  mutating func finish() -> Bytes {
    bytes.appendByte(UInt8(ascii: "}"))
    return bytes
  }

  /// Writes `"name":`, after a comma unless it is the first, with room for `valueBytes` more
  /// after it, and returns where the value goes; ``commit(_:)`` counts what was written there.
  /// A field is one capacity check and no calls (an append per piece was most of the time).
  @inline(__always)
  private mutating func key(_ name: StaticString, valueBytes: Int) -> UnsafeMutablePointer<UInt8> {
    let start = bytes.reserve(name.utf8CodeUnitCount + 4 + valueBytes)
    var out = start
    if !first {
      out[0] = UInt8(ascii: ",")
      out += 1
    }
    first = false
    out[0] = UInt8(ascii: "\"")
    TextBytes.copy(name.utf8Start, count: name.utf8CodeUnitCount, to: out + 1)
    out += 1 + name.utf8CodeUnitCount
    out[0] = UInt8(ascii: "\"")
    out[1] = UInt8(ascii: ":")
    pending = out + 2 - start
    return out + 2
  }

  /// Ends the field ``key(_:valueBytes:)`` began, its value `valueCount` bytes long.
  @inline(__always)
  private mutating func commit(_ valueCount: Int) {
    bytes.commit(pending + valueCount)
  }

  /// `"text"`, copied whole: for text that needs no escaping.
  @inline(__always)
  private static func writeQuoted(_ text: UnsafeBufferPointer<UInt8>, at out: UnsafeMutablePointer<UInt8>) -> Int {
    out[0] = UInt8(ascii: "\"")
    if let start = text.baseAddress {
      if text.count <= 32 {
        TextBytes.copy(start, count: text.count, to: out + 1)
      } else {
        (out + 1).update(from: start, count: text.count)
      }
    }
    out[text.count + 1] = UInt8(ascii: "\"")
    return text.count + 2
  }

  // Inlined where every field is emitted: a call for each of an event's 25 or so numbers was
  // a twelfth of a JSON Lines replay (`callgrind`).
  @inline(__always)
  mutating func add(_ name: StaticString, _ value: UInt64?) {
    guard let value else { return }
    let out = key(name, valueBytes: 20)
    commit(TextBytes.writeDecimal(value, at: out))
  }

  mutating func add(_ name: StaticString, _ value: String?) {
    guard var value else { return }
    let whole: Bool = value.withUTF8 { utf8 in
      // Most strings need no escaping: copied whole with their key.
      guard !utf8.contains(where: jsonNeedsEscape) else { return false }
      let out = key(name, valueBytes: utf8.count + 2)
      commit(Self.writeQuoted(utf8, at: out))
      return true
    }
    if !whole {
      _ = key(name, valueBytes: 0)
      commit(0)
      Self.appendString(value, to: &bytes)
    }
  }

  mutating func add(_ name: StaticString, _ value: StaticString) {
    let text = UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount)
    let out = key(name, valueBytes: text.count + 2)
    commit(Self.writeQuoted(text, at: out))
  }

  /// Written as bytes: an address's text never needs escaping.
  mutating func add(_ name: StaticString, _ address: SocketAddress) {
    let out = key(name, valueBytes: address.descriptionBound + 2)
    out[0] = UInt8(ascii: "\"")
    let length = address.writeDescription(at: out + 1)
    out[length + 1] = UInt8(ascii: "\"")
    commit(length + 2)
  }

  /// Written as bytes: a UUID's text never needs escaping.
  mutating func add(_ name: StaticString, _ uuid: UUIDBytes?) {
    guard let uuid else { return }
    let out = key(name, valueBytes: UUIDBytes.textLength + 2)
    out[0] = UInt8(ascii: "\"")
    let length = uuid.writeText(at: out + 1)
    out[length + 1] = UInt8(ascii: "\"")
    commit(length + 2)
  }

  mutating func add(_ name: StaticString, _ value: Bool) {
    let text: StaticString = value ? "true" : "false"
    TextBytes.copy(text.utf8Start, count: text.utf8CodeUnitCount, to: key(name, valueBytes: text.utf8CodeUnitCount))
    commit(text.utf8CodeUnitCount)
  }

  /// A JSON string: `"`, `\\`, newline, return and tab escaped by name, other control
  /// characters as `\\u00XX`, everything else as its UTF-8 bytes.
  static func appendString(_ value: String, to bytes: inout Bytes) {
    bytes.appendByte(UInt8(ascii: "\""))
    var value = value
    value.withUTF8 { utf8 in
      // Most strings need no escaping: copied whole.
      guard utf8.contains(where: jsonNeedsEscape) else {
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

/// Whether a JSON string holding `byte` must escape it (``JSONObjectWriter/appendString(_:to:)``).
private func jsonNeedsEscape(_ byte: UInt8) -> Bool {
  byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
}
