import NtstatWire

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#endif

/// Why a client stopped on its own.
public enum ClientError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What the kernel sends does not fit the layout family: decoding it would be wrong.
  case layoutMismatch(String)
  /// An `events()` consumer fell behind its buffer, and this many events were dropped since
  /// the last notice that could be delivered.
  case eventsDropped(UInt64)

  public var description: String {
    switch self {
    case .layoutMismatch(let report): return report
    case .eventsDropped(let count): return "\(count) event(s) dropped: the consumer fell behind its buffer"
    }
  }
}

/// Receives a client's events, for parity with libntstat's `NetworkStatisticsListener`.
public protocol NetworkStatisticsListener: AnyObject {
  func streamAdded(_ stream: NetworkStream)
  func streamRemoved(_ stream: NetworkStream)
  func streamStatsUpdated(_ stream: NetworkStream)
  /// Conditions not about one stream (providers unavailable, kernel drops, resyncs).
  func clientNotice(_ notice: ClientNotice)
}

extension NetworkStatisticsListener {
  public func clientNotice(_ notice: ClientNotice) {}
}

/// A network statistics client: the ``ClientEngine`` driven over a ``ClientTransport``.
///
/// ```swift
/// let client = NetworkStatisticsClient(transport: try .kernelControl())
/// for try await event in client.events() {
///   if case .streamAdded(let stream) = event { print(stream.process.name, stream.key.remote) }
/// }
/// ```
///
/// The loop is the only place that touches the transport and the clock: it sends what the
/// engine asks for, hands it what arrives, and wakes it at its deadlines. Live, simulated and
/// replayed runs differ only in the transport.
///
/// Sendable because every mutable property (`engine`, the stop flag, the published statistics)
/// is read and written under `stopLock`; a run works on a private copy of the engine and
/// publishes it back when it ends. The transport is used by the run's thread only (and
/// `interrupt()`, which transports make thread-safe).
public final class NetworkStatisticsClient: @unchecked Sendable {
  public let transport: ClientTransport
  public let configuration: ClientConfiguration
  private var engine: ClientEngine
  private let stopLock = PthreadMutex()
  private var stopRequested = false

  public init(transport: ClientTransport, configuration: ClientConfiguration = ClientConfiguration()) {
    self.transport = transport
    self.configuration = configuration
    engine = ClientEngine(configuration: configuration, family: transport.family, kernel: transport.kernelVersion?.xnu)
  }

  public var family: LayoutFamily { stopLock.withLock { engine.family } }
  /// What the layout checks found (``LayoutVerifier``), as of the end of the last run.
  public var layoutVerifier: LayoutVerifier { stopLock.withLock { engine.verifier } }
  /// Whether single-source requests wait for an open paced poll (xnu-3247 to 3789.21.4).
  public var holdsRequestsDuringPacedPoll: Bool { stopLock.withLock { engine.holdsRequestsDuringPacedPoll } }
  /// The client's counters; while ``run(for:checkInterval:_:)`` runs, as of the last input.
  public var statistics: ClientStatistics { stopLock.withLock { latestStatistics } }
  /// Streams live at the end of the last run (added and not removed).
  public var liveStreams: [NetworkStream] { stopLock.withLock { engine.liveStreams } }
  // Read and written under `stopLock` only; the run-time exclusivity checks cost more than
  // the lock (`callgrind`: 117 instructions an input).
  @exclusivity(unchecked) private var latestStatistics = ClientStatistics()
  /// Whether the engine reads the common messages in place (``ClientEngine/readsInPlace``);
  /// tests turn it off to hold the in-place path to the decoded one.
  var readsInPlace: Bool {
    get { stopLock.withLock { engine.readsInPlace } }
    set { stopLock.withLock { engine.readsInPlace = newValue } }
  }

  /// Asks a running loop to return (thread-safe); it notices within `checkInterval`, and a
  /// replay at once (see ``ClientTransport/interrupt()``).
  public func stop() {
    stopLock.withLock { stopRequested = true }
    transport.interrupt()
  }

  /// Runs until the transport ends, ``stop()`` is called, or `duration` of transport time
  /// has passed, calling `handler` with each event in order.
  public func run(
    for duration: Duration? = nil, checkInterval: Duration = .milliseconds(200),
    _ handler: (ClientEvent) throws -> Void
  ) throws {
    // The engine lives in a local for the run: a struct in a class property would be copied on
    // every call (measured), and nothing else touches it meanwhile.
    // It is published back under the lock, as the accessors read it from any thread.
    var engine = stopLock.withLock { self.engine }
    defer { stopLock.withLock { self.engine = engine } }
    let start = transport.now
    let end = duration.map { start + $0 }
    let live = transport.waitsUninterruptibly
    engine.start(at: start)
    var stopped = try flush(&engine, handler)
    // Computed once per input: the engine's deadline only changes when it handles something.
    var due = engine.nextDeadline()
    while !stopped {
      var deadline = due
      if let end { deadline = deadline.map { min($0, end) } ?? end }
      if live {
        // Live sockets: wake up now and then to notice stop().
        let wake = transport.now + checkInterval
        deadline = deadline.map { min($0, wake) } ?? wake
      }
      let input = try transport.receive(until: deadline)
      var finished = false
      let time: MonotonicTime
      switch input {
      case .datagram(let bytes, let at) where live:
        // A kernel waits on the requests a datagram brings (a paced poll's next round): they
        // go out (in `flush`) before the handler works through the datagram's events.
        engine.handleDatagram(bytes, at: at)
        time = at
      case .datagram(let bytes, let at):
        // Nothing waits on a request: updates go to the handler as they are made, skipping
        // the queue. One that throws leaves the rest queued.
        var failure: Error?
        engine.handleDatagram(bytes, at: at) { event in
          guard failure == nil else { return false }
          do { try handler(event) } catch { failure = error }
          return true
        }
        if let failure { throw failure }
        time = at
      case .timeout(let at):
        time = at
      case .dropped(let count, let at):
        engine.handleTransportDrop(count: count, at: at)
        time = at
      case .end(let at):
        time = at
        finished = true
      }
      due = engine.nextDeadline()
      if let next = due, next <= time {
        engine.handleTimeout(at: time)
        due = engine.nextDeadline()
      }
      stopped = try flush(&engine, handler)
      if let mismatch = engine.layoutMismatch { throw ClientError.layoutMismatch(mismatch) }
      if finished { break }
      if let end, time >= end { break }
    }
    engine.finishVerification()
    _ = try flush(&engine, handler)
  }

  /// Runs like ``run(for:checkInterval:_:)``, calling the listener's methods.
  public func run(listener: NetworkStatisticsListener, for duration: Duration? = nil) throws {
    try run(for: duration) { event in
      switch event {
      case .streamAdded(let stream): listener.streamAdded(stream)
      case .streamStatsUpdated(let stream): listener.streamStatsUpdated(stream)
      case .streamRemoved(let stream): listener.streamRemoved(stream)
      case .notice(let notice): listener.clientNotice(notice)
      }
    }
  }

  /// The events as an `AsyncSequence`. The loop runs on its own thread; cancelling the
  /// consuming task stops it.
  ///
  /// The stream holds at most `bufferSize` events a consumer has not taken yet, so a consumer
  /// that stalls cannot make the process grow without bound. Events that arrive while it is
  /// full are dropped and counted, and an `events-dropped` notice says how many as soon as
  /// there is room again; if there is none by the end, the stream ends with
  /// ``ClientError/eventsDropped(_:)``. A consumer that needs every event uses
  /// ``run(for:checkInterval:_:)``, which never drops: the loop waits for its handler.
  public func events(for duration: Duration? = nil, bufferSize: Int = 65_536) -> AsyncThrowingStream<ClientEvent, Error>
  {
    AsyncThrowingStream(bufferingPolicy: .bufferingOldest(max(1, bufferSize))) { continuation in
      let thread = BackgroundThread {
        var dropped: UInt64 = 0
        do {
          try self.run(for: duration) { event in
            if dropped > 0 {
              let notice = ClientNotice(
                kind: .eventsDropped, time: event.time,
                detail: "\(dropped) event(s) dropped: the consumer's \(bufferSize)-event buffer was full")
              if case .enqueued = continuation.yield(.notice(notice)) { dropped = 0 }
            }
            if case .dropped = continuation.yield(event) { dropped += 1 }
          }
          // Still full at the end: the consumer learns of the loss from the stream's end.
          if dropped > 0 { throw ClientError.eventsDropped(dropped) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in self.stop() }
      thread.start()
    }
  }

  /// Sends what the engine asks for and hands its events to `handler`; true when ``stop()``
  /// was called (checked under the same lock that publishes the statistics: one lock per input).
  private func flush(_ engine: inout ClientEngine, _ handler: (ClientEvent) throws -> Void) throws -> Bool {
    // Neither sending nor the handler feeds the engine (it is a local of the run), so one pass
    // takes everything.
    while let request = engine.pollTransmit() {
      do {
        try transport.send(request)
      } catch let error as TransportError where SystemCalls.isBufferShortage(error) {
        // The kernel ran the request but could not queue its ERROR: an answer, not the end.
        engine.handleSendFailure(
          request, errno: error.errno == ENOMEM ? DarwinErrno.enomem : DarwinErrno.enobufs, at: transport.now)
      }
    }
    while let event = engine.pollEvent() { try handler(event) }
    return stopLock.withLock {
      latestStatistics.assign(engine.statistics)
      return stopRequested
    }
  }
}
