import Foundation
import NtstatFuzzChecks
import NtstatWire
import Testing

/// Replays every committed fuzz input (seed corpus and saved crashes) through the fuzzer's check.
@Suite(.timeLimit(.minutes(10))) struct FuzzRegressionTests {
  static func inputs(_ directory: String) throws -> [URL] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "Fixtures/fuzz/\(directory)")
    return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
      .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
  }

  @Test func everySavedWireInputHoldsTheProperties() throws {
    let files = try Self.inputs("wire-corpus") + Self.inputs("wire-crashes")
    #expect(files.count > 100)
    for file in files {
      let bytes = [UInt8](try Data(contentsOf: file))
      let violation = bytes.withUnsafeBytes { WireFuzzing.check($0) }
      #expect(violation == nil, "\(file.lastPathComponent): \(violation?.description ?? "")")
    }
  }
}
