import Foundation
import NtstatFuzzChecks
import NtstatTestSupport
import NtstatWire
import Testing

/// Replays every committed fuzz input (seed corpus and saved crashes) through the fuzzer's check.
@Suite(.hangLimit) struct FuzzRegressionTests {
  static func inputs(_ directory: String) -> [URL] {
    FuzzInputs.files(in: "Tests/NtstatWireTests/Fixtures/fuzz/\(directory)")
  }

  @Test func everySavedWireInputHoldsTheProperties() throws {
    let files = Self.inputs("wire-corpus") + Self.inputs("wire-crashes")
    #expect(files.count > 100)
    for file in files {
      let bytes = [UInt8](try Data(contentsOf: file))
      let violation = bytes.withUnsafeBytes { WireFuzzing.check($0) }
      #expect(violation == nil, "\(file.lastPathComponent): \(violation?.description ?? "")")
    }
  }
}
