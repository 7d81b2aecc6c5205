/// The offsets the zero-copy views need on every frame, as plain data behind one pointer so
/// that a view reaches them with a load (no reference counting, no closures).
@usableFromInline
struct HotOffsets {
  @usableFromInline var counts: StructLayout<CountsField>
  /// ``CountsView/isPacked(_:)`` of `counts`.
  @usableFromInline var countsArePacked: Bool
  @usableFromInline var tcp: StructLayout<TCPDescriptorField>
  @usableFromInline var udp: StructLayout<UDPDescriptorField>
  /// SRC_COUNTS: size, counts offset, srcref slot.
  @usableFromInline var countsMessageSize: Int
  @usableFromInline var countsInCountsMessage: Int
  @usableFromInline var countsMessageRef: FieldSlot
  /// SRC_UPDATE (-1 when the family has none): header size (= descriptor offset), counts, provider, srcref.
  @usableFromInline var updateData: Int
  @usableFromInline var updateCounts: Int
  @usableFromInline var updateProvider: Int
  @usableFromInline var updateRef: FieldSlot
  /// SRC_DETAILS (-1 when the family has none): header size (= descriptor offset), detailed
  /// counts, provider, srcref.
  @usableFromInline var detailsData: Int
  @usableFromInline var detailsCounts: Int
  @usableFromInline var detailsProvider: Int
  @usableFromInline var detailsRef: FieldSlot
  /// SRC_DESC: header size (= descriptor offset), provider, srcref.
  @usableFromInline var descriptionData: Int
  @usableFromInline var descriptionProvider: Int
  @usableFromInline var descriptionRef: FieldSlot
  @usableFromInline var addedRef: FieldSlot
  @usableFromInline var refMessageRef: FieldSlot
  @usableFromInline var refMessageSize: Int
  @usableFromInline var addedSize: Int
  /// Descriptor struct by provider id 0–15: 0 none, 1 TCP, 2 UDP, 3 other.
  @usableFromInline var descriptorByProvider: (UInt64, UInt64)

  init(_ l: FamilyLayouts, providers: [(ProviderID, ProviderKind)]) {
    counts = l.counts
    countsArePacked = CountsView.isPacked(l.counts)
    tcp = l.tcpDescriptor
    udp = l.udpDescriptor
    countsMessageSize = l.sourceCountsMessage.size
    countsInCountsMessage = l.sourceCountsMessage.required(.counts).offset
    countsMessageRef = l.sourceCountsMessage.required(.sourceRef)
    if let u = l.sourceUpdateMessage {
      updateData = u.required(.data).offset
      updateCounts = u.required(.counts).offset
      updateProvider = u.required(.provider).offset
      updateRef = u.required(.sourceRef)
    } else {
      (updateData, updateCounts, updateProvider, updateRef) = (-1, -1, -1, FieldSlot(0, 0))
    }
    if let d = l.sourceDetailsMessage {
      detailsData = d.required(.data).offset
      detailsCounts = d.required(.detailedCounts).offset
      detailsProvider = d.required(.provider).offset
      detailsRef = d.required(.sourceRef)
    } else {
      (detailsData, detailsCounts, detailsProvider, detailsRef) = (-1, -1, -1, FieldSlot(0, 0))
    }
    descriptionData = l.sourceDescriptionMessage.required(.data).offset
    descriptionProvider = l.sourceDescriptionMessage.required(.provider).offset
    descriptionRef = l.sourceDescriptionMessage.required(.sourceRef)
    addedRef = l.sourceAddedMessage.required(.sourceRef)
    addedSize = l.sourceAddedMessage.size
    refMessageRef = l.sourceRefMessage.required(.sourceRef)
    refMessageSize = l.sourceRefMessage.size
    var table: UInt64 = 0
    for (id, kind) in providers where id.rawValue < 16 {
      let code: UInt64 = kind.descriptorKind == .tcp ? 1 : kind.descriptorKind == .udp ? 2 : 3
      table |= code << (4 * UInt64(id.rawValue))
    }
    descriptorByProvider = (table, 0)
  }

  /// 0 none, 1 TCP, 2 UDP, 3 another descriptor.
  @inlinable
  func descriptorCode(provider: UInt32) -> UInt64 {
    provider < 16 ? descriptorByProvider.0 >> (4 * UInt64(provider)) & 0xf : 0
  }

  /// Whether a provider's sources are described by the TCP or the UDP descriptor, and its
  /// size; nil for any other descriptor (or none).
  @inlinable
  func socketDescriptor(provider: UInt32) -> (isTCP: Bool, size: Int)? {
    switch descriptorCode(provider: provider) {
    case 1: return (true, tcp.size)
    case 2: return (false, udp.size)
    default: return nil
    }
  }
}
