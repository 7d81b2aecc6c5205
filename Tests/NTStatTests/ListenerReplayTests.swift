import Foundation
import NTStat
import NtstatReplay
import NtstatTestSupport
import Testing

/// What the README offers for testing a listener in CI: `replaying(…)` + `run(listener:)`.
@Suite(.hangLimit) struct ListenerReplayTests {
  final class RecordingListener: NetworkStatisticsListener {
    var calls: [String] = []
    var ids: [String] = []
    func streamAdded(_ stream: NetworkStream) { record("added", stream) }
    func streamRemoved(_ stream: NetworkStream) { record("removed", stream) }
    func streamStatsUpdated(_ stream: NetworkStream) { record("updated", stream) }
    func clientNotice(_ notice: ClientNotice) { calls.append("notice") }
    private func record(_ call: String, _ stream: NetworkStream) {
      calls.append(call)
      ids.append(String(stream.id.rawValue))
    }
  }

  @Test(arguments: ["xnu-2422", "xnu-11215", "legacy-xnu-3789"])
  func aListenerHearsExactlyTheGoldenEvents(capture: String) throws {
    let root = CapturesCorpusTests.root
    let client = try NetworkStatisticsClient.replaying(root.appendingPathComponent("\(capture).pcapng.zst").path)
    let listener = RecordingListener()
    try client.run(listener: listener)
    let golden = try CapturesCorpusTests.golden("\(capture).pcapng.zst")
    #expect(listener.calls == golden.events.map(\.kind))
    let goldenIDs = golden.events.filter { $0.kind != "notice" }.compactMap { $0["id"]?.description }
    #expect(listener.ids == goldenIDs)
    #expect(listener.calls.filter { $0 == "added" }.count > 50)
  }
}
