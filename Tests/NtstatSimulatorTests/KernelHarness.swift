import NtstatSimulator
import NtstatWire

/// Drives a ``SimulatedKernel`` directly (no socket): build requests, send them, and read back
/// the decoded replies in order.
struct KernelHarness {
  var kernel: SimulatedKernel
  let encoder: MessageEncoder
  let decoder: MessageDecoder
  var time = MonotonicTime.zero
  var context: UInt64 = 100

  init(family: LayoutFamily, workload: Workload, configuration: KernelConfiguration = KernelConfiguration()) {
    kernel = SimulatedKernel(family: family, workload: workload, configuration: configuration)
    encoder = MessageEncoder(family: family)
    decoder = MessageDecoder(family: family)
  }

  var family: LayoutFamily { kernel.family }

  /// Sends `body` with a fresh context; returns that context.
  @discardableResult
  mutating func send(_ body: MessageBody, flags: MessageFlags = []) throws -> UInt64 {
    context += 1
    let bytes = try encoder.encode(
      Message(context: context, flags: family.hasLengthAndFlags ? flags : [], body), settingLength: true)
    kernel.handleRequest(bytes, at: time)
    return context
  }

  mutating func sendRaw(_ bytes: [UInt8]) -> Int32 { kernel.handleRequest(bytes, at: time) }

  /// Every queued datagram, each decoded.
  mutating func drain() throws -> [[Message]] {
    var datagrams: [[Message]] = []
    while let datagram = kernel.receive() { datagrams.append(try decoder.decode(datagram)) }
    return datagrams
  }

  /// Every queued message, in order, unpacked.
  mutating func drainMessages() throws -> [Message] { try drain().flatMap { $0 } }

  mutating func advance(to seconds: Double) {
    time = .seconds(seconds)
    kernel.advance(to: time)
  }

  func provider(_ kind: ProviderKind) -> ProviderID { family.providerID(for: kind)! }
}

/// Short names for matching reply sequences.
extension Message {
  var tag: String {
    switch body {
    case .success: return header.flags.contains(.continuation) ? "SUCCESS+C" : "SUCCESS"
    case .error(let e): return "ERROR(\(errnoName(e.errno)))"
    case .sourceAdded: return "ADDED"
    case .sourceRemoved: return "REMOVED"
    case .sourceDescription: return header.flags.contains(.closing) ? "DESC+CLOSING" : "DESC"
    case .sourceCounts: return header.flags.contains(.closing) ? "COUNTS+CLOSING" : "COUNTS"
    case .sourceUpdate: return header.flags.contains(.closing) ? "UPDATE+CLOSING" : "UPDATE"
    case .sourceDetails: return header.flags.contains(.closing) ? "DETAILS+CLOSING" : "DETAILS"
    default: return "\(header.type)"
    }
  }

  var sourceRef: SourceRef? {
    switch body {
    case .sourceAdded(let a): return a.sourceRef
    case .sourceRemoved(let r): return r
    case .sourceDescription(let d): return d.sourceRef
    case .sourceCounts(let c): return c.sourceRef
    case .sourceUpdate(let u), .sourceExtendedUpdate(let u): return u.sourceRef
    case .sourceDetails(let d), .sourceExtendedDetails(let d): return d.sourceRef
    default: return nil
    }
  }
}
