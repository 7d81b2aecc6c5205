import Foundation
import NtstatTestSupport
import Testing

/// `ntstat replay` and `ntstat diff` as a user runs them on the bundled corpus.
@Suite(.hangLimit) struct ReplayDiffCommandTests {
  static let capture = "captures/xnu-8019.61.pcapng.zst"
  static let golden = "captures/xnu-8019.61.jsonl"

  /// `--loop` starts over at the end until interrupted, each pass the same as the last, and
  /// SIGINT ends it cleanly (even though the test runner's threads hand their blocked signal
  /// mask down to the child). The output goes to a file, not a pipe: a looping writer would
  /// fill a pipe nobody drains while the test waits.
  @Test func loopRepeatsTheSamePassUntilInterrupted() throws {
    let output = URL(fileURLWithPath: Repository.temporaryPath("loop.jsonl"))
    try #require(FileManager.default.createFile(atPath: output.path, contents: nil))
    defer { try? FileManager.default.removeItem(at: output) }
    let process = Process()
    process.executableURL = NtstatProcess.binary
    process.arguments = ["replay", "--loop", "--format", "jsonl", "--top-speed", "--quiet", "--to", "3s", Self.capture]
    process.currentDirectoryURL = NtstatProcess.packageRoot
    process.standardOutput = try FileHandle(forWritingTo: output)
    process.standardError = FileHandle.nullDevice
    try process.run()
    func passes() throws -> [String] {
      let text = try String(contentsOf: output, encoding: .utf8)
      return text.components(separatedBy: #"{"event":"header""#).dropFirst().map { $0 }
    }
    let deadline = Date().addingTimeInterval(60)
    while try passes().count < 4, Date() < deadline, process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
    let running = process.isRunning
    process.interrupt()
    process.waitUntilExit()
    #expect(running, "the replay ended by itself under --loop")
    // SIGINT ends it cleanly.
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 0)
    let all = try passes()
    try #require(all.count >= 4)
    // Every complete pass (all but the last, which the interrupt cut) is the same.
    #expect(Set(all.dropLast()).count == 1)
    #expect(all[0].contains(#""event":"added""#))
  }

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
    let copy = Repository.temporaryPath("strict.pcapng.zst")
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
    // 8019.61 and 11215 run the same simulated session nearly the same way: the same streams,
    // added and removed alike; only an update in the last poll, which the session's end cuts
    // short, may differ (11215 packs every ALL answer, so the two lose different datagrams).
    let ignoringFamily = try NtstatProcess.run([
      "diff", "--json", "--ignore", "family,time_ns", Self.golden, "captures/xnu-11215.jsonl",
    ])
    #expect(ignoringFamily.stdout.contains(#""only_in_a":[],"only_in_b":[]"#))
    let changed = ignoringFamily.stdout.components(separatedBy: #""stream":"#).count - 1
    #expect(changed <= 2, "\(changed) streams differ")
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
    let cut = URL(fileURLWithPath: Repository.temporaryPath("cut.pcapng.zst"))
    try data.prefix(data.count / 2).write(to: cut)
    let result = try NtstatProcess.run(["replay", "--top-speed", "--format", "jsonl", cut.path])
    #expect(result.status == 1)
    #expect(result.stderr.contains(cut.path))
    #expect(result.stdout.split(separator: "\n").count > 50)
  }
}

/// Inputs that are not captures, or not ntstat captures: a clear message and exit status 2.
@Suite(.hangLimit) struct ReplayBadInputTests {
  static func temporary(_ name: String, _ bytes: [UInt8]) throws -> String {
    let path = Repository.temporaryPath(name)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// A pcapng from another tool: one Ethernet interface (link type 1) and a packet.
  static func ethernetPcapng() -> [UInt8] {
    typealias P = PcapngBlocks
    let idb = P.block(1, P.le16(1) + P.le16(0) + P.le32(65535))
    let packet = [UInt8](0..<60)
    let epb = P.block(6, P.le32(0) + P.le32(0) + P.le32(0) + P.le32(60) + P.le32(60) + packet)
    return P.sectionHeader() + idb + epb
  }

  @Test func badInputsExitTwoWithAReason() throws {
    let cases: [(String, String)] = [
      ("/nonexistent/capture.pcapng.zst", "No such file"),
      (FileManager.default.temporaryDirectory.path, "is a directory"),
      (try Self.temporary("empty.pcapng.zst", []), "the file is empty"),
      (try Self.temporary("text.pcapng.zst", Array("hello, world\n".utf8)), "neither a zstd stream nor a pcapng"),
      (try Self.temporary("ethernet.pcapng", Self.ethernetPcapng()), "link type 1, not 147"),
    ]
    for (path, reason) in cases {
      let replay = try NtstatProcess.run(["replay", "--top-speed", path])
      #expect(replay.status == 2, "replay \(path)")
      #expect(replay.stderr.contains(reason), "replay \(path): \(replay.stderr)")
      let diff = try NtstatProcess.run(["diff", path, "captures/xnu-11215.jsonl"])
      #expect(diff.status == 2, "diff \(path)")
      // The system's reason with the file's name, not a Foundation error dump.
      #expect(diff.stderr.hasPrefix("ntstat: \(path)"), "diff \(path): \(diff.stderr)")
      #expect(!diff.stderr.contains("NSCocoaErrorDomain"), "diff \(path): \(diff.stderr)")
    }
  }
}
