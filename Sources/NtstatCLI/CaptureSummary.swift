import NtstatCapture
import NtstatWire

/// What `ntstat inspect` reports about a capture, gathered in one streaming pass.
struct CaptureSummary {
  var sections: [CaptureMetadata] = []
  var interfaces: [CaptureInterface] = []
  var statistics: [CaptureStatistics] = []
  var frames: UInt64 = 0
  var firstTime: UInt64?
  var lastTime: UInt64?
  var framesByDirection: [Direction: UInt64] = [:]
  var bytesByDirection: [Direction: UInt64] = [:]
  var messagesByType: [String: UInt64] = [:]
  var undecodable: UInt64 = 0
  var drops: UInt64 = 0
  var foreignFrames: UInt64 = 0
  var compressedBytes: UInt64 = 0
  var uncompressedBytes: UInt64 = 0
  var zstdFrames: UInt64 = 0
  var compressed = false
  var damage: CaptureError?
  var family: LayoutFamily? {
    didSet { decoder = family.map { MessageDecoder(family: $0) } }
  }
  private var decoder: MessageDecoder?
  /// Where ``family`` came from (`given`, the metadata, the kernel version…).
  var familySource: String?

  mutating func add(_ record: CaptureRecord, familyOverride: LayoutFamily?) {
    switch record {
    case .section(let metadata):
      sections.append(metadata)
      if let chosen = metadata.family(override: familyOverride) { (family, familySource) = chosen }
    case .interface(let interface):
      interfaces.append(interface)
    case .statistics(_, let stats):
      statistics.append(stats)
    case .frame(let frame):
      frames += 1
      firstTime = firstTime ?? frame.timestamp
      lastTime = frame.timestamp
      framesByDirection[frame.direction, default: 0] += 1
      bytesByDirection[frame.direction, default: 0] += UInt64(frame.bytes.count)
      drops += frame.dropsBefore
      guard let decoder else { return }
      do {
        for message in try decoder.decode(frame.bytes, direction: frame.direction) {
          messagesByType[message.header.type.name, default: 0] += 1
        }
      } catch {
        undecodable += 1
      }
    }
  }

  var fieldValue: FieldValue {
    var fields: [Field] = []
    func add(_ name: String, _ value: FieldValue) { fields.append(Field(name, value)) }
    add("compression", .string(compressed ? "zstd" : "none"))
    add("compressed_bytes", .uint(compressedBytes))
    add("uncompressed_bytes", .uint(uncompressedBytes))
    if compressed { add("zstd_frames", .uint(zstdFrames)) }
    add("sections", .uint(UInt64(sections.count)))
    if let metadata = sections.first {
      var m: [Field] = []
      for (key, value) in metadata.keyValuesForDisplay { m.append(Field(key, .string(value))) }
      add("metadata", .object(m))
    }
    add("family", family.map { .string($0.name) } ?? .null)
    if let familySource { add("family_source", .string(familySource)) }
    add("interfaces", .uint(UInt64(interfaces.count)))
    add("frames", .uint(frames))
    add("frames_in", .uint(framesByDirection[.fromKernel] ?? 0))
    add("frames_out", .uint(framesByDirection[.toKernel] ?? 0))
    add("bytes_in", .uint(bytesByDirection[.fromKernel] ?? 0))
    add("bytes_out", .uint(bytesByDirection[.toKernel] ?? 0))
    add("first_time_ns", firstTime.map { .uint($0) } ?? .null)
    add("last_time_ns", lastTime.map { .uint($0) } ?? .null)
    add("duration_ns", .uint((lastTime ?? 0) &- (firstTime ?? 0)))
    add("drops", .uint(drops))
    if let stats = statistics.last {
      add("recorder_drops", stats.drops.map { .uint($0) } ?? .null)
      add("recorder_frames_received", stats.framesReceived.map { .uint($0) } ?? .null)
      add("closed_cleanly", .bool(true))
    } else {
      add("closed_cleanly", .bool(false))
    }
    add("messages", .object(messagesByType.keys.sorted().map { Field($0, .uint(messagesByType[$0] ?? 0)) }))
    if undecodable > 0 { add("undecodable_frames", .uint(undecodable)) }
    if foreignFrames > 0 { add("foreign_frames", .uint(foreignFrames)) }
    if let damage {
      add(
        "damage",
        .object([
          Field("kind", .string(damage.kind.rawValue)),
          Field("compressed_offset", damage.compressedOffset.map { .uint($0) } ?? .null),
          Field("uncompressed_offset", damage.uncompressedOffset.map { .uint($0) } ?? .null),
          Field("reason", .string(damage.reason)),
        ]))
    }
    return .object(fields)
  }
}

extension CaptureMetadata {
  /// Metadata as ordered key/value pairs for display, without the `ntstat.` key prefix.
  var keyValuesForDisplay: [(String, String)] {
    keyValues.map { key, value in (key.hasPrefix("ntstat.") ? String(key.dropFirst(7)) : key, value) }
  }
}
