import Foundation
import NtstatFuzzChecks
import Testing

@testable import NTStat
@testable import NtstatReplay

/// Replays every committed input of the client fuzz targets (seed corpora and saved crashes)
/// through the fuzzer's check (`Tests/Tools/fuzz.sh engine|diff|legacy`).
@Suite(.timeLimit(.minutes(10))) struct ClientFuzzRegressionTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz")

  @Test(arguments: [
    "engine-corpus", "engine-crashes", "diff-corpus", "diff-crashes", "legacy-corpus", "legacy-crashes",
  ])
  func committedInputsHoldTheProperties(directory: String) throws {
    let folder = Self.root.appendingPathComponent(directory)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }
    if directory.hasSuffix("-corpus") { #expect(!names.isEmpty) }
    for name in names.sorted() {
      let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
      let violation = bytes.withUnsafeBytes { ClientFuzzing.check($0) }
      #expect(violation == nil, "\(directory)/\(name): \(violation?.description ?? "")")
    }
  }
}
