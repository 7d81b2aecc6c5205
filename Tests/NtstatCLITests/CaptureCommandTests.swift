import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

@Suite(.hangLimit) struct CaptureCommandTests {
  static let sample = "captures/samples/xnu-11215.pcapng.zst"

  @Test func inspectSummarisesABundledCapture() throws {
    let result = try NtstatProcess.run(["inspect", Self.sample, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(object["family"] as? String == "xnu-11215")
    #expect(object["frames"] as? Int == 39)
    #expect(object["closed_cleanly"] as? Bool == true)
    #expect((object["messages"] as? [String: Any])?["SRC_EXTENDED_UPDATE"] as? Int == 1)
  }

  @Test func inspectReportsTruncationWithOffsetsAndExitsOne() throws {
    let dir = try Repository.temporaryDirectory()
    let bytes = try Data(contentsOf: NtstatProcess.packageRoot.appendingPathComponent(Self.sample))
    let cut = dir.appendingPathComponent("cut.pcapng.zst")
    try bytes.prefix(bytes.count - 10).write(to: cut)
    let result = try NtstatProcess.run(["inspect", cut.path, "--json"])
    #expect(result.status == 1)
    // The section header and interface have a zstd frame of their own; the damage is in the next.
    #expect(result.stderr.contains("cut.pcapng.zst: truncated at compressed byte "))
    #expect(result.stderr.contains("the last zstd frame is incomplete"))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect((object["damage"] as? [String: Any])?["kind"] as? String == "truncated")
  }

  @Test func unreadableInputsExitTwoWithTheFileNamed() throws {
    let dir = try Repository.temporaryDirectory()
    let empty = dir.appendingPathComponent("empty.pcapng")
    try Data().write(to: empty)
    let wrong = dir.appendingPathComponent("wrong.pcapng.zst")
    try Data("not a capture at all".utf8).write(to: wrong)
    for (path, text) in [
      ("/nonexistent/x.pcapng.zst", "No such file"), (dir.path, "is a directory"), (empty.path, "empty"),
      (wrong.path, "neither a zstd stream nor a pcapng"),
    ] {
      let result = try NtstatProcess.run(["inspect", path])
      #expect(result.status == 2, "\(path): \(result.stderr)")
      #expect(result.stderr.contains(path) && result.stderr.contains(text), "\(path): \(result.stderr)")
    }
  }

  @Test func convertRoundTripsBetweenCompressedAndPlain() throws {
    let dir = try Repository.temporaryDirectory()
    let plain = dir.appendingPathComponent("sample.pcapng").path
    let again = dir.appendingPathComponent("again.pcapng.zst").path
    #expect(try NtstatProcess.run(["convert", Self.sample, plain]).status == 0)
    #expect(try NtstatProcess.run(["convert", plain, again, "--level", "9"]).status == 0)
    func frames(_ path: String) throws -> [CapturedFrame] {
      let reader = try CaptureFileReader(path: path)
      var frames: [CapturedFrame] = []
      while let record = try reader.next() { if case .frame(let f) = record { frames.append(f) } }
      return frames
    }
    let original = try frames(NtstatProcess.packageRoot.appendingPathComponent(Self.sample).path)
    #expect(try frames(plain) == original)
    #expect(try frames(again) == original)
    let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: plain)).readData(ofLength: 4)
    #expect([UInt8](head) == [0x0A, 0x0D, 0x0D, 0x0A])
  }

  @Test func catPrintsOneFrameALine() throws {
    let result = try NtstatProcess.run(["cat", Self.sample])
    #expect(result.status == 0)
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.count == 39)
    #expect(lines.contains { $0.contains("SRC_DESC") && $0.contains("Safari") && $0.contains("ESTABLISHED") })
    let json = try NtstatProcess.run(["cat", Self.sample, "--json"])
    #expect(json.stdout.split(separator: "\n").count == 39)
  }
}

@Suite(.hangLimit) struct LegacyAndSliceCommandTests {
  /// A recording in libntstat's format (u32 seconds, u32 length, datagram), built from the
  /// bundled xnu-3789 sample capture's frames.
  static func legacyRecording(at path: String) throws -> [CapturedFrame] {
    let reader = try CaptureFileReader(
      path: NtstatProcess.packageRoot.appendingPathComponent("captures/samples/xnu-3789.pcapng.zst").path)
    var frames: [CapturedFrame] = []
    while let record = try reader.next() { if case .frame(let f) = record { frames.append(f) } }
    var bytes: [UInt8] = []
    for (index, frame) in frames.enumerated() {
      withUnsafeBytes(of: UInt32(1_500_000_000 + index).littleEndian) { bytes += $0 }
      withUnsafeBytes(of: UInt32(frame.bytes.count).littleEndian) { bytes += $0 }
      bytes += frame.bytes
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return frames
  }

  static func frames(_ path: String) throws -> [CapturedFrame] {
    let contents = try CaptureContents(path: path)
    if let damage = contents.damage { throw damage }
    return contents.frames
  }

  @Test func legacyRecordingsImportWithVersionAndDirections() throws {
    let dir = try Repository.temporaryDirectory()
    let legacy = dir.appendingPathComponent("ntstat-xnu-3789.70.16.bin").path
    let original = try Self.legacyRecording(at: legacy)
    let out = dir.appendingPathComponent("imported.pcapng.zst").path
    let result = try NtstatProcess.run(["convert", legacy, out])
    #expect(result.status == 0, "\(result.stderr)")
    let imported = try Self.frames(out)
    #expect(imported.map(\.bytes) == original.map(\.bytes))
    #expect(imported.map(\.direction) == original.map(\.direction))
    #expect(imported.first?.timestamp == 1_500_000_000_000_000_000)
    let inspect = try NtstatProcess.run(["inspect", out, "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
    #expect(object["family"] as? String == "xnu-3789")
    #expect(object["undecodable_frames"] == nil)
  }

  @Test func truncatedLegacyRecordingsImportTheirCompleteRecordsAndExitOne() throws {
    let dir = try Repository.temporaryDirectory()
    let legacy = dir.appendingPathComponent("recording.bin").path
    let original = try Self.legacyRecording(at: legacy)
    let data = try Data(contentsOf: URL(fileURLWithPath: legacy))
    try data.prefix(data.count - 5).write(to: URL(fileURLWithPath: legacy))
    let out = dir.appendingPathComponent("imported.pcapng").path
    let result = try NtstatProcess.run(["convert", legacy, out, "--xnu", "3789.70.16"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("recording.bin: truncated"))
    #expect(try Self.frames(out).count == original.count - 1)
    let noVersion = try NtstatProcess.run(["convert", legacy, out])
    #expect(noVersion.status == 2 && noVersion.stderr.contains("--xnu"))
  }

  @Test func sliceByTimeAndByFrame() throws {
    let dir = try Repository.temporaryDirectory()
    let sample = NtstatProcess.packageRoot.appendingPathComponent(CaptureCommandTests.sample).path
    let all = try Self.frames(sample)
    let byTime = dir.appendingPathComponent("t.pcapng.zst").path
    #expect(try NtstatProcess.run(["slice", sample, byTime, "--from", "5ms", "--to", "0.010"]).status == 0)
    #expect(try Self.frames(byTime) == Array(all[5..<10]))
    let byFrame = dir.appendingPathComponent("f.pcapng").path
    #expect(try NtstatProcess.run(["slice", sample, byFrame, "--from-frame", "30"]).status == 0)
    #expect(try Self.frames(byFrame) == Array(all[30...]))
  }
}
