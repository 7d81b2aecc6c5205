import ArgumentParser

/// The `ntstat` command line. Exit codes: 0 success, 1 the input did not decode (a result, like
/// diff(1)'s "different"), 2 trouble (bad arguments, unreadable files).
public struct NtstatCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "ntstat",
    abstract: "Decode, record and replay macOS network statistics (com.apple.network.statistics).",
    version: NtstatVersion.string,
    subcommands: [DecodeCommand.self, FamiliesCommand.self]
  )

  public init() {}
}

/// The tool's version, written into captures and printed by `--version`.
public enum NtstatVersion {
  public static let string = "0.1.0"
}
