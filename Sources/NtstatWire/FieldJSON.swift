/// Compact JSON for field trees: keys in the order the fields were built, no whitespace, so
/// the same value always gives the same bytes (JSON Lines output, golden files, diffs).
extension FieldValue {
  public var jsonText: String {
    var out = ""
    Self.writeJSON(self, into: &out)
    return out
  }

  static func writeJSON(_ value: FieldValue, into out: inout String) {
    switch value {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .uint(let u): out += String(u)
    case .string(let s): writeJSONString(s, into: &out)
    case .array(let items):
      out += "["
      for (index, item) in items.enumerated() {
        if index > 0 { out += "," }
        writeJSON(item, into: &out)
      }
      out += "]"
    case .object(let fields):
      out += "{"
      for (index, field) in fields.enumerated() {
        if index > 0 { out += "," }
        writeJSONString(field.name, into: &out)
        out += ":"
        writeJSON(field.value, into: &out)
      }
      out += "}"
    }
  }

  static func writeJSONString(_ s: String, into out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let code = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - code.count) + code
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}
