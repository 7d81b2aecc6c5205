import Foundation
import NtstatTestSupport
import NtstatWire
import Testing

@Suite(.hangLimit) struct DecodeCommandTests {
  @Test("ntstat decodes a datagram of every message kind of every family", arguments: LayoutFamily.allCases)
  func decodesEveryBundledDatagram(family: LayoutFamily) throws {
    let file = "captures/datagrams/\(family.name).hex"
    let result = try NtstatProcess.run(["decode", "--family", family.name, "--hex", file, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    let hexLines = try String(contentsOf: NtstatProcess.packageRoot.appendingPathComponent(file), encoding: .utf8)
      .split(separator: "\n").filter { !$0.hasPrefix("#") }
    #expect(lines.count >= hexLines.count)
    for line in lines {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      #expect(object?["family"] as? String == family.name)
      #expect(object?["decode_error"] == nil)
    }
    let types = Set(
      lines.compactMap { line in
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["type"] as? String
      })
    #expect(
      types.isSuperset(of: [
        "ADD_SRC", "ADD_ALL_SRCS", "REM_SRC", "QUERY_SRC", "GET_SRC_DESC", "SUCCESS", "ERROR", "SRC_ADDED",
        "SRC_REMOVED", "SRC_DESC", "SRC_COUNTS",
      ]))
    if family >= .xnu3247 { #expect(types.isSuperset(of: ["GET_UPDATE", "SUBSCRIBE_SYSINFO", "SRC_UPDATE"])) }
    if family >= .xnu2782 { #expect(types.contains("SYSINFO_COUNTS")) }
    if family >= .xnu8019_41 { #expect(types.contains("SRC_EXTENDED_UPDATE")) }
  }

  @Test func textOutputNamesFields() throws {
    let counts = try MessageEncoder(family: .xnu11215).encode(
      Message(context: 3, .sourceCounts(SourceCounts(sourceRef: SourceRef(12), eventFlags: 0, counts: Counts()))),
      settingLength: true)
    let hex = counts.map { String(format: "%02x", $0) }.joined()
    let result = try NtstatProcess.run(["decode", "--family", "xnu-11417.121.6"], stdin: hex + "\n")
    #expect(result.status == 0)
    #expect(result.stdout.contains("type: SRC_COUNTS"))
    #expect(result.stdout.contains("srcref: 12"))
    #expect(result.stdout.contains("rx_bytes: 0"))
  }

  @Test func aMalformedDatagramExitsOneWithOffsetAndType() throws {
    // A SRC_COUNTS header that claims 144 bytes in a 20-byte datagram.
    let hex = "0000000000000000" + "14270000" + "9000" + "0000" + "00000000"
    let result = try NtstatProcess.run(["decode", "--family", "xnu-11215"], stdin: hex)
    #expect(result.status == 1)
    #expect(result.stderr.contains("truncated at byte 0 in SRC_COUNTS"))
  }

  @Test func unknownNewerKernelsAreRefusedUnlessAssumed() throws {
    let hex = "0000000000000000000000001000" + "0000"
    let refused = try NtstatProcess.run(["decode", "--family", "26.0.0"], stdin: hex)
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("newer than the newest known layout family"))
    let assumed = try NtstatProcess.run(["decode", "--family", "26.0.0", "--assume-newest"], stdin: hex)
    #expect(assumed.status == 0)
    #expect(assumed.stdout.contains("SUCCESS"))
  }

  @Test func unreadableFilesAreUsageErrors() throws {
    let result = try NtstatProcess.run(["decode", "--family", "xnu-11215", "/nonexistent/file"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("cannot read /nonexistent/file"))
  }
}
