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
public struct StructLayout<Field: LayoutField>: Hashable, Sendable {
  /// `sizeof` the struct in this family.
  public let size: Int
  /// One slot per field, indexed by `Field.rawValue`.
  public let slots: [FieldSlot?]
  /// Padding the compiler inserted between or after fields (kept so that no byte is lost).
  public let holes: [FieldSlot]

  init(size: Int, slots: [FieldSlot?], holes: [FieldSlot] = []) {
    precondition(slots.count == Field.allCases.count, "layout table for \(Field.self) has the wrong field count")
    self.size = size
    self.slots = slots
    self.holes = holes
  }

  /// The field's slot, or nil if this family lacks it.
  
  public subscript(field: Field) -> FieldSlot? { slots[field.rawValue] }

  /// The slot of a field every family has; a missing one is a bug in the generated tables.
  
  func required(_ field: Field) -> FieldSlot {
    guard let slot = slots[field.rawValue] else {
      preconditionFailure("layout table for \(Field.self) lacks \(field), which every family has")
    }
    return slot
  }
}

/// Every struct layout of one family. Structs a family lacks are `nil`.
public struct FamilyLayouts: Hashable, Sendable {
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
}
