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
    // About 32 MiB of frames: the reader goes through its slabs several times over.
    let count = 60_000
    let file = try PatternedCapture.file(frames: count)
    let reader = CaptureStreamReader(file: "slabs")
    var held: [(index: Int, frame: CapturedFrame)] = []
    var slabs = Set<ObjectIdentifier>()
    var index = 0
    func drain() {
      while let record = reader.nextRecord() {
        guard case .frame(let frame) = record else { continue }
        slabs.insert(Self.slab(of: frame))
        // Every 10,000th frame is kept to the end; the rest are let go at once.
        if index % 10_000 == 0 { held.append((index, frame)) }
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
    // Without reuse, 32 MiB of frames would take 16 slabs of 2 MiB or more. With it: the slabs
    // the held frames pin (6), one being written, the zstd frame being verified.
    print("\(count) frames, \(slabs.count) slabs, \(held.count) frames held")
    #expect(slabs.count <= held.count + 3)
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
