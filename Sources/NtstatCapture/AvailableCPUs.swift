import Foundation

/// How many CPUs this process may run on. On Linux, its affinity mask (`taskset`, a container's
/// cpuset) from `/proc/self/status`: Foundation's `activeProcessorCount` counts the machine's,
/// and `sched_getaffinity` is not in Swift's Glibc module. Elsewhere, the active processor count.
package enum AvailableCPUs {
  package static let count: Int = {
    #if os(Linux)
      if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let allowed = allowedCount(status: status)
      {
        return allowed
      }
    #endif
    return ProcessInfo.processInfo.activeProcessorCount
  }()

  /// The bits set in the `Cpus_allowed:` mask of a `/proc/PID/status` text (hexadecimal words
  /// separated by commas); nil if there is none, or it allows none.
  package static func allowedCount(status: String) -> Int? {
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else {
      return nil
    }
    var count = 0
    for character in line.dropFirst("Cpus_allowed:".count) {
      guard let digit = character.hexDigitValue else { continue }
      count += digit.nonzeroBitCount
    }
    return count > 0 ? count : nil
  }
}
