import Foundation

/// A mutex for the few flags shared across threads.
package final class NSLockLike: @unchecked Sendable {  // NSLock is itself safe to share
  private let lock = NSLock()
  package init() {}

  package func withLock<T>(_ body: () throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
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

/// A flag one thread sets and another polls.
package final class StopFlag: @unchecked Sendable {  // `value` is read and written under `lock`
  private let lock = NSLockLike()
  private var value = false

  package init() {}

  package var isSet: Bool { lock.withLock { value } }

  package func set() { lock.withLock { value = true } }
}
