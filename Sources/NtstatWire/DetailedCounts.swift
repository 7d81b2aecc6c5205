/// `traffic_stats` (xnu-12377+, `bsd/netinet/in_stat.h`): one medium's packets and bytes each
/// way, and when it was active.
public struct TrafficStats: Hashable, Sendable {
  public var rxPackets: UInt64
  public var rxBytes: UInt64
  public var txPackets: UInt64
  public var txBytes: UInt64
  public var activity: ActivityBitmap

  public init(
    rxPackets: UInt64 = 0, rxBytes: UInt64 = 0, txPackets: UInt64 = 0, txBytes: UInt64 = 0,
    activity: ActivityBitmap = ActivityBitmap()
  ) {
    self.rxPackets = rxPackets
    self.rxBytes = rxBytes
    self.txPackets = txPackets
    self.txBytes = txBytes
    self.activity = activity
  }

  init(reading r: StructReader, _ layout: StructLayout<TrafficStatsField>) throws(WireError) {
    try r.check(0, layout.size)
    rxPackets = r.u64(checked: layout.required(.rxPackets).offset)
    rxBytes = r.u64(checked: layout.required(.rxBytes).offset)
    txPackets = r.u64(checked: layout.required(.txPackets).offset)
    txBytes = r.u64(checked: layout.required(.txBytes).offset)
    activity = try ActivityBitmap(reading: r, at: layout.required(.activityBitmap).offset)
  }

  func write(into w: inout ByteWriter, at base: Int, _ layout: StructLayout<TrafficStatsField>) {
    w.set(rxPackets, at: base + layout.required(.rxPackets).offset)
    w.set(rxBytes, at: base + layout.required(.rxBytes).offset)
    w.set(txPackets, at: base + layout.required(.txPackets).offset)
    w.set(txBytes, at: base + layout.required(.txBytes).offset)
    activity.write(into: &w, at: base + layout.required(.activityBitmap).offset)
  }
}

/// The media of `media_stats`, in the struct's order.
public enum Medium: String, CaseIterable, Hashable, Sendable {
  case total
  case cellular
  /// Wi-Fi through an access point.
  case wifiInfra = "wifi_infra"
  /// Wi-Fi peer to peer (AWDL, NAN).
  case wifiNonInfra = "wifi_non_infra"
  case wired
  case bluetooth
  /// The spare slot; the kernel counts unclassified traffic here.
  case alternate

  /// Position in `media_stats` and in ``DetailedCounts/media``.
  public var index: Int {
    switch self {
    case .total: return 0
    case .cellular: return 1
    case .wifiInfra: return 2
    case .wifiNonInfra: return 3
    case .wired: return 4
    case .bluetooth: return 5
    case .alternate: return 6
    }
  }

  @usableFromInline var field: MediaStatsField {
    switch self {
    case .total: return .total
    case .cellular: return .cellular
    case .wifiInfra: return .wifiInfra
    case .wifiNonInfra: return .wifiNonInfra
    case .wired: return .wired
    case .bluetooth: return .bluetooth
    case .alternate: return .alternate
    }
  }
}

/// `nstat_detailed_counts` (xnu-12377+): the counters of SRC_DETAILS, per medium, with the
/// duplicate / out-of-order / retransmit counters widened to 64 bits.
///
/// Unlike ``Counts`` it has no connect attempts or successes (the kernel does not report routes
/// this way), and its Wi-Fi is split into infrastructure and peer to peer.
public struct DetailedCounts: Hashable, Sendable {
  /// One ``TrafficStats`` per ``Medium``, in `Medium.allCases` order.
  public var media: [TrafficStats]
  public var rxDuplicateBytes: UInt64
  public var rxOutOfOrderBytes: UInt64
  public var txRetransmit: UInt64
  /// Raw `t_rttbest`.
  public var minRTT: UInt32
  /// Raw `t_srtt`, scaled by `TCP_RTT_SCALE` (32).
  public var avgRTT: UInt32
  public var varRTT: UInt32
  /// `nstat_xtra_flags`: reserved.
  public var extraFlags: UInt32
  /// `nstat_xtra_uuid`: reserved.
  public var extraUUID: UUIDBytes

  public init(
    media: [TrafficStats] = Array(repeating: TrafficStats(), count: Medium.allCases.count),
    rxDuplicateBytes: UInt64 = 0, rxOutOfOrderBytes: UInt64 = 0, txRetransmit: UInt64 = 0, minRTT: UInt32 = 0,
    avgRTT: UInt32 = 0, varRTT: UInt32 = 0, extraFlags: UInt32 = 0, extraUUID: UUIDBytes = .zero
  ) {
    precondition(media.count == Medium.allCases.count, "one TrafficStats per medium")
    self.media = media
    self.rxDuplicateBytes = rxDuplicateBytes
    self.rxOutOfOrderBytes = rxOutOfOrderBytes
    self.txRetransmit = txRetransmit
    self.minRTT = minRTT
    self.avgRTT = avgRTT
    self.varRTT = varRTT
    self.extraFlags = extraFlags
    self.extraUUID = extraUUID
  }

  /// The counters of one medium.
  public subscript(medium: Medium) -> TrafficStats {
    get { media[medium.index] }
    set { media[medium.index] = newValue }
  }

  /// All media together (`ms_total`).
  public var total: TrafficStats { media[0] }

  /// The same counters as the classic ``Counts`` a SRC_UPDATE would carry, computed as the
  /// kernel computes `nstat_counts` from the same `media_stats` (`nstat_tcp_counts`): Wi-Fi is
  /// infrastructure plus peer to peer, 32-bit counters truncate, connect counters are unknown.
  public var classicCounts: Counts {
    var counts = Counts()
    counts.rxPackets = total.rxPackets
    counts.rxBytes = total.rxBytes
    counts.txPackets = total.txPackets
    counts.txBytes = total.txBytes
    counts.cellRxBytes = self[.cellular].rxBytes
    counts.cellTxBytes = self[.cellular].txBytes
    counts.wifiRxBytes = self[.wifiInfra].rxBytes &+ self[.wifiNonInfra].rxBytes
    counts.wifiTxBytes = self[.wifiInfra].txBytes &+ self[.wifiNonInfra].txBytes
    counts.wiredRxBytes = self[.wired].rxBytes
    counts.wiredTxBytes = self[.wired].txBytes
    counts.rxDuplicateBytes = UInt32(truncatingIfNeeded: rxDuplicateBytes)
    counts.rxOutOfOrderBytes = UInt32(truncatingIfNeeded: rxOutOfOrderBytes)
    counts.txRetransmit = UInt32(truncatingIfNeeded: txRetransmit)
    counts.minRTT = minRTT
    counts.avgRTT = avgRTT
    counts.varRTT = varRTT
    return counts
  }

  init(reading r: StructReader, _ tables: FamilyLayouts) throws(WireError) {
    guard let layout = tables.detailedCounts, let mediaLayout = tables.mediaStats,
      let traffic = tables.trafficStats
    else { preconditionFailure("detailed counts read in a family without them") }
    try r.check(0, layout.size)
    let mediaBase = layout.required(.mediaStats).offset
    var media: [TrafficStats] = []
    media.reserveCapacity(Medium.allCases.count)
    for medium in Medium.allCases {
      media.append(
        try TrafficStats(reading: r.nested(at: mediaBase + mediaLayout.required(medium.field).offset), traffic))
    }
    self.media = media
    rxDuplicateBytes = r.u64(checked: layout.required(.rxDuplicateBytes).offset)
    rxOutOfOrderBytes = r.u64(checked: layout.required(.rxOutOfOrderBytes).offset)
    txRetransmit = r.u64(checked: layout.required(.txRetransmit).offset)
    minRTT = r.u32(checked: layout.required(.minRTT).offset)
    avgRTT = r.u32(checked: layout.required(.avgRTT).offset)
    varRTT = r.u32(checked: layout.required(.varRTT).offset)
    extraFlags = r.u32(checked: layout.required(.extraFlags).offset)
    extraUUID = r.uuid(checked: layout.required(.extraUUID).offset)
  }

  func write(into w: inout ByteWriter, at base: Int, _ tables: FamilyLayouts) {
    guard let layout = tables.detailedCounts, let mediaLayout = tables.mediaStats,
      let traffic = tables.trafficStats
    else { preconditionFailure("detailed counts written in a family without them") }
    let mediaBase = base + layout.required(.mediaStats).offset
    for (medium, stats) in zip(Medium.allCases, media) {
      stats.write(into: &w, at: mediaBase + mediaLayout.required(medium.field).offset, traffic)
    }
    w.set(rxDuplicateBytes, at: base + layout.required(.rxDuplicateBytes).offset)
    w.set(rxOutOfOrderBytes, at: base + layout.required(.rxOutOfOrderBytes).offset)
    w.set(txRetransmit, at: base + layout.required(.txRetransmit).offset)
    w.set(minRTT, at: base + layout.required(.minRTT).offset)
    w.set(avgRTT, at: base + layout.required(.avgRTT).offset)
    w.set(varRTT, at: base + layout.required(.varRTT).offset)
    w.set(extraFlags, at: base + layout.required(.extraFlags).offset)
    w.set(extraUUID, at: base + layout.required(.extraUUID).offset)
  }
}

/// `nstat_msg_src_details` (SRC_DETAILS) and SRC_EXTENDED_DETAILS (xnu-12377+): detailed
/// counts and the descriptor in one message, with extension items after the descriptor when
/// extended. What a client gets instead of SRC_UPDATE once it has sent GET_DETAILS.
public struct SourceDetails: Hashable, Sendable {
  public var sourceRef: SourceRef
  public var eventFlags: UInt64
  public var counts: DetailedCounts
  public var provider: ProviderID
  public var reserved: UInt32
  public var descriptor: Descriptor
  /// Extension items (SRC_EXTENDED_DETAILS only).
  public var items: [ExtendedItem]

  public init(
    sourceRef: SourceRef, eventFlags: UInt64 = 0, counts: DetailedCounts, provider: ProviderID,
    reserved: UInt32 = 0, descriptor: Descriptor, items: [ExtendedItem] = []
  ) {
    self.sourceRef = sourceRef
    self.eventFlags = eventFlags
    self.counts = counts
    self.provider = provider
    self.reserved = reserved
    self.descriptor = descriptor
    self.items = items
  }
}
