/// The request contexts a kernel datagram's messages carry, read with the framing of families
/// that pack several messages to a datagram (xnu-3247+: each header's length gives the next
/// message's offset, as ``MessageDecoder`` frames kernel datagrams of those families).
///
/// A capture reader notes this for every kernel frame while the frame's bytes are still in its
/// cache (`CapturedFrame.packedContexts`). A replay asks every kernel datagram whether it
/// answers a recorded request the client has not sent; read on the client's thread, that first
/// pass over the bytes waited for memory and took 11–15 % of the client thread's time in a
/// replay whose requests all diverge (docs/performance.md). With the note it is one lookup.
package enum PackedContexts: Hashable, Sendable {
  /// Not noted: a frame made in memory, or a request.
  case unknown
  /// The datagram does not split into messages (it decodes to nothing, so answers nothing).
  case unframed
  /// Every message carries context 0 (unsolicited).
  case none
  /// Every message carries this context or 0.
  case one(UInt64)
  /// At least two different non-zero contexts: ask the bytes which.
  case several

  /// The note of a datagram that went `direction`: a kernel datagram's contexts, and none
  /// for a request (a datagram of its own, never packed).
  package init(datagram: UnsafeRawBufferPointer, direction: Direction) {
    self = direction == .fromKernel ? PackedContexts(packedDatagram: datagram) : .unknown
  }

  /// The contexts of `datagram`'s messages, framed as packed.
  package init(packedDatagram datagram: UnsafeRawBufferPointer) {
    var found: UInt64 = 0
    var several = false
    var offset = 0
    repeat {
      guard let end = MessageDecoder.packedMessageEnd(in: datagram, at: offset) else {
        self = .unframed
        return
      }
      let context = UInt64(littleEndian: datagram.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      if context != 0 {
        if found != 0, context != found { several = true }
        found = context
      }
      offset = end
    } while offset < datagram.count
    self = several ? .several : found == 0 ? .none : .one(found)
  }
}
