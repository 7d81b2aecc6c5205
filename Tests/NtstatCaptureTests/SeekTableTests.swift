import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

@Suite(.hangLimit) struct SeekTableTests {
  static func writeCapture(_ frames: [CapturedFrame]) throws -> String {
    let path = Repository.temporaryPath("seek.pcapng.zst")
    let bytes = try SampleCaptures.bytes(frames, compression: .defaultZstd, frameBytes: 1_000)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func theTableIndexesEveryZstdFrameOfFrames() throws {
    let frames = SampleCaptures.frames(400)
    let path = try Self.writeCapture(frames)
    let reader = try CaptureFileReader(path: path)
    let table = try #require(reader.seekTable())
    #expect(table.entries.count > 10)
    #expect(table.entries.reduce(0) { $0 + UInt64($1.frameCount) } == 400)
    for (entry, next) in zip(table.entries, table.entries.dropFirst()) {
      #expect(entry.firstFrameIndex + UInt64(entry.frameCount) == next.firstFrameIndex)
      #expect(entry.compressedOffset < next.compressedOffset)
      #expect(frames[Int(entry.firstFrameIndex)].timestamp == entry.firstTimestamp)
    }
  }

  @Test("seeking then reading yields the same frames as reading from the start", arguments: [0, 57, 200, 399])
  func seekingMatchesSequentialReading(target: Int) throws {
    let frames = SampleCaptures.frames(400)
    let path = try Self.writeCapture(frames)
    let reader = try CaptureFileReader(path: path)
    let table = try #require(reader.seekTable())
    let entry = try #require(table.entry(containingFrame: UInt64(target)))
    #expect(try reader.seek(to: entry, in: table))
    var got: [CapturedFrame] = []
    var sections = 0
    while let record = try reader.next() {
      if case .frame(let f) = record { got.append(f) }
      if case .section = record { sections += 1 }
    }
    #expect(sections == 1)
    #expect(got == Array(frames[Int(entry.firstFrameIndex)...]))
    let byTime = try #require(table.entry(atOrBeforeTimestamp: frames[target].timestamp))
    #expect(
      byTime.firstFrameIndex <= UInt64(target) && UInt64(target) < byTime.firstFrameIndex + UInt64(byTime.frameCount))
  }

  @Test func concatenatedFilesDoNotUseTheLastCapturesTable() throws {
    let a = try SampleCaptures.bytes(SampleCaptures.frames(50), compression: .defaultZstd, frameBytes: 1_000)
    let b = try SampleCaptures.bytes(SampleCaptures.frames(50), compression: .defaultZstd, frameBytes: 1_000)
    let path = Repository.temporaryPath("cat.zst")
    try Data(a + b).write(to: URL(fileURLWithPath: path))
    #expect(try CaptureFileReader(path: path).seekTable() == nil)
  }
}
