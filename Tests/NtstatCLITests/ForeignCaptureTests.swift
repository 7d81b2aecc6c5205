import Foundation
import NtstatCapture
import NtstatTestSupport
import Testing

/// A capture written by another tool: no ntstat comments, only a standard `shb_os` line.
@Suite(.hangLimit) struct ForeignCaptureTests {
  @Test func familyComesFromTheKernelInShbOS() throws {
    // The xnu-10002 corpus capture's frames, re-wrapped as another recorder would write them.
    let reader = try CaptureFileReader(
      path: NtstatProcess.packageRoot.appendingPathComponent("captures/xnu-10002.pcapng.zst").path)
    let encoder = PcapngEncoder()
    var bytes = encoder.foreignSectionHeader(
      os: "Darwin Kernel Version 23.6.0: Mon Jul 29 21:14:30 PDT 2024; root:xnu-10063.141.1~1/RELEASE_X86_64",
      application: "some other recorder 1.0")
    bytes += encoder.interfaceDescription(description: nil)
    var frames = 0
    while let record = try reader.next() {
      guard case .frame(var frame) = record else { continue }
      frame.interfaceID = 0
      encoder.appendEnhancedPacket(frame, to: &bytes)
      frames += 1
    }
    #expect(frames > 1000)
    let path = Repository.temporaryPath("foreign.pcapng")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }

    let inspect = try NtstatProcess.run(["inspect", "--json", path])
    #expect(inspect.status == 0, "\(inspect.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
    #expect(object["family"] as? String == "xnu-10002")
    #expect((object["family_source"] as? String)?.contains("shb_os") == true)
    #expect((object["family_source"] as? String)?.contains("xnu-10063.141.1") == true)

    let replay = try NtstatProcess.run(["replay", "--top-speed", "--format", "jsonl", path])
    #expect(replay.status == 0, "\(replay.stderr)")
    #expect(replay.stdout.hasPrefix(#"{"event":"header","schema":1,"family":"xnu-10002""#))
    #expect(replay.stderr.contains("from the kernel in shb_os"))
  }

  @Test func damageAtTheStartIsReportedAsDamage() throws {
    let original = try Data(
      contentsOf: NtstatProcess.packageRoot.appendingPathComponent("captures/xnu-10002.pcapng.zst"))
    let path = Repository.temporaryPath("damaged.pcapng.zst")
    var bytes = [UInt8](original.prefix(4096))
    for index in 40..<200 { bytes[index] ^= 0x5A }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let replay = try NtstatProcess.run(["replay", "--top-speed", "--format", "jsonl", path])
    #expect(replay.status != 0)
    #expect(!replay.stderr.contains("no family in its metadata"), "\(replay.stderr)")
    #expect(replay.stderr.contains("corrupt") || replay.stderr.contains("truncated"), "\(replay.stderr)")
  }
}
