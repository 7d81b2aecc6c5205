import Foundation

/// The package's own files, for tests: the corpus, fixtures and tools, found from this source
/// file's place in the tree rather than the working directory (which `swift test` does not fix).
package enum Repository {
  /// The package root.
  package static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// `relative` under the package root.
  package static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

  /// The names (not paths) of the files in `directory` (relative to the root) that end in one of
  /// `suffixes` (any, if none is given), dot files left out, sorted; none if it does not exist.
  package static func files(in directory: String, endingIn suffixes: [String] = []) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: url(directory).path)) ?? []
    return names.filter { name in
      !name.hasPrefix(".") && (suffixes.isEmpty || suffixes.contains { name.hasSuffix($0) })
    }.sorted()
  }

  /// A path in the temporary directory that no other test or run uses. It lies in this test
  /// process's own directory, which is removed when the process exits, so a suite run leaves
  /// nothing behind in the shared temporary directory (one run used to leave hundreds of files).
  package static func temporaryPath(_ name: String) -> String {
    processTemporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
  }

  /// The directory that ``temporaryPath(_:)`` hands out paths in: made on first use, removed
  /// with everything in it at exit. A process that is killed leaves it, named by its pid.
  private static let processTemporaryDirectory: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ntstat-tests-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
    // A failure here surfaces as the first test's own "cannot create" error, which names the path.
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: Repository.processTemporaryDirectory) }
    return url
  }()

  /// A new, empty temporary directory.
  package static func temporaryDirectory() throws -> URL {
    let url = URL(fileURLWithPath: temporaryPath("dir"), isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// The capture corpus in `captures/` (see captures/README.md).
package enum Corpus {
  package static let root = Repository.url("captures")

  /// The simulated corpus, then the real captures in `captures/real/` (which may hold none yet),
  /// as paths relative to ``root``.
  package static var captures: [String] {
    Repository.files(in: "captures", endingIn: [".pcapng.zst"])
      + Repository.files(in: "captures/real", endingIn: [".pcapng.zst", ".pcapng"]).map { "real/" + $0 }
  }

  /// The path of `capture` (relative to ``root``).
  package static func path(_ capture: String) -> String { root.appendingPathComponent(capture).path }
}

/// Committed fuzz inputs (seed corpora and saved crashes) of one fuzz target.
package enum FuzzInputs {
  /// The files in `directory` (relative to the package root), sorted, dot files left out.
  package static func files(in directory: String) -> [URL] {
    Repository.files(in: directory).map { Repository.url(directory).appendingPathComponent($0) }
  }
}
