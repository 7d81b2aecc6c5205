import NtstatWire

/// What a stream shows besides its counters, behind one reference: the engine's record of a
/// source holds one, and every ``NetworkStream`` made from the record shares it until either side
/// changes it (copy on write, as `Array` does). A stream carries its counters and their time by
/// value and this one reference, not the 176 bytes of everything with its several references:
/// those copies (two through the stack per update, with their retains, releases and outlined
/// destroy) were a third of a replay's client thread (`perf`). The counters stay out of it: held
/// here, each update would copy the whole state whenever a listener keeps the source's last
/// stream, and `NetworkStream.counts` would be a computed property, on which two overlapping
/// writes (`swap(&stream.counts.rxBytes, &stream.counts.txBytes)`) do not compile.
///
/// Written only by a holder that has made it unique (``TrackedSource``'s setters,
/// ``NetworkStream``'s), so no two threads ever see it change; `@exclusivity(unchecked)` because
/// each of those writes would otherwise be checked at run time, in the engine's hottest path.
final class StreamState: @unchecked Sendable {
  @exclusivity(unchecked) var id = SourceRef(0)
  /// Nil until the kernel names the source's provider; a stream is made only once it has.
  @exclusivity(unchecked) var provider: ProviderKind?
  /// Nil until the source is described; a stream is made only once it is.
  @exclusivity(unchecked) var described: DescribedSource?
  @exclusivity(unchecked) var detailed: DetailedCountsBox?
  @exclusivity(unchecked) var connectionFailed = false
  @exclusivity(unchecked) var removal: RemovalReason?
  @exclusivity(unchecked) var firstSeen = MonotonicTime.zero
  /// The description of the source this state showed before ``reset(id:provider:firstSeen:)``,
  /// for the next description to be written into: with a thousand new sources a second, a
  /// description freed with each source and another allocated for the next, its bytes copied
  /// into a new array, cost the replay's client thread 850 instructions a source (`callgrind`).
  @exclusivity(unchecked) var formerDescription: DescribedSource?

  /// A blank state, for ``reset(id:provider:firstSeen:)``.
  init() {}

  /// The state of a new source, in a new state or in one another source left.
  func reset(id: SourceRef, provider: ProviderKind?, firstSeen: MonotonicTime) {
    self.id = id
    self.provider = provider
    formerDescription = described
    described = nil
    detailed = nil
    connectionFailed = false
    removal = nil
    self.firstSeen = firstSeen
  }

  private init(copying other: StreamState) {
    id = other.id
    provider = other.provider
    described = other.described
    detailed = other.detailed
    connectionFailed = other.connectionFailed
    removal = other.removal
    firstSeen = other.firstSeen
  }

  /// `state` itself if nothing else holds it, or else a copy put in its place: what a holder
  /// calls before each write.
  @inline(__always)
  static func unique(_ state: inout StreamState) -> StreamState {
    if !isKnownUniquelyReferenced(&state) { state = StreamState(copying: state) }
    return state
  }
}
