/// What a decoder looks up per frame, computed once per family and shared by reference so that
/// decoders and message views are one word to copy.
@usableFromInline
final class DecoderTables: @unchecked Sendable {  // immutable after init; `hot` is owned and never written
  @usableFromInline let family: LayoutFamily
  let layouts: FamilyLayouts
  /// xnu-3247+: `hdr.length`/`flags` and packed kernel datagrams.
  @usableFromInline let packs: Bool
  /// Provider kind by provider id (ids are small).
  let providerKinds: [ProviderKind?]
  // The hot-path tables, held directly so that reading them retains nothing.
  @usableFromInline let counts: StructLayout<CountsField>
  @usableFromInline let sourceCountsMessage: StructLayout<SourceCountsMessageField>
  @usableFromInline let sourceUpdateMessage: StructLayout<SourceUpdateMessageField>?
  @usableFromInline let sourceDescriptionMessage: StructLayout<SourceDescriptionMessageField>
  @usableFromInline let sourceAddedMessage: StructLayout<SourceAddedMessageField>
  @usableFromInline let sourceRefMessage: StructLayout<SourceRefMessageField>
  @usableFromInline let tcpDescriptor: StructLayout<TCPDescriptorField>
  @usableFromInline let udpDescriptor: StructLayout<UDPDescriptorField>
  /// Descriptor struct by provider id.
  @usableFromInline let descriptorKinds: [DescriptorKind?]
  /// Plain-data copy of the hot offsets, owned by this object.
  @usableFromInline let hot: UnsafePointer<HotOffsets>

  /// The tables of `family`: one set per family, made on first use and kept for the life of
  /// the process, so that a decoder holds them without a reference count (see
  /// ``MessageDecoder``).
  static func shared(_ family: LayoutFamily) -> DecoderTables { all[family].unsafelyUnwrapped }

  private static let all = Dictionary(
    uniqueKeysWithValues: LayoutFamily.allCases.map { ($0, DecoderTables(family: $0)) })

  private init(family: LayoutFamily) {
    self.family = family
    layouts = family.layouts
    packs = family.hasLengthAndFlags
    var kinds = [ProviderKind?](repeating: nil, count: 16)
    for (id, kind) in family.providers where id.rawValue < 16 { kinds[Int(id.rawValue)] = kind }
    providerKinds = kinds
    counts = layouts.counts
    sourceCountsMessage = layouts.sourceCountsMessage
    sourceUpdateMessage = layouts.sourceUpdateMessage
    sourceDescriptionMessage = layouts.sourceDescriptionMessage
    sourceAddedMessage = layouts.sourceAddedMessage
    sourceRefMessage = layouts.sourceRefMessage
    tcpDescriptor = layouts.tcpDescriptor
    udpDescriptor = layouts.udpDescriptor
    descriptorKinds = kinds.map { $0?.descriptorKind }
    let hot = UnsafeMutablePointer<HotOffsets>.allocate(capacity: 1)
    hot.initialize(to: HotOffsets(layouts, providers: family.providers))
    self.hot = UnsafePointer(hot)
  }

  /// Whether `type` is a message of the family's source-ref layout (a request naming one source,
  /// or SRC_REMOVED). GET_UPDATE needs xnu-3247+ and GET_DETAILS xnu-12377+; before that their
  /// codes are not defined, and such a message is unknown.
  func definesSourceRefMessage(_ type: MessageType) -> Bool {
    switch type {
    case .removeSource, .querySource, .getSourceDescription, .sourceRemoved: return true
    case .getUpdate: return packs
    case .getDetails: return family.hasDetails
    default: return false
    }
  }
}
