import Foundation

/// What a child process left: its exit status and everything it wrote.
package struct ProcessResult: Sendable {
  package var status: Int32
  package var stdout: String
  package var stderr: String
}

/// Runs real programs (the `ntstat` binary, tshark, capinfos) as child processes.
package enum ChildProcess {
  /// Runs `executable` to its end. Standard input gets `stdin` (then its end); standard output
  /// and error are read whole, error on a thread of its own: a child that fills one pipe while
  /// the other is being read to its end would otherwise block forever.
  package static func run(
    _ executable: URL, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
    directory: URL? = nil
  ) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let stderrBox = DataBox()
    let drain = Thread { stderrBox.set(err.fileHandleForReading.readDataToEndOfFile()) }
    drain.start()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !drain.isFinished { usleep(1000) }
    return ProcessResult(
      status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
      stderr: String(decoding: stderrBox.value, as: UTF8.self))
  }
}

/// Bytes handed from the thread that read them.
package final class DataBox: @unchecked Sendable {  // `data` is read and written under `lock`
  private let lock = NSLock()
  private var data = Data()
  package init() {}
  package func set(_ value: Data) { lock.withLock { data = value } }
  package var value: Data { lock.withLock { data } }
}

/// The real `ntstat` binary, built next to the test bundle.
package enum NtstatProcess {
  /// The `ntstat` executable built next to the test bundle (override with NTSTAT_BINARY).
  package static var binary: URL {
    if let path = ProcessInfo.processInfo.environment["NTSTAT_BINARY"] { return URL(fileURLWithPath: path) }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ntstat")
  }

  package static var packageRoot: URL { Repository.root }

  /// Runs `ntstat arguments…` from the package root (so `captures/…` paths resolve).
  package static func run(
    _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]
  ) throws -> ProcessResult {
    try ChildProcess.run(binary, arguments, stdin: stdin, environment: environment, directory: Repository.root)
  }
}
