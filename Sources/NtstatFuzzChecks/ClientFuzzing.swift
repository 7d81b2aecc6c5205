import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

/// The properties the client-side fuzz targets check (`Sources/NtstatClientFuzz`,
/// `Tests/Tools/fuzz.sh engine|diff|legacy`). The first input byte picks the target:
/// 0 the engine fed arbitrary datagrams, 1 the event-file parser and diff, 2 the libntstat
/// recording importer. Returns the violated property, or nil.
package enum ClientFuzzing {
  package static func check(_ input: UnsafeRawBufferPointer) -> FuzzViolation? {
    guard let mode = input.first else { return nil }
    let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    let found: String?
    switch mode % 3 {
    case 0: found = engine(rest)
    case 1: found = diff(rest)
    default: found = legacy(rest)
    }
    return found.map(FuzzViolation.init)
  }

  /// Arbitrary datagrams (u16 length prefixes) into an engine of any family: no trap, and the
  /// events it emits keep their order (added, then updates, then at most one removal). A second
  /// engine is fed the same, its updates handed over as they are made
  /// (``ClientEngine/handleDatagram(_:at:deliver:)``) to a listener that refuses some: it must
  /// give the same events in the same order, and count the same.
  static func engine(_ input: UnsafeRawBufferPointer) -> String? {
    guard let first = input.first else { return nil }
    let family = LayoutFamily.allCases[Int(first) % LayoutFamily.allCases.count]
    var configuration = ClientConfiguration()
    configuration.updateInterval = .milliseconds(10)
    configuration.requestTimeout = .milliseconds(50)
    configuration.removedRetention = .milliseconds(30)
    if first & 0x80 != 0 { configuration.polling = .plainCounts }
    var engines = DeliveryComparison(configuration: configuration, family: family)
    var time = MonotonicTime.zero
    var offset = 1
    while offset + 2 <= input.count {
      let length = Int(input[offset]) | Int(input[offset + 1]) << 8
      offset += 2
      let end = min(input.count, offset + length)
      let datagram = DatagramBytes(Array(input[offset..<end]))
      offset = end
      time = time.adding(nanoseconds: 3_000_000)
      // One offer in five refused, at places the input moves.
      engines.handle(datagram, at: time) { offer in (offer &* 7 &+ length) % 5 == 0 }
    }
    if let difference = engines.difference { return "updates handed over as made: \(difference)" }
    var state: [SourceRef: Bool] = [:]  // true while added and not removed
    for event in engines.queued {
      switch event {
      case .streamAdded(let s):
        if state[s.id] == true { return "stream \(s.id) added twice" }
        state[s.id] = true
      case .streamStatsUpdated(let s):
        if state[s.id] != true { return "stream \(s.id) updated while not live" }
      case .streamRemoved(let s):
        if state[s.id] != true { return "stream \(s.id) removed while not live" }
        state[s.id] = false
      case .notice:
        break
      }
    }
    // Long after the input, removed sources are purged: memory follows live sources.
    engines.handleTimeout(at: time.adding(nanoseconds: 1_000_000_000))
    let live = state.values.filter { $0 }.count
    if engines.queuing.statistics.liveSources > live + 64 {
      return "holds \(engines.queuing.statistics.liveSources) sources for \(live) live streams"
    }
    return nil
  }

  /// Arbitrary text as two event files: parsing fails cleanly or succeeds, and a file compared
  /// with itself is the same.
  static func diff(_ input: UnsafeRawBufferPointer) -> String? {
    let split = input.firstIndex(of: 0) ?? input.count
    let a = String(decoding: input[..<split], as: UTF8.self)
    let b = String(decoding: input[min(split + 1, input.count)...], as: UTF8.self)
    guard let fileA = try? CanonicalEventFile.parse(a, name: "a") else { return nil }
    if !EventDiff.compare(fileA, fileA).isSame { return "a file differs from itself" }
    if let fileB = try? CanonicalEventFile.parse(b, name: "b") {
      let forward = EventDiff.compare(fileA, fileB)
      let backward = EventDiff.compare(fileB, fileA)
      if forward.isSame != backward.isSame { return "diff is not symmetric" }
    }
    return nil
  }

  /// Arbitrary bytes as a libntstat recording, fed whole and in small pieces: the same frames
  /// and the same verdict either way.
  static func legacy(_ input: UnsafeRawBufferPointer) -> String? {
    var whole = LegacyRecordingDecoder()
    var wholeFrames: [CapturedFrame] = []
    let wholeError = (try? whole.push(input, into: &wholeFrames)) == nil
    var pieces = LegacyRecordingDecoder()
    var pieceFrames: [CapturedFrame] = []
    var pieceError = false
    var offset = 0
    var step = 1
    while offset < input.count, !pieceError {
      let end = min(input.count, offset + step)
      pieceError = (try? pieces.push(UnsafeRawBufferPointer(rebasing: input[offset..<end]), into: &pieceFrames)) == nil
      offset = end
      step = step % 13 + 1
    }
    if wholeError != pieceError { return "error depends on read sizes" }
    if !wholeError, wholeFrames != pieceFrames { return "frames depend on read sizes" }
    if !wholeError, whole.hasPartialRecord != pieces.hasPartialRecord { return "partial record depends on read sizes" }
    return nil
  }
}
