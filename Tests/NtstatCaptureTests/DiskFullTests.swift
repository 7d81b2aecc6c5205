import Foundation
import NtstatCapture
import NtstatTestSupport
import NtstatWire
import Testing

/// A disk that fills up mid-recording: the writer reports ENOSPC, and what reached the disk
/// reads back up to its last complete zstd frame.
@Suite(.hangLimit) struct DiskFullTests {
  struct DiskFull: Error {}

  @Test func writerFailsCleanlyAndThePrefixReads() throws {
    var disk: [UInt8] = []
    let capacity = 40_000
    var metadata = CaptureMetadata()
    metadata.family = .xnu11215
    let writer = try CaptureWriter(metadata: metadata, frameDuration: 10_000_000) { bytes in
      guard disk.count + bytes.count <= capacity else {
        disk += bytes.prefix(capacity - disk.count)  // a short write, then the disk is full
        throw DiskFull()
      }
      disk += bytes
    }
    let interface = try writer.addInterface(description: "com.apple.network.statistics", now: 0)
    var written = 0
    var failure: Error?
    for i in 0..<100_000 {
      let bytes = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
      do {
        try writer.write(
          CapturedFrame(timestamp: UInt64(i) * 1_000_000, direction: .fromKernel, interfaceID: interface, bytes: bytes),
          now: UInt64(i) * 1_000_000)
        written += 1
      } catch {
        failure = error
        break
      }
    }
    #expect(failure is DiskFull)
    #expect(disk.count == capacity)
    let reader = CaptureStreamReader(file: "full.pcapng.zst")
    disk.withUnsafeBytes { reader.push($0) }
    reader.finish()
    var frames = 0
    while let record = reader.nextRecord() { if case .frame = record { frames += 1 } }
    #expect(frames > 0 && frames <= written)
    let error = try #require(reader.error)
    #expect(error.kind == .truncated)
    #expect("\(error)".contains("full.pcapng.zst"))
  }

  #if os(Linux)
    @Test func recorderOnAFullDiskSaysSo() throws {
      // A device is not a capture: refused before anything is written to it.
      let device = try NtstatProcess.run(["record", "--simulate", "--duration", "20s", "-o", "/dev/full"])
      #expect(device.status == 2)
      #expect(device.stderr.contains("/dev/full") && device.stderr.contains("is not a regular file"))
    }

    /// A real full file system: a 64 KiB tmpfs. Mounting needs root, as CI has.
    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func recorderOnAFullFileSystemSaysSo() throws {
      let directory = Repository.temporaryPath("ntstat-full")
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      guard Self.system("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", directory]) == 0 else {
        Issue.record("cannot mount a 64 KiB tmpfs as root")
        return
      }
      defer { _ = Self.system("/bin/umount", [directory]) }
      let result = try NtstatProcess.run([
        "record", "--simulate", "--duration", "120s", "-o", directory + "/full.pcapng.zst",
      ])
      #expect(result.status == 2)
      #expect(result.stderr.contains("No space left on device"), "\(result.stderr)")
      #expect(result.stderr.contains(directory + "/full.pcapng.zst"), "the message names the file: \(result.stderr)")
    }

    static func system(_ path: String, _ arguments: [String]) -> Int32 {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: path)
      process.arguments = arguments
      process.standardError = FileHandle.nullDevice
      guard (try? process.run()) != nil else { return -1 }
      process.waitUntilExit()
      return process.terminationStatus
    }
  #endif
}
