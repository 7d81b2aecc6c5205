import Foundation

/// A mutex for the few flags shared across threads: a `pthread_mutex_t` of its own, since the
/// client takes it once per input (an `NSLock` cost twice the instructions).
package final class PthreadMutex: @unchecked Sendable {  // the mutex is only used through pthread calls
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>

  package init() {
    mutex = .allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  @inline(__always)
  package func withLock<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body()
  }
}

/// A named thread running one closure: the client loop blocks in `poll`, so it gets a thread
/// of its own rather than a slot in the cooperative pool.
final class BackgroundThread: @unchecked Sendable {  // `thread` is set once and only started
  private let thread: Thread

  init(_ body: @escaping @Sendable () -> Void) {
    thread = Thread(block: body)
    thread.name = "ntstat client"
  }

  func start() { thread.start() }
}

/// Work started on a thread of its own, its result awaited later (``value()``): two pieces of
/// work that share nothing, such as the two sides of a `diff`, take about as long as the longer
/// one on two cores.
// `work` runs on the thread alone; `result` is written by it before `finished` is signalled and
// read only after the wait.
package final class ThreadedWork<Value>: @unchecked Sendable {
  private let work: () throws -> Value
  private let finished = DispatchSemaphore(value: 0)
  private var result: Result<Value, Error>?

  /// Starts `work` now, on a thread with an 8 MiB stack (a replay's and a digest's recursion
  /// stay well within it).
  package init(_ work: @escaping () throws -> Value) {
    self.work = work
    let thread = Thread { [self] in
      result = Result { try self.work() }
      finished.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// Waits for the work to end: its value, or the error it threw.
  package func value() throws -> Value {
    finished.wait()
    return try result!.get()
  }
}

/// A fixed set of mutexes picked by an object's address: objects that each need a short
/// critical section now and then share them, without an allocation per object and without
/// every thread queueing on one lock. Raw `pthread` mutexes, never freed: nothing is retained
/// or released to take one.
final class StripedLocks: @unchecked Sendable {  // the mutexes are only used through pthread calls
  private let mutexes: UnsafeMutablePointer<pthread_mutex_t>
  private static let count = 16

  init() {
    mutexes = .allocate(capacity: Self.count)
    for index in 0..<Self.count { pthread_mutex_init(mutexes + index, nil) }
  }

  @inline(__always)
  func withLock<T>(for object: AnyObject, _ body: () throws -> T) rethrows -> T {
    // Allocations are 16-byte aligned: the bits above those pick the mutex.
    // The address itself, not `hashValue`, which would run it through SipHash (`callgrind`: 100
    // instructions a lock).
    let mutex = mutexes + (Int(bitPattern: ObjectIdentifier(object)) >> 4) & (Self.count - 1)
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body()
  }
}

/// Ends `value`'s life on a thread of its own: freeing a large structure (a `diff`'s two
/// digests, a few million strings and arrays) keeps a core busy for a tenth of a second or
/// more, which the caller can spend finishing its work. What `value` holds alone is freed
/// there; what it shares with the caller's other values stays.
package func releaseInBackground<Value>(_ value: consuming Value) {
  let box = ReleasedValue(value)
  Thread { box.release() }.start()
}

/// A value handed to another thread to be destroyed there.
// Unchecked: the value was consumed into the box, and only the releasing thread touches it.
private final class ReleasedValue<Value>: @unchecked Sendable {
  private var value: Value?

  init(_ value: consuming Value) { self.value = consume value }

  func release() { value = nil }
}
