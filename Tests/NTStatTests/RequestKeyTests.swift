import NtstatWire
import Testing

@testable import NtstatReplay

/// A replay keys the requests it matches where they lie when they name one source, and decodes
/// the rest. Both must give the key the decoded message gives, in every family: for the
/// source-ref requests (ALL and one source, every flag), and for GET_UPDATE and GET_DETAILS
/// where the family does not define them (their bytes are an unknown message there).
@Suite struct RequestKeyTests {
  @Test(arguments: LayoutFamily.allCases)
  func inPlaceKeysEqualDecodedKeys(family: LayoutFamily) throws {
    let cassette = ReplayCassette(family: family)
    let decoder = MessageDecoder(family: family)
    let encoder = MessageEncoder(family: family)
    var bodies: [MessageBody] = [
      .addAllSources(AddAllSourcesRequest(provider: ProviderID(rawValue: 2))),
      .setFilter(SetFilterRequest(sourceRef: SourceRef(7), filter: 1)),
    ]
    for ref in [SourceRef(1), SourceRef(0xFFFF_FFF0), .all] {
      bodies += [.removeSource(ref), .querySource(ref), .getSourceDescription(ref), .getUpdate(ref), .getDetails(ref)]
    }
    var compared = 0
    var keyedInPlace = 0
    for body in bodies {
      for flags: MessageFlags in [[], [.supportsAggregate], [.continuation, .supportsAggregate], [.closing]] {
        guard let bytes = try? encoder.encode(Message(context: 42, flags: flags, body)) else { continue }
        let decoded = try #require(try decoder.decode(bytes, direction: .toKernel).first)
        let (key, context) = try #require(cassette.key(ofSent: bytes))
        #expect(key == RequestKey(decoded, family: family), "\(family) \(body) \(flags)")
        #expect(context == 42)
        compared += 1
        if key.sourceRef != nil, key.raw == nil { keyedInPlace += 1 }
      }
    }
    #expect(compared >= 40, "\(family): \(compared)")
    #expect(keyedInPlace >= 24, "\(family): \(keyedInPlace)")
  }
}
