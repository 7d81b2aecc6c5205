import CZstd
import Foundation
import NtstatTestSupport
import Testing

@testable import NtstatCapture
@testable import NtstatWire

/// Frames read from a capture are ranges of slabs the reader reuses: a frame still alive must keep
/// its bytes however far the reader goes on, and slabs no frame holds must be reused.
@Suite struct FrameSlabTests {
  static func slab(of frame: CapturedFrame) -> ObjectIdentifier {
    ObjectIdentifier(frame.bytes.slab)
  }

  /// Pushes `file` into `reader` `chunk` bytes at a time and finishes it, handing `each` every
  /// frame (with its index) as soon as the reader releases it; how many frames it read.
  @discardableResult
  static func read(
    _ file: [UInt8], into reader: CaptureStreamReader, chunk: Int, _ each: (Int, CapturedFrame) -> Void
  ) -> Int {
    var index = 0
    func drain() {
      while let record = reader.nextRecord() {
        guard case .frame(let frame) = record else { continue }
        each(index, frame)
        index += 1
      }
    }
    for start in stride(from: 0, to: file.count, by: chunk) {
      file.withUnsafeBytes { reader.push(UnsafeRawBufferPointer(rebasing: $0[start..<min(start + chunk, file.count)])) }
      drain()
    }
    reader.finish()
    drain()
    return index
  }

  /// How the reader writes the stream into slabs.
  enum Filling: CaseIterable, Sendable {
    /// zstd frames decoded whole, each into the rest of a slab when it has room for one and
    /// into a new slab otherwise; made small here (2 MiB slabs, room for 256 KiB).
    case wholeZstdFrames
    /// Plain pcapng, copied into 2 MiB slabs in pieces.
    case plainPieces

    func reader() -> CaptureStreamReader {
      switch self {
      case .wholeZstdFrames: return CaptureStreamReader(file: "slabs", unsizedFrameRoom: 256 << 10)
      case .plainPieces: return CaptureStreamReader(file: "slabs")
      }
    }

    var compression: CaptureCompression {
      switch self {
      case .wholeZstdFrames: return .zstd(level: 1)
      case .plainPieces: return .none
      }
    }
  }

  @Test(arguments: Filling.allCases)
  func heldFramesKeepTheirBytesWhileTheReaderReusesSlabs(filling: Filling) throws {
    // About 32 MiB of frames: the reader goes through its slabs several times over.
    let count = 60_000
    let file = try PatternedCapture.file(frames: count, compression: filling.compression)
    let reader = filling.reader()
    var held: [(index: Int, frame: CapturedFrame)] = []
    var slabs = Set<ObjectIdentifier>()
    let read = Self.read(file, into: reader, chunk: 100_000) { index, frame in
      slabs.insert(Self.slab(of: frame))
      // Every 10,000th frame is kept to the end; the rest are let go at once.
      if index % 10_000 == 0 { held.append((index, frame)) }
      #expect(frame.bytes.count == PatternedCapture.payload(index).count)
    }
    #expect(reader.error == nil)
    #expect(read == count)
    for (index, frame) in held {
      let intact = frame.bytes.array == PatternedCapture.payload(index)
      #expect(intact, "frame \(index) changed after it was read")
    }
    // Without reuse, 32 MiB of frames would take 16 slabs of 2 MiB or more. With it: the slabs
    // the held frames pin (6), one being written, the zstd frame being verified.
    print("\(count) frames, \(slabs.count) slabs, \(held.count) frames held")
    #expect(slabs.count <= held.count + 3)
    // Every 64 KiB frame fits the room it started in.
    #expect(reader.framesDecodedAgain == 0)
  }

  /// A zstd frame that does not give its size and turns out larger than the rest of its slab is
  /// decoded again from its start, in pieces: the frames read are the frames written, once each.
  @Test func framesLargerThanTheirRoomAreDecodedAgainInPieces() throws {
    // Bytes zstd cannot shrink, so that a frame's input spans several of the reader's 64 KiB
    // slices and going back to its start means going back across them.
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func payload(_ index: Int) -> [UInt8] {
      (0..<(500 + index % 1_500)).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
      }
    }
    var file: [UInt8] = []
    var frames: [[UInt8]] = []
    let writer = try CaptureWriter(metadata: CaptureMetadata(), compression: .zstd(level: 1), frameBytes: 256 << 10) {
      file += $0
    }
    _ = try writer.addInterface(description: "com.apple.network.statistics", now: 0)
    for index in 0..<8_000 {
      frames.append(payload(index))
      try writer.write(CapturedFrame(timestamp: UInt64(index), direction: .fromKernel, bytes: frames[index]), now: 0)
    }
    try writer.close(now: 0, wallClock: 0)
    // Room for 16 KiB in slabs of 4 MiB (2 MiB and the room, rounded up to a huge page): a
    // 256 KiB frame starting in the last 16–256 KiB of a slab does not fit.
    let reader = CaptureStreamReader(file: "again", unsizedFrameRoom: 16 << 10)
    let read = Self.read(file, into: reader, chunk: 50_000) { index, frame in
      #expect(index < frames.count && frame.bytes.array == frames[index], "frame \(index)")
    }
    #expect(reader.error == nil)
    #expect(read == frames.count)
    #expect(reader.compressedBytes == UInt64(file.count))
    #expect(reader.framesDecodedAgain > 0)
    // The stream's offsets as a reader that had room for every frame counts them.
    let roomy = CaptureStreamReader(file: "roomy")
    file.withUnsafeBytes { roomy.push($0) }
    roomy.finish()
    #expect(roomy.framesDecodedAgain == 0)
    #expect((reader.uncompressedBytes, reader.zstdFrames) == (roomy.uncompressedBytes, roomy.zstdFrames))
    print("\(reader.zstdFrames) zstd frames, \(reader.framesDecodedAgain) decoded again in pieces")
  }

  /// A zstd frame that gives its size (`zstd FILE`, one frame for the whole capture) is decoded
  /// whole into a slab of that size; one larger than ``CaptureStreamReader/largestWholeFrame``
  /// would be decoded in pieces. Either way the frames read are the frames written.
  @Test func aFrameThatGivesItsSizeIsReadWhole() throws {
    let count = 5_000
    let plain = try PatternedCapture.file(frames: count, compression: .none)
    var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(plain.count))
    let written = plain.withUnsafeBytes { source in
      compressed.withUnsafeMutableBytes { ZSTD_compress($0.baseAddress, $0.count, source.baseAddress, source.count, 3) }
    }
    #expect(ZSTD_isError(written) == 0)
    compressed.removeSubrange(written...)
    #expect(ZSTD_getFrameContentSize(compressed, compressed.count) == UInt64(plain.count))
    let reader = CaptureStreamReader(file: "sized")
    let read = Self.read(compressed, into: reader, chunk: 7_000) { index, frame in
      #expect(frame.bytes.array == PatternedCapture.payload(index), "frame \(index)")
    }
    #expect(reader.error == nil)
    #expect(read == count)
    #expect(reader.zstdFrames == 1)
    #expect(reader.framesDecodedAgain == 0)
  }

  @Test func largeSlabsAreMappingsOnHugePageBoundariesAndGoWhenReleased() throws {
    let size = 2 * ByteSlab.hugePageSize
    let slab = ByteSlab.makeLarge(size: size)
    #expect(slab.size == size)
    #if os(Linux)
      #expect(Int(bitPattern: slab.base) % ByteSlab.hugePageSize == 0)
      #expect(slab.header.mappedLength == size)
    #endif
    // Every byte is the slab's to write, the last one included.
    slab.base.initializeMemory(as: UInt8.self, repeating: 0x5A, count: size)
    let tail = DatagramBytes(slab: slab, start: size - 3, count: 3)
    #expect(tail.array == [0x5A, 0x5A, 0x5A])
    // A size that is not a multiple of a huge page: the bytes follow the object.
    let small = ByteSlab.makeLarge(size: ByteSlab.hugePageSize + 16)
    #expect(small.header.mappedLength == 0)
    #expect(small.base == UnsafeMutableRawPointer(small.withUnsafeMutablePointerToElements { $0 }))
    #if os(Linux)
      // Mappings are unmapped when their slab goes: 64 slabs of 4 MiB made and dropped leave
      // the address space as it was (within a few MiB of other threads' allocations).
      func mappedKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmSize:") })
        // "VmSize:<tab><spaces>NNN kB": a tab, then spaces only when the number is short.
        return try #require(Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]))
      }
      let before = try mappedKiB()
      for _ in 0..<64 {
        let slab = ByteSlab.makeLarge(size: size)
        slab.base.storeBytes(of: 1, toByteOffset: size - 1, as: UInt8.self)
      }
      let after = try mappedKiB()
      #expect(after - before < 64 << 10, "\(after - before) KiB still mapped after 256 MiB of slabs went")
    #endif
  }

  @Test func slabAndArrayDatagramsAreEqualByTheirBytes() {
    let slab = ByteSlab.make(size: 64)
    for offset in 0..<64 { slab.base.storeBytes(of: UInt8(offset), toByteOffset: offset, as: UInt8.self) }
    let ranged = DatagramBytes(slab: slab, start: 10, count: 5)
    let owned = DatagramBytes([10, 11, 12, 13, 14])
    #expect(ranged == owned)
    #expect(ranged.hashValue == owned.hashValue)
    #expect(Array(ranged.indices) == [0, 1, 2, 3, 4])
    #expect(ranged[0] == 10 && ranged[4] == 14)
    #expect(ranged.array == [10, 11, 12, 13, 14])
    #expect(ranged != DatagramBytes([10, 11, 12, 13]))
  }

  @Test func changingADatagramLeavesItsSlabAndNeighboursAlone() {
    let slab = ByteSlab.make(size: 16)
    for offset in 0..<16 { slab.base.storeBytes(of: UInt8(offset), toByteOffset: offset, as: UInt8.self) }
    var first = DatagramBytes(slab: slab, start: 0, count: 8)
    let same = DatagramBytes(slab: slab, start: 0, count: 8)
    first[3] = 0xFF
    #expect(first.array == [0, 1, 2, 0xFF, 4, 5, 6, 7])
    #expect(same.array == [0, 1, 2, 3, 4, 5, 6, 7])
    #expect(slab.base.load(fromByteOffset: 3, as: UInt8.self) == 3)
    var slabRef = slab
    #expect(!ByteSlab.isUnused(&slabRef), "`same` still holds the slab")
  }
}
