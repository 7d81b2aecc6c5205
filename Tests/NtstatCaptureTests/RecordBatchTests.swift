import Foundation
import NtstatCapture
import NtstatTestSupport
import Testing

/// A reader hands out a capture's records a zstd frame at a time, however many frames one read
/// of the file holds: a replay then works on bytes just decompressed (still in the processor's
/// cache) and holds one frame's memory, not a read's worth (a 256 KiB read of a simulated
/// capture decompresses to tens of MiB).
@Suite(.hangLimit) struct RecordBatchTests {
  @Test func eachBatchIsOneZstdFrame() throws {
    let path = Repository.temporaryPath("batches.pcapng.zst")
    defer { try? FileManager.default.removeItem(atPath: path) }
    var file: [UInt8] = []
    // Compressible frames in 16 KiB zstd frames: hundreds of zstd frames to a read of the file.
    let writer = try CaptureWriter(metadata: CaptureMetadata(), frameBytes: 16 << 10) { file += $0 }
    let interface = try writer.addInterface(description: "com.apple.network.statistics", now: 0)
    let frames = 20_000
    for i in 0..<frames {
      let bytes = (0..<200).map { UInt8(truncatingIfNeeded: $0 &+ i % 3) }
      try writer.write(
        CapturedFrame(timestamp: UInt64(i) * 1_000, direction: .fromKernel, interfaceID: interface, bytes: bytes),
        now: UInt64(i) * 1_000)
    }
    try writer.close(now: UInt64(frames) * 1_000, wallClock: 0)
    try Data(file).write(to: URL(fileURLWithPath: path))

    let reader = try CaptureFileReader(path: path)
    var batch: [CaptureRecord] = []
    var framesRead = 0
    var batches = 0
    var zstdFrames: UInt64 = 0
    while try reader.nextRecords(&batch) {
      batches += 1
      // Each batch is the records of the one zstd frame decoded since the last.
      #expect(reader.stream.zstdFrames == zstdFrames + 1, "batch \(batches)")
      zstdFrames = reader.stream.zstdFrames
      framesRead += batch.count { if case .frame = $0 { true } else { false } }
    }
    #expect(framesRead == frames)
    #expect(file.count < 1 << 18 || batches > 100)
    #expect(reader.stream.zstdFrames > 100)
  }
}
