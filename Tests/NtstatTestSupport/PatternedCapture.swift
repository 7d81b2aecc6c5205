import NtstatCapture

/// A capture whose every frame can be checked on its own: frame `index` holds a pattern of its
/// index, 200 to 899 bytes long. In zstd frames of 64 KiB, so that a reader goes through many.
package enum PatternedCapture {
  /// The bytes of frame `index`.
  package static func payload(_ index: Int) -> [UInt8] {
    let length = 200 + index % 700
    return (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
  }

  /// The file's bytes, `count` frames from the kernel, in zstd frames of 64 KiB (each
  /// compressed in one call, so each gives its size) or plain.
  package static func file(frames count: Int, compression: CaptureCompression = .zstd(level: 1)) throws -> [UInt8] {
    var file: [UInt8] = []
    var metadata = CaptureMetadata()
    metadata.simulated = true
    let writer = try CaptureWriter(metadata: metadata, compression: compression, frameBytes: 64 << 10) {
      file += $0
    }
    _ = try writer.addInterface(description: "com.apple.network.statistics", now: 0)
    for index in 0..<count {
      try writer.write(
        CapturedFrame(timestamp: UInt64(index), direction: .fromKernel, bytes: payload(index)), now: UInt64(index))
    }
    try writer.close(now: UInt64(count), wallClock: 0)
    return file
  }
}
