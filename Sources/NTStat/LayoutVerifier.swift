import NtstatWire

/// Checks a layout family against what the kernel actually sends: every message's size against
/// the family's struct sizes, and the values in it for plausibility. Sizes alone miss
/// reorderings (10002 → 11215 reordered `nstat_counts` without changing a size), so values are
/// checked too: printable process names, address families that exist, TCP states in range,
/// packets ≤ bytes, per-medium bytes ≤ the totals.
///
/// Sans-IO like the engine: it sees each datagram and says what it found. The engine runs it
/// on every kernel. On a kernel newer than every known family the family is only *tentative*
/// until enough messages have passed; on a known kernel a systematic mismatch is still a loud
/// error, never silent misdecoding. The engine checks every datagram of the first 256; after
/// that, every datagram that opens with a message type none has passed with, every datagram
/// while a recent check failed, and one in 1,024 of the rest, so a long replay pays almost
/// nothing for it.
public struct LayoutVerifier: Sendable {
  public let family: LayoutFamily
  let decoder: MessageDecoder
  let encoder: MessageEncoder
  /// Messages checked, and those that failed (with why, the first few kept).
  public private(set) var checked = 0
  public private(set) var failed = 0
  public private(set) var evidence: [String] = []
  /// Checked messages that carried a descriptor, and counters with traffic in them: the ones
  /// that can show a layout change (SRC_ADDED, SUCCESS and zero counters fit any family).
  public private(set) var withDescriptor = 0
  public private(set) var withTraffic = 0
  /// Message types seen, for the report.
  public private(set) var typesSeen: Set<MessageType> = []
  /// Recent outcomes (true: failed), for the known-kernel rule.
  private var recent: [Bool] = []
  /// How many of the recent outcomes failed: while any did, the engine checks every datagram.
  public private(set) var recentFailures = 0

  public init(family: LayoutFamily) {
    self.family = family
    decoder = MessageDecoder(family: family)
    encoder = MessageEncoder(family: family)
  }

  /// Checks the messages of one datagram from the kernel (the engine samples which).
  public mutating func check(_ datagram: [UInt8]) {
    let ranges: [Range<Int>]
    do { ranges = try decoder.messageRanges(in: datagram) } catch {
      record(failure: "datagram of \(datagram.count) bytes does not split into \(family) messages: \(error)")
      return
    }
    // A packed datagram's first few messages are enough: they share its layout.
    for range in ranges.prefix(4) { check(message: Array(datagram[range])) }
  }

  mutating func check(message bytes: [UInt8]) {
    let message: Message
    do {
      guard let first = try decoder.decode(bytes).first else { return }
      message = first
    } catch {
      record(failure: "\(error)")
      return
    }
    typesSeen.insert(message.header.type)
    if case .unknown = message.body {
      record(failure: "message type \(message.header.type.rawValue) is not one \(family) defines")
      return
    }
    // The size the family gives this message: what was decoded, encoded again, without the
    // bytes past the family's struct (which the decoder keeps as trailing bytes).
    var bare = message
    bare.trailingBytes = []
    if family.hasLengthAndFlags, let expected = try? encoder.encode(bare, settingLength: true).count,
      expected != bytes.count
    {
      record(failure: "\(message.header.type) is \(bytes.count) bytes; \(family) defines it as \(expected)")
      return
    }
    switch message.body {
    case .sourceCounts(let c):
      if Self.hasTraffic(c.counts) { withTraffic += 1 }
    case .sourceDescription:
      withDescriptor += 1
    case .sourceUpdate(let u), .sourceExtendedUpdate(let u):
      withDescriptor += 1
      if Self.hasTraffic(u.counts) { withTraffic += 1 }
    case .sourceDetails(let d), .sourceExtendedDetails(let d):
      withDescriptor += 1
      if Self.hasTraffic(d.counts.classicCounts) { withTraffic += 1 }
    default: break
    }
    if let problem = Self.implausibility(in: message.body) {
      record(failure: "\(message.header.type): \(problem)")
      return
    }
    record(failure: nil)
  }

  /// What in a message's values could not come from a real kernel with this layout, if anything.
  static func implausibility(in body: MessageBody) -> String? {
    switch body {
    case .sourceCounts(let c): return implausibility(in: c.counts)
    case .sourceDescription(let d): return implausibility(in: d.descriptor)
    case .sourceUpdate(let u), .sourceExtendedUpdate(let u):
      return implausibility(in: u.counts) ?? implausibility(in: u.descriptor)
    case .sourceDetails(let d), .sourceExtendedDetails(let d):
      return implausibility(in: d.counts) ?? implausibility(in: d.descriptor)
    default: return nil
    }
  }

  /// Data moved both ways: only then can the counters' order show (a connecting socket's
  /// counters are mostly zero in every layout).
  static func hasTraffic(_ counts: Counts) -> Bool {
    counts.rxBytes > 0 && counts.txBytes > 0
  }

  static func implausibility(in counts: Counts) -> String? {
    // XNU counts a packet only with its payload (`tcp_input.c` adds `tlen` to `rxbytes` with
    // each `rxpackets`; `tcp_output.c` counts only segments with `len > 0`): bytes are never
    // fewer than packets. Zero bytes are let through (captures from the simulator before 0.2
    // count a bare SYN); a swap of the two fields still shows as soon as data has moved.
    if counts.rxBytes > 0, counts.rxPackets > counts.rxBytes {
      return "rxpackets \(counts.rxPackets) > rxbytes \(counts.rxBytes)"
    }
    if counts.txBytes > 0, counts.txPackets > counts.txBytes {
      return "txpackets \(counts.txPackets) > txbytes \(counts.txBytes)"
    }
    let media: [(String, UInt64?, UInt64)] = [
      ("cell_rxbytes", counts.cellRxBytes, counts.rxBytes), ("cell_txbytes", counts.cellTxBytes, counts.txBytes),
      ("wifi_rxbytes", counts.wifiRxBytes, counts.rxBytes), ("wifi_txbytes", counts.wifiTxBytes, counts.txBytes),
      ("wired_rxbytes", counts.wiredRxBytes, counts.rxBytes), ("wired_txbytes", counts.wiredTxBytes, counts.txBytes),
    ]
    for (name, value, total) in media {
      if let value, value > total { return "\(name) \(value) > the total \(total)" }
    }
    return nil
  }

  /// Every medium's traffic is part of the total (`media_stats` counts a packet in `ms_total`
  /// and in its medium's slot), and each medium obeys the counters' own rule.
  static func implausibility(in detailed: DetailedCounts) -> String? {
    let total = detailed.total
    for medium in Medium.allCases {
      let t = detailed[medium]
      if t.rxBytes > 0, t.rxPackets > t.rxBytes {
        return "\(medium.rawValue) rx_packets \(t.rxPackets) > rx_bytes \(t.rxBytes)"
      }
      if t.txBytes > 0, t.txPackets > t.txBytes {
        return "\(medium.rawValue) tx_packets \(t.txPackets) > tx_bytes \(t.txBytes)"
      }
      if medium != .total, t.rxBytes > total.rxBytes || t.txBytes > total.txBytes {
        return "\(medium.rawValue) bytes \(t.rxBytes)/\(t.txBytes) exceed the total \(total.rxBytes)/\(total.txBytes)"
      }
    }
    return nil
  }

  static func implausibility(in descriptor: Descriptor) -> String? {
    let (local, remote, pid, name, state): (SocketAddress, SocketAddress, UInt32, FixedCString, TCPState?)
    switch descriptor {
    case .tcp(let d): (local, remote, pid, name, state) = (d.local, d.remote, d.pid, d.processName, d.state)
    case .udp(let d): (local, remote, pid, name, state) = (d.local, d.remote, d.pid, d.processName, nil)
    default: return nil
    }
    for (side, address) in [("local", local), ("remote", remote)] {
      if case .other(let bytes) = address {
        return "\(side) address family \(bytes.count > 1 ? Int(bytes[1]) : -1) is neither AF_INET nor AF_INET6"
      }
    }
    // macOS pids stay below 100,000 (`PID_MAX` 99999).
    if pid > 99_999 { return "pid \(pid) is out of range" }
    if let bad = name.bytes.first(where: { $0 < 0x20 || $0 == 0x7F }) {
      return "process name has the control byte 0x\(String(bad, radix: 16))"
    }
    // TIME_WAIT (10) is the highest TCP state.
    if let state, state.rawValue > 10 { return "TCP state \(state.rawValue) is out of range" }
    return nil
  }

  private mutating func record(failure: String?) {
    checked += 1
    recent.append(failure != nil)
    if failure != nil { recentFailures += 1 }
    if recent.count > 64, recent.removeFirst() { recentFailures -= 1 }
    guard let failure else { return }
    failed += 1
    if evidence.count < 5 { evidence.append(failure) }
  }

  public enum Verdict: Hashable, Sendable {
    /// Not enough seen yet.
    case undecided
    case matches
    case mismatch
  }

  /// The verdict for a tentative family: any systematic failure fails it; twenty clean
  /// descriptors and twenty clean counters with traffic pass it.
  public var tentativeVerdict: Verdict {
    if failed >= 3 || (failed > 0 && failed * 4 >= checked) { return .mismatch }
    if withDescriptor >= 200, withTraffic >= 200 { return failed * 10 > checked ? .mismatch : .matches }
    if withDescriptor >= 20, withTraffic >= 20, failed == 0 { return .matches }
    return .undecided
  }

  /// The verdict on a known kernel: only a systematic mismatch counts (half of the last 64
  /// checked, at least 8), so one corrupt datagram is not mistaken for a layout change.
  public var knownVerdict: Verdict {
    recentFailures >= 8 && recentFailures * 2 >= recent.count ? .mismatch : .matches
  }

  /// A line for the user: how much was checked and what failed.
  public var summary: String {
    var text =
      "\(checked) message(s) checked against \(family) (\(withDescriptor) with descriptors, \(withTraffic) with traffic counters)"
    if failed > 0 { text += ", \(failed) failed: " + evidence.joined(separator: "; ") }
    return text
  }
}
