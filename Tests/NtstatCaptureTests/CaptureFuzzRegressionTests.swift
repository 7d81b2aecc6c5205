import Foundation
import NtstatCapture
import NtstatFuzzChecks
import Testing

/// Replays every committed capture fuzz input (seed corpora and saved crashes).
@Suite(.timeLimit(.minutes(10))) struct CaptureFuzzRegressionTests {
  static func inputs(_ directory: String) throws -> [URL] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "Fixtures/fuzz/\(directory)")
    return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
      .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
  }

  @Test(arguments: ["capture-pcapng", "capture-zstd"])
  func everySavedInputHoldsTheProperties(target: String) throws {
    let files = try Self.inputs("\(target)-corpus") + Self.inputs("\(target)-crashes")
    #expect(files.count >= 5)
    for file in files {
      let bytes = [UInt8](try Data(contentsOf: file))
      let violation = bytes.withUnsafeBytes { CaptureFuzzing.check($0) }
      #expect(violation == nil, "\(file.lastPathComponent): \(violation?.description ?? "")")
    }
  }
}
