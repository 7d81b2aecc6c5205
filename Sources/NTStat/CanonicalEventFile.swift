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
    var lines = CanonicalEventLines(name: name)
    var file = CanonicalEventFile(name: name)
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if let event = try lines.next(line) { file.events.append(event) }
    }
    try lines.finish()
    file.header = lines.header
    return file
  }
}

/// Canonical JSON Lines read a line at a time: what ``CanonicalEventFile/parse(_:name:)`` and
/// the streaming readers (`ntstat diff` on files of any size) share.
public struct CanonicalEventLines {
  public let name: String
  /// The header line's fields, once it has been read.
  public private(set) var header: [String: FlatJSONValue] = [:]
  private var number = 0

  public init(name: String) { self.name = name }

  /// The event on the next line; nil for a blank line or the header.
  public mutating func next(_ line: Substring) throws -> CanonicalEventFile.Event? {
    number += 1
    guard !line.allSatisfy({ $0 == " " || $0 == "\r" }) else { return nil }
    let fields: CanonicalEventFile.Fields
    do {
      fields = try FlatJSON.parseObject(String(line))
    } catch {
      throw EventFileError(file: name, line: number, reason: error.description)
    }
    let event = CanonicalEventFile.Event(line: number, fields: fields)
    guard event["event"] != nil else {
      throw EventFileError(file: name, line: number, reason: "no \"event\" field: not a canonical event line")
    }
    guard event.kind == "header" else { return event }
    for (key, value) in fields { header[key] = value }
    return nil
  }

  /// At the end of the input: a file with no header line is not a canonical event file.
  public func finish() throws {
    guard !header.isEmpty else {
      throw EventFileError(file: name, line: 1, reason: "no header line: not a canonical event file")
    }
  }
}

public struct EventFileError: Error, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var reason: String
  public var description: String { "\(file):\(line): \(reason)" }
}
