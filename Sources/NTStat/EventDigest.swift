import NtstatWire

/// What `ntstat diff` keeps of an event on its first pass: its kind, the fields that identify
/// its stream, and one hash of every field it compares. A live event (``CanonicalEvent/digest``)
/// and the same event parsed from its JSON line (``init(fields:ignoring:)``) give equal digests:
/// both hash each field as its name's bytes and a tagged value, the value as parsing the line
/// gives it (integers that fit `Int64` as signed).
public struct EventDigest: Hashable, Sendable {
  /// `added`, `updated`, `removed` or `notice` (`?` if the event has no `event` field).
  public var kind = "?"
  /// The fields that identify a stream, as text: empty when absent or ignored.
  public var identity = StreamKey()
  /// A notice as `ntstat diff` lists it, `kind: detail` (empty for other events).
  public var notice = ""
  /// A hash of every field not ignored, in order (equal within one process).
  public var hash = 0

  /// `id`, `protocol`, `local`, `remote`, `pid` (what tells streams apart) and `process`.
  public struct StreamKey: Hashable, Sendable {
    public var id = ""
    public var protocolName = ""
    public var local = ""
    public var remote = ""
    public var pid = ""
    public var process = ""
  }

  /// The digest of parsed fields.
  public init(fields: CanonicalEventFile.Fields, ignoring ignored: Set<String>) {
    var builder = Builder(ignoring: ignored)
    for (name, value) in fields {
      var name = name
      name.withUTF8 { builder.add(name: UnsafeRawBufferPointer($0), value) }
    }
    self = builder.finish()
  }

  init() {}

  /// Hashes fields and picks out the identifying ones, for both kinds of input.
  struct Builder {
    let ignored: Set<String>
    private var digest = EventDigest()
    private var hasher = Hasher()
    /// Special fields already taken: a repeated key counts once, as a field lookup finds the first.
    private var taken: UInt16 = 0
    private var noticeKind: String?
    private var noticeDetail: String?

    init(ignoring ignored: Set<String>) { self.ignored = ignored }

    /// The fields read for more than their hash.
    enum Special: Int {
      case id, protocolName, local, remote, pid, process, event, kind, detail
    }

    static func special(_ name: UnsafeRawBufferPointer) -> Special? {
      func named(_ text: StaticString) -> Bool {
        text.utf8CodeUnitCount == name.count && text.withUTF8Buffer { $0.elementsEqual(name) }
      }
      guard let first = name.first else { return nil }
      switch first {
      case UInt8(ascii: "i"): return named("id") ? .id : nil
      case UInt8(ascii: "p"):
        return named("pid") ? .pid : named("protocol") ? .protocolName : named("process") ? .process : nil
      case UInt8(ascii: "l"): return named("local") ? .local : nil
      case UInt8(ascii: "r"): return named("remote") ? .remote : nil
      case UInt8(ascii: "e"): return named("event") ? .event : nil
      case UInt8(ascii: "k"): return named("kind") ? .kind : nil
      case UInt8(ascii: "d"): return named("detail") ? .detail : nil
      default: return nil
      }
    }

    mutating func add(name: UnsafeRawBufferPointer, _ value: FlatJSONValue) {
      // Most comparisons ignore nothing: no name is made into a String then.
      if !ignored.isEmpty, ignored.contains(String(decoding: name, as: UTF8.self)) { return }
      if let special = Self.special(name), taken & (1 << special.rawValue) == 0 {
        taken |= 1 << special.rawValue
        switch special {
        case .id: digest.identity.id = value.description
        case .protocolName: digest.identity.protocolName = value.description
        case .local: digest.identity.local = value.description
        case .remote: digest.identity.remote = value.description
        case .pid: digest.identity.pid = value.description
        case .process: digest.identity.process = value.description
        case .event: digest.kind = value.description
        case .kind: noticeKind = value.description
        case .detail: noticeDetail = value.description
        }
      }
      hasher.combine(bytes: name)
      hasher.combine(0xFF as UInt8)
      switch value {
      case .null: hasher.combine(0 as UInt8)
      case .bool(let b): hasher.combine(b ? 1 as UInt8 : 2)
      case .integer(let i):
        hasher.combine(3 as UInt8)
        hasher.combine(i)
      case .unsigned(let u):
        hasher.combine(4 as UInt8)
        hasher.combine(u)
      case .number(let d):
        hasher.combine(5 as UInt8)
        hasher.combine(d.bitPattern)
      case .string(var s):
        hasher.combine(6 as UInt8)
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(0xFF as UInt8)
      }
    }

    mutating func finish() -> EventDigest {
      digest.hash = hasher.finalize()
      if digest.kind == "notice" { digest.notice = "\(noticeKind ?? "?"): \(noticeDetail ?? "")" }
      return digest
    }
  }
}

/// Feeds a live event's fields to a digest, as ``FlatFieldsSink`` would build them.
struct DigestSink: CanonicalFieldSink {
  var builder: EventDigest.Builder

  mutating func add(_ name: StaticString, _ value: UInt64?) {
    guard let value else { return }
    add(name, FlatJSONValue(parsedFrom: value))
  }
  mutating func add(_ name: StaticString, _ value: String?) {
    if let value { add(name, .string(value)) }
  }
  mutating func add(_ name: StaticString, _ value: StaticString) { add(name, .string(value.description)) }
  mutating func add(_ name: StaticString, _ value: Bool) { add(name, .bool(value)) }

  private mutating func add(_ name: StaticString, _ value: FlatJSONValue) {
    name.withUTF8Buffer { builder.add(name: UnsafeRawBufferPointer($0), value) }
  }
}

extension CanonicalEvent {
  /// The digest of one event: what parsing `fields(event, origin:).jsonText` and digesting the
  /// fields would give, without building them.
  public static func digest(_ event: ClientEvent, origin: MonotonicTime, ignoring ignored: Set<String>) -> EventDigest {
    var sink = DigestSink(builder: EventDigest.Builder(ignoring: ignored))
    emit(event, origin: origin, into: &sink)
    return sink.builder.finish()
  }
}
