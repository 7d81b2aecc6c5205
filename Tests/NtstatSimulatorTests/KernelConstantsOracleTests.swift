import Foundation
import NtstatSimulator
import NtstatTestSupport
import NtstatWire
import Testing

/// The simulator's filter constants against the compiled headers (the constants fixtures of
/// NtstatWireTests, made by Tests/Tools/layouts/constants.sh), at the tag each family models.
@Suite(.hangLimit) struct KernelConstantsOracleTests {
  @Test(arguments: LayoutFamily.allCases)
  func filterBitsAreTheHeaders(family: LayoutFamily) throws {
    let (tag, values) = try HeaderConstants.nearest(to: KernelBehaviour.newestTag(of: family), in: family)
    let behaviour = KernelBehaviour(family: family)
    // The interface ACCEPT bits a provider filter tests (none before the filters existed).
    #expect(behaviour.interfaceFilterMask == values["NSTAT_FILTER_IFNET_FLAGS"] ?? 0, "\(tag)")
    if let suppress = values["NSTAT_FILTER_SUPPRESS_SRC_ADDED"] {
      #expect(behaviour.suppressSourceAddedFilter == suppress, "\(tag)")
    }
  }
}
