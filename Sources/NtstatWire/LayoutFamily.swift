/// A set of XNU releases whose ntstat structs are byte-identical (and whose constants and
/// kernel behaviour the codec treats as one).
///
/// Families are selected by version *range*, never by exact tag: shipping kernels carry build
/// numbers that are not public tags. See ``KernelVersion`` and ``FamilySelection``.
public enum LayoutFamily: String, CaseIterable, Hashable, Sendable, Comparable, CustomStringConvertible {
  case xnu1699 = "xnu-1699"
  case xnu2050 = "xnu-2050"
  case xnu2422 = "xnu-2422"
  case xnu2782 = "xnu-2782"
  case xnu3247 = "xnu-3247"
  case xnu3789 = "xnu-3789"
  case xnu4570 = "xnu-4570"
  case xnu6153 = "xnu-6153"
  case xnu7195 = "xnu-7195"
  case xnu8019_41 = "xnu-8019.41"
  case xnu8019_61 = "xnu-8019.61"
  case xnu10002 = "xnu-10002"
  case xnu11215 = "xnu-11215"

  /// The newest family this library knows.
  public static let newest = LayoutFamily.xnu11215

  /// The family name, which is also the lowest XNU version it covers (`xnu-8019.61`).
  public var name: String { rawValue }
  public var description: String { rawValue }

  /// The lowest XNU version in the family.
  public var lowestXNU: XNUVersion {
    switch self {
    case .xnu1699: return XNUVersion(1699)
    case .xnu2050: return XNUVersion(2050)
    case .xnu2422: return XNUVersion(2422)
    case .xnu2782: return XNUVersion(2782)
    case .xnu3247: return XNUVersion(3247)
    case .xnu3789: return XNUVersion(3789)
    case .xnu4570: return XNUVersion(4570)
    case .xnu6153: return XNUVersion(6153)
    case .xnu7195: return XNUVersion(7195)
    case .xnu8019_41: return XNUVersion(8019)
    case .xnu8019_61: return XNUVersion(8019, 61)
    case .xnu10002: return XNUVersion(10002)
    case .xnu11215: return XNUVersion(11215)
    }
  }

  /// The Darwin releases of the family, as (major, lowest minor) … (major, highest minor).
  public var darwinRange: ClosedRange<DarwinVersion> {
    switch self {
    case .xnu1699: return DarwinVersion(11, 0)...DarwinVersion(11, 99)
    case .xnu2050: return DarwinVersion(12, 0)...DarwinVersion(12, 99)
    case .xnu2422: return DarwinVersion(13, 0)...DarwinVersion(13, 99)
    case .xnu2782: return DarwinVersion(14, 0)...DarwinVersion(14, 99)
    case .xnu3247: return DarwinVersion(15, 0)...DarwinVersion(15, 99)
    case .xnu3789: return DarwinVersion(16, 0)...DarwinVersion(16, 99)
    case .xnu4570: return DarwinVersion(17, 0)...DarwinVersion(18, 99)
    case .xnu6153: return DarwinVersion(19, 0)...DarwinVersion(19, 99)
    case .xnu7195: return DarwinVersion(20, 0)...DarwinVersion(20, 99)
    case .xnu8019_41: return DarwinVersion(21, 0)...DarwinVersion(21, 1)
    case .xnu8019_61: return DarwinVersion(21, 2)...DarwinVersion(22, 99)
    case .xnu10002: return DarwinVersion(23, 0)...DarwinVersion(23, 99)
    case .xnu11215: return DarwinVersion(24, 0)...DarwinVersion(24, 99)
    }
  }

  /// macOS releases of the family (Apple's Darwin-major → macOS mapping).
  public var macOSReleases: String {
    switch self {
    case .xnu1699: return "10.7"
    case .xnu2050: return "10.8"
    case .xnu2422: return "10.9"
    case .xnu2782: return "10.10"
    case .xnu3247: return "10.11"
    case .xnu3789: return "10.12"
    case .xnu4570: return "10.13–10.14"
    case .xnu6153: return "10.15"
    case .xnu7195: return "11"
    case .xnu8019_41: return "12.0"
    case .xnu8019_61: return "12.1–13"
    case .xnu10002: return "14"
    case .xnu11215: return "15"
    }
  }

  /// The public XNU tags whose compiled layouts this family's tables were checked against.
  public var verifiedTags: [String] {
    switch self {
    case .xnu1699: return ["xnu-1699.22.73", "xnu-1699.32.7"]
    case .xnu2050: return ["xnu-2050.7.9", "xnu-2050.48.11"]
    case .xnu2422: return ["xnu-2422.1.72", "xnu-2422.115.4"]
    case .xnu2782: return ["xnu-2782.1.97", "xnu-2782.40.9"]
    case .xnu3247: return ["xnu-3247.10.11", "xnu-3248.60.10"]
    case .xnu3789: return ["xnu-3789.1.32", "xnu-3789.70.16"]
    case .xnu4570: return ["xnu-4570.1.46", "xnu-4570.71.2", "xnu-4903.241.1"]
    case .xnu6153: return ["xnu-6153.11.26", "xnu-6153.141.1"]
    case .xnu7195: return ["xnu-7195.50.7.100.1", "xnu-7195.141.2"]
    case .xnu8019_41: return ["xnu-8019.41.5"]
    case .xnu8019_61: return ["xnu-8019.61.5", "xnu-8020.140.41", "xnu-8792.41.9", "xnu-8796.141.3"]
    case .xnu10002: return ["xnu-10002.1.13", "xnu-10063.141.1"]
    case .xnu11215: return ["xnu-11215.1.10", "xnu-11417.121.6"]
    }
  }

  /// The struct layouts of this family.
  public var layouts: FamilyLayouts {
    switch self {
    case .xnu1699: return .xnu1699
    case .xnu2050: return .xnu2050
    case .xnu2422: return .xnu2422
    case .xnu2782: return .xnu2782
    case .xnu3247: return .xnu3247
    case .xnu3789: return .xnu3789
    case .xnu4570: return .xnu4570
    case .xnu6153: return .xnu6153
    case .xnu7195: return .xnu7195
    case .xnu8019_41: return .xnu8019_41
    case .xnu8019_61: return .xnu8019_61
    case .xnu10002: return .xnu10002
    case .xnu11215: return .xnu11215
    }
  }

  /// From xnu-3247 the header's padding became `length` and `flags`, and the kernel may pack
  /// several messages into one datagram.
  public var hasLengthAndFlags: Bool { self >= .xnu3247 }

  /// Up to xnu-3248 a freed source ref is handed out again (`nstat_control_next_src_ref` takes
  /// the first value not in use); from xnu-3789 refs only count up.
  public var reusesSourceRefs: Bool { self < .xnu3789 }

  /// `nstat_src_ref_t` is 32-bit up to xnu-3248 and 64-bit from xnu-3789.
  public var sourceRefWidth: Int { self >= .xnu3789 ? 8 : 4 }

  /// Provider ids of this family, as declared in its header.
  public var providers: [(ProviderID, ProviderKind)] {
    func id(_ value: UInt32) -> ProviderID { ProviderID(rawValue: value) }
    switch self {
    case .xnu1699, .xnu2050:
      return [(id(1), .route), (id(2), .tcpKernel), (id(3), .udpKernel)]
    case .xnu2422:
      return [(id(1), .route), (id(2), .tcpKernel), (id(3), .udpKernel), (id(4), .ifnet)]
    case .xnu2782, .xnu3247:
      return [(id(1), .route), (id(2), .tcpKernel), (id(3), .udpKernel), (id(4), .ifnet), (id(5), .sysinfo)]
    case .xnu3789, .xnu4570:
      return [
        (id(1), .route), (id(2), .tcpKernel), (id(3), .tcpUserland), (id(4), .udpKernel),
        (id(5), .udpUserland), (id(6), .ifnet), (id(7), .sysinfo),
      ]
    case .xnu6153, .xnu7195, .xnu8019_41:
      return [
        (id(1), .route), (id(2), .tcpKernel), (id(3), .tcpUserland), (id(4), .udpKernel),
        (id(5), .udpUserland), (id(6), .ifnet), (id(7), .sysinfo), (id(8), .quicUserland),
      ]
    case .xnu8019_61, .xnu10002, .xnu11215:
      return [
        (id(1), .route), (id(2), .tcpKernel), (id(3), .tcpUserland), (id(4), .udpKernel),
        (id(5), .udpUserland), (id(6), .ifnet), (id(7), .sysinfo), (id(8), .quicUserland),
        (id(9), .connUserland), (id(10), .udpSubflow),
      ]
    }
  }

  /// What a provider id means in this family, or nil if the family does not define it.
  public func providerKind(for id: ProviderID) -> ProviderKind? {
    providers.first { $0.0 == id }?.1
  }

  /// The id of a provider kind in this family, or nil if the family has no such provider.
  public func providerID(for kind: ProviderKind) -> ProviderID? {
    providers.first { $0.1 == kind }?.0
  }

  /// Descriptor size for a provider kind in this family (`nstat_*_descriptor`), nil if absent.
  public func descriptorSize(for kind: DescriptorKind) -> Int? {
    let l = layouts
    switch kind {
    case .tcp: return l.tcpDescriptor.size
    case .udp: return l.udpDescriptor.size
    case .route: return l.routeDescriptor.size
    case .ifnet: return l.interfaceDescriptor?.size
    case .sysinfo: return l.sysinfoDescriptor?.size
    case .connection: return l.connectionDescriptor?.size
    }
  }

  /// Position in release order. Comparisons run on every message in the simulator and the
  /// client, so they must not build version values; a test checks this order against
  /// ``lowestXNU``.
  var ordinal: Int {
    switch self {
    case .xnu1699: return 0
    case .xnu2050: return 1
    case .xnu2422: return 2
    case .xnu2782: return 3
    case .xnu3247: return 4
    case .xnu3789: return 5
    case .xnu4570: return 6
    case .xnu6153: return 7
    case .xnu7195: return 8
    case .xnu8019_41: return 9
    case .xnu8019_61: return 10
    case .xnu10002: return 11
    case .xnu11215: return 12
    }
  }

  public static func < (lhs: LayoutFamily, rhs: LayoutFamily) -> Bool {
    lhs.ordinal < rhs.ordinal
  }
}
