import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// Checks our files against a reader that is not ours: Wireshark's capinfos/editcap (Debian's
/// `tshark` package, installed by .ci/run). Skipped where they are not installed.
let wiresharkToolsAvailable =
  FileManager.default.isExecutableFile(atPath: "/usr/bin/capinfos")
  && FileManager.default.isExecutableFile(atPath: "/usr/bin/editcap")

@Suite(.enabled(if: wiresharkToolsAvailable, "capinfos/editcap not installed"), .hangLimit)
struct WiresharkInteropTests {

  /// Runs `/usr/bin/tool`: its status and what it wrote to either stream.
  static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
    let result = try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/" + tool), arguments)
    return (result.status, result.stdout + result.stderr)
  }

  static func write(_ frames: [CapturedFrame], compression: CaptureCompression, to path: String) throws {
    let bytes = try SampleCaptures.bytes(frames, compression: compression, frameBytes: 2_000)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// `capinfos -M -c -u -S -a -e -F -T`: machine-readable count, duration, first/last time.
  static func info(_ path: String) throws -> [String: String] {
    let (status, output) = try run("capinfos", ["-M", "-T", "-c", "-u", "-a", "-e", "-S", path])
    #expect(status == 0, "capinfos failed: \(output)")
    let lines = output.split(separator: "\n")
    guard lines.count >= 2 else { return [:] }
    let keys = lines[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    let values = lines[1].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    return Dictionary(uniqueKeysWithValues: zip(keys, values))
  }

  @Test(
    "capinfos agrees on frame count, time span, precision and OS",
    arguments: [
      CaptureCompression.none, .defaultZstd,
    ])
  func capinfosAgrees(compression: CaptureCompression) throws {
    let frames = SampleCaptures.frames(300)
    let path = Repository.temporaryPath(compression == .none ? "a.pcapng" : "a.pcapng.zst")
    try Self.write(frames, compression: compression, to: path)
    let info = try Self.info(path)
    #expect(info["Number of packets"] == "300")
    let first = Double(frames.first!.timestamp) / 1e9
    let last = Double(frames.last!.timestamp) / 1e9
    #expect(abs((Double(info["Start time"] ?? "") ?? 0) - first) < 1e-6)
    #expect(abs((Double(info["End time"] ?? "") ?? 0) - last) < 1e-6)
    let (_, human) = try Self.run("capinfos", [path])
    #expect(human.contains("nanoseconds (9)"))
    #expect(human.contains("Capture oper-sys:    macOS 15.5 (24F74) Darwin 24.5.0 (simulated)"))
    #expect(human.contains("Name = com.apple.network.statistics"))
  }

  @Test func aCaptureCutMidFrameStillYieldsItsCompleteFrames() throws {
    let frames = SampleCaptures.frames(300)
    let path = Repository.temporaryPath("cut.pcapng.zst")
    try Self.write(frames, compression: .defaultZstd, to: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let cut = Repository.temporaryPath("cut2.pcapng.zst")
    try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
    let (_, output) = try Self.run("capinfos", ["-M", "-c", cut])
    let theirs =
      Int(
        output.split(separator: "\n").first { $0.contains("Number of packets") }?
          .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? -1
    let (records, error) = SampleCaptures.read(Array(bytes.prefix(bytes.count * 2 / 3)))
    let ours = SampleCaptures.frames(in: records).count
    #expect(error?.kind == .truncated)
    #expect(theirs > 0 && ours > 0)
    // We release only checksum-verified zstd frames plus the complete blocks of the cut frame,
    // so we return at least every frame capinfos counts as complete.
    #expect(ours >= theirs, "ours \(ours), capinfos \(theirs)")
  }

  @Test func aFileEditcapWroteReadsBack() throws {
    let frames = SampleCaptures.frames(300)
    let path = Repository.temporaryPath("src.pcapng.zst")
    try Self.write(frames, compression: .defaultZstd, to: path)
    // A time slice: editcap -A/-B take absolute times.
    let start = frames[100].timestamp
    let end = frames[199].timestamp
    func stamp(_ ns: UInt64) -> String { "\(ns / 1_000_000_000).\(String(format: "%09d", ns % 1_000_000_000))" }
    let sliced = Repository.temporaryPath("slice.pcapng")
    let (status, output) = try Self.run("editcap", ["-A", stamp(start), "-B", stamp(end + 1), path, sliced])
    #expect(status == 0, "\(output)")
    let reader = try CaptureFileReader(path: sliced)
    var got: [CapturedFrame] = []
    while let record = try reader.next() { if case .frame(let f) = record { got.append(f) } }
    #expect(got.map(\.bytes) == frames[100...199].map(\.bytes))
    #expect(got.map(\.timestamp) == frames[100...199].map(\.timestamp))
    #expect(got.map(\.direction) == frames[100...199].map(\.direction))
  }
}
