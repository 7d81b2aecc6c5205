import NtstatWire

/// Prints ``FieldValue`` trees as JSON (one object a line, keys in field order) or as
/// indented text.
public enum FieldRendering {
  /// Compact JSON with keys in the order the fields were built, so output is deterministic.
  public static func json(_ value: FieldValue) -> String { value.jsonText }

  /// `name: value` lines, nested objects indented by two spaces.
  public static func text(_ value: FieldValue, indent: Int = 0) -> String {
    var lines: [String] = []
    appendText(value, name: nil, indent: indent, into: &lines)
    return lines.joined(separator: "\n")
  }

  static func scalarText(_ value: FieldValue) -> String? {
    switch value {
    case .null: return "-"
    case .bool(let b): return String(b)
    case .int(let i): return String(i)
    case .uint(let u): return String(u)
    case .string(let s): return s
    case .array(let items) where items.allSatisfy({ scalarText($0) != nil && !isContainer($0) }):
      return "[" + items.compactMap(scalarText).joined(separator: ", ") + "]"
    case .object(let fields)
    where fields.first?.name == "family"
      && fields.allSatisfy({ ["family", "address", "port", "flowinfo", "scope_id", "bytes"].contains($0.name) }):
      // Socket addresses print on one line.
      return fields.map { "\($0.name)=\(scalarText($0.value) ?? "…")" }.joined(separator: " ")
    default: return nil
    }
  }

  static func isContainer(_ value: FieldValue) -> Bool {
    switch value {
    case .array, .object: return true
    default: return false
    }
  }

  static func appendText(_ value: FieldValue, name: String?, indent: Int, into lines: inout [String]) {
    let pad = String(repeating: " ", count: indent)
    if let scalar = scalarText(value) {
      lines.append(pad + (name.map { "\($0): " } ?? "") + scalar)
      return
    }
    if let name { lines.append(pad + name + ":") }
    let childIndent = name == nil ? indent : indent + 2
    switch value {
    case .object(let fields):
      for field in fields { appendText(field.value, name: field.name, indent: childIndent, into: &lines) }
    case .array(let items):
      for (index, item) in items.enumerated() {
        appendText(item, name: "[\(index)]", indent: childIndent, into: &lines)
      }
    default:
      break
    }
  }
}
