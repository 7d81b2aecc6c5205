import NtstatWire

/// What `ntstat.c` does differently from family to family, as the simulator models it. Each
/// family is modelled at its newest public tag (where behaviour changed inside a family, the
/// later behaviour wins); `docs/simulator.md` lists the sources.
public struct KernelBehaviour: Hashable, Sendable {
  public let family: LayoutFamily

  public init(family: LayoutFamily) { self.family = family }

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
    case .xnu8019_61, .xnu10002, .xnu11215:
      return [
        .route, .tcpKernel, .udpKernel, .ifnet, .tcpUserland, .udpUserland, .quicUserland, .connUserland, .udpSubflow,
      ]
    }
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

  /// 3247 up to 3789.21.4: a non-continuation query with a new context also cancels an open
  /// paced query with EAGAIN (`nstat_control_begin_query`); removed in 3789.31.2.
  public var eagainOnPlainQuery: Bool { family == .xnu3247 }

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
    case .xnu11215: return 0x7FFFF
    }
  }
}
