import NtstatReplay
import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat

/// A stream's labels (addresses, process, state, windows, interface) are read in place from
/// TCP and UDP descriptor bytes; the decoded descriptor is the reference they must equal, for
/// every event of every corpus capture (every family, details mode, the libntstat import).
@Suite(.hangLimit) struct DerivedFieldsTests {
  /// `body` with the stream of every event of `capture`, replayed as it was recorded.
  static func forEachStream(of capture: String, _ body: (NetworkStream) -> Void) throws {
    let transport = try ReplayTransport(path: Corpus.path(capture))
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    try client.run { event in
      switch event {
      case .streamAdded(let stream), .streamStatsUpdated(let stream), .streamRemoved(let stream): body(stream)
      case .notice: return
      }
    }
  }

  @Test(arguments: Corpus.captures)
  func readInPlaceEqualsDecoded(capture: String) throws {
    var compared = 0
    var inPlace = 0
    try Self.forEachStream(of: capture) { stream in
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

  /// Text and CSV derive only the fields they print; what they leave out is derived when
  /// asked for, from the current descriptor, not the one the box held when it was last asked.
  /// Every other event is read that way first, so a box's detail fields are often a
  /// descriptor or two behind when they are asked for.
  @Test(arguments: Corpus.captures)
  func detailsAskedForLaterAreCurrent(capture: String) throws {
    var index = 0
    var detailsCompared = 0
    try Self.forEachStream(of: capture) { stream in
      index += 1
      // Read in place first; the reference decodes the descriptor, after which the box would
      // derive from the decoded value instead (until its next descriptor).
      let core = index % 3 != 0 ? stream.withDerivedFields(details: false) { $0 } : nil
      let fields = index % 2 == 0 ? stream.withDerivedFields { $0 } : nil
      let reference = DerivedFields(stream.descriptor, provider: stream.provider)
      if let core {
        #expect(core.key == reference.key, "\(capture) \(stream.id)")
        #expect(core.process.pid == reference.process.pid, "\(capture) \(stream.id)")
        #expect(core.process.name == reference.process.name, "\(capture) \(stream.id)")
        #expect(core.tcpState == reference.tcpState, "\(capture) \(stream.id)")
        #expect(core.interfaceProperties == reference.interfaceProperties, "\(capture) \(stream.id)")
      }
      if let fields {
        #expect(fields.key == reference.key, "\(capture) \(stream.id)")
        #expect(fields.process == reference.process, "\(capture) \(stream.id)")
        #expect(fields.tcpWindows == reference.tcpWindows, "\(capture) \(stream.id)")
        detailsCompared += 1
      }
    }
    #expect(detailsCompared > 10, "\(capture): \(detailsCompared) events")
  }
}
