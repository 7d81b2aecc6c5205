/// Where one field of a C struct sits: byte offset from the struct's start, and width in bytes.
public struct FieldSlot: Hashable, Sendable, CustomStringConvertible {
  public let offset: Int
  public let width: Int

  public init(_ offset: Int, _ width: Int) {
    self.offset = offset
    self.width = width
  }

  public var description: String { "@\(offset)+\(width)" }
}

/// The fields of one C struct, in an order that indexes ``StructLayout/slots``.
public protocol LayoutField: CaseIterable, Hashable, Sendable, RawRepresentable where RawValue == Int {
  /// The C struct names this field set describes (`nstat_tcp_descriptor`).
  static var cStructNames: [String] { get }
  /// The C field path of each case, in case order (`pname`, `counts`).
  static var cFieldPaths: [String] { get }
}

extension LayoutField {
  /// The C field path (`ifnet_properties`).
  public var cFieldPath: String { Self.cFieldPaths[rawValue] }
}

/// One family's layout of one C struct: total size and where each field is; a field the
/// family does not have is `nil`, never a zero offset.
///
/// The slots live in immutable storage allocated once per table (the tables are static), so a
/// layout is two words to copy and a field lookup is one load: the decoder consults it for
/// every field of every frame.
// The storage is written once, when the table is built, and only read after.
public struct StructLayout<Field: LayoutField>: Hashable, @unchecked Sendable {
  /// `sizeof` the struct in this family.
  public let size: Int
  /// Packed slots, `offset << 12 | width`, `UInt32.max` for an absent field; never freed.
  @usableFromInline let packed: UnsafePointer<UInt32>
  /// Padding the compiler inserted between or after fields (kept so that no byte is lost).
  public let holes: HoleList

  init(size: Int, slots: [FieldSlot?], holes: [FieldSlot] = []) {
    precondition(slots.count == Field.allCases.count, "layout table for \(Field.self) has the wrong field count")
    self.size = size
    let storage = UnsafeMutablePointer<UInt32>.allocate(capacity: slots.count)
    for (index, slot) in slots.enumerated() {
      if let slot {
        precondition(slot.width < 1 << 12 && slot.offset < 1 << 19, "field slot \(slot) does not fit the packing")
        storage[index] = UInt32(slot.offset) << 12 | UInt32(slot.width)
      } else {
        storage[index] = .max
      }
    }
    packed = UnsafePointer(storage)
    self.holes = HoleList(holes)
  }

  /// One slot per field, indexed by `Field.rawValue`.
  public var slots: [FieldSlot?] { Field.allCases.map { self[$0] } }

  /// The field's slot, or nil if this family lacks it.
  @inlinable @inline(__always)
  public subscript(field: Field) -> FieldSlot? {
    let value = packed[field.rawValue]
    return value == .max ? nil : FieldSlot(Int(value >> 12), Int(value & 0xfff))
  }

  /// The slot of a field every family has; a missing one is a bug in the generated tables.
  @inlinable @inline(__always)
  func required(_ field: Field) -> FieldSlot {
    let value = packed[field.rawValue]
    if value == .max { Self.missingRequiredField(field) }
    return FieldSlot(Int(value >> 12), Int(value & 0xfff))
  }

  /// Kept out of line so that the check above stays one compare on the hot path.
  @usableFromInline @inline(never)
  static func missingRequiredField(_ field: Field) -> Never {
    preconditionFailure("layout table for \(Field.self) lacks \(field), which every family has")
  }

  public static func == (lhs: StructLayout, rhs: StructLayout) -> Bool {
    lhs.size == rhs.size && lhs.holes == rhs.holes && lhs.slots == rhs.slots
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(size)
    hasher.combine(slots)
  }
}

/// Up to two padding holes, stored inline as packed slots.
public struct HoleList: Hashable, Sendable, Sequence {
  private let first: UInt32
  private let second: UInt32

  init(_ holes: [FieldSlot]) {
    precondition(holes.count <= 2, "more than two padding holes in one struct")
    func pack(_ slot: FieldSlot?) -> UInt32 { slot.map { UInt32($0.offset) << 12 | UInt32($0.width) } ?? .max }
    first = pack(holes.first)
    second = pack(holes.count > 1 ? holes[1] : nil)
  }

  public var isEmpty: Bool { first == .max }

  public func makeIterator() -> some IteratorProtocol<FieldSlot> {
    var slots: [FieldSlot] = []
    for packed in [first, second] where packed != UInt32.max {
      slots.append(FieldSlot(Int(packed >> 12), Int(packed & 0xfff)))
    }
    return slots.makeIterator()
  }
}

/// Every struct layout of one family. Structs a family lacks are `nil`.
///
/// A class so that the decoder reaches a table through one pointer instead of copying all of
/// them; instances are the immutable static tables of `Generated/LayoutTables.swift`.
public final class FamilyLayouts: Sendable {
  public let counts: StructLayout<CountsField>
  public let errorMessage: StructLayout<ErrorMessageField>
  public let addSourceMessage: StructLayout<AddSourceMessageField>
  public let addAllSourcesMessage: StructLayout<AddAllSourcesMessageField>
  public let sourceAddedMessage: StructLayout<SourceAddedMessageField>
  public let sourceRefMessage: StructLayout<SourceRefMessageField>
  public let setFilterMessage: StructLayout<SetFilterMessageField>?
  public let sourceDescriptionMessage: StructLayout<SourceDescriptionMessageField>
  public let sourceCountsMessage: StructLayout<SourceCountsMessageField>
  public let sourceUpdateMessage: StructLayout<SourceUpdateMessageField>?
  /// `traffic_stats` (xnu-12377+, from `in_stat.h`): one medium's packets, bytes and activity.
  public let trafficStats: StructLayout<TrafficStatsField>?
  /// `media_stats` (xnu-12377+): seven `traffic_stats`, one per medium.
  public let mediaStats: StructLayout<MediaStatsField>?
  /// `nstat_detailed_counts` (xnu-12377+): the counters of a details message.
  public let detailedCounts: StructLayout<DetailedCountsField>?
  /// `nstat_msg_src_details` (xnu-12377+): SRC_DETAILS and SRC_EXTENDED_DETAILS.
  public let sourceDetailsMessage: StructLayout<SourceDetailsMessageField>?
  public let sysinfoCountsMessage: StructLayout<SysinfoCountsMessageField>?
  public let sysinfoCountsHeader: StructLayout<SysinfoCountsHeaderField>?
  public let sysinfoKeyValue: StructLayout<SysinfoKeyValueField>?
  public let tcpDescriptor: StructLayout<TCPDescriptorField>
  public let udpDescriptor: StructLayout<UDPDescriptorField>
  public let routeDescriptor: StructLayout<RouteDescriptorField>
  public let interfaceDescriptor: StructLayout<InterfaceDescriptorField>?
  public let connectionDescriptor: StructLayout<ConnectionDescriptorField>?
  public let domainInfo: StructLayout<DomainInfoField>?
  public let interfaceCounts: StructLayout<InterfaceCountsField>?
  public let sysinfoDescriptor: StructLayout<SysinfoDescriptorField>?
  public let routeAddParameters: StructLayout<RouteAddParametersField>
  public let tcpAddParameters: StructLayout<TCPAddParametersField>
  public let interfaceAddParameters: StructLayout<InterfaceAddParametersField>?
  public let sysinfoAddParameters: StructLayout<SysinfoAddParametersField>?

  init(
    counts: StructLayout<CountsField>,
    errorMessage: StructLayout<ErrorMessageField>,
    addSourceMessage: StructLayout<AddSourceMessageField>,
    addAllSourcesMessage: StructLayout<AddAllSourcesMessageField>,
    sourceAddedMessage: StructLayout<SourceAddedMessageField>,
    sourceRefMessage: StructLayout<SourceRefMessageField>,
    setFilterMessage: StructLayout<SetFilterMessageField>?,
    sourceDescriptionMessage: StructLayout<SourceDescriptionMessageField>,
    sourceCountsMessage: StructLayout<SourceCountsMessageField>,
    sourceUpdateMessage: StructLayout<SourceUpdateMessageField>?,
    trafficStats: StructLayout<TrafficStatsField>?,
    mediaStats: StructLayout<MediaStatsField>?,
    detailedCounts: StructLayout<DetailedCountsField>?,
    sourceDetailsMessage: StructLayout<SourceDetailsMessageField>?,
    sysinfoCountsMessage: StructLayout<SysinfoCountsMessageField>?,
    sysinfoCountsHeader: StructLayout<SysinfoCountsHeaderField>?,
    sysinfoKeyValue: StructLayout<SysinfoKeyValueField>?,
    tcpDescriptor: StructLayout<TCPDescriptorField>,
    udpDescriptor: StructLayout<UDPDescriptorField>,
    routeDescriptor: StructLayout<RouteDescriptorField>,
    interfaceDescriptor: StructLayout<InterfaceDescriptorField>?,
    connectionDescriptor: StructLayout<ConnectionDescriptorField>?,
    domainInfo: StructLayout<DomainInfoField>?,
    interfaceCounts: StructLayout<InterfaceCountsField>?,
    sysinfoDescriptor: StructLayout<SysinfoDescriptorField>?,
    routeAddParameters: StructLayout<RouteAddParametersField>,
    tcpAddParameters: StructLayout<TCPAddParametersField>,
    interfaceAddParameters: StructLayout<InterfaceAddParametersField>?,
    sysinfoAddParameters: StructLayout<SysinfoAddParametersField>?
  ) {
    self.counts = counts
    self.errorMessage = errorMessage
    self.addSourceMessage = addSourceMessage
    self.addAllSourcesMessage = addAllSourcesMessage
    self.sourceAddedMessage = sourceAddedMessage
    self.sourceRefMessage = sourceRefMessage
    self.setFilterMessage = setFilterMessage
    self.sourceDescriptionMessage = sourceDescriptionMessage
    self.sourceCountsMessage = sourceCountsMessage
    self.sourceUpdateMessage = sourceUpdateMessage
    self.trafficStats = trafficStats
    self.mediaStats = mediaStats
    self.detailedCounts = detailedCounts
    self.sourceDetailsMessage = sourceDetailsMessage
    self.sysinfoCountsMessage = sysinfoCountsMessage
    self.sysinfoCountsHeader = sysinfoCountsHeader
    self.sysinfoKeyValue = sysinfoKeyValue
    self.tcpDescriptor = tcpDescriptor
    self.udpDescriptor = udpDescriptor
    self.routeDescriptor = routeDescriptor
    self.interfaceDescriptor = interfaceDescriptor
    self.connectionDescriptor = connectionDescriptor
    self.domainInfo = domainInfo
    self.interfaceCounts = interfaceCounts
    self.sysinfoDescriptor = sysinfoDescriptor
    self.routeAddParameters = routeAddParameters
    self.tcpAddParameters = tcpAddParameters
    self.interfaceAddParameters = interfaceAddParameters
    self.sysinfoAddParameters = sysinfoAddParameters
  }
}

extension FamilyLayouts {
  /// `sizeof` the descriptor struct of a kind, nil if the family has none.
  public func descriptorSize(for kind: DescriptorKind) -> Int? {
    switch kind {
    case .tcp: return tcpDescriptor.size
    case .udp: return udpDescriptor.size
    case .route: return routeDescriptor.size
    case .ifnet: return interfaceDescriptor?.size
    case .sysinfo: return sysinfoDescriptor?.size
    case .connection: return connectionDescriptor?.size
    }
  }
}
