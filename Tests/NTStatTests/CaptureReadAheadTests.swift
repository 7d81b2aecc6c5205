import Foundation
import NtstatCapture
import NtstatTestSupport
import Testing

@testable import NTStat
@testable import NtstatReplay

/// The replay's read-ahead thread hands over exactly what the reader reads, in order, and
/// reports damage where the reader does: after every record before it.
@Suite(.hangLimit) struct CaptureReadAheadTests {
  /// Records through `next()`, then the error that ended them (nil for a clean end).
  static func sequential(_ path: String) throws -> ([CaptureRecord], String?) {
    let reader = try CaptureFileReader(path: path)
    var records: [CaptureRecord] = []
    do {
      while let record = try reader.next() { records.append(record) }
    } catch {
      return (records, "\(error)")
    }
    return (records, nil)
  }

  /// `threaded`: on a thread of its own, or on the caller's (as when the process may run on
  /// one CPU only).
  static func readAhead(
    _ path: String, depth: Int, threaded: Bool = true
  ) throws -> ([CaptureRecord], String?, batches: Int) {
    let readAhead = CaptureReadAhead(reader: try CaptureFileReader(path: path), depth: depth, threaded: threaded)
    var records: [CaptureRecord] = []
    var batch: [CaptureRecord] = []
    var batches = 0
    do {
      while try readAhead.nextRecords(&batch) {
        batches += 1
        records += batch
      }
    } catch {
      return (records, "\(error)", batches)
    }
    return (records, nil, batches)
  }

  @Test(arguments: CapturesCorpusTests.captures)
  func sameRecordsAsTheReader(capture: String) throws {
    let path = CapturesCorpusTests.root.appendingPathComponent(capture).path
    let (expected, expectedError) = try Self.sequential(path)
    for (depth, threaded) in [(1, true), (3, true), (3, false)] {
      let (records, error, batches) = try Self.readAhead(path, depth: depth, threaded: threaded)
      #expect(records == expected)
      #expect(error == expectedError)
      #expect(error == nil)
      #expect(batches >= 1)
    }
  }

  /// A capture of incompressible frames in many small zstd frames: larger than one read of the
  /// file, so the records come in several batches through the bounded queue.
  @Test func manyBatchesInOrder() throws {
    let path = URL(fileURLWithPath: Repository.temporaryPath("readahead-many.pcapng.zst"))
      .path
    defer { try? FileManager.default.removeItem(atPath: path) }
    var file: [UInt8] = []
    let writer = try CaptureWriter(metadata: CaptureMetadata(), frameBytes: 16 << 10) { file += $0 }
    let interface = try writer.addInterface(description: "com.apple.network.statistics", now: 0)
    var state: UInt64 = 0x1234_5678
    for i in 0..<3_000 {
      let bytes = (0..<500).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
      }
      try writer.write(
        CapturedFrame(
          timestamp: UInt64(i) * 1_000, direction: i % 7 == 0 ? .toKernel : .fromKernel, interfaceID: interface,
          bytes: bytes),
        now: UInt64(i) * 1_000)
    }
    try writer.close(now: 3_000_000, wallClock: 3_000_000)
    try Data(file).write(to: URL(fileURLWithPath: path))
    let (expected, expectedError) = try Self.sequential(path)
    #expect(expected.count > 3_000)
    for depth in [1, 2, 3] {
      let (records, error, batches) = try Self.readAhead(path, depth: depth)
      #expect(records == expected)
      #expect(error == expectedError)
      #expect(batches > 4)
    }
  }

  /// Frames are ranges of slabs the reading thread reuses once nothing holds them; frames let
  /// go here while it reads on, and the few kept to the end, must keep their bytes.
  @Test func framesHeldHereKeepTheirBytesWhileTheReadingThreadReusesSlabs() throws {
    let path = Repository.temporaryPath("readahead-slabs.pcapng.zst")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let count = 30_000
    try Data(PatternedCapture.file(frames: count)).write(to: URL(fileURLWithPath: path))
    let readAhead = CaptureReadAhead(reader: try CaptureFileReader(path: path), depth: 2)
    var held: [(index: Int, frame: CapturedFrame)] = []
    var batch: [CaptureRecord] = []
    var index = 0
    while try readAhead.nextRecords(&batch) {
      for record in batch {
        guard case .frame(let frame) = record else { continue }
        if index % 4_000 == 0 { held.append((index, frame)) }
        #expect(frame.bytes.count == PatternedCapture.payload(index).count)
        index += 1
      }
    }
    #expect(index == count)
    for (index, frame) in held {
      let intact = frame.bytes.array == PatternedCapture.payload(index)
      #expect(intact, "frame \(index) changed after it was read")
    }
  }

  @Test func damageComesAfterEveryRecordBeforeIt() throws {
    let source = CapturesCorpusTests.root.appendingPathComponent("xnu-11215.pcapng.zst")
    let bytes = try Data(contentsOf: source)
    let directory = URL(fileURLWithPath: Repository.temporaryPath("readahead"))
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var damaged = 0
    for fraction in stride(from: 0.05, to: 1.0, by: 0.15) {
      let path = directory.appendingPathComponent("cut-\(fraction).pcapng.zst").path
      var cut = bytes.prefix(Int(Double(bytes.count) * fraction))
      // A flipped byte in the middle of the kept part, for corruption as well as truncation.
      if fraction > 0.5 { cut[cut.startIndex + cut.count / 2] ^= 0x5A }
      try cut.write(to: URL(fileURLWithPath: path))
      let (expected, expectedError) = try Self.sequential(path)
      for threaded in [true, false] {
        let (records, error, _) = try Self.readAhead(path, depth: 1, threaded: threaded)
        #expect(records == expected, "cut at \(fraction)")
        #expect(error == expectedError, "cut at \(fraction)")
        if error != nil, threaded { damaged += 1 }
      }
    }
    #expect(damaged == 7)
  }

  @Test func droppingItEarlyDoesNotBlock() throws {
    let path = CapturesCorpusTests.root.appendingPathComponent("xnu-11215.pcapng.zst").path
    for _ in 0..<20 {
      let readAhead = CaptureReadAhead(reader: try CaptureFileReader(path: path), depth: 1)
      var batch: [CaptureRecord] = []
      #expect(try readAhead.nextRecords(&batch))
      #expect(!batch.isEmpty)
    }
  }

  /// The CPUs a process may run on, from the affinity mask `/proc/PID/status` shows.
  @Test func allowedCPUsAreCountedFromTheMask() {
    let status = "Name:\tntstat\nCpus_allowed:\tff,00000005\nCpus_allowed_list:\t0,2,32-39\n"
    #expect(AvailableCPUs.allowedCount(status: status) == 10)
    #expect(AvailableCPUs.allowedCount(status: "Cpus_allowed:\t1\n") == 1)
    #expect(AvailableCPUs.allowedCount(status: "Cpus_allowed_list:\t0-3\n") == nil)
    #expect(AvailableCPUs.allowedCount(status: "Cpus_allowed:\t0\n") == nil)
    #expect(AvailableCPUs.count >= 1)
  }
}
