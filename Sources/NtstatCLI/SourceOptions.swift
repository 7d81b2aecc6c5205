import ArgumentParser
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatSimulator
import NtstatWire

/// Where events come from: the macOS kernel, or the simulator (`--simulate`).
struct SourceOptions: ParsableArguments {
  @Flag(name: .long, help: "Read the ntstat simulator instead of the kernel (any OS).") var simulate = false
  @Option(
    name: .long,
    help: "Layout family: with --simulate the kernel to simulate (default: newest); live, a decoding override.",
    transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument?
  @Flag(name: .long, help: "Live: decode a kernel newer than every known family as the newest.")
  var assumeNewest = false
  @Option(name: .long, help: "Simulator seed.") var seed: UInt64 = 1
  @Option(name: .long, help: "Run for this long (e.g. 30, 30s, 5m, 1h). Default with --simulate: 60s.")
  var duration: TimeArgument?
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Simulator workload rates, KEY=VALUE,…", discussion: "Keys: \(RateParser.keys.joined(separator: ", ")).")
  )
  var rate: String?
  @Option(name: .long, help: "A scenario file (JSON) instead of a random workload (docs/simulator.md).")
  var scenario: String?
  @Option(name: .long, help: "Simulated seconds per wall second (default: as fast as possible).")
  var speed: Double?
  @Flag(name: .long, help: "Simulate in real time (same as --speed 1).") var realtime = false
  @Flag(name: .long, help: "Simulate a client without PRIV_NET_PRIVILEGED_NETWORK_STATISTICS.")
  var unprivileged = false
  @Option(
    name: .long,
    help:
      "With --simulate: the Darwin release the kernel reports (e.g. 25.0.0), to simulate a kernel newer than its family."
  )
  var kernelRelease: String?
  @Option(
    name: .long,
    help: ArgumentHelp(
      "With --simulate: answer with a changed layout.",
      discussion: "One of: \(LayoutChange.allCases.map(\.rawValue).joined(separator: ", ")).")
  )
  var layoutChange: String?

  /// Whether the client may use privileged providers: root live, or not --unprivileged simulated.
  var privileged: Bool { simulate ? !unprivileged : geteuid() == 0 }

  func durationNanoseconds() -> UInt64? {
    duration?.nanoseconds ?? (simulate ? 60_000_000_000 : nil)
  }

  /// How long the client runs: live, the duration; simulated, until the simulation ends (which
  /// is after the kernel's last datagram, so nothing queued is left unread).
  func clientDuration() -> Duration? {
    simulate ? nil : duration?.duration
  }

  func simulatedFamily() throws -> LayoutFamily {
    try family?.resolve(assumeNewest: true) ?? .newest
  }

  /// The kernel the simulator should report, and its layout change (validated).
  func simulatedKernelOptions() throws -> (DarwinVersion?, LayoutChange?) {
    let release = try kernelRelease.map { text -> DarwinVersion in
      guard let version = DarwinVersion(text) else {
        throw ValidationError("--kernel-release: \"\(text)\" is not a Darwin release (e.g. 25.0.0)")
      }
      return version
    }
    let change = try layoutChange.map { text -> LayoutChange in
      guard let change = LayoutChange(rawValue: text) else {
        throw ValidationError(
          "--layout-change: unknown \"\(text)\" (have \(LayoutChange.allCases.map(\.rawValue).joined(separator: ", ")))"
        )
      }
      return change
    }
    if !simulate, release != nil || change != nil {
      throw ValidationError("--kernel-release and --layout-change need --simulate")
    }
    return (release, change)
  }

  /// The family the client decodes with, and how far it is trusted, for a kernel that says
  /// `kernel` of itself. An unknown newer kernel gets the newest family tentatively (checked
  /// against its first replies), unless --assume-newest forces it.
  static func clientFamily(
    for kernel: KernelVersion, override: LayoutFamily?, assumeNewest: Bool
  ) throws -> (LayoutFamily, ClientConfiguration.FamilyTrust) {
    if let override { return (override, .forced) }
    do {
      return (try LayoutFamily.select(for: kernel), .known)
    } catch .unknownNewerKernel {
      return (.newest, assumeNewest ? .forced : .tentative(kernel: kernel.description))
    } catch {
      throw CommandFailure("\(error)")
    }
  }

  /// The transport, plus what a capture's metadata should say about it.
  func makeTransport(receiveBufferSize: Int) throws -> (ClientTransport, CaptureMetadata) {
    let (transport, metadata, _) = try makeClientTransport(receiveBufferSize: receiveBufferSize)
    return (transport, metadata)
  }

  /// The transport, its metadata, and the family the client should decode with and how far it
  /// is trusted (chosen from what the kernel reports, as live).
  func makeClientTransport(
    receiveBufferSize: Int
  ) throws -> (ClientTransport, CaptureMetadata, (LayoutFamily, ClientConfiguration.FamilyTrust)) {
    var metadata = CaptureMetadata()
    metadata.recorderVersion = NtstatVersion.string
    metadata.receiveBufferSize = receiveBufferSize
    if simulate {
      let family = try simulatedFamily()
      let duration = durationNanoseconds() ?? 60_000_000_000
      let workload: Workload
      if let scenario {
        do {
          workload = try Scenario.load(Data(readFile(scenario))).workload()
        } catch let error as FileInputError {
          throw CommandFailure("\(error)")
        } catch {
          throw CommandFailure("\(scenario): \(error)")
        }
        metadata.extra["ntstat.simulator.scenario"] = (scenario as NSString).lastPathComponent
      } else {
        let rates = try RateParser.parse(rate)
        workload = Workload.random(
          seed: seed, duration: MonotonicTime(nanoseconds: duration), rates: rates, family: family)
        metadata.extra["ntstat.simulator.seed"] = String(seed)
        if let rate { metadata.extra["ntstat.simulator.rates"] = rate }
        // With the seed and rates, enough to run the same session again (the corpus tests
        // compare a replay with that session's ground truth).
        metadata.extra["ntstat.simulator.duration_ms"] = String(duration / 1_000_000)
      }
      let (release, change) = try simulatedKernelOptions()
      var configuration = KernelConfiguration(privileged: !unprivileged, reportedRelease: release, layoutChange: change)
      // An exact version (`--family xnu-3789.21.4`) is simulated as that tag.
      if let text = self.family?.text, text.hasPrefix("xnu-"), let xnu = XNUVersion(text), xnu.components.count >= 2,
        LayoutFamily(rawValue: text) == nil
      {
        configuration.xnu = xnu
      }
      let kernel = SimulatedKernel(family: family, workload: workload, configuration: configuration)
      let transport = try SimulatorTransport(
        kernel: kernel, receiveBufferSize: receiveBufferSize, speed: realtime ? 1 : speed)
      // The client chooses as it would live: from what the kernel reports.
      let choice =
        release == nil
        ? (family, ClientConfiguration.FamilyTrust.known)
        : try Self.clientFamily(for: kernel.reportedKernel, override: nil, assumeNewest: assumeNewest)
      metadata.simulated = true
      metadata.family = choice.0
      metadata.kernelVersion = kernel.reportedVersionString
      metadata.darwinRelease = kernel.reportedKernel.darwin?.description
      metadata.extra["ntstat.simulator"] =
        "ntstat simulator \(NtstatVersion.string) (\(family) layouts, behaviour of \(kernel.behaviour.xnu))"
        + (change.map { ", layout change \($0.rawValue)" } ?? "")
      metadata.hardware = "simulated"
      if unprivileged { metadata.extra["ntstat.simulator.unprivileged"] = "true" }
      return (transport, metadata, choice)
    }
    let override = try family?.resolve(assumeNewest: true)
    let transport: DatagramSocketTransport
    do {
      // Opened whatever the kernel's version: the family is chosen (and checked) below.
      transport = try DatagramSocketTransport.kernelControl(
        family: override ?? .newest, receiveBufferSize: receiveBufferSize, assumeNewest: true)
    } catch {
      throw CommandFailure("\(error)")
    }
    let choice = try Self.clientFamily(
      for: transport.kernelVersion ?? DatagramSocketTransport.runningKernel(), override: override,
      assumeNewest: assumeNewest)
    let host = HostDescription.current()
    metadata.family = choice.0
    metadata.kernelVersion = host.kernelVersion
    metadata.darwinRelease = host.release
    metadata.macOSVersion = host.productVersion
    metadata.macOSBuild = host.productBuild
    metadata.hardware = host.hardware
    metadata.hostName = host.hostName
    return (transport, metadata, choice)
  }
}

/// Which providers, how often, and what to show.
struct ClientOptions: ParsableArguments {
  @Option(
    name: .customLong("provider"),
    help: "Provider to subscribe to (repeatable): tcp, udp, tcp-userland, udp-userland, quic, conn, udp-subflow.")
  var providers: [String] = []
  @Option(name: .long, help: "Seconds between counter polls (sub-second allowed).") var interval: Double = 1
  @Option(name: .long, help: "Only this pid (repeatable).") var pid: [UInt32] = []
  @Option(name: .long, help: "Only this process name (repeatable).") var process: [String] = []
  @Option(name: .customLong("protocol"), help: "Only tcp, udp, quic or conn (repeatable).") var protocols: [String] = []
  @Option(name: .long, help: "Only flows with this local or remote port (repeatable).") var port: [UInt16] = []
  @Option(name: .long, help: "Only this interface kind: wifi, wired, cellular, loopback, other (repeatable).")
  var interface: [String] = []
  @Flag(name: .long, help: "Hide loopback flows.") var skipLoopback = false
  @Option(name: .long, help: "Receive buffer to ask for (SO_RCVBUF), bytes.") var rcvbuf: Int = 1 << 20
  @Flag(name: .long, help: "Poll as libntstat did: GET_SRC_DESC per source, plain QUERY_SRC ALL.")
  var plainCounts = false
  @Flag(name: .long, help: "Keep running when the kernel refuses every provider (default: exit 3).")
  var keepGoing = false
  @Flag(
    name: .long,
    help: "Details mode (xnu-12377, macOS 26): poll with GET_DETAILS for per-medium counters and activity bitmaps.")
  var details = false

  /// The providers asked for by default: all of them, less those that need
  /// PRIV_NET_PRIVILEGED_NETWORK_STATISTICS (conn, udp-subflow from xnu-8792.61.2) for a client
  /// that lacks it. Named with --provider, they are asked for all the same.
  static func defaultProviders(privileged: Bool) -> [ProviderKind] {
    let all = ClientConfiguration().providers
    return privileged ? all : all.filter { $0 != .connUserland && $0 != .udpSubflow }
  }

  func configuration(privileged: Bool = true) throws -> ClientConfiguration {
    var c = ClientConfiguration()
    c.providers = Self.defaultProviders(privileged: privileged)
    if !providers.isEmpty {
      c.providers = try providers.map { name in
        guard let kind = ProviderKind(rawValue: name) else {
          throw ValidationError(
            "--provider: unknown \"\(name)\" (have \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return kind
      }
    }
    guard interval > 0, interval < 86_400 else {
      throw ValidationError("--interval: must be between 0 and 86400 seconds")
    }
    c.updateInterval = .nanoseconds(Int64(interval * 1e9))
    c.filter.pids = Set(pid)
    c.filter.processNames = Set(process)
    c.filter.protocols = Set(protocols)
    c.filter.ports = Set(port)
    c.filter.interfaceClasses = Set(
      try interface.map { name in
        guard let kind = InterfaceClass(rawValue: name) else {
          throw ValidationError("--interface: unknown \"\(name)\" (wifi, wired, cellular, loopback, other)")
        }
        return kind
      })
    c.filter.skipLoopback = skipLoopback
    c.receiveBufferSize = rcvbuf
    if plainCounts { c.polling = .plainCounts }
    if details {
      guard !plainCounts else {
        throw ValidationError("--details polls with GET_DETAILS; it cannot go with --plain-counts")
      }
      c.details = true
    }
    return c
  }
}

/// A length or a point in time on the command line (`--duration`, `--from`, `--to`,
/// `--rotate-time`): `30` (seconds), `30s`, `250ms`, `5m`, `1h`. Checked when the arguments are
/// parsed, so a command's `run()` only sees valid values.
struct TimeArgument: ExpressibleByArgument, Hashable {
  let nanoseconds: UInt64

  init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

  init?(argument: String) {
    guard let value = DurationParser.nanoseconds(argument) else { return nil }
    nanoseconds = value
  }

  var duration: Duration { .nanoseconds(Int64(clamping: nanoseconds)) }
  var instant: MonotonicTime { MonotonicTime(nanoseconds: nanoseconds) }
}

/// `30`, `30s`, `250ms`, `5m`, `1h` → nanoseconds.
enum DurationParser {
  static func nanoseconds(_ text: String) -> UInt64? {
    let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      guard let value = Double(text.dropLast(suffix.count)), value >= 0, value * scale < 1.8e19 else { return nil }
      return UInt64(value * scale)
    }
    guard let value = Double(text), value >= 0, value < 1.8e10 else { return nil }
    return UInt64(value * 1e9)
  }
}

/// `--rate tcp=20,udp=5,burst=200,burst-interval=15` → ``WorkloadRates`` (the parsing lives with
/// the rates, so a test can rebuild a recorded session's workload from its metadata).
enum RateParser {
  static var keys: [String] { WorkloadRates.keys }

  static func parse(_ text: String?) throws -> WorkloadRates {
    guard let text, !text.isEmpty else { return WorkloadRates() }
    do { return try WorkloadRates(parsing: text) } catch { throw ValidationError("--rate: \(error.message)") }
  }
}

/// What the recorder says about the machine it runs on.
struct HostDescription {
  var kernelVersion: String?
  var release: String?
  var productVersion: String?
  var productBuild: String?
  var hardware: String?
  var hostName: String?

  static func current() -> HostDescription {
    let names = UnameFields.current()
    var host = HostDescription()
    host.kernelVersion = names.version
    host.release = names.release
    host.hardware = names.machine
    host.hostName = ProcessInfo.processInfo.hostName
    #if os(macOS)
      let version = ProcessInfo.processInfo.operatingSystemVersion
      host.productVersion = "\(version.majorVersion).\(version.minorVersion).\(version.patchVersion)"
      host.productBuild = sysctlString("kern.osversion")
      if let model = sysctlString("hw.model") { host.hardware = model + " " + (host.hardware ?? "") }
    #endif
    return host
  }

  #if os(macOS)
    static func sysctlString(_ name: String) -> String? {
      var size = 0
      guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
      var buffer = [UInt8](repeating: 0, count: size)
      guard sysctlbyname(name, &buffer, &size, nil, 0) == 0 else { return nil }
      return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
  #endif
}
