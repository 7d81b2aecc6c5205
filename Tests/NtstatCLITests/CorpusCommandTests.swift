import Foundation
import NtstatTestSupport
import Testing

/// `ntstat corpus add`: a capture into the corpus in one command, as a contributor runs it.
@Suite(.hangLimit) struct CorpusCommandTests {
  /// An empty corpus directory with the real corpus's README.
  static func corpusDirectory(_ name: String) throws -> String {
    let directory = Repository.temporaryPath("ntstat-\(name)")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try? FileManager.default.removeItem(atPath: directory + "/README.md")
    try FileManager.default.copyItem(
      atPath: NtstatProcess.packageRoot.appendingPathComponent("captures/real/README.md").path,
      toPath: directory + "/README.md")
    return directory
  }

  @Test func addWritesCaptureGoldenAndRow() throws {
    let directory = try Self.corpusDirectory("corpus")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = "captures/xnu-6153.pcapng.zst"
    let added = try NtstatProcess.run(["corpus", "add", source, "--name", "mac-10.15", "--corpus", directory])
    #expect(added.status == 0, "\(added.stderr)")
    #expect(
      FileManager.default.contents(atPath: directory + "/mac-10.15.pcapng.zst")
        == FileManager.default.contents(atPath: NtstatProcess.packageRoot.appendingPathComponent(source).path))
    let readme = try String(contentsOfFile: directory + "/README.md", encoding: .utf8)
    let row = try #require(readme.split(separator: "\n").last)
    #expect(row.hasPrefix("| `mac-10.15.pcapng.zst` | xnu-6153 |"), "\(row)")
    // The golden is what replay prints: the capture replays to it.
    let diff = try NtstatProcess.run([
      "diff", "--baseline", directory + "/mac-10.15.jsonl", directory + "/mac-10.15.pcapng.zst",
    ])
    #expect(diff.status == 0, "\(diff.stdout)")
    // Nothing is replaced without --force.
    let again = try NtstatProcess.run(["corpus", "add", source, "--name", "mac-10.15", "--corpus", directory])
    #expect(again.status == 2 && again.stderr.contains("exists"))
    #expect(try String(contentsOfFile: directory + "/README.md", encoding: .utf8) == readme)
  }

  @Test func aCaptureThatDoesNotReplayCleanlyIsRefused() throws {
    let directory = try Self.corpusDirectory("corpus2")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let original = try Data(
      contentsOf: NtstatProcess.packageRoot.appendingPathComponent("captures/xnu-6153.pcapng.zst"))
    let truncated = directory + "/cut.pcapng.zst"
    try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: truncated))
    let result = try NtstatProcess.run(["corpus", "add", truncated, "--corpus", directory])
    #expect(result.status == 1, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: directory + "/cut.jsonl"))
  }
}
