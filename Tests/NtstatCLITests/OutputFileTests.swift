import Foundation
import NtstatTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Captures are private and never clobber anything: the real binary writing real files.
@Suite(.hangLimit) struct OutputFileTests {
  static func directory() throws -> String {
    let path = Repository.temporaryPath("out")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  static func mode(_ path: String) -> mode_t {
    var status = stat()
    lstat(path, &status)
    return status.st_mode & 0o777
  }

  static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

  static let record = ["record", "--simulate", "--duration", "3s", "-o"]

  @Test func newCaptureIsPrivate() throws {
    let dir = try Self.directory()
    let path = dir + "/new.pcapng.zst"
    let result = try NtstatProcess.run(Self.record + [path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Self.mode(path) == 0o600)
    let wider = dir + "/wider.pcapng.zst"
    #expect(try NtstatProcess.run(Self.record + [wider, "--mode", "640"]).status == 0)
    #expect(Self.mode(wider) == 0o640 & ~Self.umask())
  }

  static func umask() -> mode_t {
    #if canImport(Glibc)
      let current = Glibc.umask(0o022)
      _ = Glibc.umask(current)
    #else
      let current = Darwin.umask(0o022)
      _ = Darwin.umask(current)
    #endif
    return current
  }

  @Test(arguments: ["record", "convert", "slice", "redact"])
  func existingTargetIsRefusedUntouchedUnlessForced(command: String) throws {
    let dir = try Self.directory()
    let target = dir + "/existing.pcapng.zst"
    let original = Data("precious earlier recording".utf8)
    try original.write(to: URL(fileURLWithPath: target))
    let arguments: [String]
    switch command {
    case "record": arguments = Self.record + [target]
    case "convert": arguments = ["convert", "captures/xnu-2050.pcapng.zst", target]
    case "redact": arguments = ["redact", "captures/xnu-2050.pcapng.zst", target]
    default: arguments = ["slice", "captures/xnu-2050.pcapng.zst", target, "--to-frame", "10"]
    }
    let refused = try NtstatProcess.run(arguments)
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("exists; pass --force to replace it"), "\(refused.stderr)")
    #expect(Self.bytes(target) == original)
    let forced = try NtstatProcess.run(arguments + ["--force"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(Self.bytes(target) != original)
    #expect(Self.mode(target) == 0o600 || command != "record")
  }

  @Test(arguments: [false, true])
  func symlinkIsNeverFollowed(force: Bool) throws {
    let dir = try Self.directory()
    let victim = dir + "/victim"
    let original = Data("a file root must not clobber".utf8)
    try original.write(to: URL(fileURLWithPath: victim))
    let link = dir + "/link.pcapng.zst"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
    for arguments in [Self.record + [link], ["convert", "captures/xnu-2050.pcapng.zst", link]] {
      let result = try NtstatProcess.run(arguments + (force ? ["--force"] : []))
      #expect(result.status == 2)
      #expect(result.stderr.contains("is a symbolic link"), "\(result.stderr)")
      #expect(Self.bytes(victim) == original)
    }
  }

  @Test func directoryTargetIsRefused() throws {
    let dir = try Self.directory()
    for force in [false, true] {
      let result = try NtstatProcess.run(Self.record + [dir] + (force ? ["--force"] : []))
      #expect(result.status == 2)
      #expect(result.stderr.contains("is a directory"), "\(result.stderr)")
    }
  }

  @Test func missingDirectoryIsFoundBeforeRecording() throws {
    let result = try NtstatProcess.run(Self.record + ["/nonexistent-ntstat-dir/x.pcapng.zst"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("does not exist"))
    #expect(!result.stderr.contains("recorded"))
  }

  @Test func rotationNeverOverwrites() throws {
    let dir = try Self.directory()
    let base = dir + "/rot.pcapng.zst"
    let colliding = dir + "/rot-0001.pcapng.zst"
    let original = Data("an older rotated file".utf8)
    try original.write(to: URL(fileURLWithPath: colliding))
    let result = try NtstatProcess.run([
      "record", "--simulate", "--duration", "20s", "--rotate-time", "5s", "-o", base, "--force",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(Self.bytes(colliding) == original)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    #expect(files.contains("rot-0002.pcapng.zst"), "\(files)")
    for file in files where file != "rot-0001.pcapng.zst" { #expect(Self.mode(dir + "/" + file) == 0o600) }
  }

  @Test(.enabled(if: geteuid() == 0, "handing files over needs root"))
  func underSudoTheCaptureBelongsToTheUser() throws {
    let dir = try Self.directory()
    let path = dir + "/sudo.pcapng.zst"
    let sudo = ["SUDO_UID": "65534", "SUDO_GID": "65534"]
    let result = try NtstatProcess.run(Self.record + [path], environment: sudo)
    #expect(result.status == 0, "\(result.stderr)")
    var status = stat()
    lstat(path, &status)
    #expect(status.st_uid == 65534 && status.st_gid == 65534)
    #expect(Self.mode(path) == 0o600)
    #expect(result.stderr.contains("owned by uid 65534"))
    let kept = dir + "/root.pcapng.zst"
    #expect(try NtstatProcess.run(Self.record + [kept, "--keep-root-owner"], environment: sudo).status == 0)
    lstat(kept, &status)
    #expect(status.st_uid == 0)
  }

  @Test func readingAFIFONeverBlocks() throws {
    let dir = try Self.directory()
    let fifo = dir + "/fifo"
    #expect(mkfifo(fifo, 0o600) == 0)
    let clock = ContinuousClock()
    let started = clock.now
    for command in ["inspect", "replay", "cat"] {
      let result = try NtstatProcess.run([command, fifo])
      #expect(result.status == 2, "\(command): \(result.stderr)")
    }
    #expect(clock.now - started < .seconds(10))
  }
}
