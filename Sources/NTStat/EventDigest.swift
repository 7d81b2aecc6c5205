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
    let keyText = StreamKeyText()
    self.init(Self.parts(fields: fields, ignoring: ignored, keyText: keyText), identity: keyText.streamKey)
  }

  init(_ parts: Parts, identity: StreamKey) {
    kind = parts.kind
    self.identity = identity
    notice = parts.notice
    hash = parts.hash
  }

  /// A digest without its stream's identity, which is left as text in the ``StreamKeyText``
  /// it was digested with: `ntstat diff` makes the identity into strings only for a stream it
  /// has not seen, where making six strings for every event was a quarter of its time.
  package struct Parts {
    /// As ``EventDigest/kind``.
    package var kind = "?"
    /// As ``EventDigest/notice``.
    package var notice = ""
    /// As ``EventDigest/hash``.
    package var hash = 0
  }

  /// The digest of parsed fields, their identity written to `keyText`.
  package static func parts(
    fields: CanonicalEventFile.Fields, ignoring ignored: Set<String>, keyText: StreamKeyText
  ) -> Parts {
    var builder = Builder(ignoring: ignored, keyText: keyText)
    for (name, value) in fields {
      var name = name
      name.withUTF8 { builder.add(Builder.FieldName(UnsafeRawBufferPointer($0)), value) }
    }
    return builder.finish()
  }

  /// Hashes fields and picks out the identifying ones, for both kinds of input.
  struct Builder {
    let ignored: Set<String>
    private let keyText: StreamKeyText
    private var parts = Parts()
    private var hasher = DigestHasher()
    /// Special fields already taken: a repeated key counts once, as a field lookup finds the first.
    private var taken: UInt16 = 0
    private var noticeKind: String?
    private var noticeDetail: String?

    init(ignoring ignored: Set<String>, keyText: StreamKeyText) {
      self.ignored = ignored
      self.keyText = keyText
      keyText.reset()
    }

    /// The fields read for more than their hash.
    enum Special: Int {
      case id, protocolName, local, remote, pid, process, event, kind, detail
    }

    /// A field's name as the digest takes it: its bytes, one word that stands for them in the
    /// hash, and its role if it identifies the stream or describes a notice.
    struct FieldName {
      /// The name's UTF-8 bytes: a literal's for a live event, the parsed line's otherwise.
      let text: UnsafeRawBufferPointer
      /// A hash of the name's bytes alone, which the event's hash takes in their place.
      let word: UInt64
      let special: Special?

      init(_ text: UnsafeRawBufferPointer) {
        self.text = text
        var hasher = DigestHasher()
        hasher.combine(bytes: text)
        word = UInt64(UInt(bitPattern: hasher.finalize()))
        special = Builder.special(text)
      }
    }

    /// Which special field `name` is, if any: told apart by length and first byte, then
    /// compared once (most names, the counters, fail the first test).
    static func special(_ name: UnsafeRawBufferPointer) -> Special? {
      guard name.count >= 2, name.count <= 8 else { return nil }
      @inline(__always) func named(_ text: StaticString) -> Bool {
        let bytes = text.utf8Start
        for index in 1..<name.count where bytes[index] != name[index] { return false }
        return true
      }
      switch name.count << 8 | Int(name[0]) {
      case 2 << 8 | Int(UInt8(ascii: "i")): return named("id") ? .id : nil
      case 3 << 8 | Int(UInt8(ascii: "p")): return named("pid") ? .pid : nil
      case 8 << 8 | Int(UInt8(ascii: "p")): return named("protocol") ? .protocolName : nil
      case 7 << 8 | Int(UInt8(ascii: "p")): return named("process") ? .process : nil
      case 5 << 8 | Int(UInt8(ascii: "l")): return named("local") ? .local : nil
      case 6 << 8 | Int(UInt8(ascii: "r")): return named("remote") ? .remote : nil
      case 5 << 8 | Int(UInt8(ascii: "e")): return named("event") ? .event : nil
      case 4 << 8 | Int(UInt8(ascii: "k")): return named("kind") ? .kind : nil
      case 6 << 8 | Int(UInt8(ascii: "d")): return named("detail") ? .detail : nil
      default: return nil
      }
    }

    /// What a field is to the digest.
    private enum Admission {
      /// Left out of the comparison.
      case ignored
      /// Hashed only.
      case hashed
      /// Hashed and kept: the first occurrence of an identifying or notice field.
      case kept(Special)
    }

    @inline(__always)
    private mutating func admit(_ name: FieldName) -> Admission {
      // Most comparisons ignore nothing: no name is made into a String then.
      if !ignored.isEmpty, ignored.contains(String(decoding: name.text, as: UTF8.self)) { return .ignored }
      if let special = name.special, taken & (1 << special.rawValue) == 0 {
        taken |= 1 << special.rawValue
        return .kept(special)
      }
      return .hashed
    }

    /// Keeps a special field's text: an identifying one in ``keyText``, the others as strings.
    private mutating func keep(_ special: Special, _ text: UnsafeRawBufferPointer) {
      switch special {
      case .id: keyText.set(.id, text)
      case .protocolName: keyText.set(.protocolName, text)
      case .local: keyText.set(.local, text)
      case .remote: keyText.set(.remote, text)
      case .pid: keyText.set(.pid, text)
      case .process: keyText.set(.process, text)
      case .event: parts.kind = String(decoding: text, as: UTF8.self)
      case .kind: noticeKind = String(decoding: text, as: UTF8.self)
      case .detail: noticeDetail = String(decoding: text, as: UTF8.self)
      }
    }

    private mutating func keep(_ special: Special, _ text: String) {
      var text = text
      text.withUTF8 { keep(special, UnsafeRawBufferPointer($0)) }
    }

    private mutating func keep(_ special: Special, decimal value: UInt64) {
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
        let count = TextBytes.writeDecimal(value, at: digits.baseAddress!)
        keep(special, UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[..<count]))
      }
    }

    /// What kind of value a field holds, hashed with its name: one word for the two.
    private enum Tag: UInt64 {
      case null, `true`, `false`, integer, unsigned, number, string
    }

    /// The field's name and the kind of its value, as one word: the name's word stands for its
    /// bytes, so a field costs one fold before its value, not one per eight bytes of its name.
    private mutating func hash(_ name: FieldName, _ tag: Tag) {
      hasher.combine(name.word &+ tag.rawValue)
    }

    private mutating func hash(_ name: FieldName, text: UnsafeRawBufferPointer) {
      hash(name, .string)
      hasher.combine(bytes: text)
    }

    /// A parsed field.
    mutating func add(_ name: FieldName, _ value: FlatJSONValue) {
      let admission = admit(name)
      if case .ignored = admission { return }
      if case .kept(let special) = admission { keep(special, value.description) }
      switch value {
      case .null: hash(name, .null)
      case .bool(let b): hash(name, b ? .true : .false)
      case .integer(let i):
        hash(name, .integer)
        hasher.combine(UInt64(bitPattern: i))
      case .unsigned(let u):
        hash(name, .unsigned)
        hasher.combine(u)
      case .number(let d):
        hash(name, .number)
        hasher.combine(d.bitPattern)
      case .string(var s):
        s.withUTF8 { hash(name, text: UnsafeRawBufferPointer($0)) }
      }
    }

    // A live event's values, digested as their parsed JSON would be without building them.

    /// An unsigned integer: what `.integer` or `.unsigned` of its decimal text gives.
    @inline(__always)
    mutating func add(_ name: FieldName, integer value: UInt64) {
      let admission = admit(name)
      if case .ignored = admission { return }
      if case .kept(let special) = admission { keep(special, decimal: value) }
      hash(name, value <= UInt64(Int64.max) ? .integer : .unsigned)
      hasher.combine(value)
    }

    /// A boolean: what `.bool` of it gives.
    mutating func add(_ name: FieldName, bool value: Bool) {
      let admission = admit(name)
      if case .ignored = admission { return }
      if case .kept(let special) = admission { keep(special, value ? "true" : "false") }
      hash(name, value ? .true : .false)
    }

    /// A string: what `.string` of it gives.
    mutating func add(_ name: FieldName, string value: String) {
      var value = value
      value.withUTF8 { add(name, text: UnsafeRawBufferPointer($0)) }
    }

    /// Text as bytes (valid UTF-8): what `.string` of it gives, made a `String` only if kept.
    mutating func add(_ name: FieldName, text: UnsafeRawBufferPointer) {
      let admission = admit(name)
      if case .ignored = admission { return }
      if case .kept(let special) = admission { keep(special, text) }
      hash(name, text: text)
    }

    /// An address: what `.string` of its text (``SocketAddress/description``) gives, written
    /// into the key text's spare buffer rather than made a `String`.
    mutating func add(_ name: FieldName, address: SocketAddress) {
      keyText.spare.removeAll()
      address.appendDescription(to: &keyText.spare)
      add(name, text: keyText.spare.bytes)
    }

    /// A literal name, looked up in the names the key text has seen.
    @inline(__always)
    func name(_ text: StaticString) -> FieldName { keyText.names.name(text) }

    mutating func finish() -> Parts {
      parts.hash = hasher.finalize()
      if parts.kind == "notice" { parts.notice = "\(noticeKind ?? "?"): \(noticeDetail ?? "")" }
      return parts
    }
  }
}

/// Feeds a live event's fields to a digest, as ``FlatFieldsSink`` would build them. The
/// common fields' methods are inlined into the one caller that emits every field: a call per
/// field was about a twentieth of a `diff` (`callgrind`).
struct DigestSink: CanonicalFieldSink {
  var builder: EventDigest.Builder

  @inline(__always)
  mutating func add(_ name: StaticString, _ value: UInt64?) {
    guard let value else { return }
    builder.add(builder.name(name), integer: value)
  }
  @inline(__always)
  mutating func add(_ name: StaticString, _ value: String?) {
    guard let value else { return }
    builder.add(builder.name(name), string: value)
  }
  @inline(__always)
  mutating func add(_ name: StaticString, _ value: StaticString) {
    let name = builder.name(name)
    value.withUTF8Buffer { builder.add(name, text: UnsafeRawBufferPointer($0)) }
  }
  @inline(__always)
  mutating func add(_ name: StaticString, _ value: Bool) {
    builder.add(builder.name(name), bool: value)
  }
  mutating func add(_ name: StaticString, _ uuid: UUIDBytes?) {
    guard let uuid else { return }
    let name = builder.name(name)
    uuid.withText { builder.add(name, text: $0) }
  }
  /// Written as bytes, as ``SocketAddress/description`` spells it, without the string.
  mutating func add(_ name: StaticString, _ address: SocketAddress) {
    builder.add(builder.name(name), address: address)
  }
}

extension CanonicalEvent {
  /// The digest of one event: what parsing `fields(event, origin:).jsonText` and digesting the
  /// fields would give, without building them.
  public static func digest(_ event: ClientEvent, origin: MonotonicTime, ignoring ignored: Set<String>) -> EventDigest {
    let keyText = StreamKeyText()
    return EventDigest(digest(event, origin: origin, ignoring: ignored, keyText: keyText), identity: keyText.streamKey)
  }

  /// The same digest, its identity written to `keyText`.
  package static func digest(
    _ event: ClientEvent, origin: MonotonicTime, ignoring ignored: Set<String>, keyText: StreamKeyText
  ) -> EventDigest.Parts {
    var sink = DigestSink(builder: EventDigest.Builder(ignoring: ignored, keyText: keyText))
    emit(event, origin: origin, into: &sink)
    return sink.builder.finish()
  }
}

/// The text of the fields that identify an event's stream (``EventDigest/StreamKey``), kept as
/// bytes in memory reused from event to event: digesting an event makes no strings.
///
/// One reading of one side uses it, on one thread; its state is `@exclusivity(unchecked)`
/// because the run-time checks of a class's properties were a tenth of a diff (`callgrind`).
package final class StreamKeyText {
  /// The identifying fields, in ``EventDigest/StreamKey``'s order.
  package enum Field: Int, CaseIterable {
    case id, protocolName, local, remote, pid, process
  }

  @exclusivity(unchecked) private var text = TextBuffer(capacity: 256)
  /// Each field's start and end in `text` (empty when absent or ignored).
  @exclusivity(unchecked) private var bounds = [Range<Int>](repeating: 0..<0, count: Field.allCases.count)
  /// Scratch space, reused: an address's text before it is hashed, and a stream's key (``withKey(_:_:)``)
  /// once the event is digested. The two never overlap.
  @exclusivity(unchecked) var spare = TextBuffer(capacity: 64)
  /// The field names a live event's digest has met, by the address of their literal text.
  let names = FieldNameTable()

  package init() {}

  deinit {
    text.deallocate()
    spare.deallocate()
  }

  /// Forgets every field.
  func reset() {
    text.removeAll()
    for index in bounds.indices { bounds[index] = 0..<0 }
  }

  func set(_ field: Field, _ bytes: UnsafeRawBufferPointer) {
    let start = text.count
    text.appendBytes(bytes)
    bounds[field.rawValue] = start..<text.count
  }

  /// `fields`' text, each ended by 0xFF (a byte UTF-8 never holds), as one run of bytes for
  /// `body`: a stream's key, assembled in memory reused from event to event.
  package func withKey<Result>(_ fields: [Field], _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    spare.removeAll()
    for field in fields {
      spare.appendBytes(bytes(field))
      spare.appendByte(0xFF)
    }
    return body(spare.bytes)
  }

  /// A field's text, valid until the next ``reset()`` or ``set(_:_:)``.
  package func bytes(_ field: Field) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: text.bytes[bounds[field.rawValue]])
  }

  package func string(_ field: Field) -> String { String(decoding: bytes(field), as: UTF8.self) }

  /// The fields as strings.
  package var streamKey: EventDigest.StreamKey {
    EventDigest.StreamKey(
      id: string(.id), protocolName: string(.protocolName), local: string(.local), remote: string(.remote),
      pid: string(.pid), process: string(.process))
  }
}

/// The field names of live events, each hashed and classified once: the same few dozen literals
/// name the fields of every event, and hashing a name's bytes and telling whether it is special
/// again for each field was about half the cost of digesting one (`callgrind`).
///
/// Found by the address of the literal's text (which lives as long as the process and never
/// changes) in an open-addressed table. A name that finds no room within a few slots is worked
/// out each time: the answer is the same, only slower. One side's reading uses the table, on
/// one thread.
final class FieldNameTable {
  private struct Slot {
    /// The literal's address; 0 for an empty slot.
    var address: UInt
    var name: EventDigest.Builder.FieldName
  }

  /// How many slots past its home a name may take.
  private static let probes = 4
  /// A power of two.
  private let size: Int
  private let slots: UnsafeMutablePointer<Slot>

  /// A table of `size` slots, a power of two (tests make it small to fill it).
  init(size: Int = 512) {
    precondition(size > 0 && size & (size - 1) == 0, "a power of two")
    self.size = size
    slots = .allocate(capacity: size + Self.probes)
    let empty = Slot(address: 0, name: EventDigest.Builder.FieldName(UnsafeRawBufferPointer(start: nil, count: 0)))
    slots.initialize(repeating: empty, count: size + Self.probes)
  }

  /// A literal's home slot: literals lie close together, and a multiplicative hash spreads
  /// their addresses.
  @inline(__always)
  private func home(_ address: UInt) -> UnsafeMutablePointer<Slot> {
    slots + Int(truncatingIfNeeded: (UInt64(address) &* 0x9E37_79B9_7F4A_7C15) >> 32) & (size - 1)
  }

  deinit { slots.deallocate() }

  @inline(__always)
  func name(_ text: StaticString) -> EventDigest.Builder.FieldName {
    // A literal of one Unicode scalar may be held as that scalar, with no address to key by.
    guard text.hasPointerRepresentation else { return slowName(text) }
    let address = UInt(bitPattern: text.utf8Start)
    let home = home(address)
    if home.pointee.address == address, home.pointee.name.text.count == text.utf8CodeUnitCount {
      return home.pointee.name
    }
    return slowName(text)
  }

  /// A name not in its home slot: found further on, entered, or worked out.
  private func slowName(_ text: StaticString) -> EventDigest.Builder.FieldName {
    guard text.hasPointerRepresentation else {
      return text.withUTF8Buffer { EventDigest.Builder.FieldName(UnsafeRawBufferPointer($0)) }
    }
    let bytes = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    let address = UInt(bitPattern: text.utf8Start)
    let home = home(address)
    for slot in home..<home + Self.probes {
      if slot.pointee.address == address, slot.pointee.name.text.count == bytes.count { return slot.pointee.name }
      if slot.pointee.address == 0 {
        slot.pointee = Slot(address: address, name: EventDigest.Builder.FieldName(bytes))
        return slot.pointee.name
      }
    }
    return EventDigest.Builder.FieldName(bytes)
  }
}
