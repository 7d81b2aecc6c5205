import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// `captures/samples/<family>.pcapng.zst`: one datagram of every message kind of a family, in a
/// real capture file (made by the codec's samples, not by a kernel; its metadata says so).
/// Re-record with `NTSTAT_RECORD_CAPTURES=1 swift test --filter SampleCaptureTests`.
@Suite(.hangLimit) struct SampleCaptureTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("captures/samples")

  static func frames(_ family: LayoutFamily) throws -> [CapturedFrame] {
    let encoder = MessageEncoder(family: family)
    return try SampleMessages.all(for: family).enumerated().map { index, sample in
      CapturedFrame(
        timestamp: 1_764_403_200_000_000_000 + UInt64(index) * 1_000_000, direction: sample.direction,
        bytes: try encoder.encodeDatagram(sample.messages, settingLength: true))
    }
  }

  static func write(_ family: LayoutFamily, to url: URL) throws {
    var metadata = CaptureMetadata()
    metadata.family = family
    metadata.recorderName = "ntstat codec samples"
    metadata.recorderVersion = "1"
    metadata.simulated = true
    metadata.configuration = "every message kind of \(family.name), one datagram each"
    let frames = try frames(family)
    var bytes: [UInt8] = []
    let writer = try CaptureWriter(metadata: metadata, compression: .zstd(level: 19)) { bytes += $0 }
    _ = try writer.addInterface(
      description: PcapngFormat.interfaceDescription("codec samples", family: family), now: 0)
    for frame in frames { try writer.write(frame, now: 0) }
    try writer.close(
      statistics: [
        0: CaptureStatistics(
          startTime: frames.first?.timestamp, endTime: frames.last?.timestamp, framesReceived: UInt64(frames.count),
          drops: 0)
      ], now: 0, wallClock: frames.last?.timestamp ?? 0)
    try Data(bytes).write(to: url)
  }

  @Test("the bundled sample capture of each family holds every sample datagram", arguments: LayoutFamily.allCases)
  func bundledSamples(family: LayoutFamily) throws {
    let url = Self.directory.appendingPathComponent("\(family.name).pcapng.zst")
    if ProcessInfo.processInfo.environment["NTSTAT_RECORD_CAPTURES"] == "1" {
      try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
      try Self.write(family, to: url)
    }
    let reader = try CaptureFileReader(path: url.path)
    var frames: [CapturedFrame] = []
    var metadata: CaptureMetadata?
    while let record = try reader.next() {
      switch record {
      case .frame(let frame): frames.append(frame)
      case .section(let m): metadata = m
      default: break
      }
    }
    #expect(metadata?.family == family && metadata?.simulated == true)
    #expect(frames == (try Self.frames(family)))
  }
}
