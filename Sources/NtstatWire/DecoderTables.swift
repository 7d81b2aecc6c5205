/// What a decoder looks up per frame, computed once per family and shared by reference so that
/// decoders and message views are one word to copy.
final class DecoderTables: Sendable {
  let family: LayoutFamily
  let layouts: FamilyLayouts
  /// xnu-3247+: `hdr.length`/`flags` and packed kernel datagrams.
  let packs: Bool
  /// Provider kind by provider id (ids are small).
  let providerKinds: [ProviderKind?]
  // The hot-path tables, held directly so that reading them retains nothing.
  let counts: StructLayout<CountsField>
  let sourceCountsMessage: StructLayout<SourceCountsMessageField>
  let sourceUpdateMessage: StructLayout<SourceUpdateMessageField>?
  let sourceDescriptionMessage: StructLayout<SourceDescriptionMessageField>
  let sourceAddedMessage: StructLayout<SourceAddedMessageField>
  let sourceRefMessage: StructLayout<SourceRefMessageField>

  init(family: LayoutFamily) {
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
  }
}
