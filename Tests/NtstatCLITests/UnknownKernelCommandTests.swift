import Foundation
import NtstatTestSupport
import Testing

/// A kernel newer than the library knows, refusals, and `ntstat doctor`, as a user runs them.
@Suite(.hangLimit) struct UnknownKernelCommandTests {
  static let newer = ["--simulate", "--family", "xnu-11417", "--kernel-release", "26.0.0", "--duration", "5s"]

  @Test func newerKernelRunsVerifiedWithOneNotice() throws {
    let result = try NtstatProcess.run(["watch"] + Self.newer + ["--format", "jsonl"])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.filter { $0.contains(#""event":"added""#) }.count > 20)
    // One line on standard error names the family assumed and why.
    let notices = result.stderr.split(separator: "\n").filter { $0.contains("layout-verified") }
    #expect(notices.count == 1)
    #expect(
      notices.first?.contains("Darwin 26.0.0") == true && notices.first?.contains("decoding as xnu-12377") == true)
    // The JSON Lines stream carries it too, before any event.
    let firstEvent = try #require(lines.dropFirst().first)
    #expect(firstEvent.contains(#""event":"notice""#) && firstEvent.contains("layout-verified"))
  }

  @Test(arguments: ["longer-tcp-descriptor", "swapped-counters"])
  func changedLayoutStopsWithItsEvidence(change: String) throws {
    let result = try NtstatProcess.run(["watch"] + Self.newer + ["--layout-change", change, "--format", "jsonl"])
    #expect(result.status == 4, "\(result.stderr)")
    #expect(result.stderr.contains("does not speak xnu-12377"))
    let evidence = change == "swapped-counters" ? "rxpackets" : "SRC_UPDATE is 512 bytes; xnu-12377 defines it as 496"
    #expect(result.stderr.contains(evidence), "\(result.stderr)")
    #expect(result.stderr.contains("ntstat record --assume-newest"))
    // Nothing misdecoded reached standard output.
    #expect(!result.stdout.contains(#""event":"added""#))
  }

  @Test func assumeNewestForcesTheFamily() throws {
    let result = try NtstatProcess.run(["watch"] + Self.newer + ["--assume-newest", "--format", "jsonl"])
    #expect(result.status == 0)
    #expect(!result.stderr.contains("layout-verified"))
  }

  @Test func everyProviderRefusedExitsThree() throws {
    let arguments = [
      "watch", "--simulate", "--unprivileged", "--duration", "3s", "--provider", "conn", "--provider", "udp-subflow",
    ]
    let result = try NtstatProcess.run(arguments)
    #expect(result.status == 3, "\(result.stderr)")
    #expect(result.stderr.contains("conn: EPERM (needs root or the PRIV_NET_PRIVILEGED_NETWORK_STATISTICS privilege)"))
    #expect(result.stderr.contains("refused every provider"))
    let kept = try NtstatProcess.run(arguments + ["--keep-going"])
    #expect(kept.status == 0)
  }

  @Test func unprivilegedRunsDoNotAskForPrivilegedProviders() throws {
    let result = try NtstatProcess.run(["watch", "--simulate", "--unprivileged", "--duration", "3s"])
    #expect(result.status == 0)
    #expect(!result.stderr.contains("EPERM"), "\(result.stderr)")
  }

  @Test func doctorOnTheSimulator() throws {
    for privileged in [true, false] {
      let result = try NtstatProcess.run(["doctor", "--simulate", "--json"] + (privileged ? [] : ["--unprivileged"]))
      #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
      let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
      #expect(object["ok"] as? Bool == true)
      let providers = try #require(object["providers"] as? [[String: String]])
      let answers = Dictionary(uniqueKeysWithValues: providers.map { ($0["provider"] ?? "", $0["answer"] ?? "") })
      #expect(answers["tcp"] == "SUCCESS")
      #expect(
        answers["conn"]
          == (privileged
            ? "SUCCESS" : "conn: EPERM (needs root or the PRIV_NET_PRIVILEGED_NETWORK_STATISTICS privilege)"))
      let checks = try #require(object["checks"] as? [[String: Any]])
      let layouts = try #require(checks.first { $0["name"] as? String == "layouts" })
      #expect(layouts["ok"] as? Bool == true)
      #expect((layouts["detail"] as? String)?.contains("sizes and values plausible") == true)
    }
  }

  @Test func doctorFindsAChangedLayout() throws {
    let result = try NtstatProcess.run(
      ["doctor", "--simulate", "--kernel-release", "26.0.0", "--layout-change", "longer-tcp-descriptor"])
    #expect(result.status == 1)
    #expect(result.stdout.contains("tentative"))
    #expect(result.stdout.split(separator: "\n").last?.hasPrefix("PROBLEM") == true)
  }

  @Test func doctorOffMacOSSaysSo() throws {
    #if !os(macOS)
      let result = try NtstatProcess.run(["doctor", "--json"])
      #expect(result.status == 1)
      let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
      #expect((object["verdict"] as? String)?.contains("exists only on macOS") == true)
      #expect((object["verdict"] as? String)?.contains("--simulate") == true)
    #endif
  }

  @Test func decodeHintNamesRealOptions() throws {
    let result = try NtstatProcess.run(["decode", "--family", "26.1.0", "--hex", "captures/datagrams/xnu-11215.hex"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--assume-newest"))
    #expect(!result.stderr.contains("--assume-family"))
  }
}
