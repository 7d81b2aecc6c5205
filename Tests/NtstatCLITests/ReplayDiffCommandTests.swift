import Foundation
import Testing

/// `ntstat replay` and `ntstat diff` as a user runs them on the bundled corpus.
@Suite struct ReplayDiffCommandTests {
  static let capture = "captures/xnu-8019.61.pcapng.zst"
  static let golden = "captures/xnu-8019.61.jsonl"

  @Test func replayPrintsTheGoldenAtTopSpeed() throws {
    let result = try NtstatProcess.run(["replay", "--format", "jsonl", "--top-speed", "--quiet", Self.capture])
    #expect(result.status == 0, "\(result.stderr)")
    let golden = try String(contentsOf: NtstatProcess.packageRoot.appendingPathComponent(Self.golden), encoding: .utf8)
    #expect(result.stdout == golden)
  }

  @Test func replaySummaryAndFromTo() throws {
    let result = try NtstatProcess.run(["replay", "--speed", "1000", "--from", "5s", "--to", "8s", Self.capture])
    #expect(result.status == 0)
    #expect(result.stderr.contains("(xnu-8019.61, from the capture's metadata) at ×1000.0"))
    #expect(result.stderr.contains("0 divergences"))
    let times = result.stdout.split(separator: "\n").compactMap { line -> String? in
      line.hasPrefix(" + ") || line.hasPrefix(" - ") || line.hasPrefix(" # ")
        ? String(line.split(separator: " ")[1]) : nil
    }
    #expect(!times.isEmpty)
    #expect(times.allSatisfy { $0 >= "00:00:05.000" && $0 <= "00:00:08.000" })
  }

  @Test func strictReplayOfAChangedClientExitsOne() throws {
    // The legacy capture replayed as if recorded by this library's default client: different
    // requests, so --strict fails while the default only reports.
    let copy = FileManager.default.temporaryDirectory.appendingPathComponent("strict-\(getpid()).pcapng.zst").path
    let convert = try NtstatProcess.run(["convert", "captures/legacy/ntstat-xnu-3789.70.16.bin", copy])
    #expect(convert.status == 0)
    let relaxed = try NtstatProcess.run(["replay", "--top-speed", "--format", "jsonl", copy])
    #expect(relaxed.status == 0)
    #expect(relaxed.stderr.contains(" 0 divergences"))
    let familyForced = try NtstatProcess.run([
      "replay", "--top-speed", "--format", "jsonl", "--strict", "--family", "xnu-4570", copy,
    ])
    #expect(familyForced.status == 1, "\(familyForced.stderr.prefix(400))")
    #expect(familyForced.stderr.contains("unexpected-request") || familyForced.stderr.contains("missing-request"))
  }

  @Test func diffExitCodes() throws {
    let same = try NtstatProcess.run(["diff", "--baseline", Self.golden, Self.capture])
    #expect(same.status == 0, "\(same.stdout)")
    #expect(same.stdout.contains("same: "))
    let different = try NtstatProcess.run(["diff", Self.golden, "captures/xnu-10002.jsonl"])
    #expect(different.status == 1)
    #expect(different.stdout.contains("header family: xnu-8019.61 → xnu-10002"))
    // 8019.61 and 11215 run the same simulated session the same way: only the family differs.
    let ignoringFamily = try NtstatProcess.run([
      "diff", "--json", "--ignore", "family", Self.golden, "captures/xnu-11215.jsonl",
    ])
    #expect(ignoringFamily.status == 0)
    #expect(ignoringFamily.stdout.hasPrefix(#"{"same":true"#))
    // 4570's kernel has no QUIC or conn provider: those streams are only in A.
    let older = try NtstatProcess.run(["diff", "--json", "--ignore", "family", Self.golden, "captures/xnu-4570.jsonl"])
    #expect(older.status == 1)
    #expect(older.stdout.contains(#""protocol":"quic""#))
    let trouble = try NtstatProcess.run(["diff", Self.golden, "/nonexistent.jsonl"])
    #expect(trouble.status == 2)
    #expect(trouble.stderr.contains("/nonexistent.jsonl"))
  }

  @Test func diffWithAnotherDecoderBinary() throws {
    // The same binary as "the other version": identical output, exit 0.
    let result = try NtstatProcess.run(["diff", "--decoder", NtstatProcess.binary.path, Self.capture])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
  }

  @Test func damagedCaptureReplaysWhatItCanAndExitsOne() throws {
    let data = try Data(contentsOf: NtstatProcess.packageRoot.appendingPathComponent(Self.capture))
    let cut = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(getpid()).pcapng.zst")
    try data.prefix(data.count / 2).write(to: cut)
    let result = try NtstatProcess.run(["replay", "--top-speed", "--format", "jsonl", cut.path])
    #expect(result.status == 1)
    #expect(result.stderr.contains(cut.path))
    #expect(result.stdout.split(separator: "\n").count > 50)
  }
}
