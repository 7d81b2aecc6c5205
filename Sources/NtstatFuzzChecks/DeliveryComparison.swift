import NTStat
import NtstatWire

/// Two engines fed the same datagrams and timers: one queues every event for
/// ``ClientEngine/pollEvent()``, the other hands its updates to a listener as they are made
/// (``ClientEngine/handleDatagram(_:at:deliver:)``), one that refuses the offers it is told to.
/// The listener must see the same events in the same order, and the engines must count the
/// same. Used by the engine fuzzer on arbitrary datagrams and by the tests on the corpus.
package struct DeliveryComparison {
  package private(set) var queuing: ClientEngine
  package private(set) var delivering: ClientEngine
  /// The queuing engine's events, in order.
  package private(set) var queued: [ClientEvent] = []
  /// What the other engine's listener saw, handed over or polled after each datagram, in order.
  package private(set) var delivered: [ClientEvent] = []
  package private(set) var taken = 0
  package private(set) var refused = 0

  package init(configuration: ClientConfiguration, family: LayoutFamily) {
    queuing = ClientEngine(configuration: configuration, family: family)
    delivering = queuing
    queuing.start(at: .zero)
    delivering.start(at: .zero)
  }

  /// One datagram into both engines, then the timers due and the requests and events each has
  /// for its driver. `refuses` is asked about each offer by its number, counted from zero.
  package mutating func handle(_ datagram: DatagramBytes, at time: MonotonicTime, refusing refuses: (Int) -> Bool) {
    queuing.handleDatagram(datagram, at: time)
    // Taken out of `self` for the listener's closure, which runs while an engine of `self`
    // is being changed; moved, so that appending does not copy what was seen so far.
    var (taken, refused) = (self.taken, self.refused)
    var delivered: [ClientEvent] = []
    swap(&delivered, &self.delivered)
    delivering.handleDatagram(datagram, at: time) { event in
      guard !refuses(taken + refused) else {
        refused += 1
        return false
      }
      taken += 1
      delivered.append(event)
      return true
    }
    if let due = queuing.nextDeadline(), due <= time {
      queuing.handleTimeout(at: time)
      delivering.handleTimeout(at: time)
    }
    while queuing.pollTransmit() != nil {}
    while delivering.pollTransmit() != nil {}
    while let event = queuing.pollEvent() { queued.append(event) }
    while let event = delivering.pollEvent() { delivered.append(event) }
    (self.taken, self.refused, self.delivered) = (taken, refused, delivered)
  }

  /// How the two ways differ, or nil.
  package var difference: String? {
    if delivered.count != queued.count {
      return "\(delivered.count) events handed over or polled, \(queued.count) queued"
    }
    if let index = delivered.indices.first(where: { delivered[$0] != queued[$0] }) {
      return "event \(index) differs: handed over \(delivered[index]), queued \(queued[index])"
    }
    if delivering.statistics != queuing.statistics { return "the engines count differently" }
    return nil
  }

  /// Runs both engines' timers at `time` (the queuing engine's events are not taken).
  package mutating func handleTimeout(at time: MonotonicTime) {
    queuing.handleTimeout(at: time)
    delivering.handleTimeout(at: time)
  }
}
