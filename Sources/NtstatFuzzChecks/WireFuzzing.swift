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
    if direction == .fromKernel, family.hasLengthAndFlags, let violation = checkNote(datagram, decoder) {
      return violation
    }
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

  /// A capture reader's note of a kernel datagram's contexts (``PackedContexts``), which a
  /// replay trusts in place of the bytes, must say what the decoder's own walk finds.
  static func checkNote(_ datagram: UnsafeRawBufferPointer, _ decoder: MessageDecoder) -> FuzzViolation? {
    let noted = PackedContexts(packedDatagram: datagram)
    let walked = contextsWalked(datagram, decoder)
    return noted == walked ? nil : FuzzViolation("noted \(noted) where the decoder walks \(walked)")
  }

  /// What the note should say of a kernel datagram, from the decoder's walk of its messages.
  package static func contextsWalked(_ datagram: UnsafeRawBufferPointer, _ decoder: MessageDecoder) -> PackedContexts {
    var contexts: Set<UInt64> = []
    let framed =
      (try? decoder.forEachView(in: datagram, direction: .fromKernel) { contexts.insert($0.header.context) }) != nil
    contexts.remove(0)
    guard framed else { return .unframed }
    return contexts.isEmpty ? .none : contexts.count == 1 ? .one(contexts.first!) : .several
  }
}
