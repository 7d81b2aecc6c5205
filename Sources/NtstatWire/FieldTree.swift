/// A decoded value as an ordered tree of named fields, for printing (text, JSON) without
/// reflection. Field names are stable: they are the documented JSON keys of `ntstat decode`.
public indirect enum FieldValue: Hashable, Sendable {
  case null
  case bool(Bool)
  case int(Int64)
  case uint(UInt64)
  case string(String)
  case array([FieldValue])
  case object([Field])
}

/// One named field of a ``FieldValue/object(_:)``.
public struct Field: Hashable, Sendable {
  public var name: String
  public var value: FieldValue
  public init(_ name: String, _ value: FieldValue) {
    self.name = name
    self.value = value
  }
}

/// Builds an object, leaving out fields whose value is nil (a field the family lacks).
public struct FieldBuilder {
  public var fields: [Field] = []

  public init() {}
  public mutating func add(_ name: String, _ value: FieldValue) { fields.append(Field(name, value)) }
  public mutating func add<T: BinaryInteger>(_ name: String, _ value: T?) {
    guard let value else { return }
    if let unsigned = UInt64(exactly: value), T.isSigned == false || value >= 0 {
      fields.append(Field(name, .uint(unsigned)))
    } else {
      fields.append(Field(name, .int(Int64(truncatingIfNeeded: value))))
    }
  }
  public mutating func add(_ name: String, _ value: String?) {
    if let value { fields.append(Field(name, .string(value))) }
  }
  public mutating func add(_ name: String, _ value: UUIDBytes?) { add(name, value?.description) }
  public mutating func add(_ name: String, _ value: FixedCString?) { add(name, value?.string) }
  public mutating func add(_ name: String, _ value: SocketAddress?) {
    if let value { add(name, value.fieldValue) }
  }
  /// The process and addresses a TCP or UDP descriptor starts with, in this order.
  mutating func addFlow(
    pid: UInt32, epid: UInt32?, upid: UInt64, eupid: UInt64?, name: FixedCString, local: SocketAddress,
    remote: SocketAddress, ifindex: UInt32
  ) {
    add("pid", pid)
    add("epid", epid)
    add("upid", upid)
    add("eupid", eupid)
    add("pname", name)
    add("local", local)
    add("remote", remote)
    add("ifindex", ifindex)
  }

  /// The UUIDs and identities TCP and UDP descriptors share, in this order.
  mutating func addIdentities(
    uuid: UUIDBytes?, euuid: UUIDBytes?, vuuid: UUIDBytes?, fuuid: UUIDBytes?, personaID: UInt32?, uid: UInt32?
  ) {
    add("uuid", uuid)
    add("euuid", euuid)
    add("vuuid", vuuid)
    add("fuuid", fuuid)
    add("persona_id", personaID)
    add("uid", uid)
  }

  public mutating func add(_ name: String, _ bitmap: ActivityBitmap?) {
    guard let a = bitmap else { return }
    add(
      name, .object([Field("start", .uint(a.start)), Field("bitmap", .array([.uint(a.bitmap.0), .uint(a.bitmap.1)]))]))
  }

  public mutating func addOpaque(_ bytes: [UInt8]) {
    if !bytes.isEmpty { add("opaque", hexString(bytes)) }
  }
  public var object: FieldValue { .object(fields) }
}

func hexString(_ bytes: [UInt8]) -> String { bytes.map { hex(UInt64($0), 2) }.joined().lowercased() }

extension SocketAddress {
  var fieldValue: FieldValue {
    var b = FieldBuilder()
    switch self {
    case .unspecified:
      b.add("family", "unspecified")
    case .ipv4(let address, let port):
      b.add("family", "ipv4")
      b.add("address", address.description)
      b.add("port", port)
    case .ipv6(let address, let port, let flowInfo, let scopeID):
      b.add("family", "ipv6")
      b.add("address", address.description)
      b.add("port", port)
      if flowInfo != 0 { b.add("flowinfo", flowInfo) }
      if scopeID != 0 { b.add("scope_id", scopeID) }
    case .other(let bytes):
      b.add("family", "raw")
      b.add("bytes", hexString(bytes))
    }
    return b.object
  }
}

extension Counts {
  /// The counters as fields, in `nstat_counts` terms.
  public var fieldValue: FieldValue {
    var b = FieldBuilder()
    b.add("rx_packets", rxPackets)
    b.add("rx_bytes", rxBytes)
    b.add("tx_packets", txPackets)
    b.add("tx_bytes", txBytes)
    b.add("cell_rx_bytes", cellRxBytes)
    b.add("cell_tx_bytes", cellTxBytes)
    b.add("wifi_rx_bytes", wifiRxBytes)
    b.add("wifi_tx_bytes", wifiTxBytes)
    b.add("wired_rx_bytes", wiredRxBytes)
    b.add("wired_tx_bytes", wiredTxBytes)
    b.add("rx_duplicate_bytes", rxDuplicateBytes)
    b.add("rx_out_of_order_bytes", rxOutOfOrderBytes)
    b.add("tx_retransmit", txRetransmit)
    b.add("connect_attempts", connectAttempts)
    b.add("connect_successes", connectSuccesses)
    b.add("min_rtt", minRTT)
    b.add("avg_rtt", avgRTT)
    b.add("var_rtt", varRTT)
    return b.object
  }
}

extension DetailedCounts {
  /// The counters as fields: one object per medium (`total`, `cellular`, `wifi_infra`, …) with
  /// packets, bytes and the activity bitmap, then the TCP counters.
  public var fieldValue: FieldValue {
    var b = FieldBuilder()
    for medium in Medium.allCases {
      let t = self[medium]
      var m = FieldBuilder()
      m.add("rx_packets", t.rxPackets)
      m.add("rx_bytes", t.rxBytes)
      m.add("tx_packets", t.txPackets)
      m.add("tx_bytes", t.txBytes)
      m.add("activity_bitmap", t.activity)
      b.add(medium.rawValue, m.object)
    }
    b.add("rx_duplicate_bytes", rxDuplicateBytes)
    b.add("rx_out_of_order_bytes", rxOutOfOrderBytes)
    b.add("tx_retransmit", txRetransmit)
    b.add("min_rtt", minRTT)
    b.add("avg_rtt", avgRTT)
    b.add("var_rtt", varRTT)
    b.add("xtra_flags", extraFlags)
    b.add("xtra_uuid", extraUUID)
    return b.object
  }
}

extension Descriptor {
  /// Every field the family has, named after the C fields.
  public var fieldValue: FieldValue {
    var b = FieldBuilder()
    switch self {
    case .tcp(let d):
      b.add("kind", "tcp")
      b.addFlow(
        pid: d.pid, epid: d.epid, upid: d.upid, eupid: d.eupid, name: d.processName, local: d.local, remote: d.remote,
        ifindex: d.ifindex)
      b.add("state", d.state.description)
      b.add("state_value", d.state.rawValue)
      b.add("ifnet_properties", d.interfaceProperties.map { $0.description })
      b.add("sndbufsize", d.sendBufferSize)
      b.add("sndbufused", d.sendBufferUsed)
      b.add("rcvbufsize", d.receiveBufferSize)
      b.add("rcvbufused", d.receiveBufferUsed)
      b.add("txunacked", d.txUnacked)
      b.add("txwindow", d.txWindow)
      b.add("txcwindow", d.txCongestionWindow)
      b.add("traffic_class", d.trafficClass)
      b.add("traffic_mgt_flags", d.trafficManagementFlags)
      b.add("cc_algo", d.congestionAlgorithm)
      b.addIdentities(uuid: d.uuid, euuid: d.euuid, vuuid: d.vuuid, fuuid: d.fuuid, personaID: d.personaID, uid: d.uid)
      b.add("connstatus", d.connectionStatus)
      b.add("fallback_mode", d.fallbackMode)
      b.add("start_timestamp", d.startTimestamp)
      b.add("timestamp", d.timestamp)
      b.add("rx_transfer_size", d.rxTransferSize)
      b.add("tx_transfer_size", d.txTransferSize)
      b.add("activity_bitmap", d.activityBitmap)
      b.addOpaque(d.opaque)
    case .udp(let d):
      b.add("kind", "udp")
      b.addFlow(
        pid: d.pid, epid: d.epid, upid: d.upid, eupid: d.eupid, name: d.processName, local: d.local, remote: d.remote,
        ifindex: d.ifindex)
      b.add("ifnet_properties", d.interfaceProperties.map { $0.description })
      b.add("rcvbufsize", d.receiveBufferSize)
      b.add("rcvbufused", d.receiveBufferUsed)
      b.add("traffic_class", d.trafficClass)
      b.addIdentities(uuid: d.uuid, euuid: d.euuid, vuuid: d.vuuid, fuuid: d.fuuid, personaID: d.personaID, uid: d.uid)
      b.add("fallback_mode", d.fallbackMode)
      b.add("start_timestamp", d.startTimestamp)
      b.add("timestamp", d.timestamp)
      b.add("activity_bitmap", d.activityBitmap)
      b.addOpaque(d.opaque)
    case .route(let d):
      b.add("kind", "route")
      b.add("id", d.id)
      b.add("parent_id", d.parentID)
      b.add("gateway_id", d.gatewayID)
      b.add("dst", d.destination)
      b.add("mask", d.mask)
      b.add("gateway", d.gateway)
      b.add("ifindex", d.ifindex)
      b.add("flags", d.flags)
      b.addOpaque(d.opaque)
    case .ifnet(let d):
      b.add("kind", "ifnet")
      b.add("name", d.name)
      b.add("ifindex", d.ifindex)
      b.add("type", d.type)
      b.add("description", d.interfaceDescription)
      b.add("threshold", d.threshold)
      if let s = d.linkStatus {
        b.add(
          "link_status",
          .object([Field("type", .uint(UInt64(s.kind))), Field("words", .array(s.words.map { .uint(UInt64($0)) }))]))
      }
      b.addOpaque(d.opaque)
    case .sysinfo(let flags):
      b.add("kind", "sysinfo")
      b.add("flags", flags)
    case .connection(let d):
      b.add("kind", "conn")
      b.add("pid", d.pid)
      b.add("epid", d.epid)
      b.add("upid", d.upid)
      b.add("eupid", d.eupid)
      b.add("pname", d.processName)
      b.add("ifnet_properties", d.interfaceProperties.description)
      b.add("uuid", d.uuid)
      b.add("euuid", d.euuid)
      b.add("cuuid", d.cuuid)
      b.add("puuid", d.puuid)
      b.add("fuuid", d.fuuid)
      b.add("persona_id", d.personaID)
      b.add("uid", d.uid)
      b.add("start_timestamp", d.startTimestamp)
      b.add("timestamp", d.timestamp)
      b.addOpaque(d.opaque)
    }
    return b.object
  }
}

extension Message {
  /// Every field of the message, for `ntstat decode`; `family` gives provider names.
  public func fieldValue(family: LayoutFamily) -> FieldValue {
    var b = FieldBuilder()
    b.add("type", header.type.name)
    b.add("type_value", header.type.rawValue)
    b.add("context", header.context)
    if family.hasLengthAndFlags {
      b.add("length", header.length)
      b.add("flags", header.flags.description)
    } else {
      b.add("pad", UInt32(header.length) | UInt32(header.flags.rawValue) << 16)
    }
    func provider(_ id: ProviderID) {
      b.add("provider", id.rawValue)
      b.add("provider_name", family.providerKind(for: id)?.rawValue ?? "unknown")
    }
    func ref(_ r: SourceRef) { b.add("srcref", r == .all ? "ALL" : String(r.rawValue)) }
    /// Updates and details: counters and descriptor, then the items of the extended types.
    func described(
      _ r: SourceRef, _ eventFlags: UInt64?, _ id: ProviderID, _ counts: (String, FieldValue), _ d: Descriptor,
      _ items: [ExtendedItem]
    ) {
      ref(r)
      b.add("event_flags", eventFlags)
      provider(id)
      b.add(counts.0, counts.1)
      b.add("descriptor", d.fieldValue)
      if header.type == .sourceExtendedUpdate || header.type == .sourceExtendedDetails {
        b.add("items", .array(items.map { $0.fieldValue }))
      }
    }
    switch body {
    case .success, .subscribeSysinfo:
      break
    case .error(let e):
      b.add("error", e.errno)
      b.add("error_name", errnoName(e.errno))
      b.add("reserved", e.reserved)
      if !e.failedRequest.isEmpty {
        let decoded = try? MessageDecoder(family: family).decode(e.failedRequest, direction: .toKernel)
        if let request = decoded?.first {
          b.add("failed_request", request.fieldValue(family: family))
        } else {
          b.add("failed_request_bytes", hexString(e.failedRequest))
        }
      }
    case .addSource(let a):
      provider(a.provider)
      b.add("reserved", a.reserved)
      switch a.parameters {
      case .route(let destination, let mask, let ifindex):
        b.add(
          "param",
          .object([
            Field("dst", destination.fieldValue), Field("mask", mask.fieldValue),
            Field("ifindex", .uint(UInt64(ifindex))),
          ]))
      case .socket(let local, let remote):
        b.add("param", .object([Field("local", local.fieldValue), Field("remote", remote.fieldValue)]))
      case .ifnet(let threshold, let ifindex, _):
        b.add("param", .object([Field("threshold", .uint(threshold)), Field("ifindex", .uint(UInt64(ifindex)))]))
      case .sysinfo(let flags):
        b.add("param", .object([Field("flags", .uint(UInt64(flags)))]))
      case .raw(let bytes):
        b.add("param_bytes", hexString(bytes))
      }
    case .addAllSources(let a):
      provider(a.provider)
      b.add("filter", a.filter.map { "0x" + String($0, radix: 16) })
      b.add("events", a.events.map { "0x" + String($0, radix: 16) })
      b.add("target_pid", a.targetPID)
      b.add("target_uuid", a.targetUUID)
    case .removeSource(let r), .querySource(let r), .getSourceDescription(let r), .getUpdate(let r),
      .getDetails(let r), .sourceRemoved(let r):
      ref(r)
    case .setFilter(let s):
      ref(s.sourceRef)
      b.add("filter", s.filter)
    case .sourceAdded(let s):
      ref(s.sourceRef)
      provider(s.provider)
    case .sourceDescription(let s):
      ref(s.sourceRef)
      b.add("event_flags", s.eventFlags)
      provider(s.provider)
      b.add("descriptor", s.descriptor.fieldValue)
    case .sourceCounts(let s):
      ref(s.sourceRef)
      b.add("event_flags", s.eventFlags)
      b.add("counts", s.counts.fieldValue)
    case .sourceUpdate(let s), .sourceExtendedUpdate(let s):
      described(s.sourceRef, s.eventFlags, s.provider, ("counts", s.counts.fieldValue), s.descriptor, s.items)
    case .sourceDetails(let s), .sourceExtendedDetails(let s):
      described(s.sourceRef, s.eventFlags, s.provider, ("detailed_counts", s.counts.fieldValue), s.descriptor, s.items)
    case .sysinfoCounts(let s):
      ref(s.sourceRef)
      b.add("sysinfo_len", s.length)
      b.add(
        "keyvals",
        .array(
          s.keyValues.map { kv in
            var k = FieldBuilder()
            k.add("key", kv.key)
            k.add("flags", kv.flags)
            if kv.flags & SysinfoKeyValue.flagString != 0 {
              k.add("string", kv.string)
            } else if kv.flags & SysinfoKeyValue.flagDistribution != 0 {
              k.add("distribution", String(kv.distribution))
            } else {
              k.add("scalar", kv.scalar)
            }
            k.add("valsize", kv.valueSize)
            return k.object
          }))
    case .unknown(_, let payload):
      b.add("payload", hexString(payload))
    }
    if !trailingBytes.isEmpty {
      b.add("extra_length", trailingBytes.count)
      b.add("extra_bytes", hexString(trailingBytes))
    }
    return b.object
  }
}

extension ExtendedItem {
  var fieldValue: FieldValue {
    var b = FieldBuilder()
    b.add("type", type.description)
    b.add("length", length)
    switch payload {
    case .domain(let d):
      var f = FieldBuilder()
      f.add("domain_name", d.domainName)
      f.add("domain_owner", d.domainOwner)
      f.add("tracker_ctxt", d.trackerContext)
      f.add("attributed_bundle_id", d.attributedBundleID)
      f.add("remote", d.remote)
      f.add("is_tracker", .bool(d.isTracker != 0))
      f.add("is_non_app_initiated", .bool(d.isNonAppInitiated != 0))
      f.add("is_silent", .bool(d.isSilent != 0))
      b.add("domain", f.object)
    case .flowUUID(let uuid):
      b.add("fuuid", uuid)
    case .bluetoothCounts(let c):
      b.add(
        "counts",
        .object([
          Field("rx_packets", .uint(c.rxPackets)), Field("rx_bytes", .uint(c.rxBytes)),
          Field("tx_packets", .uint(c.txPackets)), Field("tx_bytes", .uint(c.txBytes)),
        ]))
    case .bytes(let bytes):
      b.add("bytes", hexString(bytes))
    }
    return b.object
  }
}

/// Darwin errno names for the values ntstat sends.
public func errnoName(_ value: Int32) -> String {
  switch value {
  case DarwinErrno.eperm: return "EPERM"
  case DarwinErrno.enoent: return "ENOENT"
  case DarwinErrno.enomem: return "ENOMEM"
  case DarwinErrno.einval: return "EINVAL"
  case DarwinErrno.eagain: return "EAGAIN"
  case DarwinErrno.ealready: return "EALREADY"
  case DarwinErrno.enotsup: return "ENOTSUP"
  case DarwinErrno.eafnosupport: return "EAFNOSUPPORT"
  case DarwinErrno.enobufs: return "ENOBUFS"
  case DarwinErrno.eopnotsupp: return "EOPNOTSUPP"
  default: return "errno \(value)"
  }
}
