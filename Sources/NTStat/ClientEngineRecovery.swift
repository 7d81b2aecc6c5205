import NtstatWire

/// What the engine does when the kernel behaves as real kernels do under pressure: `send()`
/// failing, packed answers lost without a word, paced polls cancelled, subscriptions refused.
/// `docs/client.md` describes each case with the `ntstat.c` function behind it.
extension ClientEngine {
  // MARK: Failed sends

  /// The first pause before a request whose `send()` failed is sent again; it doubles with each
  /// failure in a row, up to ``longestRetryPause``.
  static let firstRetryPause: UInt64 = 50_000_000
  static let longestRetryPause: UInt64 = 2_000_000_000

  /// `send()` failed for `datagram` because the kernel had no buffer space (ENOBUFS or ENOMEM):
  /// `nstat_client_send` ran the request, it failed, and its ERROR did not fit the receive
  /// buffer either. The transport's caller reports it here instead of failing the run. The
  /// request counts as answered with that error; it is sent again after a pause that grows
  /// while sends keep failing, once the client has read what is queued. A poll is not resent:
  /// the next interval polls anyway.
  public mutating func handleSendFailure(_ datagram: [UInt8], errno: Int32, at time: MonotonicTime) {
    now = max(now, time)
    statistics.sendFailures += 1
    guard datagram.count >= 8 else { return }
    var context: UInt64 = 0
    for index in 0..<8 { context |= UInt64(datagram[index]) << (8 * UInt64(index)) }
    guard let request = pending.removeValue(forKey: context) else { return }
    if let last = lastSendFailure, now.since(last) > pollInterval { sendFailuresInARow = 0 }
    lastSendFailure = now
    let pause = min(Self.firstRetryPause << min(sendFailuresInARow, 16), Self.longestRetryPause)
    sendFailuresInARow += 1
    if sendFailuresInARow == 1 {
      notice(
        .sendFailed,
        "send() of \(name(of: request.kind)) failed with \(errnoName(errno)): the kernel's receive buffer is full; "
          + "retrying after a pause")
    }
    if case .poll = request.kind {
      finish(request, .failed(errno: DarwinErrno.enobufs))
    } else {
      retries.append((now.adding(nanoseconds: pause), request))
    }
    pump()
  }

  /// Moves the retries that are due back to the head of the backlog, oldest first.
  mutating func releaseRetries() {
    guard !retries.isEmpty else { return }
    let due = retries.filter { $0.due <= now }
    guard !due.isEmpty else { return }
    retries.removeAll { $0.due <= now }
    for retry in due.reversed() where stillWanted(retry.request) { backlog.pushFront(retry.request) }
  }

  /// Whether a request is still worth sending: its source may have been removed meanwhile.
  func stillWanted(_ request: PendingRequest) -> Bool {
    switch request.kind {
    case .describe(let ref), .probe(let ref), .refresh(let ref):
      return sources[ref].map { $0.removedAt == nil } ?? false
    case .addAll, .poll:
      return true
    }
  }

  // MARK: Paced polls

  /// A paced (CONTINUATION) poll has been sent and is not over.
  @inline(__always)  // see `polled(by:provider:)`: `pump` calls it for every request sent
  var pacedPollInFlight: Bool {
    guard configuration.polling == .automatic, family.hasLengthAndFlags else { return false }
    for kind in [PollKind.updates, .counts] {
      if let poll = activePolls[kind], pending[poll.context] != nil { return true }
    }
    return false
  }

  // MARK: Silent loss

  /// Before each ALL poll: if probes of the last sweep found their sources alive, the kernel
  /// dropped packed answers without an error (`nstat_flush_accumulated_msgs` ignores a failed
  /// flush, and SUCCESS still comes). Sweeping every poll would probe every missing source
  /// again and again; sweeps back off instead (every 2nd, then 3rd, then 5th poll) until a poll
  /// comes back complete. The cap keeps a lost SRC_REMOVED from going unnoticed for more than
  /// five intervals.
  mutating func noteSilentLoss() {
    guard probesAnsweredAlive > 0 else { return }
    statistics.kernelDrops += UInt64(probesAnsweredAlive)
    sweepBackoff = min(max(1, sweepBackoff * 2), 4)
    sweepsToSkip = sweepBackoff
    notice(
      .kernelDropped,
      "\(probesAnsweredAlive) stream(s) missing from the last poll were alive: the kernel dropped "
        + "packed answers silently; next sweep in \(sweepBackoff + 1) polls")
    probesAnsweredAlive = 0
  }

  /// A sweep's probe was answered by its source: it was alive, its poll answer was lost.
  mutating func probeAnswered(_ request: PendingRequest) {
    if case .probe = request.kind { probesAnsweredAlive += 1 }
  }

  // MARK: Subscriptions

  /// ADD_ALL for `kind` is over.
  mutating func subscriptionAnswered(_ kind: ProviderKind, _ outcome: RequestOutcome) {
    subscriptionsOutstanding -= 1
    switch outcome {
    case .succeeded, .failed(DarwinErrno.ealready):
      statistics.providersSubscribed.append(kind)
    case .failed(let errno) where errno == DarwinErrno.enobufs || errno == DarwinErrno.enomem:
      // The userland watchers (8019.80.24+) return the error of a SRC_ADDED that did not queue,
      // but the subscription stands (`nstat_userland_protocol_add_watcher`): only flows open
      // before now may be missing, and no request can bring them back.
      statistics.providersSubscribed.append(kind)
      statistics.kernelDrops += 1
      notice(
        .kernelDropped,
        "\(kind): subscribed, but the kernel could not queue every existing flow (\(errnoName(errno))); "
          + "flows open before now may be missing (a larger receive buffer avoids it)")
    case .failed(let errno):
      statistics.providersRefused[kind] = errno
      notice(.providerUnavailable, Self.refusal(kind, errno: errno))
    case .timedOut:
      statistics.providersRefused[kind] = 0
      notice(.providerUnavailable, Self.refusal(kind, errno: nil))
    }
    if subscriptionsOutstanding == 0, statistics.providersSubscribed.isEmpty {
      let refused = statistics.providersRefused.keys.map(\.rawValue).sorted().joined(separator: ", ")
      notice(.allProvidersRefused, "the kernel refused every provider asked for (\(refused)): nothing to report")
    }
  }

  /// One line for a refused ADD_ALL: the provider, the errno's name and what it likely means.
  public static func refusal(_ kind: ProviderKind, errno: Int32?) -> String {
    guard let errno else { return "\(kind): no answer to ADD_ALL_SRCS" }
    let meaning: String
    switch errno {
    case DarwinErrno.eperm:
      meaning = "needs root or the PRIV_NET_PRIVILEGED_NETWORK_STATISTICS privilege"
    case DarwinErrno.enoent:
      meaning = "this kernel does not know the provider, or the request layout changed"
    case DarwinErrno.einval:
      meaning = "the kernel rejected the request's size (a layout change?)"
    case DarwinErrno.enotsup, DarwinErrno.eopnotsupp:
      meaning = "the provider cannot be watched on this kernel"
    default:
      meaning = "refused"
    }
    return "\(kind): \(errnoName(errno)) (\(meaning))"
  }
}

extension ClientStatistics {
  /// What it means when the kernel refused every provider, by the errnos it gave.
  ///
  /// ENOENT for every provider points at the client, not at a privilege rule: in every family
  /// from xnu-3789 to xnu-12377, `nstat_control_handle_add_all` / `nstat_client_handle_add_all`
  /// answer ENOENT only for a provider id above `NSTAT_PROVIDER_LAST` or not registered, and
  /// a missing privilege is EPERM (for every provider only when `net.statistics_privcheck` is
  /// set). So a kernel that knows TCP, UDP and QUIC answering ENOENT to all of them received
  /// ids or a request layout it does not speak: a wrong family in the client.
  public func refusalDiagnosis(family: LayoutFamily) -> String? {
    guard providersSubscribed.isEmpty, !providersRefused.isEmpty else { return nil }
    let errnos = Set(providersRefused.values)
    if errnos == [DarwinErrno.enoent] {
      return "the kernel answered ENOENT for every provider. \(family)'s kernel answers ENOENT only for a "
        + "provider id it does not know (a missing privilege is EPERM), so the client sent ids or a request "
        + "layout this kernel does not speak: a client bug or a wrong --family, not a permission problem"
    }
    if errnos == [DarwinErrno.eperm] {
      return "the kernel answered EPERM for every provider: net.statistics_privcheck is set, or the client "
        + "lacks PRIV_NET_PRIVILEGED_NETWORK_STATISTICS; try as root"
    }
    return "the kernel refused every provider (see providers); try as root"
  }
}
