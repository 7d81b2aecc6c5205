import NtstatWire

/// The engine's side of ``LayoutVerifier``: when a tentative family is settled, and what a
/// mismatch does on each kind of kernel (`docs/client.md`, "An unknown kernel").
extension ClientEngine {
  /// How long a tentative family may wait for evidence before the client goes on with what it
  /// has (3 s: enough for the subscriptions' descriptions and a few polls).
  static let verificationWindow: UInt64 = 3_000_000_000

  /// The bit of ``typesPassed`` for the type of a datagram's first message (`nstat_msg_hdr.type`,
  /// at byte 8 in every family): SUCCESS and ERROR, each kernel message type, and one bit shared
  /// by every other type and by a datagram too short to have one.
  static func checkBit(openingTypeOf datagram: UnsafeRawBufferPointer) -> UInt64 {
    let other: UInt64 = 1 << 2
    guard datagram.count >= 12 else { return other }
    let type = UInt32(littleEndian: datagram.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    switch type {
    case 0, 1: return 1 << UInt64(type)
    case 10_001...10_061: return 1 << UInt64(type - 9_998)
    default: return other
    }
  }

  /// Looks at the verifier's findings after new input.
  mutating func verifyLayout() {
    guard layoutMismatch == nil else { return }
    if !familySettled {
      switch verifier.tentativeVerdict {
      case .mismatch:
        halt()
      case .matches:
        settleFamily(evidence: verifier.summary + "; sizes and values plausible")
      case .undecided:
        if now.since(startedAt) >= Self.verificationWindow {
          settleFamily(
            evidence: verifier.checked == 0
              ? "the kernel has sent nothing to check yet; checks go on"
              : verifier.summary + " (fewer than wanted; checks go on)")
        }
      }
      return
    }
    guard verifier.knownVerdict == .mismatch else { return }
    if configuration.familyTrust == .forced {
      // Forced by the user: said once, not fatal.
      if !forcedMismatchReported {
        forcedMismatchReported = true
        notice(.layoutMismatch, "what the kernel sends does not fit the forced \(family): \(verifier.summary)")
      }
      return
    }
    halt()
  }

  /// The tentative family is borne out (or run on for want of evidence): the events held so far
  /// go out, after one notice that says which family is in use and why.
  mutating func settleFamily(evidence: String) {
    familySettled = true
    guard case .tentative(let kernel) = configuration.familyTrust else { return }
    eventQueue.pushFront(
      .notice(
        ClientNotice(
          kind: .layoutVerified, time: now,
          detail: "kernel \(kernel) is newer than every known family; decoding as \(family) "
            + "(\(family.macOSReleases)): \(evidence)")))
  }

  /// What the kernel sends does not fit the family: nothing decoded with it can be trusted.
  /// Held events are dropped, one notice says what was seen, and the client stops.
  mutating func halt() {
    let what: String
    switch configuration.familyTrust {
    case .tentative(let kernel): what = "kernel \(kernel) does not speak \(family), the newest known family"
    case .known, .forced: what = "what the kernel sends does not fit \(family)"
    }
    layoutMismatch = "\(what): \(verifier.summary)"
    while eventQueue.pop() != nil {}
    familySettled = true
    notice(.layoutMismatch, layoutMismatch ?? "")
  }

  /// The run is over: a family still tentative is settled with what was seen.
  public mutating func finishVerification() {
    guard !familySettled, layoutMismatch == nil else { return }
    verifyLayout()
    if !familySettled { settleFamily(evidence: verifier.summary + " (the run ended first)") }
  }
}
