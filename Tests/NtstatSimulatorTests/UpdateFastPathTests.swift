import NtstatTestSupport
import NtstatWire
import Testing

@testable import NtstatSimulator

/// The packed-update fast path (a flow's update encoded once, then patched per poll) must give
/// exactly the bytes of encoding the whole message again.
@Suite(.hangLimit) struct UpdateFastPathTests {
  @Test(arguments: LayoutFamily.allCases.filter { $0.hasLengthAndFlags })
  func patchedTemplateEqualsFullEncoding(family: LayoutFamily) throws {
    let workload = Workload.random(seed: 3, duration: .seconds(20), family: family)
    var kernel = SimulatedKernel(
      family: family, workload: workload, configuration: KernelConfiguration(receiveBufferSize: 1 << 22))
    let encoder = MessageEncoder(family: family)
    for kind in [ProviderKind.tcpKernel, .udpKernel] {
      let request = Message(context: 1, .addAllSources(AddAllSourcesRequest(provider: family.providerID(for: kind)!)))
      kernel.handleRequest(try encoder.encode(request, settingLength: true), at: .zero)
    }
    var compared = 0
    for second in stride(from: 0.5, through: 19.5, by: 1.5) {
      kernel.advance(to: .seconds(second))
      while kernel.receive() != nil {}
      for ref in kernel.liveSourceRefs {
        let source = try #require(kernel.sources[ref])
        guard let template = kernel.updateTemplate(source) else { continue }
        var patched = [UInt8](repeating: 0xEE, count: 7) + template
        kernel.patchUpdate(source, in: &patched, at: 7)
        let full = try encoder.encode(kernel.updateMessage(source, context: 0), settingLength: true)
        #expect(Array(patched[7...]) == full, "ref \(ref) at \(second) s")
        compared += 1
      }
    }
    #expect(compared > 100)
  }
}
