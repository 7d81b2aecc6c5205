import Foundation
import NtstatTestSupport
import Testing

/// The client filters and rotation, as a user runs them: every shown stream matches, and the
/// filter does not simply show nothing.
@Suite(.hangLimit) struct FilterCommandTests {
  static func addedEvents(_ arguments: [String]) throws -> [[String: Any]] {
    let result = try NtstatProcess.run(
      ["watch", "--simulate", "--family", "xnu-11215", "--seed", "4", "--duration", "20s", "--format", "jsonl"]
        + arguments)
    #expect(result.status == 0, "\(result.stderr)")
    return result.stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }.filter { $0["event"] as? String == "added" }
  }

  @Test func everyFilterKeepsOnlyWhatItNames() throws {
    let all = try Self.addedEvents([])
    #expect(all.count > 50)
    let somePid = try #require(all.first?["pid"] as? Int)
    let someName = try #require(all.first { ($0["process"] as? String)?.isEmpty == false }?["process"] as? String)
    let cases: [([String], ([String: Any]) -> Bool)] = [
      (["--pid", String(somePid)], { $0["pid"] as? Int == somePid }),
      (["--process", someName], { $0["process"] as? String == someName }),
      (
        ["--port", "443"],
        { ($0["local"] as? String)?.hasSuffix(":443") == true || ($0["remote"] as? String)?.hasSuffix(":443") == true }
      ),
      (["--interface", "wifi"], { $0["interface"] as? String == "wifi" }),
      (["--protocol", "udp"], { $0["protocol"] as? String == "udp" }),
      (["--skip-loopback"], { $0["interface"] as? String != "loopback" }),
    ]
    for (arguments, matches) in cases {
      let shown = try Self.addedEvents(arguments)
      #expect(!shown.isEmpty, "\(arguments) showed nothing")
      #expect(shown.count < all.count, "\(arguments) filtered nothing out")
      #expect(shown.allSatisfy(matches), "\(arguments) showed a stream it should not")
    }
  }

  @Test func rotateSizeStartsNewFiles() throws {
    let directory = Repository.temporaryPath("ntstat-rotate")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let result = try NtstatProcess.run([
      "record", "--simulate", "--duration", "60s", "--rotate-size", "20K", "-o", directory + "/r.pcapng.zst",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    #expect(files.count >= 3, "\(files)")
    #expect(files.contains("r-0001.pcapng.zst") || files.contains("r-0002.pcapng.zst"))
    for file in files {
      let inspect = try NtstatProcess.run(["inspect", "--json", directory + "/" + file])
      #expect(inspect.status == 0, "\(file): \(inspect.stderr)")
    }
  }
}
