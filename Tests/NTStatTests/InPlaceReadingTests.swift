import NtstatReplay
import NtstatTestSupport
import NtstatWire
import Testing

@testable import NTStat

/// The engine reads updates, details, counts, descriptions and removals in place
/// (``ClientEngine/handleInPlace(_:)``) and decodes every other message whole. Every corpus
/// capture (every family, details mode, the libntstat import with its GET_SRC_DESC and
/// QUERY_SRC habits) must give the same events and statistics both ways: each event's stream,
/// descriptor included, and each notice.
@Suite(.hangLimit) struct InPlaceReadingTests {
  @Test(arguments: Corpus.captures)
  func inPlaceEqualsDecoded(capture: String) throws {
    let (inPlace, inPlaceStatistics) = try Self.replay(capture, inPlace: true)
    let (decoded, decodedStatistics) = try Self.replay(capture, inPlace: false)
    #expect(inPlace.count == decoded.count, "\(capture)")
    for (index, (a, b)) in zip(inPlace, decoded).enumerated() where a != b {
      Issue.record("\(capture): event \(index) differs:\n  in place: \(a)\n  decoded:  \(b)")
      break
    }
    #expect(inPlaceStatistics == decodedStatistics, "\(capture)")
    #expect(inPlace.count > 20, "\(capture): \(inPlace.count) events")
  }

  /// The counts and description paths are taken: a capture of a client that describes with
  /// GET_SRC_DESC and polls with QUERY_SRC (the libntstat import) has both.
  @Test func countsAndDescriptionsAreReadInPlace() throws {
    let capture = try #require(Corpus.captures.first { $0.hasPrefix("legacy") })
    let decoder = MessageDecoder(family: try ReplayTransport(path: Corpus.path(capture)).family)
    var types = Set<UInt32>()
    for frame in try CaptureContents(path: Corpus.path(capture)).frames where frame.direction == .fromKernel {
      try frame.bytes.withUnsafeBytes { bytes in
        try decoder.forEachView(in: bytes, direction: .fromKernel) { types.insert($0.type.rawValue) }
      }
    }
    #expect(types.contains(MessageType.sourceCounts.rawValue))
    #expect(types.contains(MessageType.sourceDescription.rawValue))
    #expect(types.contains(MessageType.sourceRemoved.rawValue))
  }

  static func replay(_ capture: String, inPlace: Bool) throws -> ([ClientEvent], ClientStatistics) {
    let transport = try ReplayTransport(path: Corpus.path(capture))
    let client = NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
    client.readsInPlace = inPlace
    var events: [ClientEvent] = []
    try client.run { events.append($0) }
    return (events, client.statistics)
  }
}
