import Foundation
import NtstatTestSupport
import Testing

/// `--details` on the command line: per-medium fields in JSON Lines and CSV on xnu-12377, a
/// notice and classic output on an older family, and a clear refusal with `--plain-counts`.
@Suite(.hangLimit) struct DetailsCommandTests {
  static let simulate = ["watch", "--simulate", "--seed", "3", "--duration", "8s"]

  @Test func jsonLinesCarryEveryMedium() throws {
    let result = try NtstatProcess.run(Self.simulate + ["--family", "xnu-12377", "--details", "--format", "jsonl"])
    #expect(result.status == 0, "\(result.stderr)")
    let objects = try result.stdout.split(separator: "\n").dropFirst().map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    let removed = objects.filter { $0["event"] as? String == "removed" }
    #expect(removed.count > 10)
    for object in removed {
      for medium in ["total", "cellular", "wifi_infra", "wifi_non_infra", "wired", "bluetooth", "alternate"] {
        #expect(object["media_\(medium)_rx_bytes"] is NSNumber, "media_\(medium)_rx_bytes")
        #expect((object["media_\(medium)_activity"] as? String)?.count == 32)
      }
      // The totals are the classic counters; Wi-Fi is both Wi-Fi slots.
      #expect((object["media_total_rx_bytes"] as? NSNumber) == (object["rx_bytes"] as? NSNumber))
      let wifi =
        ((object["media_wifi_infra_tx_bytes"] as? NSNumber)?.uint64Value ?? 0)
        + ((object["media_wifi_non_infra_tx_bytes"] as? NSNumber)?.uint64Value ?? 0)
      #expect(wifi == (object["wifi_tx_bytes"] as? NSNumber)?.uint64Value)
    }
  }

  @Test func csvGainsPerMediumColumns() throws {
    let result = try NtstatProcess.run(Self.simulate + ["--family", "xnu-12377", "--details", "--format", "csv"])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    let header = try #require(lines.first).split(separator: ",")
    #expect(header.count == 17 + 12)
    #expect(header.last == "alternate_tx_bytes")
    for line in lines.dropFirst() { #expect(line.split(separator: ",", omittingEmptySubsequences: false).count == 29) }

    let classic = try NtstatProcess.run(Self.simulate + ["--family", "xnu-12377", "--format", "csv"])
    #expect(classic.stdout.split(separator: "\n").first?.split(separator: ",").count == 17)
  }

  @Test func olderFamiliesSayDetailsAreUnavailable() throws {
    let result = try NtstatProcess.run(Self.simulate + ["--family", "xnu-11215", "--details", "--format", "jsonl"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("\"details-unavailable\""))
    #expect(!result.stdout.contains("media_total_rx_bytes"))

    let refused = try NtstatProcess.run(Self.simulate + ["--details", "--plain-counts"])
    #expect(refused.status == 64 || refused.status == 2)
    #expect(refused.stderr.contains("--details"))
  }
}
