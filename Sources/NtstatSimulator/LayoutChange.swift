import NtstatWire

/// A change to the family's layouts, applied to every datagram the simulated kernel queues:
/// what a kernel newer than the library might send while keeping the family's message types.
/// It lets the client's layout verification be tested against a kernel that is not what it
/// claims (`--simulate --kernel-release 25.0.0 --layout-change …`).
public enum LayoutChange: String, CaseIterable, Hashable, Sendable {
  /// Every TCP descriptor (SRC_DESC, SRC_UPDATE) grows by 16 bytes at its end, as
  /// `nstat_tcp_descriptor` has grown in most releases. Sizes no longer match.
  case longerTCPDescriptor = "longer-tcp-descriptor"
  /// `rxpackets` and `rxbytes` trade places in every `nstat_counts`: every size still matches,
  /// only the values give it away (as 10002 → 11215 reordered fields without changing a size).
  case swappedCounters = "swapped-counters"

  /// How many bytes a TCP descriptor grows by.
  static let descriptorGrowth = 16

  /// The datagram as a kernel with this change would have sent it. A datagram that does not
  /// decode is passed on as it is.
  func apply(to datagram: [UInt8], decoder: MessageDecoder) -> [UInt8] {
    guard let messages = try? decoder.decode(datagram) else { return datagram }
    let encoder = MessageEncoder(family: decoder.family)
    var result: [UInt8] = []
    result.reserveCapacity(datagram.count + 64)
    for var message in messages {
      var grows = false
      switch (self, message.body) {
      case (.swappedCounters, .sourceCounts(var body)):
        body.counts = Self.swapped(body.counts)
        message.body = .sourceCounts(body)
      case (.swappedCounters, .sourceUpdate(var body)):
        body.counts = Self.swapped(body.counts)
        message.body = .sourceUpdate(body)
      case (.longerTCPDescriptor, .sourceDescription(let body)):
        if case .tcp = body.descriptor { grows = true }
      case (.longerTCPDescriptor, .sourceUpdate(let body)):
        if case .tcp = body.descriptor { grows = true }
      default:
        break
      }
      guard var bytes = try? encoder.encode(message, settingLength: true) else { return datagram }
      if grows {
        bytes += [UInt8](repeating: 0, count: Self.descriptorGrowth)
        // `hdr.length` (3247+; older families have no length and the datagram is one message).
        if decoder.family.hasLengthAndFlags {
          let length = UInt16(truncatingIfNeeded: bytes.count)
          bytes[12] = UInt8(length & 0xFF)
          bytes[13] = UInt8(length >> 8)
        }
      }
      result += bytes
    }
    return result
  }

  static func swapped(_ counts: Counts) -> Counts {
    var result = counts
    result.rxPackets = counts.rxBytes
    result.rxBytes = counts.rxPackets
    return result
  }
}
