import NTStat

/// Pauses a paced replay or changes its speed while it runs, from any thread (`ntstat top`'s
/// `p`, `+` and `-`). The replay reads it at each paced wait: pausing stops the capture clock
/// (no frame is delivered and the client's timers do not fire), and resuming or a new speed
/// takes effect from the capture time reached, with no catch-up burst. A top-speed replay is
/// never paced, so neither applies to it.
public final class ReplayControl: @unchecked Sendable {  // every field is read and written under `lock`
  private let lock = PthreadMutex()
  private var pausedValue = false
  private var speedValue: ReplaySpeed
  /// Bumped on every change, so a wait in progress knows to start over.
  private var generationValue: UInt64 = 0

  init(speed: ReplaySpeed) { speedValue = speed }

  public var isPaused: Bool { lock.withLock { pausedValue } }
  public var speed: ReplaySpeed { lock.withLock { speedValue } }

  public func setPaused(_ paused: Bool) {
    lock.withLock {
      guard pausedValue != paused else { return }
      pausedValue = paused
      generationValue &+= 1
    }
  }

  /// A new pace; a top-speed replay stays at top speed.
  public func setSpeed(_ speed: ReplaySpeed) {
    lock.withLock {
      guard speedValue != .topSpeed, speed != .topSpeed else { return }
      speedValue = speed
      generationValue &+= 1
    }
  }

  /// The wall time the pacing has called for so far: each stretch of capture time paced,
  /// divided by the speed it was paced at (pauses count nothing). A replay takes this long on
  /// a machine that keeps up; one that cannot keep up takes longer, never less.
  public var pacedDuration: Duration { lock.withLock { .nanoseconds(Int64(clamping: pacedNanoseconds)) } }
  private var pacedNanoseconds: UInt64 = 0

  func addPaced(nanoseconds: UInt64) { lock.withLock { pacedNanoseconds &+= nanoseconds } }

  var state: (paused: Bool, speed: ReplaySpeed, generation: UInt64) {
    lock.withLock { (pausedValue, speedValue, generationValue) }
  }

  var generation: UInt64 { lock.withLock { generationValue } }
}
