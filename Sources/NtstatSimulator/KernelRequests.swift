import NtstatWire

/// Request handling: `nstat_control_send` and the `nstat_control_handle_*` functions.
extension SimulatedKernel {
  /// `send()` of one request datagram at `time`. Replies are queued for ``receive()``. The
  /// return value is what `send()` itself returns: 0, EINVAL for a datagram shorter than a
  /// header (nothing is queued then), or ENOBUFS when the request failed and its ERROR did not
  /// fit the receive buffer either (`nstat_client_send` returns the result of queueing the
  /// error, `xnu-11417.121.6:bsd/net/ntstat.c:6864-6897`; `xnu-2422.115.4:ntstat.c:2436-2448`).
  /// A refused request is otherwise answered in band with ERROR.
  @discardableResult
  public mutating func handleRequest(_ datagram: [UInt8], at time: MonotonicTime) -> Int32 {
    advance(to: time)
    statistics.requests += 1
    guard datagram.count >= MessageHeader.size else { return DarwinErrno.einval }
    var request = datagram
    if behaviour.modernHeader {
      // A wrong hdr.length is rewritten and the flags cleared; it is not an error.
      let length = UInt16(request[12]) | UInt16(request[13]) << 8
      if Int(length) != request.count {
        let fixed = UInt16(truncatingIfNeeded: request.count)
        request[12] = UInt8(fixed & 0xFF)
        request[13] = UInt8(fixed >> 8)
        request[14] = 0
        request[15] = 0
      }
    }
    var context: UInt64 = 0
    for index in 0..<8 { context |= UInt64(request[index]) << (8 * UInt64(index)) }
    let result: Int32
    if let message = try? decoder.decode(request, direction: .toKernel).first {
      result = dispatch(message, context: context)
    } else {
      // Shorter than the request struct: `mbuf_copydata` fails in the handler.
      result = DarwinErrno.einval
    }
    guard result != 0 else { return 0 }
    // 3247+: the error is prepended to a copy of the request; if that does not queue, the
    // bare error is tried.
    if behaviour.modernHeader, sendError(result, context: context, request: request) { return 0 }
    if sendError(result, context: context) { return 0 }
    statistics.failedSends += 1
    return DarwinErrno.enobufs
  }

  /// Queues ERROR (critical); false if even that did not fit.
  @discardableResult
  mutating func sendError(_ errno: Int32, context: UInt64, request: [UInt8] = []) -> Bool {
    let reply = Message(
      context: context, .error(ErrorReply(errno: errno, reserved: family >= .xnu4570 ? 0 : nil, failedRequest: request))
    )
    guard enqueue([reply], critical: true) else { return false }
    statistics.errorsSent += 1
    return true
  }

  mutating func dispatch(_ message: Message, context: UInt64) -> Int32 {
    let flags = behaviour.modernHeader ? message.header.flags : []
    switch message.body {
    case .addSource(let request): return addSource(request, context: context)
    case .addAllSources(let request): return addAll(request, context: context)
    case .removeSource(let ref): return removeSourceRequest(ref)
    case .querySource(let ref): return query(.counts, ref: ref, context: context, flags: flags)
    case .getSourceDescription(let ref):
      if ref == .all, !behaviour.describesAll { return DarwinErrno.enoent }
      return query(.description, ref: ref, context: context, flags: flags)
    case .setFilter(let request):
      guard behaviour.hasSetFilter else { return DarwinErrno.einval }
      if request.sourceRef == .all || request.sourceRef == .invalid { return DarwinErrno.einval }
      guard var source = sources[request.sourceRef] else { return DarwinErrno.enoent }
      source.filter = request.filter
      sources[request.sourceRef] = source
      return 0
    case .getUpdate(let ref):
      guard behaviour.hasUpdates else { return DarwinErrno.einval }
      supportsUpdates = true
      return query(.update, ref: ref, context: context, flags: flags)
    case .getDetails(let ref):
      // `nstat_client_handle_get_details` sets NSTAT_FLAG_SUPPORTS_DETAILS before anything
      // else, even for a ref it does not know.
      guard behaviour.hasDetails else { return DarwinErrno.einval }
      supportsDetails = true
      return query(.details, ref: ref, context: context, flags: flags)
    case .subscribeSysinfo:
      guard behaviour.hasUpdates else { return DarwinErrno.einval }
      // Sysinfo reports (every 12 h and more) are not simulated; subscribing succeeds silently.
      return configuration.privileged ? 0 : DarwinErrno.eperm
    default:
      return DarwinErrno.einval
    }
  }

  /// `nstat_control_handle_add_request`.
  mutating func addSource(_ request: AddSourceRequest, context: UInt64) -> Int32 {
    guard let kind = family.providerKind(for: request.provider), behaviour.registered.contains(kind) else {
      return DarwinErrno.enoent
    }
    var object: Object
    switch (kind, request.parameters) {
    case (.tcpKernel, .socket(let local, let remote)), (.udpKernel, .socket(let local, let remote)):
      if behaviour.addSourceForSocketsUnsupported { return DarwinErrno.enotsup }
      guard
        let id = liveOrder[kind]?.last(where: { live[$0]?.local == local && live[$0]?.remote == remote })
      else { return DarwinErrno.enoent }
      object = .flow(id)
    case (.ifnet, .ifnet(let threshold, let index, _)):
      guard threshold >= 1 << 20 else { return DarwinErrno.einval }
      guard workload.interfaces.contains(where: { $0.index == index }) else { return DarwinErrno.enoent }
      object = .interface(index)
    case (.sysinfo, .sysinfo):
      object = .sysinfo
    case (.route, .route):
      // No routing table is simulated: every lookup misses.
      return DarwinErrno.enoent
    case (.tcpUserland, _), (.udpUserland, _), (.quicUserland, _), (.connUserland, _), (.udpSubflow, _):
      return DarwinErrno.enotsup
    default:
      return DarwinErrno.einval
    }
    let ref = allocateRef()
    let source = KernelSource(ref: ref, provider: kind, object: object)
    let added = Message(context: context, .sourceAdded(SourceAdded(sourceRef: ref, provider: request.provider)))
    guard enqueue([added], critical: false) else { return DarwinErrno.enobufs }
    insert(source)
    return 0
  }

  /// `nstat_control_handle_add_all`: SRC_ADDED (context 0) for each existing object, newest
  /// first, then SUCCESS — even when a SRC_ADDED failed to queue and the walk stopped.
  mutating func addAll(_ request: AddAllSourcesRequest, context: UInt64) -> Int32 {
    guard let kind = family.providerKind(for: request.provider), behaviour.registered.contains(kind) else {
      return DarwinErrno.enoent
    }
    switch kind {
    case .ifnet, .sysinfo: return DarwinErrno.enotsup  // no watcher
    case .connUserland, .udpSubflow:
      if behaviour.connNeedsPrivilege, !configuration.privileged { return DarwinErrno.eperm }
    default: break
    }
    guard subscriptions[kind] == nil else { return DarwinErrno.ealready }
    let subscription = Subscription(filter: request.filter ?? 0, events: request.events ?? 0)
    subscriptions[kind] = subscription
    if behaviour.suppressImpliesUpdates, subscription.filter & behaviour.suppressSourceAddedFilter != 0 {
      supportsUpdates = true
    }
    for id in (liveOrder[kind] ?? []).reversed() {
      guard let flow = live[id], sourceByFlow[id] == nil else { continue }
      if !addWatchedSource(flow, subscription: subscription, context: 0) {
        // The subscription stays either way; only the answer differs.
        if behaviour.addAllReportsQueueFailure(kind) { return DarwinErrno.enobufs }
        break
      }
    }
    _ = enqueue([Message(context: context, .success)], critical: true)
    return 0
  }

  /// `nstat_control_handle_remove_request`: SRC_REMOVED only.
  mutating func removeSourceRequest(_ ref: SourceRef) -> Int32 {
    guard let source = sources[ref] else { return DarwinErrno.enoent }
    let reported = enqueue([Message(context: 0, .sourceRemoved(ref))], critical: true)
    if case .flow(let id) = source.object { truth.removed(id, delivered: reported, flags: []) }
    removeSource(ref)
    return 0
  }

  enum QueryKind { case counts, description, update, details }

  /// QUERY_SRC, GET_SRC_DESC and GET_UPDATE, for one source or ALL, with pacing
  /// (`nstat_control_begin_query`/`_end_query`) and packing (`nstat_accumulate_msg`).
  mutating func query(_ kind: QueryKind, ref: SourceRef, context: UInt64, flags: MessageFlags) -> Int32 {
    if ref != .all {
      // `nstat_control_begin_query` runs for one source too: on the kernels that cancel an
      // open paced query for any plain request, it does so here, and the query stays open.
      if behaviour.modernHeader, behaviour.eagainOnPlainQuery, !flags.contains(.continuation), queryContext != 0,
        queryContext != context
      {
        cancelPacedQuery()
      }
      return querySpecific(kind, ref: ref, context: context)
    }
    if kind == .counts { requestedCounts = true }
    let partial = behaviour.modernHeader && beginQuery(context: context, flags: flags)
    let packs =
      behaviour.modernHeader
      && (kind == .update || kind == .details || behaviour.alwaysAggregates || flags.contains(.supportsAggregate))
    var packer = Packer()
    var result: Int32 = 0
    var stoppedEarly = false
    var counted = 0
    var gone: [KernelSource] = []
    for ref in order.reversed() {
      guard var source = sources[ref] else { continue }
      if behaviour.modernHeader, !reportingAllowed(source) { continue }
      if partial, source.sequence == querySequence { continue }
      // The common case, a packed update of a socket flow, is written from the flow's encoded
      // template straight into the datagram being packed.
      if kind == .update, packs, let template = updateTemplate(source) {
        if template.count <= behaviour.updatePackLimit {
          let base = packer.reserve(template, into: &self)
          patchUpdate(source, in: &packer.buffer, at: base)
        }
      } else if let message = message(kind, for: source, context: packs ? 0 : context),
        let bytes = try? encoder.encode(message, settingLength: true)
      {
        // `nstat_client_append_details` has the update's limit (NSTAT_MAX_MSG_SIZE / 2).
        let limit = kind == .update || kind == .details ? behaviour.updatePackLimit : behaviour.descriptionPackLimit
        if packs, kind != .counts, bytes.count > limit {
          // EOPNOTSUPP from nstat_control_append_*: skipped, silently.
        } else if packs {
          packer.append(bytes, into: &self)
        } else if !enqueue(datagram: bytes, messages: 1, critical: false), behaviour.modernHeader {
          // ≤2782 carries on past a failed message; 3247+ gives up and reports ENOBUFS.
          result = DarwinErrno.enobufs
          break
        }
      }
      if isGone(source) { gone.append(source) }
      if partial {
        source.sequence = querySequence
        sources[ref] = source
        counted += 1
        if counted >= behaviour.continuationBatch {
          stoppedEarly = true
          break
        }
      }
    }
    packer.flush(into: &self)
    var endFlags: MessageFlags = []
    if behaviour.modernHeader {
      if partial, stoppedEarly, result == 0 {
        endFlags = .continuation
      } else {
        queryContext = 0
      }
    }
    // ≤2782 sends SRC_REMOVED for gone sources before SUCCESS, 3247+ after it.
    if !behaviour.modernHeader { removeGone(gone) }
    if result == 0 {
      _ = enqueue([Message(context: context, flags: endFlags, .success)], critical: true)
    }
    if behaviour.modernHeader { removeGone(gone) }
    return result
  }

  /// The answer to a query about one source (nil: nothing to send for it).
  func message(_ kind: QueryKind, for source: KernelSource, context: UInt64) -> Message? {
    switch kind {
    case .counts:
      if source.filter & 1 != 0, counts(of: source).rxBytes == 0, counts(of: source).txBytes == 0 { return nil }
      return countsMessage(source, context: context)
    case .description:
      return descriptionMessage(source, context: context)
    case .update:
      return updateMessage(source, context: context)
    case .details:
      // `nstat_client_append_details` packs a provider without `nstat_details` too, with its
      // detailed counts left zero.
      return detailsMessage(source, context: context)
    }
  }

  /// Sources a query found gone (≤2422 TIME_WAIT): their last description fails (the pcb is
  /// gone), so only SRC_REMOVED follows.
  mutating func removeGone(_ gone: [KernelSource]) {
    for source in gone {
      let reported = enqueue([Message(context: 0, .sourceRemoved(source.ref))], critical: true)
      if case .flow(let id) = source.object {
        truth.detached(id, at: now, counts: familyCounts(counts(of: source)))
        truth.removed(id, delivered: reported, flags: [])
      }
      removeSource(source.ref)
    }
  }

  /// `nstat_control_begin_query`: a CONTINUATION request with a new context starts a new
  /// sequence, cancelling an open one with EAGAIN on its old context.
  mutating func beginQuery(context: UInt64, flags: MessageFlags) -> Bool {
    let partial = flags.contains(.continuation)
    if partial || behaviour.eagainOnPlainQuery, queryContext != context, queryContext != 0 {
      cancelPacedQuery()
      // A plain ALL query ends the sequence itself (`nstat_control_end_query`); a new paced
      // one replaces it below.
      queryContext = 0
    }
    if partial, queryContext != context {
      queryContext = context
      querySequence += 1
    }
    return partial
  }

  /// `nstat_send_error(state, state->ncs_context, EAGAIN)`: the open paced query's context is
  /// told to start again (its sequence is not reset).
  mutating func cancelPacedQuery() {
    statistics.pacedQueriesCancelled += 1
    sendError(DarwinErrno.eagain, context: queryContext)
  }

  mutating func querySpecific(_ kind: QueryKind, ref: SourceRef, context: UInt64) -> Int32 {
    guard let source = sources[ref] else { return DarwinErrno.enoent }
    if behaviour.modernHeader, !reportingAllowed(source) { return DarwinErrno.enoent }
    let queued: Bool
    switch kind {
    case .counts:
      if source.filter & 1 != 0, counts(of: source).rxBytes == 0, counts(of: source).txBytes == 0 {
        return DarwinErrno.eagain
      }
      queued = enqueue([countsMessage(source, context: context)], critical: false)
    case .description:
      guard let message = descriptionMessage(source, context: context) else { return DarwinErrno.einval }
      queued = enqueue([message], critical: false)
    case .update:
      queued = enqueue([updateMessage(source, context: context)], critical: false)
    case .details:
      // `nstat_client_send_details`: EOPNOTSUPP without the provider's `nstat_details`.
      guard providerReportsDetails(source.provider) else { return DarwinErrno.eopnotsupp }
      queued = enqueue([detailsMessage(source, context: context)], critical: false)
    }
    guard queued else { return DarwinErrno.enobufs }
    if isGone(source) { removeGone([source]) }
    return 0
  }
}

/// `nstat_accumulate_msg`: messages copied back to back into one datagram of at most
/// `NSTAT_MAX_MSG_SIZE` (4096) bytes. A full datagram is flushed with `ctl_enqueuembuf`, and a
/// flush that fails is freed and forgotten: the query carries on and still ends with SUCCESS
/// (`nstat_flush_accumulated_msgs` and its callers ignore the result in every family that
/// packs, `xnu-3248.60.10:bsd/net/ntstat.c:2826-2844`,
/// `xnu-11417.121.6:bsd/net/ntstat.c:5271-5330`). The client sees the loss only as sources
/// missing from a complete poll.
struct Packer {
  static let maximum = 4096
  var buffer: [UInt8] = []
  var messages = 0

  mutating func append(_ message: [UInt8], into kernel: inout SimulatedKernel) {
    _ = reserve(message, into: &kernel)
  }

  /// Appends `message` and returns where it starts in ``buffer``, so the caller can patch it in
  /// place.
  mutating func reserve(_ message: [UInt8], into kernel: inout SimulatedKernel) -> Int {
    if !buffer.isEmpty, buffer.count + message.count > Self.maximum { flush(into: &kernel) }
    if buffer.isEmpty { buffer.reserveCapacity(Self.maximum) }
    let base = buffer.count
    buffer += message
    messages += 1
    return base
  }

  mutating func flush(into kernel: inout SimulatedKernel) {
    guard !buffer.isEmpty else { return }
    if !kernel.enqueue(datagram: buffer, messages: messages, critical: false) {
      kernel.statistics.packedDatagramsLost += 1
    }
    buffer.removeAll(keepingCapacity: true)
    messages = 0
  }
}
