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
    .executable(name: "ntstat", targets: ["ntstat"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
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
    .target(name: "NTStat", dependencies: ["NtstatWire", "NtstatCapture", "NtstatSimulator"]),
    .target(
      name: "NtstatCLI",
      dependencies: [
        "NtstatWire",
        "NtstatCapture",
        "NtstatSimulator",
        "NTStat",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "ntstat", dependencies: ["NtstatCLI"]),

    // Benchmarks and fuzzers: executables apart from the unit tests.
    .target(name: "CDecodeBaseline"),
    .target(name: "CAllocationCounter"),
    .executableTarget(
      name: "NtstatBenchmarks",
      dependencies: [
        "NtstatWire", "NtstatCapture", "NtstatSimulator", "NTStat", "CDecodeBaseline", "CAllocationCounter",
      ]
    ),
    .executableTarget(
      name: "NtstatCaptureStress",
      dependencies: ["NtstatCapture", "NtstatWire"]
    ),
    .target(name: "NtstatFuzzSupport"),
    .executableTarget(
      name: "NtstatCaptureFuzz",
      dependencies: ["NtstatCapture", "NtstatFuzzSupport"]
    ),
    .executableTarget(
      name: "NtstatClientFuzz",
      dependencies: ["NTStat", "NtstatFuzzSupport"]
    ),
    .executableTarget(
      name: "NtstatWireFuzz",
      dependencies: ["NtstatWire", "NtstatFuzzSupport"]
    ),

    .testTarget(
      name: "NtstatWireTests",
      dependencies: ["NtstatWire", "NtstatCapture"],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "NtstatCaptureTests",
      dependencies: ["NtstatCapture", "NtstatWire", "NtstatCaptureStress", "ntstat"],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "NtstatSimulatorTests",
      dependencies: ["NtstatSimulator", "NtstatWire"],
      resources: [.copy("Scenarios")]
    ),
    .testTarget(
      name: "NTStatTests",
      dependencies: ["NTStat", "NtstatSimulator", "NtstatWire", "NtstatCapture"],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "NtstatCLITests",
      dependencies: ["NtstatCLI", "NtstatWire", "NtstatCapture", "ntstat"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
