import ArgumentParser
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatWire

/// `ntstat doctor`: what a Mac user runs when something looks wrong. Every check is one the
/// live path depends on, in the order it depends on them, and the last line is a verdict.
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "Check that ntstat works on this kernel: version and family, the control, each provider, a sample.",
    discussion: """
      Reports the OS and kernel, the layout family chosen and how, each step of opening the \
      control (socket, ioctl, connect) and the receive buffer granted, each provider's answer to \
      ADD_ALL_SRCS, and what a 3-second sample held (message sizes and values checked against the \
      family, drops). Exit status: 0 when ntstat works here, 1 when it does not (the verdict says \
      why). With --simulate every check runs against the simulator.
      """)

  @OptionGroup var source: SourceOptions
  @Flag(name: .long, help: "One JSON object instead of text.") var json = false
  @Option(name: .long, help: "Receive buffer to ask for (SO_RCVBUF), bytes.") var rcvbuf: Int = 1 << 20

  /// One check: what was looked at, what was found, and whether that is fine.
  struct Check {
    var name: String
    var ok: Bool
    var detail: String
  }

  func run() throws {
    var report = DoctorReport()
    report.system(simulated: source.simulate)
    var options = source
    if options.simulate, options.duration == nil { options.duration = TimeArgument(nanoseconds: 3_000_000_000) }
    if !options.simulate {
      // Opened once here to name the step that fails; the run below opens it again.
      do {
        try DatagramSocketTransport.kernelControl(family: .newest, receiveBufferSize: rcvbuf, assumeNewest: true)
          .close()
      } catch {
        report.add("control", ok: false, "\(error)")
        report.verdict = controlVerdict()
        try finish(report)
        return
      }
    }
    let opened: (ClientTransport, CaptureMetadata, (LayoutFamily, ClientConfiguration.FamilyTrust))
    do {
      opened = try options.makeClientTransport(receiveBufferSize: rcvbuf)
    } catch let failure as CommandFailure {
      report.add("control", ok: false, "could not open the ntstat control: \(failure.message)")
      report.verdict = controlVerdict()
      try finish(report)
      return
    }
    let (transport, metadata, choice) = opened
    defer { transport.close() }
    report.kernel(metadata: metadata, choice: choice, simulated: source.simulate)
    if let socket = transport as? DatagramSocketTransport {
      report.add(
        "control", ok: true,
        "socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL), ioctl(CTLIOCGINFO), connect(sockaddr_ctl): ok")
      let granted = socket.grantedReceiveBufferSize
      report.add(
        "receive buffer", ok: (granted ?? 0) >= rcvbuf,
        "asked \(rcvbuf) bytes, granted \(granted.map(String.init) ?? "unknown")"
          + ((granted ?? 0) < rcvbuf ? " (raise kern.ipc.maxsockbuf, or expect drops on a busy host)" : ""))
    } else {
      report.add("control", ok: true, "simulated (socketpair to the simulator, \(metadata.kernelVersion ?? ""))")
      report.add("receive buffer", ok: true, "asked \(rcvbuf) bytes (simulated)")
    }

    var configuration = ClientConfiguration()
    configuration.receiveBufferSize = rcvbuf
    // Every provider, privileged or not (the default list): the doctor says which answer what.
    configuration.apply(choice, transportFamily: transport.family)
    let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
    var streams = 0
    var failure: String?
    do {
      try client.run(for: source.simulate ? nil : .seconds(3)) { event in
        if case .streamAdded = event { streams += 1 }
      }
    } catch {
      failure = "\(error)"
    }
    report.providers(client.statistics, family: client.family)
    report.sample(client: client, streams: streams, failure: failure)
    report.verdict = report.overall(family: client.family, failure: failure, statistics: client.statistics)
    try finish(report)
  }

  func controlVerdict() -> String {
    #if os(macOS)
      return "PROBLEM: the ntstat kernel control could not be opened (see the control line)"
    #else
      return
        "NOT macOS: the com.apple.network.statistics control exists only on macOS; here, use "
        + "`ntstat watch --simulate`, `ntstat doctor --simulate` or `ntstat replay CAPTURE`"
    #endif
  }

  func finish(_ report: DoctorReport) throws {
    if json {
      print(report.json)
    } else {
      print(report.text)
    }
    if !report.verdict.hasPrefix("OK") { throw ExitCode(1) }
  }
}

/// What the doctor found, in order.
struct DoctorReport {
  var facts: [(String, String)] = []
  var checks: [DoctorCommand.Check] = []
  var providerAnswers: [(ProviderKind, String)] = []
  var verdict = ""

  mutating func add(_ name: String, ok: Bool, _ detail: String) {
    checks.append(DoctorCommand.Check(name: name, ok: ok, detail: detail))
  }

  mutating func system(simulated: Bool) {
    let names = UnameFields.current()
    facts.append(("host", "\(names.release) \(names.machine)\(simulated ? " (checks run against the simulator)" : "")"))
    #if os(macOS)
      let version = ProcessInfo.processInfo.operatingSystemVersion
      facts.append(("macOS", "\(version.majorVersion).\(version.minorVersion).\(version.patchVersion)"))
    #endif
  }

  mutating func kernel(
    metadata: CaptureMetadata, choice: (LayoutFamily, ClientConfiguration.FamilyTrust), simulated: Bool
  ) {
    let kernel = KernelVersion(release: metadata.darwinRelease, version: metadata.kernelVersion)
    facts.append(("kernel", kernel.description.isEmpty ? (metadata.kernelVersion ?? "unknown") : kernel.description))
    let how: String
    switch choice.1 {
    case .known: how = "known: this kernel's version is one the family covers"
    case .tentative: how = "tentative: the kernel is newer than every known family; checked against its replies"
    case .forced: how = "forced by --family or --assume-newest"
    }
    facts.append(("family", "\(choice.0) (macOS \(choice.0.macOSReleases)); \(how)"))
  }

  mutating func providers(_ statistics: ClientStatistics, family: LayoutFamily) {
    for kind in ClientConfiguration().providers where family.providerID(for: kind) != nil {
      if statistics.providersSubscribed.contains(kind) {
        providerAnswers.append((kind, "SUCCESS"))
      } else if let errno = statistics.providersRefused[kind] {
        providerAnswers.append((kind, ClientEngine.refusal(kind, errno: errno)))
      } else {
        providerAnswers.append((kind, "no answer"))
      }
    }
    let subscribed = statistics.providersSubscribed.count
    add(
      "providers", ok: subscribed > 0,
      "\(subscribed) of \(providerAnswers.count) subscribed"
        + (statistics.providersRefused.isEmpty ? "" : "; refusals below"))
  }

  mutating func sample(client: NetworkStatisticsClient, streams: Int, failure: String?) {
    let stats = client.statistics
    add(
      "sample", ok: stats.datagramsReceived > 0,
      "\(stats.datagramsReceived) datagrams, \(stats.messagesReceived) messages, \(streams) streams added")
    let verifier = client.layoutVerifier
    add(
      "layouts", ok: failure == nil && verifier.failed == 0,
      failure ?? verifier.summary + (verifier.failed == 0 ? "; sizes and values plausible" : ""))
    add(
      "decoding", ok: stats.malformedDatagrams == 0, "\(stats.malformedDatagrams) datagram(s) did not decode")
    add(
      "drops", ok: stats.kernelDrops == 0 && stats.transportDrops == 0,
      "\(stats.kernelDrops) by the kernel, \(stats.transportDrops) before the client read them, "
        + "\(stats.sendFailures) send() failure(s)")
  }

  func overall(family: LayoutFamily, failure: String?, statistics: ClientStatistics) -> String {
    if let failure { return "PROBLEM: \(failure)" }
    if let diagnosis = statistics.refusalDiagnosis(family: family) { return "PROBLEM: " + diagnosis }
    if statistics.providersSubscribed.isEmpty { return "PROBLEM: no provider answered (see providers)" }
    if statistics.datagramsReceived == 0 { return "PROBLEM: the kernel sent nothing in 3 seconds" }
    let refused = statistics.providersRefused.count
    return "OK: ntstat works on this kernel with \(family), \(statistics.providersSubscribed.count) provider(s)"
      + (refused > 0 ? " (\(refused) refused, as expected without privilege)" : "")
  }

  var text: String {
    var lines: [String] = []
    for (name, value) in facts { lines.append("\(name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(value)") }
    for check in checks {
      lines.append(
        "\(check.ok ? "ok  " : "FAIL") \(check.name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(check.detail)"
      )
    }
    for (kind, answer) in providerAnswers {
      lines.append("     \(kind.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(answer)")
    }
    lines.append(verdict)
    return lines.joined(separator: "\n")
  }

  var json: String {
    var object: [String: Any] = [:]
    for (name, value) in facts { object[name] = value }
    object["checks"] = checks.map { ["name": $0.name, "ok": $0.ok, "detail": $0.detail] }
    object["providers"] = providerAnswers.map { ["provider": $0.0.rawValue, "answer": $0.1] }
    object["verdict"] = verdict
    object["ok"] = verdict.hasPrefix("OK")
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }
}
