import Foundation
import NtstatWire

/// The messages the simulated kernel builds about a source, from the flow's state at `now`
/// (`nstat_control_send_counts`, `_send_description`, `_send_update`).
extension SimulatedKernel {
  func flow(of source: KernelSource) -> FlowPlan? {
    guard case .flow(let id) = source.object else { return nil }
    return plans[id]?.plan
  }

  /// The provider's `nstat_counts`; interfaces and sysinfo sources report zeros.
  func counts(of source: KernelSource) -> Counts {
    guard let flow = flow(of: source) else { return Counts() }
    // A detached flow's counters stop at its detach instant.
    return flow.counts(at: min(now, detachTime(flow) ?? now))
  }

  /// `counts` as this family carries them (per-medium counters it lacks are nil).
  func familyCounts(_ counts: Counts) -> Counts {
    let message = Message(.sourceCounts(SourceCounts(sourceRef: SourceRef(1), eventFlags: eventFlags, counts: counts)))
    guard let bytes = try? encoder.encode(message), let decoded = try? decoder.decode(bytes).first,
      case .sourceCounts(let result) = decoded.body
    else { return counts }
    return result.counts
  }

  func countsMessage(_ source: KernelSource, context: UInt64, flags: MessageFlags = []) -> Message {
    Message(
      context: context, flags: flags,
      .sourceCounts(SourceCounts(sourceRef: source.ref, eventFlags: eventFlags, counts: counts(of: source))))
  }

  /// nil when the provider cannot describe the source (`nstat_*_copy_descriptor` fails).
  func descriptionMessage(_ source: KernelSource, context: UInt64, flags: MessageFlags = []) -> Message? {
    guard let descriptor = descriptor(of: source) else { return nil }
    return Message(
      context: context, flags: flags,
      .sourceDescription(
        SourceDescription(
          sourceRef: source.ref, eventFlags: eventFlags, provider: providerID(source.provider), descriptor: descriptor)
      ))
  }

  func updateMessage(_ source: KernelSource, context: UInt64, flags: MessageFlags = []) -> Message {
    let update = SourceUpdate(
      sourceRef: source.ref, eventFlags: eventFlags, counts: counts(of: source), provider: providerID(source.provider),
      descriptor: descriptor(of: source) ?? emptyDescriptor(source.provider))
    return Message(context: context, flags: flags, .sourceUpdate(update))
  }

  /// SRC_DETAILS (12377, `nstat_client_send_details` / `_append_details`): the flow's
  /// `media_stats` and TCP counters as the provider's `nstat_details` copies them.
  func detailsMessage(_ source: KernelSource, context: UInt64, flags: MessageFlags = []) -> Message {
    let details = SourceDetails(
      sourceRef: source.ref, eventFlags: eventFlags ?? 0,
      counts: providerReportsDetails(source.provider) ? detailedCounts(of: source) : DetailedCounts(),
      provider: providerID(source.provider), descriptor: descriptor(of: source) ?? emptyDescriptor(source.provider))
    return Message(context: context, flags: flags, .sourceDetails(details))
  }

  /// Providers that set `nstat_details` in ProjectCalamari/xnu@a430cb1893d0's `ntstat.c`: the
  /// kernel TCP and UDP providers (`nstat_tcp_details`, `nstat_udp_details`), the userland
  /// TCP/UDP/QUIC providers (`nstat_userland_tu_details`) and conn and UDP subflow
  /// (`nstat_generic_provider_details`). Routes and interfaces have none.
  func providerReportsDetails(_ kind: ProviderKind) -> Bool {
    switch kind {
    case .tcpKernel, .udpKernel, .tcpUserland, .udpUserland, .quicUserland, .connUserland, .udpSubflow: return true
    case .route, .ifnet, .sysinfo: return false
    }
  }

  /// `inp_mstat` as `nstat_tcp_details` copies it: all traffic in `ms_total` and in the slot of
  /// the flow's medium (loopback counts as unclassified: `ms_alternate`), with the TCP
  /// counters widened to 64 bits. UDP reports zero duplicate / out-of-order / retransmit bytes
  /// and RTTs (`nstat_udp_details` copies only `inp_mstat`).
  func detailedCounts(of source: KernelSource) -> DetailedCounts {
    guard let flow = flow(of: source) else { return DetailedCounts() }
    let at = min(now, detachTime(flow) ?? now)
    let c = flow.counts(at: at)
    let (rx, tx) = flow.transferred(at: at)
    let traffic = TrafficStats(
      rxPackets: c.rxPackets, rxBytes: c.rxBytes, txPackets: c.txPackets, txBytes: c.txBytes,
      activity: activityBitmap(flow, rx: rx, tx: tx))
    var d = DetailedCounts()
    d[.total] = traffic
    switch flow.interface.kind {
    case .loopback: d[.alternate] = traffic
    case .wifi: d[.wifiInfra] = traffic
    case .wired: d[.wired] = traffic
    case .cellular: d[.cellular] = traffic
    }
    if flow.provider.descriptorKind == .tcp {
      d.rxDuplicateBytes = UInt64(c.rxDuplicateBytes)
      d.rxOutOfOrderBytes = UInt64(c.rxOutOfOrderBytes)
      d.txRetransmit = UInt64(c.txRetransmit)
      (d.minRTT, d.avgRTT, d.varRTT) = (c.minRTT, c.avgRTT, c.varRTT)
    }
    return d
  }

  /// `event_flags` exists from 3789; the simulator raises no provider events.
  var eventFlags: UInt64? { family >= .xnu3789 ? 0 : nil }

  func emptyDescriptor(_ provider: ProviderKind) -> Descriptor {
    switch provider.descriptorKind {
    case .tcp: return .tcp(TCPDescriptor())
    case .udp: return .udp(UDPDescriptor())
    case .route: return .route(RouteDescriptor())
    case .ifnet: return .ifnet(InterfaceDescriptor())
    case .sysinfo: return .sysinfo(flags: 0)
    case .connection: return .connection(ConnectionDescriptor())
    }
  }

  /// The descriptor the provider's `copy_descriptor` fills in at `now`.
  func descriptor(of source: KernelSource) -> Descriptor? {
    switch source.object {
    case .sysinfo:
      return .sysinfo(flags: 0)
    case .interface(let index):
      guard let interface = workload.interfaces.first(where: { $0.index == index }) else { return nil }
      var d = InterfaceDescriptor()
      d.ifindex = index
      d.threshold = 1 << 20
      // IFT_LOOP, IFT_CELLULAR, IFT_ETHER (`bsd/net/if_types.h`).
      d.type = interface.kind == .loopback ? 24 : interface.kind == .cellular ? 255 : 6
      d.name = FixedCString(interface.name)
      d.interfaceDescription = FixedCString(interface.name)
      return .ifnet(d)
    case .flow(let id):
      guard let record = plans[id] else { return nil }
      if isGone(source) { return nil }
      let flow = record.plan
      let at = min(now, detachTime(flow) ?? now)
      let template = record.template { staticDescriptor(flow) }
      switch template {
      case .tcp(let d): return .tcp(tcpDescriptor(flow, at: at, template: d))
      case .udp(let d): return .udp(udpDescriptor(flow, at: at, template: d))
      case .connection(var d):
        d.timestamp = at.nanoseconds
        return .connection(d)
      default: return nil
      }
    }
  }

  /// `ifnet_properties` (3247+): the interface kind, and from 10002 the listener/direction bits.
  func interfaceProperties(_ flow: FlowPlan) -> InterfaceProperties? {
    guard family >= .xnu3247 else { return nil }
    var properties = flow.interface.kind.properties
    if family >= .xnu10002, flow.provider.descriptorKind == .tcp {
      switch flow.outcome {
      case .listens: properties.insert(.sourceIsListener)
      case .connects, .failsToConnect: properties.insert(.sourceIsOutbound)
      case .datagrams: break
      }
    }
    return properties
  }

  func flowUUID(_ flow: FlowPlan) -> UUIDBytes {
    UUIDBytes(high: 0x4E54_5354_0000_0000 | UInt64(flow.id), low: flow.process.uuid.low ^ UInt64(flow.id))
  }

  /// The parts of a flow's descriptor that never change, built once per flow.
  func staticDescriptor(_ flow: FlowPlan) -> Descriptor? {
    switch flow.provider.descriptorKind {
    case .tcp:
      var d = TCPDescriptor()
      d.upid = flow.process.upid
      d.eupid = flow.process.upid
      d.startTimestamp = flow.openAt.nanoseconds
      d.ifindex = flow.outcome == .listens ? 0 : flow.interface.index
      d.sendBufferSize = 131_072
      d.receiveBufferSize = 131_072
      d.receiveBufferUsed = 0
      d.trafficClass = 0
      d.trafficManagementFlags = 0
      d.pid = flow.process.pid
      d.epid = flow.process.pid
      d.local = flow.local
      d.remote = flow.remote
      d.congestionAlgorithm = FixedCString("cubic")
      d.processName = FixedCString(flow.process.name)
      d.uuid = flow.process.uuid
      d.euuid = flow.process.uuid
      d.vuuid = .zero
      d.fuuid = flowUUID(flow)
      d.personaID = 0
      d.uid = 501
      d.connectionStatus = 0
      d.interfaceProperties = interfaceProperties(flow)
      d.fallbackMode = 0
      return .tcp(d)
    case .udp:
      var d = UDPDescriptor()
      d.upid = flow.process.upid
      d.eupid = flow.process.upid
      d.startTimestamp = flow.openAt.nanoseconds
      d.local = flow.local
      d.remote = flow.remote
      d.ifindex = flow.interface.index
      d.receiveBufferSize = 786_896
      d.receiveBufferUsed = 0
      d.trafficClass = 0
      d.pid = flow.process.pid
      d.processName = FixedCString(flow.process.name)
      d.epid = flow.process.pid
      d.uuid = flow.process.uuid
      d.euuid = flow.process.uuid
      d.vuuid = .zero
      d.fuuid = flowUUID(flow)
      d.personaID = 0
      d.uid = 501
      d.interfaceProperties = interfaceProperties(flow)
      d.fallbackMode = 0
      return .udp(d)
    case .connection:
      var d = ConnectionDescriptor()
      d.startTimestamp = flow.openAt.nanoseconds
      d.upid = flow.process.upid
      d.eupid = flow.process.upid
      d.pid = flow.process.pid
      d.epid = flow.process.pid
      d.interfaceProperties = interfaceProperties(flow) ?? []
      d.processName = FixedCString(flow.process.name)
      d.uuid = flow.process.uuid
      d.euuid = flow.process.uuid
      d.fuuid = flowUUID(flow)
      d.personaID = 0
      d.uid = 501
      return .connection(d)
    default:
      return nil
    }
  }

  /// `nstat_tcp_copy_descriptor` at `time`: the template plus what moves.
  func tcpDescriptor(_ flow: FlowPlan, at time: MonotonicTime, template: TCPDescriptor) -> TCPDescriptor {
    var d = template
    let m = tcpMoving(flow, at: time)
    d.timestamp = m.timestamp
    d.rxTransferSize = m.rxTransferSize
    d.txTransferSize = m.txTransferSize
    d.activityBitmap = m.activityBitmap
    d.state = m.state
    d.sendBufferUsed = m.sendBufferUsed
    d.txUnacked = m.txUnacked
    d.txWindow = m.txWindow
    d.txCongestionWindow = m.txCongestionWindow
    return d
  }

  /// The TCP descriptor fields that change over a flow's life.
  func tcpMoving(_ flow: FlowPlan, at time: MonotonicTime) -> UpdatePatcher.TCPMoving {
    let state = flow.state(at: time)
    let (rx, tx) = flow.transferred(at: time)
    return UpdatePatcher.TCPMoving(
      timestamp: time.nanoseconds, rxTransferSize: rx, txTransferSize: tx,
      activityBitmap: activityBitmap(flow, rx: rx, tx: tx), state: state,
      sendBufferUsed: state == .established ? UInt32(truncatingIfNeeded: min(tx % 65_536, 131_072)) : 0,
      txUnacked: state == .established ? UInt32(truncatingIfNeeded: tx % 14_480) : 0,
      txWindow: state == .listen ? 0 : 131_072,
      txCongestionWindow: state == .listen ? 0 : 14_480 + UInt32(truncatingIfNeeded: min(tx / 10, 1_000_000)))
  }

  func activityBitmap(_ flow: FlowPlan, rx: UInt64, tx: UInt64) -> ActivityBitmap {
    ActivityBitmap(start: flow.openAt.nanoseconds / 1_000_000_000, bitmap: (rx + tx > 0 ? 1 : 0, 0))
  }

  /// A flow source's SRC_UPDATE as encoded once (nil where the slow path applies: conn flows,
  /// gone sources, families without updates).
  func updateTemplate(_ source: KernelSource) -> [UInt8]? {
    guard patcher != nil, case .flow(let id) = source.object, let record = plans[id], !isGone(source) else {
      return nil
    }
    let kind = record.plan.provider.descriptorKind
    guard kind == .tcp || kind == .udp else { return nil }
    return record.updateTemplate(ref: source.ref) {
      try? encoder.encode(updateMessage(source, context: 0), settingLength: true)
    }
  }

  /// Writes the source's current counters and moving descriptor fields over its template.
  func patchUpdate(_ source: KernelSource, in bytes: inout [UInt8], at base: Int) {
    guard let patcher, let flow = flow(of: source) else { return }
    let at = min(now, detachTime(flow) ?? now)
    let counts = counts(of: source)
    if flow.provider.descriptorKind == .tcp {
      patcher.patch(&bytes, at: base, context: 0, flags: [], counts: counts, tcp: tcpMoving(flow, at: at))
    } else {
      let (rx, tx) = flow.transferred(at: at)
      patcher.patch(
        &bytes, at: base, context: 0, flags: [], counts: counts,
        udp: (at.nanoseconds, activityBitmap(flow, rx: rx, tx: tx)))
    }
  }

  /// `nstat_udp_copy_descriptor` at `time`.
  func udpDescriptor(_ flow: FlowPlan, at time: MonotonicTime, template: UDPDescriptor) -> UDPDescriptor {
    var d = template
    let (rx, tx) = flow.transferred(at: time)
    d.timestamp = time.nanoseconds
    d.activityBitmap = activityBitmap(flow, rx: rx, tx: tx)
    return d
  }
}

/// A flow of the workload with its descriptor template, built on first use. Shared by copies
/// of a kernel (the template is a pure function of the plan, so sharing is harmless), which may
/// run on different threads: the two caches are read and written under `lock`, and built
/// outside it (two threads may both build; the results are equal).
final class FlowRecord: @unchecked Sendable {
  let plan: FlowPlan
  private let lock = NSLock()
  private var cached: Descriptor??
  private var update: (ref: SourceRef, bytes: [UInt8])?

  /// The flow's encoded SRC_UPDATE for source `ref`, built on first use.
  func updateTemplate(ref: SourceRef, _ build: () -> [UInt8]?) -> [UInt8]? {
    if let hit = lock.withLock({ update.flatMap { $0.ref == ref ? $0.bytes : nil } }) { return hit }
    guard let bytes = build() else { return nil }
    lock.withLock { update = (ref, bytes) }
    return bytes
  }

  init(_ plan: FlowPlan) { self.plan = plan }

  func template(_ build: () -> Descriptor?) -> Descriptor? {
    if let hit = lock.withLock({ cached }) { return hit }
    let built = build()
    lock.withLock { cached = .some(built) }
    return built
  }
}
