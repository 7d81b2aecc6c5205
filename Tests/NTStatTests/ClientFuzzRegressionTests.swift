import Foundation
import NtstatFuzzChecks
import NtstatTestSupport
import Testing

@testable import NTStat
@testable import NtstatReplay

/// Replays every committed input of the client fuzz targets (seed corpora and saved crashes)
/// through the fuzzer's check (`Tests/Tools/fuzz.sh engine|diff|legacy`).
@Suite(.hangLimit) struct ClientFuzzRegressionTests {

  @Test(arguments: [
    "engine-corpus", "engine-crashes", "diff-corpus", "diff-crashes", "legacy-corpus", "legacy-crashes",
  ])
  func committedInputsHoldTheProperties(directory: String) throws {
    let files = FuzzInputs.files(in: "Tests/NTStatTests/Fixtures/fuzz/\(directory)")
    if directory.hasSuffix("-corpus") { #expect(!files.isEmpty) }
    for file in files {
      let bytes = try [UInt8](Data(contentsOf: file))
      let violation = bytes.withUnsafeBytes { ClientFuzzing.check($0) }
      #expect(violation == nil, "\(directory)/\(file.lastPathComponent): \(violation?.description ?? "")")
    }
  }
}
