import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// Builds small captures in memory with the real writer and zstd.
enum SampleCaptures {
  static func metadata() -> CaptureMetadata {
    var m = CaptureMetadata()
    m.kernelVersion =
      "Darwin Kernel Version 24.5.0: Tue Apr 22 19:54:29 PDT 2025; root:xnu-11417.121.6~2/RELEASE_ARM64_T6000"
    m.darwinRelease = "24.5.0"
    m.macOSVersion = "15.5"
    m.macOSBuild = "24F74"
    m.hardware = "Mac14,2 arm64"
    m.recorderVersion = "0.1.0"
    m.family = .xnu11215
    m.configuration = "providers=tcp,udp interval=1s"
    m.receiveBufferSize = 262_144
    m.simulated = true
    return m
  }

  static func frames(_ count: Int) -> [CapturedFrame] {
    var frames: [CapturedFrame] = []
    for i in 0..<count {
      let length = 24 + i % 50
      var bytes: [UInt8] = []
      for j in 0..<length { bytes.append(UInt8(truncatingIfNeeded: j &+ i)) }
      let timestamp: UInt64 = 1_764_400_000_000_000_000 + UInt64(i) * 1_000_123
      let direction: Direction = i % 3 == 0 ? .toKernel : .fromKernel
      frames.append(
        CapturedFrame(timestamp: timestamp, direction: direction, bytes: bytes, dropsBefore: i == 7 ? 3 : 0))
    }
    return frames
  }

  /// The capture's bytes; `frameBytes` small to get several zstd frames.
  static func bytes(
    _ frames: [CapturedFrame], compression: CaptureCompression, frameBytes: Int = 600, statistics: Bool = true
  ) throws -> [UInt8] {
    var out: [UInt8] = []
    let writer = try CaptureWriter(metadata: metadata(), compression: compression, frameBytes: frameBytes) {
      out += $0
    }
    _ = try writer.addInterface(description: "ntstat connection 1", now: 0)
    for frame in frames { try writer.write(frame, now: 0) }
    let stats = CaptureStatistics(
      startTime: frames.first?.timestamp, endTime: frames.last?.timestamp, framesReceived: UInt64(frames.count),
      drops: 3)
    try writer.close(statistics: statistics ? [0: stats] : [:], now: 0, wallClock: frames.last?.timestamp ?? 0)
    return out
  }

  /// Reads bytes through the stream reader: the records and the error, if any.
  static func read(_ bytes: [UInt8], chunk: Int = 97) -> ([CaptureRecord], CaptureError?) {
    let reader = CaptureStreamReader(file: "memory")
    var records: [CaptureRecord] = []
    var offset = 0
    while offset < bytes.count {
      let end = min(bytes.count, offset + chunk)
      bytes.withUnsafeBytes { reader.push(UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
      while let record = reader.nextRecord() { records.append(record) }
      offset = end
    }
    reader.finish()
    while let record = reader.nextRecord() { records.append(record) }
    return (records, reader.error)
  }

  static func frames(in records: [CaptureRecord]) -> [CapturedFrame] {
    records.compactMap { if case .frame(let f) = $0 { return f } else { return nil } }
  }
}

@Suite(.hangLimit) struct CaptureRoundTripTests {
  static let compressions: [CaptureCompression] = [.none, .defaultZstd]

  @Test("frames, metadata and statistics survive a round trip", arguments: compressions)
  func roundTrip(compression: CaptureCompression) throws {
    let frames = SampleCaptures.frames(40)
    let bytes = try SampleCaptures.bytes(frames, compression: compression)
    let (records, error) = SampleCaptures.read(bytes)
    #expect(error == nil)
    #expect(SampleCaptures.frames(in: records) == frames)
    guard case .section(let metadata) = records.first else {
      Issue.record("no section first")
      return
    }
    #expect(metadata.family == .xnu11215 && metadata.darwinRelease == "24.5.0" && metadata.simulated)
    #expect(metadata.kernelVersion == SampleCaptures.metadata().kernelVersion)
    #expect(metadata.receiveBufferSize == 262_144 && metadata.hardware == "Mac14,2 arm64")
    #expect(
      records.contains {
        if case .interface(let i) = $0 {
          return i.isNtstat && i.timestampsPerSecond == 1_000_000_000
        } else {
          return false
        }
      })
    #expect(
      records.contains {
        if case .statistics(0, let s) = $0 { return s.framesReceived == 40 && s.drops == 3 } else { return false }
      })
  }

  /// The reader notes the contexts of each kernel datagram's messages as it parses the frame
  /// (what a replay looks up in place of reading the bytes again); requests get no note.
  @Test(arguments: compressions)
  func kernelFramesCarryTheContextsOfTheirMessages(compression: CaptureCompression) throws {
    let encoder = MessageEncoder(family: .xnu11215)
    func datagram(_ contexts: [UInt64]) throws -> [UInt8] {
      try contexts.flatMap {
        try encoder.encode(Message(context: $0, .sourceRemoved(SourceRef(1))), settingLength: true)
      }
    }
    let written: [(bytes: [UInt8], direction: Direction, note: PackedContexts)] = [
      (try datagram([7]), .toKernel, .unknown),
      (try datagram([0, 7, 7]), .fromKernel, .one(7)),
      (try datagram([7, 0, 9]), .fromKernel, .several),
      (try datagram([0, 0]), .fromKernel, .none),
      ([1, 2, 3], .fromKernel, .unframed),
    ]
    let frames = written.enumerated().map { index, frame in
      CapturedFrame(
        timestamp: 1_764_400_000_000_000_000 + UInt64(index), direction: frame.direction, bytes: frame.bytes)
    }
    let (records, error) = SampleCaptures.read(try SampleCaptures.bytes(frames, compression: compression))
    #expect(error == nil)
    let read = SampleCaptures.frames(in: records)
    #expect(read == frames)
    #expect(read.map(\.packedContexts) == written.map(\.note))
  }

  @Test("the async records are the records, then the damage", arguments: compressions)
  func asyncRecordsMatchTheReader(compression: CaptureCompression) async throws {
    let frames = SampleCaptures.frames(300)
    let bytes = try SampleCaptures.bytes(frames, compression: compression)
    let path = Repository.temporaryPath("async-records.pcapng")
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Cut inside the last frames: the sequence ends with the same damage `next()` reports.
    #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes.dropLast(40))))
    let direct = try CaptureFileReader(path: path)
    var expected: [CaptureRecord] = []
    var expectedError: CaptureError?
    do { while let record = try direct.next() { expected.append(record) } } catch let error as CaptureError {
      expectedError = error
    }
    var got: [CaptureRecord] = []
    var gotError: (any Error)?
    do { for try await record in try CaptureFileReader(path: path).records { got.append(record) } } catch {
      gotError = error
    }
    #expect(SampleCaptures.frames(in: got).count > 200)
    #expect(got == expected)
    #expect(expectedError != nil && (gotError as? CaptureError) == expectedError)
  }

  @Test("every truncation yields exactly the complete frames before it", arguments: compressions)
  func everyTruncationPoint(compression: CaptureCompression) throws {
    let frames = SampleCaptures.frames(12)
    let bytes = try SampleCaptures.bytes(frames, compression: compression, frameBytes: 300)
    let (_, cleanError) = SampleCaptures.read(bytes)
    #expect(cleanError == nil)
    var previous = 0
    for cut in 0..<bytes.count {
      let (records, error) = SampleCaptures.read(Array(bytes[..<cut]))
      let got = SampleCaptures.frames(in: records)
      #expect(got == Array(frames.prefix(got.count)), "cut at \(cut): frames are a prefix")
      #expect(got.count >= previous, "cut at \(cut): never fewer frames than a shorter cut")
      previous = got.count
      guard let error else {
        // A cut exactly at a block (plain) or frame (zstd) boundary is a clean, shorter capture.
        continue
      }
      #expect(error.kind == .truncated || (cut < 4 && error.kind == .notACapture), "cut at \(cut): \(error)")
      #expect(error.compressedOffset.map { $0 <= UInt64(cut) } ?? false, "cut at \(cut): offset \(error)")
    }
    #expect(previous == frames.count)
  }

  @Test("bit flips give corruption errors or clean reads, never traps", arguments: compressions)
  func bitFlips(compression: CaptureCompression) throws {
    let frames = SampleCaptures.frames(12)
    let bytes = try SampleCaptures.bytes(frames, compression: compression, frameBytes: 300)
    var corruptions = 0
    for index in bytes.indices {
      var flipped = bytes
      flipped[index] ^= 0x10
      let (records, error) = SampleCaptures.read(flipped)
      if let error {
        corruptions += 1
        #expect(error.compressedOffset.map { $0 <= UInt64(bytes.count) } ?? true)
      }
      _ = records
    }
    #expect(corruptions > 0)
    if case .zstd = compression {
      // zstd frames carry checksums: every flip inside frame data must be detected.
      #expect(corruptions > bytes.count / 2)
    }
  }

  @Test func compressionIsDetectedByMagic() throws {
    let zstd = try SampleCaptures.bytes(SampleCaptures.frames(2), compression: .defaultZstd)
    let plain = try SampleCaptures.bytes(SampleCaptures.frames(2), compression: .none)
    #expect(CaptureCompression.detect(Array(zstd.prefix(4))) == .zstd(level: 0))
    #expect(CaptureCompression.detect(Array(plain.prefix(4))) == CaptureCompression.none)
    let (_, error) = SampleCaptures.read(Array("hello world".utf8))
    #expect(error?.kind == .notACapture)
  }

  @Test func concatenatedCapturesAreReadInOrder() throws {
    let a = SampleCaptures.frames(3)
    let b = SampleCaptures.frames(5).map {
      var f = $0; f.timestamp += 10_000_000_000; return f
    }
    let bytes =
      try SampleCaptures.bytes(a, compression: .defaultZstd) + SampleCaptures.bytes(b, compression: .defaultZstd)
    let (records, error) = SampleCaptures.read(bytes)
    #expect(error == nil)
    #expect(SampleCaptures.frames(in: records) == a + b)
    #expect(records.filter { if case .section = $0 { return true } else { return false } }.count == 2)
  }
}
