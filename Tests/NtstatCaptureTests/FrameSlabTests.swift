import Foundation
import NtstatCapture
import NtstatTestSupport
import Testing

@testable import NtstatWire

/// Frames read from a capture are ranges of slabs the reader reuses: a frame still alive must keep
/// its bytes however far the reader goes on, and slabs no frame holds must be reused.
@Suite struct FrameSlabTests {
  static func slab(of frame: CapturedFrame) -> ObjectIdentifier {
    ObjectIdentifier(frame.bytes.slab)
  }

  @Test func heldFramesKeepTheirBytesWhileTheReaderReusesSlabs() throws {
    // About 16 MiB of frames: the reader goes through its slabs several times over.
    let count = 30_000
    let file = try PatternedCapture.file(frames: count)
    let reader = CaptureStreamReader(file: "slabs")
    var held: [(index: Int, frame: CapturedFrame)] = []
    var slabs = Set<ObjectIdentifier>()
    var index = 0
    func drain() {
      while let record = reader.nextRecord() {
        guard case .frame(let frame) = record else { continue }
        slabs.insert(Self.slab(of: frame))
        // Every 4,000th frame is kept to the end; the rest are let go at once.
        if index % 4_000 == 0 { held.append((index, frame)) }
        #expect(frame.bytes.count == PatternedCapture.payload(index).count)
        index += 1
      }
    }
    for start in stride(from: 0, to: file.count, by: 100_000) {
      file.withUnsafeBytes {
        reader.push(UnsafeRawBufferPointer(rebasing: $0[start..<min(start + 100_000, file.count)]))
      }
      drain()
    }
    reader.finish()
    drain()
    #expect(reader.error == nil)
    #expect(index == count)
    for (index, frame) in held {
      let intact = frame.bytes.array == PatternedCapture.payload(index)
      #expect(intact, "frame \(index) changed after it was read")
    }
    // Without reuse, 16 MiB of frames would take 16 slabs of 1 MiB or more. With it: the slabs
    // the held frames pin (8), one being written, the zstd frame being verified.
    print("\(count) frames, \(slabs.count) slabs, \(held.count) frames held")
    #expect(slabs.count <= held.count + 3)
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
