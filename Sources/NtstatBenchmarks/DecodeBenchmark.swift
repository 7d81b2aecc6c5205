import CAllocationCounter
import CDecodeBaseline
import NtstatWire

#if canImport(Glibc)
  import Glibc
#else
  import Darwin
#endif

/// Swift decode against the C fixed-offset baseline, on the same generated datagrams.
enum DecodeBenchmark {
  struct Corpus {
    var bytes: [UInt8] = []
    var lengths: [Int] = []
    var byKind: [String: [[UInt8]]] = [:]
  }

  /// A mix of real-sized frames: 60 % SRC_COUNTS, 20 % SRC_DESC (TCP), 20 % SRC_UPDATE (TCP
  /// where the family has updates, else more counts), one message a datagram.
  static func corpus(_ family: LayoutFamily, frames: Int) -> Corpus {
    let encoder = MessageEncoder(family: family)
    var corpus = Corpus()
    let tcp = family.providerID(for: .tcpKernel)!
    let hasEvents = family.layouts.sourceCountsMessage[.eventFlags] != nil
    func counts(_ i: Int) -> Counts {
      var c = Counts()
      c.rxPackets = UInt64(i)
      c.rxBytes = UInt64(i) * 1400
      c.txPackets = UInt64(i) / 2
      c.txBytes = UInt64(i) * 700
      if family.layouts.counts[.cellRxBytes] != nil {
        (c.cellRxBytes, c.cellTxBytes, c.wifiRxBytes, c.wifiTxBytes) = (0, 0, c.rxBytes, c.txBytes)
      }
      if family.layouts.counts[.wiredRxBytes] != nil { (c.wiredRxBytes, c.wiredTxBytes) = (0, 0) }
      c.avgRTT = 640
      return c
    }
    func descriptor(_ i: Int) -> Descriptor {
      var d = TCPDescriptor()
      let l = family.layouts.tcpDescriptor
      d.upid = UInt64(i)
      d.pid = UInt32(i % 30_000)
      d.state = .established
      d.local = .ipv4(IPv4Address(192, 168, 1, 20), port: UInt16(truncatingIfNeeded: 49_152 + i))
      d.remote = .ipv6(IPv6Address(high: 0x2606_4700_0000_0000, low: UInt64(i)), port: 443)
      d.processName = "com.apple.WebKit.Networking"
      d.eupid = l[.eupid] == nil ? nil : UInt64(i)
      d.epid = l[.epid] == nil ? nil : d.pid
      d.uuid = l[.uuid] == nil ? nil : UUIDBytes(high: UInt64(i), low: 1)
      d.euuid = l[.euuid] == nil ? nil : UUIDBytes(high: UInt64(i), low: 1)
      d.startTimestamp = l[.startTimestamp] == nil ? nil : 1
      d.timestamp = l[.timestamp] == nil ? nil : 2
      d.interfaceProperties = l[.interfaceProperties] == nil ? nil : [.wifi]
      return .tcp(d)
    }
    for i in 0..<frames {
      let ref = SourceRef(UInt64(i % 5_000 + 1))
      let message: Message
      let kind: String
      let slot = i % 10 >= 8 && family.layouts.sourceUpdateMessage == nil ? 0 : i % 10
      switch slot {
      case 6, 7:
        kind = "description"
        message = Message(
          .sourceDescription(
            SourceDescription(
              sourceRef: ref, eventFlags: hasEvents ? 0 : nil, provider: tcp,
              reserved: family.layouts.sourceDescriptionMessage[.reserved] == nil ? nil : 0, descriptor: descriptor(i)))
        )
      case 8, 9:
        kind = "update"
        message = Message(
          .sourceUpdate(
            SourceUpdate(
              sourceRef: ref, eventFlags: hasEvents ? 0 : nil, counts: counts(i), provider: tcp,
              reserved: family.layouts.sourceUpdateMessage?[.reserved] == nil ? nil : 0, descriptor: descriptor(i))))
      default:
        kind = "counts"
        message = Message(
          .sourceCounts(SourceCounts(sourceRef: ref, eventFlags: hasEvents ? 0 : nil, counts: counts(i))))
      }
      let bytes = try! encoder.encode(message, settingLength: true)
      corpus.bytes += bytes
      corpus.lengths.append(bytes.count)
      if corpus.byKind[kind, default: []].count < 10_000 { corpus.byKind[kind, default: []].append(bytes) }
    }
    return corpus
  }

  @inline(__always)
  static func foldCounts(_ c: Counts) -> UInt64 {
    c.rxPackets &+ c.rxBytes &+ c.txPackets &+ c.txBytes &+ (c.cellRxBytes ?? 0) &+ (c.cellTxBytes ?? 0)
      &+ (c.wifiRxBytes ?? 0) &+ (c.wifiTxBytes ?? 0) &+ (c.wiredRxBytes ?? 0) &+ (c.wiredTxBytes ?? 0)
      &+ UInt64(c.rxDuplicateBytes) &+ UInt64(c.rxOutOfOrderBytes) &+ UInt64(c.txRetransmit)
      &+ UInt64(c.connectAttempts) &+ UInt64(c.connectSuccesses) &+ UInt64(c.minRTT) &+ UInt64(c.avgRTT)
      &+ UInt64(c.varRTT)
  }

  /// Sums the same fields the C baseline reads.
  @inline(__always)
  static func fold(_ message: Message) -> UInt64 {
    var sum = message.header.context
    func foldDescriptor(_ d: Descriptor) -> UInt64 {
      guard case .tcp(let t) = d else { return 0 }
      return t.upid &+ (t.eupid ?? 0) &+ UInt64(t.pid) &+ UInt64(t.state.rawValue) &+ UInt64(t.ifindex)
        &+ UInt64(t.processName.bytes.first ?? 0) &+ UInt64(t.local.port ?? 0) &+ UInt64(t.remote.port ?? 0)
    }
    switch message.body {
    case .sourceCounts(let s): sum &+= s.sourceRef.rawValue &+ foldCounts(s.counts)
    case .sourceDescription(let s): sum &+= s.sourceRef.rawValue &+ foldDescriptor(s.descriptor)
    case .sourceUpdate(let s): sum &+= s.sourceRef.rawValue &+ foldCounts(s.counts) &+ foldDescriptor(s.descriptor)
    default: sum &+= UInt64(message.header.type.rawValue)
    }
    return sum
  }

  /// Calls `body` with each datagram of the corpus.
  static func forEachDatagram(_ corpus: Corpus, _ body: (UnsafeRawBufferPointer) throws -> Void) {
    corpus.bytes.withUnsafeBytes { all in
      var offset = 0
      for length in corpus.lengths {
        do {
          try body(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)]))
        } catch {
          fatalError("benchmark corpus failed to decode: \(error)")
        }
        offset += length
      }
    }
  }

  static func swiftDecode(_ corpus: Corpus, _ decoder: MessageDecoder) -> (UInt64, Int) {
    var sum: UInt64 = 0
    var messages = 0
    forEachDatagram(corpus) { datagram in
      try decoder.forEachMessage(in: datagram) { message in
        sum &+= fold(message)
        messages += 1
      }
    }
    return (sum, messages)
  }

  /// The hot path an engine uses: zero-copy views that read the same fields in place.
  static func swiftViewDecode(_ corpus: Corpus, _ decoder: MessageDecoder) -> (UInt64, Int) {
    var sum: UInt64 = 0
    var messages = 0
    forEachDatagram(corpus) { datagram in
      try decoder.forEachView(in: datagram) { view in
        sum &+= view.header.context &+ (try view.sourceRef()?.rawValue ?? 0)
        if let counts = try view.countsView() { sum &+= foldCounts(counts) }
        if let d = try view.socketDescriptorView() { sum &+= foldDescriptor(d) }
        messages += 1
      }
    }
    return (sum, messages)
  }

  @inline(__always)
  static func foldCounts(_ c: CountsView) -> UInt64 {
    c.rxPackets &+ c.rxBytes &+ c.txPackets &+ c.txBytes &+ (c.cellRxBytes ?? 0) &+ (c.cellTxBytes ?? 0)
      &+ (c.wifiRxBytes ?? 0) &+ (c.wifiTxBytes ?? 0) &+ (c.wiredRxBytes ?? 0) &+ (c.wiredTxBytes ?? 0)
      &+ UInt64(c.rxDuplicateBytes) &+ UInt64(c.rxOutOfOrderBytes) &+ UInt64(c.txRetransmit)
      &+ UInt64(c.connectAttempts) &+ UInt64(c.connectSuccesses) &+ UInt64(c.minRTT) &+ UInt64(c.avgRTT)
      &+ UInt64(c.varRTT)
  }

  @inline(__always)
  static func foldDescriptor(_ t: SocketDescriptorView) -> UInt64 {
    t.upid &+ (t.eupid ?? 0) &+ UInt64(t.pid) &+ UInt64(t.state?.rawValue ?? 0) &+ UInt64(t.ifindex)
      &+ UInt64(t.processNameFirstByte) &+ UInt64(t.localPort ?? 0) &+ UInt64(t.remotePort ?? 0)
  }

  /// Runs the C baseline for `family` over the corpus; returns the messages it read.
  static func cBaseline(_ corpus: Corpus, _ family: LayoutFamily) -> Int {
    corpus.bytes.withUnsafeBufferPointer { bytes in
      corpus.lengths.withUnsafeBufferPointer { lengths in
        var messages = 0
        _ =
          family == .xnu11215
          ? ntstat_baseline_decode_xnu11215(bytes.baseAddress, lengths.baseAddress, lengths.count, &messages)
          : ntstat_baseline_decode_xnu2422(bytes.baseAddress, lengths.baseAddress, lengths.count, &messages)
        return messages
      }
    }
  }

  static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  /// Best of `repetitions` runs, in seconds.
  static func best(_ repetitions: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    let clock = ContinuousClock()
    for _ in 0..<repetitions {
      let elapsed = clock.measure(body)
      best = min(best, seconds(elapsed))
    }
    return best
  }

  static func viewAllocationsPerFrame(_ frames: [[UInt8]], _ decoder: MessageDecoder) -> Double {
    guard !frames.isEmpty else { return .nan }
    var sink: UInt64 = 0
    let before = ntstat_allocation_count()
    for frame in frames {
      frame.withUnsafeBytes { buffer in
        try? decoder.forEachView(in: buffer) { (view) throws(WireError) in
          if let counts = try view.countsView() { sink &+= foldCounts(counts) }
        }
      }
    }
    let after = ntstat_allocation_count()
    if sink == 42 { print("") }
    return Double(after - before) / Double(frames.count)
  }

  static func allocationsPerFrame(_ frames: [[UInt8]], _ decoder: MessageDecoder) -> Double {
    guard !frames.isEmpty else { return .nan }
    var sink: UInt64 = 0
    let before = ntstat_allocation_count()
    for frame in frames {
      frame.withUnsafeBytes { buffer in
        try? decoder.forEachMessage(in: buffer) { sink &+= fold($0) }
      }
    }
    let after = ntstat_allocation_count()
    if sink == 42 { print("") }
    return Double(after - before) / Double(frames.count)
  }

  static func run(frames: Int) {
    print(
      "decode benchmark: \(frames) frames per family (60% SRC_COUNTS, 20% SRC_DESC tcp, 20% SRC_UPDATE tcp), best of 5, one core"
    )
    print(
      pad("family", 12) + pad("decoder", 26) + pad("Mframes/s", 11) + pad("MB/s", 8) + pad("ns/frame", 10) + "time vs C"
    )
    for family in [LayoutFamily.xnu11215, .xnu2422] {
      let corpus = corpus(family, frames: frames)
      let decoder = MessageDecoder(family: family)
      var fullMessages = 0
      var viewMessages = 0
      let fullTime = best(5) { fullMessages = swiftDecode(corpus, decoder).1 }
      let viewTime = best(5) { viewMessages = swiftViewDecode(corpus, decoder).1 }
      var cMessages = 0
      let cTime = best(5) { cMessages = cBaseline(corpus, family) }
      precondition(
        fullMessages == frames && viewMessages == frames && cMessages == frames, "every decoder reads every frame")
      let megabytes = Double(corpus.bytes.count) / 1e6
      for (name, time) in [
        ("C baseline (memcpy)", cTime), ("Swift MessageView", viewTime), ("Swift Message (full)", fullTime),
      ] {
        print(
          pad(family.name, 12) + pad(name, 26) + pad(format(Double(frames) / time / 1e6, 2), 11)
            + pad(format(megabytes / time, 0), 8) + pad(format(time / Double(frames) * 1e9, 1), 10)
            + format(time / cTime, 2) + "×")
      }
      let counts = allocationsPerFrame(corpus.byKind["counts"] ?? [], decoder)
      let descriptions = allocationsPerFrame(corpus.byKind["description"] ?? [], decoder)
      let updates = allocationsPerFrame(corpus.byKind["update"] ?? [], decoder)
      let viewCounts = viewAllocationsPerFrame(corpus.byKind["counts"] ?? [], decoder)
      print(
        "  heap allocations per frame, full decode: counts \(format(counts, 2)), description \(format(descriptions, 2)), "
          + "update \(updates.isNaN ? "-" : format(updates, 2)); MessageView counts: \(format(viewCounts, 2))")
    }
    print("per message kind, ns/frame:")
    print(
      "  " + pad("family", 12) + pad("kind", 12) + pad("swift full", 12) + pad("swift view", 12) + pad("C", 8)
        + "view/C")
    for family in [LayoutFamily.xnu11215, .xnu2422] {
      let decoder = MessageDecoder(family: family)
      let all = corpus(family, frames: 50_000)
      for kind in ["counts", "description", "update"] {
        guard let frames = all.byKind[kind] else { continue }
        var sub = Corpus()
        for _ in 0..<5 { for frame in frames { sub.bytes += frame; sub.lengths.append(frame.count) } }
        let n = sub.lengths.count
        let swiftTime = best(7) { _ = swiftDecode(sub, decoder) }
        let viewTime = best(7) { _ = swiftViewDecode(sub, decoder) }
        let cTime = best(7) { _ = cBaseline(sub, family) }
        print(
          "  \(pad(family.name, 12))\(pad(kind, 12))\(pad(format(swiftTime / Double(n) * 1e9, 1), 12))"
            + "\(pad(format(viewTime / Double(n) * 1e9, 1), 12))\(pad(format(cTime / Double(n) * 1e9, 1), 8))"
            + format(viewTime / cTime, 2) + "×")
      }
    }
    if ntstat_allocation_counting_available() == 0 { print("(allocation counting needs Linux/glibc)") }
  }

  static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
  }

  static func format(_ value: Double, _ decimals: Int) -> String {
    if value.isNaN { return "-" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if decimals == 0, text.hasSuffix(".0") { text.removeLast(2) }
    return text
  }
}
