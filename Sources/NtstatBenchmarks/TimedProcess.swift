import Foundation

/// Child processes timed to the microsecond: started with `posix_spawnp`, reaped with `waitpid`.
///
/// Foundation's `Process.waitUntilExit()` on Linux polls its run loop every 50 ms, so each time
/// measured through it was rounded up to the next poll: `true` took 50 ms, and `zstd -d` of a
/// capture read as 0.10, 0.15 or 0.20 s and nothing in between, which moved the ratio of a
/// 0.2-second replay to it by a third from one round to the next.
enum TimedProcess {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// What a child left: its wall-clock time from spawn to reaping, and what it wrote to
  /// standard output when that was captured.
  struct Result {
    var seconds: Double
    var output: String
  }

  /// Runs `arguments` (the program found on `PATH`) with standard input from `input`, and
  /// standard output to the file `output`, or captured and returned when `output` is nil.
  /// Throws unless it exits with status 0.
  static func run(_ arguments: [String], input: String = "/dev/null", output: String? = nil) throws -> Result {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
    var pipe: [Int32] = [-1, -1]
    if let output {
      posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    } else {
      guard Glibc.pipe(&pipe) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
      posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
      posix_spawn_file_actions_addclose(&actions, pipe[0])
      posix_spawn_file_actions_addclose(&actions, pipe[1])
    }
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid = pid_t()
    let start = ContinuousClock.now
    let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
    if output == nil { close(pipe[1]) }
    guard spawned == 0 else {
      if output == nil { close(pipe[0]) }
      throw Failure(description: "\(arguments[0]): \(String(cString: strerror(spawned)))")
    }
    var captured: [UInt8] = []
    if output == nil {
      var chunk = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let count = chunk.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        if count <= 0 { break }
        captured += chunk[0..<count]
      }
      close(pipe[0])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    let seconds = DecodeBenchmark.seconds(ContinuousClock.now - start)
    // WIFEXITED and WEXITSTATUS, which Swift does not import.
    guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
      throw Failure(description: "\(arguments.joined(separator: " ")) ended with status \(status)")
    }
    return Result(seconds: seconds, output: String(decoding: captured, as: UTF8.self))
  }
}
