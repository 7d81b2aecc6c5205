import NtstatWire

/// What a stream shows, behind one reference: the engine's record of a source holds one, and
/// every ``NetworkStream`` made from the record shares it until either side changes it (copy on
/// write, as `Array` does). An update hands its listener a reference rather than a copy of the
/// stream's 176 bytes: the copies (two through the stack per update, with their retains,
/// releases and outlined destroy) were a third of a replay's client thread (`perf`).
///
/// Written only by a holder that has made it unique (``TrackedSource``'s setters,
/// ``NetworkStream``'s), so no two threads ever see it change; `@exclusivity(unchecked)` because
/// each of those writes would otherwise be checked at run time, in the engine's hottest path.
final class StreamState: @unchecked Sendable {
  @exclusivity(unchecked) var counts = Counts()
  @exclusivity(unchecked) var id = SourceRef(0)
  /// Nil until the kernel names the source's provider; a stream is made only once it has.
  @exclusivity(unchecked) var provider: ProviderKind?
  /// Nil until the source is described; a stream is made only once it is.
  @exclusivity(unchecked) var described: DescribedSource?
  @exclusivity(unchecked) var detailed: DetailedCountsBox?
  @exclusivity(unchecked) var connectionFailed = false
  @exclusivity(unchecked) var removal: RemovalReason?
  @exclusivity(unchecked) var firstSeen = MonotonicTime.zero
  @exclusivity(unchecked) var lastUpdated = MonotonicTime.zero

  /// A blank state, for ``reset(id:provider:firstSeen:lastUpdated:)``.
  init() {}

  /// The state of a new source, in a new state or in one another source left.
  func reset(id: SourceRef, provider: ProviderKind?, firstSeen: MonotonicTime, lastUpdated: MonotonicTime) {
    counts = Counts()
    self.id = id
    self.provider = provider
    described = nil
    detailed = nil
    connectionFailed = false
    removal = nil
    self.firstSeen = firstSeen
    self.lastUpdated = lastUpdated
  }

  private init(copying other: StreamState) {
    counts = other.counts
    id = other.id
    provider = other.provider
    described = other.described
    detailed = other.detailed
    connectionFailed = other.connectionFailed
    removal = other.removal
    firstSeen = other.firstSeen
    lastUpdated = other.lastUpdated
  }

  /// `state` itself if nothing else holds it, or else a copy put in its place: what a holder
  /// calls before each write.
  @inline(__always)
  static func unique(_ state: inout StreamState) -> StreamState {
    if !isKnownUniquelyReferenced(&state) { state = StreamState(copying: state) }
    return state
  }
}
