import Foundation
import NtstatCapture
import NtstatWire

/// Capture write/read throughput and size against the zstd command line on the same data.
enum CaptureBenchmark {
  /// Modern (xnu-11215) SRC_UPDATE frames for TCP sources: 496 bytes each, counters growing.
  static func frames(_ count: Int) -> [CapturedFrame] {
    let encoder = MessageEncoder(family: .xnu11215)
    var frames: [CapturedFrame] = []
    frames.reserveCapacity(count)
    var time: UInt64 = 1_764_403_200_000_000_000
    for i in 0..<count {
      time += 50_000 + UInt64(i % 7) * 1_000
      frames.append(frame(i, timestamp: time, encoder: encoder))
    }
    return frames
  }

  /// Frame `i` of the benchmark stream: a SRC_UPDATE for one of 2,000 TCP sources.
  static func frame(_ i: Int, timestamp: UInt64, encoder: MessageEncoder) -> CapturedFrame {
    let family = LayoutFamily.xnu11215
    var d = TCPDescriptor()
    d.upid = UInt64(i % 2_000)
    d.eupid = d.upid
    d.pid = UInt32(400 + i % 2_000)
    d.epid = d.pid
    d.state = .established
    d.startTimestamp = 1
    d.timestamp = UInt64(i)
    d.rxTransferSize = 0
    d.txTransferSize = 0
    d.activityBitmap = ActivityBitmap(start: 1, bitmap: (UInt64(i & 0xff), 0))
    d.trafficClass = 0
    d.trafficManagementFlags = 0
    d.local = .ipv4(IPv4Address(192, 168, 1, 20), port: UInt16(truncatingIfNeeded: 49_152 + i % 2_000))
    d.remote = .ipv4(IPv4Address(17, 253, 144, UInt8(i % 200)), port: 443)
    d.congestionAlgorithm = "cubic"
    d.processName = FixedCString(["Safari", "mDNSResponder", "Mail", "nsurlsessiond"][i % 4])
    d.uuid = UUIDBytes(high: UInt64(i % 4), low: 7)
    d.euuid = d.uuid
    d.vuuid = .zero
    d.fuuid = UUIDBytes(high: UInt64(i % 2_000), low: 9)
    d.personaID = 0
    d.uid = 501
    d.connectionStatus = 0
    d.interfaceProperties = [.wifi, .nonLocal]
    d.fallbackMode = 0
    var c = Counts()
    c.rxPackets = UInt64(i * 3)
    c.rxBytes = UInt64(i) * 1_400
    c.txPackets = UInt64(i)
    c.txBytes = UInt64(i) * 90
    (c.cellRxBytes, c.cellTxBytes, c.wifiRxBytes, c.wifiTxBytes, c.wiredRxBytes, c.wiredTxBytes) = (
      0, 0, c.rxBytes, c.txBytes, 0, 0
    )
    c.avgRTT = UInt32(600 + i % 300)
    let message = Message(
      .sourceUpdate(
        SourceUpdate(
          sourceRef: SourceRef(UInt64(i % 2_000 + 1)), eventFlags: 0, counts: c,
          provider: family.providerID(for: .tcpKernel)!, reserved: 0, descriptor: .tcp(d))))
    return CapturedFrame(
      timestamp: timestamp, direction: .fromKernel, bytes: try! encoder.encode(message, settingLength: true))
  }

  static func time(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    return DecodeBenchmark.seconds(ContinuousClock.now - start)
  }

  /// Runs a command with stdin/stdout redirected to files; returns its wall time.
  static func timeCommand(_ arguments: [String], input: String, output: String) throws -> Double {
    try TimedProcess.run(arguments, input: input, output: output).seconds
  }

  static func size(_ path: String) -> UInt64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
  }

  static func run(frames count: Int) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ntstat-capture-bench").path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let bare = dir + "/bare.bin"
    let legacy = dir + "/legacy.bin"
    let capture = dir + "/capture.pcapng.zst"
    print("capture benchmark: \(count) modern (xnu-11215) SRC_UPDATE frames of 496 bytes, one core")
    let frames = frames(count)
    var bareBytes = Data()
    var legacyBytes = Data()
    for frame in frames {
      bareBytes.append(contentsOf: frame.bytes)
      withUnsafeBytes(of: UInt32(frame.timestamp / 1_000_000_000).littleEndian) { legacyBytes.append(contentsOf: $0) }
      withUnsafeBytes(of: UInt32(frame.bytes.count).littleEndian) { legacyBytes.append(contentsOf: $0) }
      legacyBytes.append(contentsOf: frame.bytes)
    }
    try! bareBytes.write(to: URL(fileURLWithPath: bare))
    try! legacyBytes.write(to: URL(fileURLWithPath: legacy))

    // Write: our writer (pcapng + zstd level 3 + file), against zstd -3 on the bare frames.
    var metadata = CaptureMetadata()
    metadata.family = .xnu11215
    metadata.simulated = true
    let writeTime = try! time {
      _ = FileManager.default.createFile(atPath: capture, contents: nil)
      let handle = FileHandle(forWritingAtPath: capture)!
      let writer = try CaptureWriter(metadata: metadata, compression: .defaultZstd) { handle.write(Data($0)) }
      _ = try writer.addInterface(description: nil, now: 0)
      for frame in frames { try writer.write(frame, now: frame.timestamp) }
      try writer.close(now: frames.last!.timestamp, wallClock: frames.last!.timestamp)
      try handle.close()
    }
    let zstdCompressTime = try! timeCommand(["zstd", "-3", "-q", "-c"], input: bare, output: bare + ".zst")

    // Read: our reader (file → zstd → pcapng → frames) against zstd -d of the same capture.
    var readFrames = 0
    let readTime = try! time {
      let reader = try CaptureFileReader(path: capture)
      while let record = try reader.next() { if case .frame = record { readFrames += 1 } }
    }
    let zstdDecompressTime = try! timeCommand(["zstd", "-d", "-q", "-c"], input: capture, output: "/dev/null")
    _ = try! timeCommand(["zstd", "-d", "-q", "-c"], input: capture, output: dir + "/capture.pcapng")
    precondition(readFrames == count, "the reader must return every frame")
    let uncompressed = Double(size(dir + "/capture.pcapng")) / 1e6

    func row(_ name: String, _ seconds: Double, _ megabytes: Double) -> String {
      DecodeBenchmark.pad(name, 34) + DecodeBenchmark.pad(DecodeBenchmark.format(Double(count) / seconds / 1e3, 0), 13)
        + DecodeBenchmark.pad(DecodeBenchmark.format(megabytes / seconds, 0), 8) + DecodeBenchmark.format(seconds, 3)
    }
    print(
      DecodeBenchmark.pad("", 34) + DecodeBenchmark.pad("kframes/s", 13) + DecodeBenchmark.pad("MB/s", 8) + "seconds")
    print(row("write: ntstat CaptureWriter", writeTime, Double(bareBytes.count) / 1e6))
    print(row("write: zstd -3 (bare frames)", zstdCompressTime, Double(bareBytes.count) / 1e6))
    print(row("read: ntstat CaptureFileReader", readTime, uncompressed))
    print(row("read: zstd -d (same capture)", zstdDecompressTime, uncompressed))
    print("write speed vs zstd -3: \(DecodeBenchmark.format(zstdCompressTime / writeTime, 2))× (target ≥ 0.8×)")
    print("read speed vs zstd -d:  \(DecodeBenchmark.format(zstdDecompressTime / readTime, 2))× (target ≥ 0.7×)")
    let ours = Double(size(capture))
    print(
      "size: capture \(size(capture)) B, zstd -3 of bare frames \(size(bare + ".zst")) B "
        + "(\(DecodeBenchmark.format(ours / Double(size(bare + ".zst")), 3))×, target ≤ 1.05×), legacy "
        + "\(size(legacy)) B (\(DecodeBenchmark.format(ours / Double(size(legacy)), 3))×, target ≤ 0.25×)")
  }
}
