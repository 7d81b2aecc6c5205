import Foundation
import NtstatCapture
import NtstatFuzzChecks
import NtstatTestSupport
import Testing

/// Replays every committed capture fuzz input (seed corpora and saved crashes).
@Suite(.hangLimit) struct CaptureFuzzRegressionTests {
  static func inputs(_ directory: String) -> [URL] {
    FuzzInputs.files(in: "Tests/NtstatCaptureTests/Fixtures/fuzz/\(directory)")
  }

  @Test(arguments: ["capture-pcapng", "capture-zstd"])
  func everySavedInputHoldsTheProperties(target: String) throws {
    let files = Self.inputs("\(target)-corpus") + Self.inputs("\(target)-crashes")
    #expect(files.count >= 5)
    for file in files {
      let bytes = [UInt8](try Data(contentsOf: file))
      let violation = bytes.withUnsafeBytes { CaptureFuzzing.check($0) }
      #expect(violation == nil, "\(file.lastPathComponent): \(violation?.description ?? "")")
    }
  }
}
