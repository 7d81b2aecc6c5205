import Foundation
import NTStat
import NtstatReplay
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// `events()` holds a bounded number of untaken events, and says when it had to drop some.
@Suite(.hangLimit) struct EventsBufferTests {
  static func client() throws -> NetworkStatisticsClient {
    let family = LayoutFamily.xnu11215
    let kernel = SimulatedKernel(
      family: family, workload: Workload.random(seed: 2, duration: .seconds(60), family: family))
    return NetworkStatisticsClient(transport: try SimulatorTransport(kernel: kernel, receiveBufferSize: 1 << 20))
  }

  @Test func aStalledConsumerIsToldWhatItMissed() async throws {
    var total = 0
    let reference = try Self.client()
    try reference.run { _ in total += 1 }
    #expect(total > 1000)

    let client = try Self.client()
    let stream = client.events(bufferSize: 50)
    // The consumer stalls until the simulation (at top speed, deterministic) has run to its end,
    // however long a loaded machine takes: the client has then received every datagram the
    // reference run did.
    let datagrams = reference.statistics.datagramsReceived
    while client.statistics.datagramsReceived < datagrams {
      try await Task.sleep(for: .milliseconds(20))
    }
    var received = 0
    var told = false
    do {
      for try await event in stream {
        received += 1
        if case .notice(let notice) = event, notice.kind == .eventsDropped { told = true }
      }
    } catch ClientError.eventsDropped(let count) {
      told = count > 0
    }
    #expect(told, "the drops were never reported")
    #expect(received < total)
  }

  @Test func aConsumerThatKeepsUpGetsEverything() async throws {
    var total = 0
    try Self.client().run { _ in total += 1 }
    var received = 0
    for try await _ in try Self.client().events() { received += 1 }
    #expect(received == total)
  }
}
