import Atomics
import NTStat
import NtstatWire

/// The rules of the virtual clocks that replay and the simulator transport run a client on,
/// written once so that a replay of a simulated session reproduces it exactly.
enum VirtualClock {
  /// Live, a client timer due at the same instant as a datagram runs before the datagram is
  /// read: the client's poll returns for the timer first.
  static func timerRunsFirst(deadline: MonotonicTime, datagramAt time: MonotonicTime) -> Bool {
    deadline <= time
  }
}

/// Holds a virtual clock back to the wall clock at a speed that can change while it runs
/// (``ReplayControl``): each move of the virtual clock waits until the wall clock has caught up.
/// Pausing holds the virtual clock; resuming or a new speed counts on from the virtual time
/// reached, with no catch-up burst.
struct WallClockPacer {
  let control: ReplayControl
  /// Nothing is paced before this virtual time (earlier frames go at top speed).
  var paceFrom: MonotonicTime = .zero
  /// Called before a wait (``ClientTransport/setWaitHandler(_:)``).
  var waitHandler: (() -> Void)?
  /// Paced (real time or ×N): a top-speed clock never reads ``control`` (a lock per frame).
  let paced: Bool
  /// The virtual and wall times pacing counts from: the first paced move, then every pause,
  /// resume or change of speed.
  private var anchor: (virtual: MonotonicTime, wall: MonotonicTime)?
  private var anchorGeneration: UInt64 = 0

  init(control: ReplayControl) {
    self.control = control
    paced = control.speed.factor != nil
  }

  /// Waits until the virtual clock's move from `previous` to `now` is due on the wall clock.
  /// A wait checks `stop` at least every 100 ms; returns false when it said stop.
  mutating func wait(from previous: MonotonicTime, to now: MonotonicTime, stop: StopSignal? = nil) -> Bool {
    guard paced, now > previous, now >= paceFrom else { return true }
    let control = self.control
    while true {
      let state = control.state
      if state.generation != anchorGeneration {
        // Paused, resumed or sped up: count on from the move before this one, from now.
        anchorGeneration = state.generation
        anchor = (max(previous, paceFrom), SystemCalls.monotonicNow())
      }
      if state.paused {
        waitHandler?()
        SystemCalls.sleep(until: SystemCalls.monotonicNow().adding(nanoseconds: 50_000_000)) {
          stop?.isSet == true || control.generation != state.generation
        }
        if stop?.isSet == true { return false }
        continue
      }
      guard let factor = state.speed.factor else { return true }
      let start = anchor ?? (paceFrom, SystemCalls.monotonicNow())
      if anchor == nil { anchor = start }
      let due = start.wall.adding(nanoseconds: UInt64(Double(now.since(start.virtual)) / factor))
      if due > SystemCalls.monotonicNow() { waitHandler?() }
      SystemCalls.sleep(until: due, slice: 100_000_000) {
        stop?.isSet == true || control.generation != state.generation
      }
      if stop?.isSet == true { return false }
      if control.generation == state.generation {
        control.addPaced(nanoseconds: UInt64(Double(now.since(max(previous, paceFrom))) / factor))
        return true
      }
    }
  }
}

/// A flag any thread sets and a run loop reads on every step: an atomic, so reading it costs
/// nothing measurable at top speed (a lock per read cost 6 % of a replay).
package final class StopSignal: Sendable {
  private let value = ManagedAtomic<Bool>(false)

  package init() {}
  package func set() { value.store(true, ordering: .releasing) }
  package var isSet: Bool { value.load(ordering: .acquiring) }
}
