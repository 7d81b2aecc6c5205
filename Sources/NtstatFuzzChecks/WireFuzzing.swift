import NtstatWire

/// The properties the wire fuzzer checks, shared with the unit test that replays saved inputs.
package enum WireFuzzing {
  /// Decodes `input` as a datagram (byte 0 picks the family and direction, the rest is the
  /// datagram) and checks that every message it decodes encodes back to exactly its bytes.
  /// Malformed input must throw ``WireError``; it must never trap.
  package static func check(_ input: UnsafeRawBufferPointer) -> FuzzViolation? {
    guard let selector = input.first else { return nil }
    let families = LayoutFamily.allCases
    let family = families[Int(selector & 0x7f) % families.count]
    let direction: Direction = selector & 0x80 == 0 ? .fromKernel : .toKernel
    let datagram = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    guard !datagram.isEmpty else { return nil }
    let decoder = MessageDecoder(family: family)
    let encoder = MessageEncoder(family: family)
    var messages: [Message] = []
    do throws(WireError) {
      try decoder.forEachMessage(in: datagram, direction: direction) { messages.append($0) }
    } catch {
      return error.offset <= datagram.count
        ? nil : FuzzViolation("error offset \(error.offset) beyond the datagram (\(datagram.count) bytes)")
    }
    var reencoded: [UInt8] = []
    for message in messages {
      do throws(WireError) {
        reencoded += try encoder.encode(message)
      } catch {
        return FuzzViolation("decoded \(message.header.type) does not re-encode: \(error)")
      }
    }
    let original = Array(datagram)
    if reencoded != original {
      let first =
        (0..<min(reencoded.count, original.count)).first { reencoded[$0] != original[$0] }
        ?? min(reencoded.count, original.count)
      return FuzzViolation(
        "\(family) \(direction): re-encoding changed the bytes from offset \(first) "
          + "(\(original.count) bytes in, \(reencoded.count) out)")
    }
    return nil
  }
}
