import ArgumentParser
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

/// `ntstat corpus add`: a capture into the regression corpus in one command.
struct CorpusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "corpus",
    abstract: "Manage the regression corpus (captures with their golden events).",
    subcommands: [CorpusAddCommand.self])
}

struct CorpusAddCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    abstract: "Add a capture to the corpus: copy it, write its golden events, add its row to the README.",
    discussion: """
      The capture is replayed as `ntstat replay --format jsonl` would (its recorded configuration, \
      its family) and must replay cleanly: no damage, no divergence from its recorded requests. \
      Nothing in the corpus is ever replaced (--force replaces the capture and golden of the same name).
      """)

  @Argument(help: "The capture (.pcapng.zst or .pcapng).") var file: String
  @Option(name: .long, help: "Name in the corpus (default: the file's name without its suffix).") var name: String?
  @Option(name: .long, help: "The corpus directory.") var corpus: String = "captures/real"
  @Flag(name: .long, help: "Replace a capture and golden of the same name.") var force = false

  func run() throws {
    let base =
      name
      ?? (file as NSString).lastPathComponent.replacingOccurrences(of: ".pcapng.zst", with: "")
      .replacingOccurrences(of: ".pcapng", with: "")
    guard !base.isEmpty, base.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
      throw ValidationError("--name: \"\(base)\" must be letters, digits, '-', '_' or '.'")
    }
    let readme = corpus + "/README.md"
    guard FileManager.default.fileExists(atPath: readme) else {
      throw CommandFailure("\(readme) not found: run from the project's root or pass --corpus")
    }
    let suffix = file.hasSuffix(".pcapng") ? ".pcapng" : ".pcapng.zst"
    let capturePath = corpus + "/" + base + suffix
    let goldenPath = corpus + "/" + base + ".jsonl"

    // The golden first: a capture that does not replay cleanly does not belong in the corpus.
    let transport: ReplayTransport
    do {
      transport = try ReplayTransport(path: file, speed: .topSpeed)
    } catch {
      throw CommandFailure(describe(error, reading: file))
    }
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    var golden = Array(
      CanonicalEvent.header(family: transport.family, source: (capturePath as NSString).lastPathComponent).jsonText
        .utf8)
    golden.append(UInt8(ascii: "\n"))
    var streams = 0
    do {
      try client.run { event in
        if case .streamAdded = event { streams += 1 }
        CanonicalEvent.appendJSONLine(event, origin: .zero, to: &golden)
        golden.append(UInt8(ascii: "\n"))
      }
    } catch {
      printError("ntstat: \(file) does not replay cleanly: \(error)")
      throw ExitCode(1)
    }
    guard transport.divergenceCount == 0 else {
      printError(
        "ntstat: \(file) diverges from its recorded requests (\(transport.divergenceCount)): "
          + (transport.divergences.first?.description ?? ""))
      throw ExitCode(1)
    }

    let policy = OutputFilePolicy(mode: 0o644, replaceExisting: force)
    let capture = try openOutput(capturePath, policy: policy)
    capture.write(Data(try readFile(file)))
    try capture.synchronize()
    let goldenFile = try openOutput(goldenPath, policy: policy)
    goldenFile.write(Data(golden))
    try goldenFile.synchronize()

    let metadata = transport.metadata
    let kernel = KernelVersion(
      release: metadata.darwinRelease, version: metadata.kernelVersion ?? metadata.extra["shb_os"])
    let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
    let row =
      "| `\(base)\(suffix)` | \(transport.family) | \(kernel.description.isEmpty ? "unknown" : kernel.description) | "
      + "\(transport.framesDelivered) | \(streams) | \(date) |\n"
    var text = String(decoding: try readFile(readme), as: UTF8.self)
    if !text.hasSuffix("\n") { text += "\n" }
    text += row
    try Data(text.utf8).write(to: URL(fileURLWithPath: readme))
    print("added \(capturePath) and \(goldenPath) (\(transport.family), \(streams) streams); row added to \(readme)")
  }
}
