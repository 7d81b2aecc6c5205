import Foundation
import NtstatTestSupport
import Testing

/// Text and CSV output held against goldens. The JSON Lines goldens (`captures/*.jsonl`) pin
/// what the client reports; these pin how text and CSV print it, byte for byte: the writers
/// format numbers, times and addresses into reserved runs of bytes, where a wrong bound or
/// offset shows only in the output. Each golden is the first ten seconds of a corpus capture
/// (listeners, failed connections, removals, IPv4 and IPv6, loopback, userland connections,
/// details mode, a capture from another client), written by the renderers as they were before
/// they wrote into reserved runs (9cb6b51). To remake one after a deliberate change of format:
/// `ntstat replay --top-speed --quiet --format F --to 10s captures/C.pcapng.zst`.
@Suite(.hangLimit) struct TextAndCSVGoldenTests {
  static let captures = ["xnu-1699", "xnu-8019.61", "xnu-12377-details", "legacy-xnu-3789"]

  @Test(arguments: captures, ["text", "csv"])
  func replayPrintsTheGolden(capture: String, format: String) throws {
    let result = try NtstatProcess.run([
      "replay", "--top-speed", "--quiet", "--format", format, "--to", "10s", "captures/\(capture).pcapng.zst",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let golden = try String(
      contentsOf: Repository.url("Tests/NtstatCLITests/Goldens/\(capture).\(format)"), encoding: .utf8)
    #expect(result.stdout.count > 10_000, "\(capture) \(format): the golden covers ten seconds of output")
    #expect(result.stdout == golden, "\(capture) \(format)")
  }
}
