import NtstatWire

/// What the simulated kernel knows about one flow, for checking a client's view against it.
public struct GroundTruthRecord: Hashable, Sendable {
  public var flow: FlowPlan
  /// The source ref the client's socket knew the flow by, if a source was created.
  public var sourceRef: SourceRef?
  /// The unsolicited SRC_ADDED could not be queued, so the kernel never created the source.
  public var addDropped: Bool
  /// When ntstat detached the flow (nil: still attached at the end of the run).
  public var detachedAt: MonotonicTime?
  /// The counters at detach time (or at the end of the run).
  public var finalCounts: Counts
  /// SRC_REMOVED was queued for the client (false: lost, or never sent).
  public var removalDelivered: Bool
  /// The flags on that SRC_REMOVED.
  public var removalFlags: MessageFlags

  /// A TCP connection that never reached ESTABLISHED (refused, timed out, or closed while
  /// still connecting).
  public var failedToConnect: Bool {
    switch flow.outcome {
    case .failsToConnect: return true
    case .connects(let handshake): return flow.closeAt.map { $0 < flow.openAt.adding(nanoseconds: handshake) } ?? false
    default: return false
    }
  }
  public var isListener: Bool { flow.outcome == .listens }
}

/// Collects the kernel's side of each flow's life as the simulation runs.
struct GroundTruthLedger: Sendable {
  struct Entry: Sendable {
    var ref: SourceRef?
    var addDropped = false
    var detachedAt: MonotonicTime?
    var finalCounts: Counts?
    var removalDelivered = false
    var removalFlags: MessageFlags = []
  }

  var entries: [Int: Entry] = [:]

  mutating func opened(_ flow: FlowPlan) { entries[flow.id] = Entry() }
  mutating func sourceCreated(_ id: Int, ref: SourceRef) { entries[id, default: Entry()].ref = ref }
  mutating func addDropped(_ id: Int) { entries[id, default: Entry()].addDropped = true }

  mutating func detached(_ id: Int, at time: MonotonicTime, counts: Counts) {
    entries[id, default: Entry()].detachedAt = time
    entries[id, default: Entry()].finalCounts = counts
  }

  mutating func removed(_ id: Int, delivered: Bool, flags: MessageFlags) {
    entries[id, default: Entry()].removalDelivered = delivered
    entries[id, default: Entry()].removalFlags = flags
  }

  func records(workload: Workload, now: MonotonicTime) -> [GroundTruthRecord] {
    workload.flows.compactMap { flow in
      guard let entry = entries[flow.id] else { return nil }
      return GroundTruthRecord(
        flow: flow, sourceRef: entry.ref, addDropped: entry.addDropped, detachedAt: entry.detachedAt,
        finalCounts: entry.finalCounts ?? flow.counts(at: now), removalDelivered: entry.removalDelivered,
        removalFlags: entry.removalFlags)
    }
  }
}
