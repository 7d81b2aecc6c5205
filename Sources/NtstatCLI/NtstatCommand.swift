import ArgumentParser
import Foundation

/// The `ntstat` command line. Exit codes: 0 success, 1 the input did not decode (a result, like
/// diff(1)'s "different"; for `doctor`, ntstat does not work here), 2 trouble (bad arguments,
/// unreadable files), 3 the kernel refused every provider, 4 the kernel's layouts do not fit the
/// layout family.
public struct NtstatCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "ntstat",
    abstract:
      "Watch, record, simulate and decode macOS network statistics (com.apple.network.statistics) for every XNU layout family.",
    version: NtstatVersion.string,
    subcommands: [
      WatchCommand.self, TopCommand.self, RecordCommand.self, DoctorCommand.self, ReplayCommand.self, DiffCommand.self,
      SimulateCommand.self,
      DecodeCommand.self,
      InspectCommand.self,
      CatCommand.self, ConvertCommand.self, SliceCommand.self, CorpusCommand.self, RedactCommand.self,
      FamiliesCommand.self, WiresharkDissectorCommand.self,
    ]
  )

  public init() {}
}

/// The tool's version, written into captures and printed by `--version`.
public enum NtstatVersion {
  public static let string = "0.1.0"
}

extension NtstatCommand {
  /// Runs the command line with the documented exit codes: 0 success, 1 a result that is not
  /// clean (a datagram that did not decode), 2 trouble (bad arguments, unreadable input).
  /// Help and version requests exit 0.
  public static func runMain(_ arguments: [String]? = nil) -> Never {
    unblockStopSignals()
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      Foundation.exit(0)
    } catch {
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Foundation.exit(0)
      }
      if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
      if let failure = error as? CommandFailure {
        FileHandle.standardError.write(Data(("ntstat: " + failure.message + "\n").utf8))
        Foundation.exit(failure.status)
      }
      let message = fullMessage(for: error)
      if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
      Foundation.exit(2)
    }
  }
}

/// A parent may hand its signal mask down with SIGINT and SIGTERM blocked (Foundation's
/// `Process` does from a thread that blocks them, as test runners' threads do); blocked, they
/// would make `watch`, `record` and `replay --loop` impossible to stop. Ignored signals stay
/// ignored: that is a parent's deliberate choice (`nohup`, background jobs).
func unblockStopSignals() {
  var set = sigset_t()
  sigemptyset(&set)
  for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, number) }
  pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

/// Why a command cannot go on, for the user, with the exit status it means: the one error type
/// commands throw for trouble (the root prints `ntstat: message` and exits with `status`).
struct CommandFailure: Error, CustomStringConvertible {
  var message: String
  /// 2, trouble (arguments, files, the control), unless said otherwise.
  var status: Int32 = 2

  init(_ message: String, status: Int32 = 2) {
    self.message = message
    self.status = status
  }

  var description: String { message }
}
