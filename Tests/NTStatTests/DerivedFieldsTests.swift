import NtstatReplay
import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat

/// A stream's labels (addresses, process, state, windows, interface) are read in place from
/// TCP and UDP descriptor bytes; the decoded descriptor is the reference they must equal, for
/// every event of every corpus capture (every family, details mode, the libntstat import).
@Suite(.hangLimit) struct DerivedFieldsTests {
  @Test(arguments: Corpus.captures)
  func readInPlaceEqualsDecoded(capture: String) throws {
    let transport = try ReplayTransport(path: Corpus.path(capture))
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    var compared = 0
    var inPlace = 0
    try client.run { event in
      let stream: NetworkStream
      switch event {
      case .streamAdded(let s), .streamStatsUpdated(let s), .streamRemoved(let s): stream = s
      case .notice: return
      }
      // The in-place reading happens on first access, before anything decodes the descriptor.
      let fields = stream.described.fields
      let reference = DerivedFields(stream.descriptor, provider: stream.provider)
      compared += 1
      if case .tcp = stream.descriptor { inPlace += 1 }
      if case .udp = stream.descriptor { inPlace += 1 }
      #expect(fields.key == reference.key, "\(capture) \(stream.id)")
      #expect(fields.process == reference.process, "\(capture) \(stream.id)")
      #expect(fields.tcpState == reference.tcpState, "\(capture) \(stream.id)")
      #expect(fields.tcpWindows == reference.tcpWindows, "\(capture) \(stream.id)")
      #expect(fields.interfaceProperties == reference.interfaceProperties, "\(capture) \(stream.id)")
    }
    #expect(compared > 20, "\(capture): \(compared) events")
    #expect(inPlace > 0, "\(capture): no TCP or UDP descriptor")
  }

}
