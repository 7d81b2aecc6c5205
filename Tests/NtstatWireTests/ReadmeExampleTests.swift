import NtstatTestSupport
import NtstatWire
import Testing

/// The README's library example, compiled and run (keep the two in step).
@Suite(.hangLimit) struct ReadmeExampleTests {
  @Test func libraryExampleRuns() throws {
    let sample = try #require(SampleMessages.all(for: .xnu11215).first { $0.name == "source-description-tcp" })
    let datagram = try MessageEncoder(family: .xnu11215).encodeDatagram(sample.messages)
    var printed: [String] = []
    func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }

    // --- README ---
    let family = try LayoutFamily.select(
      for: KernelVersion(
        release: "24.5.0",
        version: "Darwin Kernel Version 24.5.0: …; root:xnu-11417.121.6~2/RELEASE_ARM64_T6000"))
    let decoder = MessageDecoder(family: family)

    for message in try decoder.decode(datagram) {
      if case .sourceDescription(let description) = message.body, case .tcp(let tcp) = description.descriptor {
        print(tcp.processName, tcp.pid, tcp.local, "→", tcp.remote, tcp.state)
      }
    }

    try datagram.withUnsafeBytes { bytes in
      try decoder.forEachView(in: bytes) { view in
        if let counts = try view.countsView(), let ref = try view.sourceRef() {
          print(ref, counts.rxBytes, counts.txBytes)
        }
      }
    }

    let request = try MessageEncoder(family: family).encode(
      Message(
        context: 1, flags: [.supportsAggregate],
        .addAllSources(
          AddAllSourcesRequest(provider: family.providerID(for: .tcpKernel)!, filter: 0, events: 0))),
      settingLength: true)
    // --- end ---

    #expect(printed == ["Safari 4321 192.168.1.20:52000 → [2606:4700::6810:85e5]:443 ESTABLISHED"])
    #expect(request.count == 56)
  }
}
