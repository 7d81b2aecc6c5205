// swift-tools-version: 6.0
import PackageDescription

// Target graph (see docs/architecture.md): protocol code cannot reach a socket or a file.
// NtstatWire depends on nothing but the standard library.
let package = Package(
  name: "ntstat",
  products: [
    .library(name: "NtstatWire", targets: ["NtstatWire"]),
    .library(name: "NtstatCapture", targets: ["NtstatCapture"]),
    .library(name: "NtstatSimulator", targets: ["NtstatSimulator"]),
    .library(name: "NTStat", targets: ["NTStat"]),
    .library(name: "NtstatReplay", targets: ["NtstatReplay"]),
    .executable(name: "ntstat", targets: ["ntstat"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CZstd",
      pkgConfig: "libzstd",
      providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]
    ),
    .target(name: "NtstatWire"),
    .target(name: "NtstatCapture", dependencies: ["NtstatWire", "CZstd"]),
    .target(name: "NtstatSimulator", dependencies: ["NtstatWire"]),
    // The live client: the engine, its run loop, the kernel-control and socket transports, the
    // events. No capture files, no zstd: an app that only watches needs nothing else.
    .target(name: "NTStat", dependencies: ["NtstatWire"]),
    // Sessions on files and on the simulator: recording, replay, the simulator transport, diff.
    .target(
      name: "NtstatReplay",
      dependencies: [
        "NtstatWire", "NtstatCapture", "NtstatSimulator", "NTStat", .product(name: "Atomics", package: "swift-atomics"),
      ]
    ),
    .target(
      name: "NtstatCLI",
      dependencies: [
        "NtstatWire",
        "NtstatCapture",
        "NtstatSimulator",
        "NTStat",
        "NtstatReplay",
        "NtstatWireshark",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(name: "NtstatWireshark", dependencies: ["NtstatWire"]),
    .executableTarget(name: "ntstat", dependencies: ["NtstatCLI"]),

    // Benchmarks and fuzzers: executables apart from the unit tests.
    .target(name: "CDecodeBaseline"),
    .target(name: "CAllocationCounter"),
    .executableTarget(
      name: "NtstatBenchmarks",
      dependencies: [
        "NtstatWire", "NtstatCapture", "NtstatSimulator", "NTStat", "NtstatReplay", "CDecodeBaseline",
        "CAllocationCounter",
      ]
    ),
    .executableTarget(
      name: "NtstatCaptureStress",
      dependencies: ["NtstatCapture", "NtstatWire"]
    ),
    .target(name: "NtstatFuzzSupport"),
    // The properties the fuzzers check, one result type for all, shared with the unit tests
    // that replay saved inputs.
    .target(name: "NtstatFuzzChecks", dependencies: ["NtstatWire", "NtstatCapture", "NTStat", "NtstatReplay"]),
    .executableTarget(
      name: "NtstatCaptureFuzz",
      dependencies: ["NtstatFuzzChecks", "NtstatFuzzSupport"]
    ),
    .executableTarget(
      name: "NtstatClientFuzz",
      dependencies: ["NtstatFuzzChecks", "NtstatFuzzSupport"]
    ),
    .executableTarget(
      name: "NtstatWireFuzz",
      dependencies: ["NtstatFuzzChecks", "NtstatFuzzSupport"]
    ),

    // What the test targets share: the repository's files, child processes, captures read whole,
    // the header constants.
    .target(name: "NtstatTestSupport", dependencies: ["NtstatWire", "NtstatCapture"], path: "Tests/NtstatTestSupport"),
    .testTarget(
      name: "NtstatWireTests",
      dependencies: ["NtstatWire", "NtstatCapture", "NtstatFuzzChecks", "NtstatTestSupport"],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "NtstatCaptureTests",
      dependencies: [
        "NtstatCapture", "NtstatWire", "NtstatFuzzChecks", "NtstatCaptureStress", "ntstat", "NtstatTestSupport",
        "CZstd",
      ],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "NtstatSimulatorTests",
      dependencies: ["NtstatSimulator", "NtstatWire", "NtstatTestSupport"],
      resources: [.copy("Scenarios")]
    ),
    .testTarget(
      name: "NTStatTests",
      dependencies: [
        "NTStat", "NtstatReplay", "NtstatSimulator", "NtstatWire", "NtstatCapture", "NtstatFuzzChecks",
        "NtstatTestSupport",
      ],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "NtstatCLITests",
      dependencies: [
        "NtstatCLI", "NtstatWire", "NtstatCapture", "NTStat", "NtstatSimulator", "NtstatWireshark", "ntstat",
        "NtstatTestSupport",
      ],
      exclude: ["Goldens"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
