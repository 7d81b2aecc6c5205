/// A value of a flat JSON object (canonical event lines have no nesting).
public enum FlatJSONValue: Hashable, Sendable, CustomStringConvertible {
  case null
  case bool(Bool)
  case integer(Int64)
  /// Integers above `Int64.max` (counters are unsigned 64-bit).
  case unsigned(UInt64)
  case number(Double)
  case string(String)

  public var description: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .integer(let i): return String(i)
    case .unsigned(let u): return String(u)
    case .number(let d): return String(d)
    case .string(let s): return s
    }
  }

  /// What parsing the decimal text of `value` gives: `.integer` when it fits `Int64`.
  init(parsedFrom value: UInt64) {
    self = value <= UInt64(Int64.max) ? .integer(Int64(value)) : .unsigned(value)
  }

  /// The value as a number, for tolerances.
  public var numeric: Double? {
    switch self {
    case .integer(let i): return Double(i)
    case .unsigned(let u): return Double(u)
    case .number(let d): return d
    default: return nil
    }
  }
}

/// A parse failure, naming the byte offset in the line.
public struct FlatJSONError: Error, Hashable, Sendable, CustomStringConvertible {
  public var offset: Int
  public var reason: String
  public var description: String { "at byte \(offset): \(reason)" }
}

/// Parses one JSON object whose values are strings, numbers, booleans or null — the shape of
/// a canonical event line — keeping the keys in order. Strict: anything else is an error
/// with its offset, never a crash (the diff reads files from anywhere).
public enum FlatJSON {
  public static func parseObject(_ text: String) throws(FlatJSONError) -> [(String, FlatJSONValue)] {
    var parser = Parser(bytes: Array(text.utf8))
    return try parser.object()
  }

  struct Parser {
    let bytes: [UInt8]
    var position = 0

    func fail(_ reason: String) -> FlatJSONError { FlatJSONError(offset: position, reason: reason) }

    mutating func skipSpace() {
      while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(FlatJSONError) {
      skipSpace()
      guard position < bytes.count, bytes[position] == byte else {
        throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
      }
      position += 1
    }

    mutating func object() throws(FlatJSONError) -> [(String, FlatJSONValue)] {
      try expect(UInt8(ascii: "{"))
      var fields: [(String, FlatJSONValue)] = []
      skipSpace()
      if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
        position += 1
      } else {
        while true {
          skipSpace()
          let key = try string()
          try expect(UInt8(ascii: ":"))
          fields.append((key, try value()))
          skipSpace()
          guard position < bytes.count else { throw fail("unterminated object") }
          if bytes[position] == UInt8(ascii: ",") {
            position += 1
            continue
          }
          if bytes[position] == UInt8(ascii: "}") {
            position += 1
            break
          }
          throw fail("expected ',' or '}'")
        }
      }
      skipSpace()
      guard position == bytes.count else { throw fail("trailing characters after the object") }
      return fields
    }

    mutating func value() throws(FlatJSONError) -> FlatJSONValue {
      skipSpace()
      guard position < bytes.count else { throw fail("missing value") }
      switch bytes[position] {
      case UInt8(ascii: "\""): return .string(try string())
      case UInt8(ascii: "t"): try literal("true"); return .bool(true)
      case UInt8(ascii: "f"): try literal("false"); return .bool(false)
      case UInt8(ascii: "n"): try literal("null"); return .null
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
      case UInt8(ascii: "{"), UInt8(ascii: "["): throw fail("nested values are not part of a canonical event")
      default: throw fail("unexpected character")
      }
    }

    mutating func literal(_ word: String) throws(FlatJSONError) {
      let utf8 = Array(word.utf8)
      guard position + utf8.count <= bytes.count, Array(bytes[position..<(position + utf8.count)]) == utf8 else {
        throw fail("expected \(word)")
      }
      position += utf8.count
    }

    mutating func number() throws(FlatJSONError) -> FlatJSONValue {
      let start = position
      while position < bytes.count, "+-0123456789.eE".utf8.contains(bytes[position]) { position += 1 }
      let text = String(decoding: bytes[start..<position], as: UTF8.self)
      if let i = Int64(text) { return .integer(i) }
      if let u = UInt64(text) { return .unsigned(u) }
      if let d = Double(text), d.isFinite { return .number(d) }
      position = start
      throw fail("malformed number")
    }

    mutating func string() throws(FlatJSONError) -> String {
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string") }
      position += 1
      var scalars = String.UnicodeScalarView()
      var raw: [UInt8] = []
      func flushRaw() {
        scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
        raw.removeAll()
      }
      while true {
        guard position < bytes.count else { throw fail("unterminated string") }
        let byte = bytes[position]
        position += 1
        if byte == UInt8(ascii: "\"") { break }
        if byte < 0x20 { throw fail("control character in a string") }
        guard byte == UInt8(ascii: "\\") else {
          raw.append(byte)
          continue
        }
        flushRaw()
        guard position < bytes.count else { throw fail("unterminated escape") }
        let escape = bytes[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""): scalars.append("\"")
        case UInt8(ascii: "\\"): scalars.append("\\")
        case UInt8(ascii: "/"): scalars.append("/")
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "b"): scalars.append("\u{08}")
        case UInt8(ascii: "f"): scalars.append("\u{0C}")
        case UInt8(ascii: "u"):
          guard position + 4 <= bytes.count,
            let code = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16)
          else { throw fail("malformed \\u escape") }
          position += 4
          // Surrogates are not expected in our output; keep them as the replacement character.
          scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
        default:
          throw fail("unknown escape")
        }
      }
      flushRaw()
      return String(scalars)
    }
  }
}
