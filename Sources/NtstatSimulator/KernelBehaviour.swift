import NtstatWire

/// What `ntstat.c` does differently from family to family, as the simulator models it. A
/// family is modelled at its newest public tag unless an exact XNU version is given; where
/// behaviour changed inside a family (the EAGAIN rule of 3789.1.32 and .21.4), the version
/// decides. `docs/simulator.md` lists the sources.
public struct KernelBehaviour: Hashable, Sendable {
  public let family: LayoutFamily
  /// The exact kernel modelled.
  public let xnu: XNUVersion

  public init(family: LayoutFamily, xnu: XNUVersion? = nil) {
    self.family = family
    self.xnu = xnu ?? Self.newestTag(of: family)
  }

  /// The newest public XNU tag of each family (`apple-oss-distributions/xnu`); xnu-12377 has
  /// no Apple tag, and is modelled from the tree its layouts come from (docs/simulator.md).
  public static func newestTag(of family: LayoutFamily) -> XNUVersion {
    switch family {
    case .xnu1699: return XNUVersion(1699, 32, 7)
    case .xnu2050: return XNUVersion(2050, 48, 11)
    case .xnu2422: return XNUVersion(2422, 115, 4)
    case .xnu2782: return XNUVersion(2782, 40, 9)
    case .xnu3247: return XNUVersion(3248, 60, 10)
    case .xnu3789: return XNUVersion(3789, 70, 16)
    case .xnu4570: return XNUVersion(4903, 270, 47)
    case .xnu6153: return XNUVersion(6153, 141, 1)
    case .xnu7195: return XNUVersion(7195, 141, 2)
    case .xnu8019_41: return XNUVersion(8019, 41, 5)
    case .xnu8019_61: return XNUVersion(8796, 141, 3)
    case .xnu10002: return XNUVersion(10063, 141, 1)
    case .xnu11215: return XNUVersion(11417, 121, 6)
    case .xnu12377: return XNUVersion(12377, 1, 1)
    }
  }

  /// Providers `nstat_init` registers in the published source of the family's newest tag.
  /// The header may declare more (userland TCP/UDP from 3789, QUIC from 6153): from 4570 to
  /// 8019.61.5 the published `ntstat.c` does not register them; from 8019.80.24 they are
  /// registered under `#if SKYWALK`, which the macOS release configuration sets.
  public var registered: Set<ProviderKind> {
    switch family {
    case .xnu1699, .xnu2050: return [.route, .tcpKernel, .udpKernel]
    case .xnu2422: return [.route, .tcpKernel, .udpKernel, .ifnet]
    case .xnu2782: return [.route, .tcpKernel, .udpKernel, .ifnet, .sysinfo]
    case .xnu3247: return [.route, .tcpKernel, .udpKernel, .ifnet]
    case .xnu3789: return [.route, .tcpKernel, .udpKernel, .ifnet, .tcpUserland, .udpUserland]
    case .xnu4570, .xnu6153, .xnu7195, .xnu8019_41: return [.route, .tcpKernel, .udpKernel, .ifnet]
    case .xnu8019_61, .xnu10002, .xnu11215, .xnu12377:
      return [
        .route, .tcpKernel, .udpKernel, .ifnet, .tcpUserland, .udpUserland, .quicUserland, .connUserland, .udpSubflow,
      ]
    }
  }

  /// XNU majors by Darwin major, as released (12377 is macOS 26's; later ones are guesses that
  /// only serve to make a simulated newer kernel's version string look like a real one).
  static let xnuMajors: [Int: Int] = [
    11: 1699, 12: 2050, 13: 2422, 14: 2782, 15: 3248, 16: 3789, 17: 4570, 18: 4903, 19: 6153, 20: 7195,
    21: 8019, 22: 8796, 23: 10002, 24: 11215, 25: 12377,
  ]

  /// An XNU version a kernel of Darwin `major` would report.
  public static func xnu(forDarwinMajor major: Int) -> XNUVersion? {
    if let known = xnuMajors[major] { return XNUVersion(known, 1, 1) }
    return major > 25 ? XNUVersion(12377 + (major - 25) * 1000, 1, 1) : nil
  }

  /// The Darwin release of an XNU version (the minor is not modelled: `.0`).
  public static func darwinRelease(of xnu: XNUVersion) -> DarwinVersion? {
    let major = xnuMajors.filter { $0.value <= xnu.major }.max { $0.value < $1.value }?.key
    return major.map { DarwinVersion($0, 0, 0) }
  }

  /// Header `length`/`flags`, packed replies, continuation, error-with-request (3247+).
  public var modernHeader: Bool { family.hasLengthAndFlags }

  /// GET_SRC_DESC accepts NSTAT_SRC_REF_ALL from 2422 (`nstat_control_handle_get_src_description`).
  public var describesAll: Bool { family >= .xnu2422 }

  /// SET_FILTER is dispatched from 2422 to 10063 (gone from `nstat_control_send` in 11215).
  public var hasSetFilter: Bool { family >= .xnu2422 && family < .xnu11215 }

  /// GET_UPDATE and SUBSCRIBE_SYSINFO exist from 3247.
  public var hasUpdates: Bool { family >= .xnu3247 }

  /// `NSTAT_MSG_TYPE_SRC_EXTENDED_UPDATE` exists from 8019.41.
  public var hasExtendedUpdates: Bool { family >= .xnu8019_41 }

  /// The control registers with CTL_FLAG_REG_CRIT from 2782: non-critical messages keep 25 %
  /// of the receive buffer free for SUCCESS/ERROR/REMOVED (`ctl_rcvbspace`).
  public var criticalReserve: Bool { family >= .xnu2782 }

  /// ≤2422 `nstat_tcp_gone` treats TIME_WAIT as gone; from 3247 entering TIME_WAIT detaches.
  public var timeWaitIsGone: Bool { family <= .xnu2422 }
  public var timeWaitDetaches: Bool { family >= .xnu3247 }

  /// 11215 packs every ALL answer; before, QUERY/GET_SRC_DESC ALL pack only when asked
  /// (SUPPORTS_AGGREGATE), GET_UPDATE ALL always (`nstat_control_handle_query_request`).
  public var alwaysAggregates: Bool { family >= .xnu11215 }

  /// `nstat_control_append_update`: an update larger than this is not packed and the source is
  /// skipped in an ALL poll (512 up to 7195, 2048 from 8019).
  public var updatePackLimit: Int { family >= .xnu8019_41 ? 2048 : 512 }
  /// `nstat_control_append_description`.
  public let descriptionPackLimit = 512

  /// `QUERY_CONTINUATION_SRC_COUNT` on macOS.
  public let continuationBatch = 100

  /// 3247 up to 3789.21.4: any query without CONTINUATION and with another context (GET_UPDATE,
  /// QUERY_SRC or GET_SRC_DESC, for one source or ALL) cancels an open paced query with EAGAIN
  /// on the paced query's context, and leaves that query open (`nstat_control_begin_query`,
  /// `xnu-3248.60.10:bsd/net/ntstat.c:4016-4025`, `xnu-3789.21.4:bsd/net/ntstat.c:4594-4603`);
  /// removed in 3789.31.2 (`:4581-4604`).
  public var eagainOnPlainQuery: Bool {
    family == .xnu3247 || (family == .xnu3789 && xnu < XNUVersion(3789, 31, 2))
  }

  /// From 8019.80.24, when the kernel registers them, the userland watchers (TCP, UDP, QUIC,
  /// conn, UDP subflow) return the error of a SRC_ADDED that did not queue, so ADD_ALL is
  /// answered ERROR(ENOBUFS) although the subscription stays active
  /// (`nstat_userland_protocol_add_watcher`, `nstat_generic_provider_add_watcher`,
  /// `xnu-11417.121.6:bsd/net/ntstat.c:2877-2910, 3581-3630`). The kernel TCP/UDP watchers
  /// ignore it and send SUCCESS (`nstat_tcp_add_watcher`, `:1771-1810`).
  public func addAllReportsQueueFailure(_ provider: ProviderKind) -> Bool {
    guard family >= .xnu8019_61 else { return false }
    switch provider {
    case .tcpUserland, .udpUserland, .quicUserland, .connUserland, .udpSubflow: return true
    default: return false
    }
  }

  /// GET_DETAILS (12377): the client's flag NSTAT_FLAG_SUPPORTS_DETAILS is set by its first
  /// GET_DETAILS and never cleared, so from then on events and final reports are SRC_DETAILS
  /// (`nstat_client_handle_get_details`, `nstat_client_send_event`, `nstat_client_send_goodbye`
  /// in ProjectCalamari/xnu@a430cb1893d0 `bsd/net/ntstat.c`).
  public var hasDetails: Bool { family >= .xnu12377 }

  /// SRC_REMOVED carries CLOSED_AFTER_DROP/FILTER from 8019.61.
  public var closedAfterFlags: Bool { family >= .xnu8019_61 }

  /// 4570+: ADD_ALL with SUPPRESS_SRC_ADDED turns on update mode.
  public var suppressImpliesUpdates: Bool { family >= .xnu4570 }

  /// 8796.141.3+ (the newest tag of the 8019.61 family): ADD_SRC for TCP/UDP is ENOTSUP.
  public var addSourceForSocketsUnsupported: Bool { family >= .xnu8019_61 }

  /// From 8792.61.2, ADD_ALL for CONN and UDP_SUBFLOW needs the privilege, and so do extensions.
  public var connNeedsPrivilege: Bool { family >= .xnu8019_61 }

  /// The 60 s idle check skips clients that issued QUERY_SRC ALL since the last one (≤10063).
  public var idleCheckHonoursQueries: Bool { family < .xnu11215 }

  /// The kernel's filter bit for SUPPRESS_SRC_ADDED (3247+).
  public let suppressSourceAddedFilter: UInt64 = 0x10_0000

  /// `NSTAT_FILTER_IFNET_FLAGS` of the family's header: the ACCEPT_* bits that
  /// `nstat_tcpudp_reporting_allowed` tests against a source's interface properties.
  public var interfaceFilterMask: UInt64 {
    switch family {
    case .xnu1699, .xnu2050, .xnu2422, .xnu2782: return 0
    case .xnu3247: return 0xFF
    case .xnu3789, .xnu4570: return 0xFFF
    case .xnu6153: return 0x1FFF
    case .xnu7195: return 0xFFFF
    case .xnu8019_41, .xnu8019_61, .xnu10002: return 0x1FFFF
    case .xnu11215, .xnu12377: return 0x7FFFF
    }
  }
}
