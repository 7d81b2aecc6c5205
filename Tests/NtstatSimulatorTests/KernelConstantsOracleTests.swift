import Foundation
import NtstatSimulator
import NtstatWire
import Testing

/// The simulator's filter constants against the compiled headers (the constants fixtures of
/// NtstatWireTests, made by Tests/Tools/layouts/constants.sh), at the tag each family models.
@Suite(.timeLimit(.minutes(10))) struct KernelConstantsOracleTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("NtstatWireTests/Fixtures/constants")

  /// The derived tag nearest below the one a family models.
  static func constants(for family: LayoutFamily) throws -> (String, [String: UInt64]) {
    let modelled = KernelBehaviour.newestTag(of: family)
    let tags = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).compactMap { name -> XNUVersion? in
      name.hasSuffix(".json") ? XNUVersion(String(name.dropLast(5))) : nil
    }
    let tag = try #require(tags.filter { $0 <= modelled && LayoutFamily.family(forXNU: $0) == family }.max())
    let data = try Data(contentsOf: fixtures.appendingPathComponent("\(tag).json"))
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let values = try #require(object["constants"] as? [String: NSNumber]).mapValues(\.uint64Value)
    return (tag.description, values)
  }

  @Test(arguments: LayoutFamily.allCases)
  func filterBitsAreTheHeaders(family: LayoutFamily) throws {
    let (tag, values) = try Self.constants(for: family)
    let behaviour = KernelBehaviour(family: family)
    // The interface ACCEPT bits a provider filter tests (none before the filters existed).
    #expect(behaviour.interfaceFilterMask == values["NSTAT_FILTER_IFNET_FLAGS"] ?? 0, "\(tag)")
    if let suppress = values["NSTAT_FILTER_SUPPRESS_SRC_ADDED"] {
      #expect(behaviour.suppressSourceAddedFilter == suppress, "\(tag)")
    }
  }
}
