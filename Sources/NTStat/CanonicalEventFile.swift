/// A file of canonical events (docs/events.md), parsed.
public struct CanonicalEventFile: Sendable {
  public typealias Fields = [(String, FlatJSONValue)]
  public var name: String
  public var header: [String: FlatJSONValue]
  public var events: [Event]

  public struct Event: Sendable {
    public var line: Int
    public var fields: Fields

    public init(line: Int, fields: Fields) {
      self.line = line
      self.fields = fields
    }

    public subscript(key: String) -> FlatJSONValue? { fields.first { $0.0 == key }?.1 }
    public var kind: String { self["event"]?.description ?? "?" }
  }

  public init(name: String, header: [String: FlatJSONValue] = [:], events: [Event] = []) {
    self.name = name
    self.header = header
    self.events = events
  }

  /// Parses JSON Lines; a malformed line is an error naming the file, line and byte.
  public static func parse(_ text: String, name: String) throws -> CanonicalEventFile {
    var file = CanonicalEventFile(name: name)
    var number = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      number += 1
      guard !line.allSatisfy({ $0 == " " || $0 == "\r" }) else { continue }
      let fields: Fields
      do {
        fields = try FlatJSON.parseObject(String(line))
      } catch {
        throw EventFileError(file: name, line: number, reason: error.description)
      }
      let event = Event(line: number, fields: fields)
      guard event["event"] != nil else {
        throw EventFileError(file: name, line: number, reason: "no \"event\" field: not a canonical event line")
      }
      if event.kind == "header" {
        for (key, value) in fields { file.header[key] = value }
      } else {
        file.events.append(event)
      }
    }
    guard !file.header.isEmpty else {
      throw EventFileError(file: name, line: 1, reason: "no header line: not a canonical event file")
    }
    return file
  }
}

public struct EventFileError: Error, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var reason: String
  public var description: String { "\(file):\(line): \(reason)" }
}
