/// A set of XNU releases whose ntstat structs are byte-identical (and whose constants and
/// kernel behaviour the codec treats as one).
///
/// Families are selected by version *range*, never by exact tag: shipping kernels carry build
/// numbers that are not public tags. See ``KernelVersion`` and ``FamilySelection``. Every fact
/// about a family lives in one ``FamilyFacts`` row, so adding a family is adding a row.
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
  case xnu12377 = "xnu-12377"

  /// The newest family this library knows.
  public static let newest = LayoutFamily.xnu12377

  /// This family's row of facts.
  @inlinable
  public var facts: FamilyFacts {
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
    case .xnu12377: return .xnu12377
    }
  }

  /// The family name, which is also the lowest XNU version it covers (`xnu-8019.61`).
  public var name: String { rawValue }
  public var description: String { rawValue }

  /// The lowest XNU version in the family.
  public var lowestXNU: XNUVersion { facts.lowestXNU }
  /// The Darwin releases of the family, as (major, lowest minor) … (major, highest minor).
  public var darwinRange: ClosedRange<DarwinVersion> { facts.darwinRange }
  /// macOS releases of the family (Apple's Darwin-major → macOS mapping).
  public var macOSReleases: String { facts.macOSReleases }
  /// The kernel sources whose compiled layouts this family's tables were checked against.
  public var verifiedTags: [String] { facts.verifiedTags }
  /// Where those sources came from.
  public var provenance: FamilyProvenance { facts.provenance }
  /// The struct layouts of this family.
  public var layouts: FamilyLayouts { facts.layouts }
  /// Provider ids of this family, as declared in its header.
  public var providers: [(ProviderID, ProviderKind)] { facts.providers.map { (ProviderID(rawValue: $0.0), $0.1) } }

  /// From xnu-3247 the header's padding became `length` and `flags`, and the kernel may pack
  /// several messages into one datagram.
  public var hasLengthAndFlags: Bool { self >= .xnu3247 }

  /// Up to xnu-3248 a freed source ref is handed out again (`nstat_control_next_src_ref` takes
  /// the first value not in use); from xnu-3789 refs only count up.
  public var reusesSourceRefs: Bool { self < .xnu3789 }

  /// `nstat_src_ref_t` is 32-bit up to xnu-3248 and 64-bit from xnu-3789.
  public var sourceRefWidth: Int { self >= .xnu3789 ? 8 : 4 }

  /// xnu-12377+: GET_DETAILS and the SRC_DETAILS / SRC_EXTENDED_DETAILS messages.
  public var hasDetails: Bool { layouts.sourceDetailsMessage != nil }

  /// What a provider id means in this family, or nil if the family does not define it.
  public func providerKind(for id: ProviderID) -> ProviderKind? {
    facts.providers.first { $0.0 == id.rawValue }?.1
  }

  /// The id of a provider kind in this family, or nil if the family has no such provider.
  public func providerID(for kind: ProviderKind) -> ProviderID? {
    facts.providers.first { $0.1 == kind }.map { ProviderID(rawValue: $0.0) }
  }

  /// Descriptor size for a provider kind in this family (`nstat_*_descriptor`), nil if absent.
  public func descriptorSize(for kind: DescriptorKind) -> Int? { layouts.descriptorSize(for: kind) }

  /// Position in release order: the declaration order of the cases. Comparisons run on every
  /// message in the simulator and the client, so this is a plain switch (reaching the row
  /// through its lazily initialised global cost the engine a fifth of its speed); a test checks
  /// it against the rows' `ordinal` and their ``lowestXNU``.
  @inlinable
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
    case .xnu12377: return 13
    }
  }

  @inlinable
  public static func < (lhs: LayoutFamily, rhs: LayoutFamily) -> Bool {
    lhs.ordinal < rhs.ordinal
  }
}

/// Where a family's layouts were compiled from.
public enum FamilyProvenance: Hashable, Sendable {
  /// Tags of Apple's `apple-oss-distributions/xnu`.
  case appleTags
  /// A tree that is not an Apple tag (a third-party mirror of a newer kernel), at a commit;
  /// the facts cross-checked against the shipping OS are in docs/protocol.md.
  case tree(repository: String, commit: String)

  /// One line for `ntstat families`: `Apple tags` or `ProjectCalamari/xnu@a430cb1893d0 (not an Apple tag)`.
  public var summary: String {
    switch self {
    case .appleTags: return "Apple tags"
    case .tree(let repository, let commit): return "\(repository)@\(commit.prefix(12)) (not an Apple tag)"
    }
  }
}

/// Everything the library knows about one family: one row per family. A class, so that reading
/// one fact is one reference to the row, not a copy of all of them.
public final class FamilyFacts: Sendable {
  /// Position in release order.
  public let ordinal: Int
  public let lowestXNU: XNUVersion
  public let darwinRange: ClosedRange<DarwinVersion>
  public let macOSReleases: String
  public let verifiedTags: [String]
  public let provenance: FamilyProvenance
  public let layouts: FamilyLayouts
  /// (provider id, kind) as the family's header numbers them.
  let providers: [(UInt32, ProviderKind)]

  init(
    ordinal: Int, lowestXNU: XNUVersion, darwinRange: ClosedRange<DarwinVersion>, macOSReleases: String,
    verifiedTags: [String], provenance: FamilyProvenance, layouts: FamilyLayouts, providers: [(UInt32, ProviderKind)]
  ) {
    self.ordinal = ordinal
    self.lowestXNU = lowestXNU
    self.darwinRange = darwinRange
    self.macOSReleases = macOSReleases
    self.verifiedTags = verifiedTags
    self.provenance = provenance
    self.layouts = layouts
    self.providers = providers
  }

  static let classic: [(UInt32, ProviderKind)] = [(1, .route), (2, .tcpKernel), (3, .udpKernel)]
  static let withIfnet: [(UInt32, ProviderKind)] = classic + [(4, .ifnet)]
  static let withSysinfo: [(UInt32, ProviderKind)] = withIfnet + [(5, .sysinfo)]
  static let renumbered: [(UInt32, ProviderKind)] = [
    (1, .route), (2, .tcpKernel), (3, .tcpUserland), (4, .udpKernel), (5, .udpUserland), (6, .ifnet), (7, .sysinfo),
  ]
  static let withQUIC: [(UInt32, ProviderKind)] = renumbered + [(8, .quicUserland)]
  static let withConn: [(UInt32, ProviderKind)] = withQUIC + [(9, .connUserland), (10, .udpSubflow)]

  static func darwin(_ low: Int, _ lowMinor: Int, _ high: Int, _ highMinor: Int) -> ClosedRange<DarwinVersion> {
    DarwinVersion(low, lowMinor)...DarwinVersion(high, highMinor)
  }

  public static let xnu1699 = FamilyFacts(
    ordinal: 0, lowestXNU: XNUVersion(1699), darwinRange: darwin(11, 0, 11, 99), macOSReleases: "10.7",
    verifiedTags: ["xnu-1699.22.73", "xnu-1699.32.7"], provenance: .appleTags, layouts: .xnu1699, providers: classic)
  public static let xnu2050 = FamilyFacts(
    ordinal: 1, lowestXNU: XNUVersion(2050), darwinRange: darwin(12, 0, 12, 99), macOSReleases: "10.8",
    verifiedTags: ["xnu-2050.7.9", "xnu-2050.48.11"], provenance: .appleTags, layouts: .xnu2050, providers: classic)
  public static let xnu2422 = FamilyFacts(
    ordinal: 2, lowestXNU: XNUVersion(2422), darwinRange: darwin(13, 0, 13, 99), macOSReleases: "10.9",
    verifiedTags: ["xnu-2422.1.72", "xnu-2422.115.4"], provenance: .appleTags, layouts: .xnu2422,
    providers: withIfnet)
  public static let xnu2782 = FamilyFacts(
    ordinal: 3, lowestXNU: XNUVersion(2782), darwinRange: darwin(14, 0, 14, 99), macOSReleases: "10.10",
    verifiedTags: ["xnu-2782.1.97", "xnu-2782.40.9"], provenance: .appleTags, layouts: .xnu2782,
    providers: withSysinfo)
  public static let xnu3247 = FamilyFacts(
    ordinal: 4, lowestXNU: XNUVersion(3247), darwinRange: darwin(15, 0, 15, 99), macOSReleases: "10.11",
    verifiedTags: ["xnu-3247.10.11", "xnu-3248.60.10"], provenance: .appleTags, layouts: .xnu3247,
    providers: withSysinfo)
  public static let xnu3789 = FamilyFacts(
    ordinal: 5, lowestXNU: XNUVersion(3789), darwinRange: darwin(16, 0, 16, 99), macOSReleases: "10.12",
    verifiedTags: ["xnu-3789.1.32", "xnu-3789.70.16"], provenance: .appleTags, layouts: .xnu3789,
    providers: renumbered)
  public static let xnu4570 = FamilyFacts(
    ordinal: 6, lowestXNU: XNUVersion(4570), darwinRange: darwin(17, 0, 18, 99), macOSReleases: "10.13–10.14",
    verifiedTags: ["xnu-4570.1.46", "xnu-4570.71.2", "xnu-4903.241.1"], provenance: .appleTags, layouts: .xnu4570,
    providers: renumbered)
  public static let xnu6153 = FamilyFacts(
    ordinal: 7, lowestXNU: XNUVersion(6153), darwinRange: darwin(19, 0, 19, 99), macOSReleases: "10.15",
    verifiedTags: ["xnu-6153.11.26", "xnu-6153.141.1"], provenance: .appleTags, layouts: .xnu6153,
    providers: withQUIC)
  public static let xnu7195 = FamilyFacts(
    ordinal: 8, lowestXNU: XNUVersion(7195), darwinRange: darwin(20, 0, 20, 99), macOSReleases: "11",
    verifiedTags: ["xnu-7195.50.7.100.1", "xnu-7195.141.2"], provenance: .appleTags, layouts: .xnu7195,
    providers: withQUIC)
  public static let xnu8019_41 = FamilyFacts(
    ordinal: 9, lowestXNU: XNUVersion(8019), darwinRange: darwin(21, 0, 21, 1), macOSReleases: "12.0",
    verifiedTags: ["xnu-8019.41.5"], provenance: .appleTags, layouts: .xnu8019_41, providers: withQUIC)
  public static let xnu8019_61 = FamilyFacts(
    ordinal: 10, lowestXNU: XNUVersion(8019, 61), darwinRange: darwin(21, 2, 22, 99), macOSReleases: "12.1–13",
    verifiedTags: ["xnu-8019.61.5", "xnu-8020.140.41", "xnu-8792.41.9", "xnu-8796.141.3"], provenance: .appleTags,
    layouts: .xnu8019_61, providers: withConn)
  public static let xnu10002 = FamilyFacts(
    ordinal: 11, lowestXNU: XNUVersion(10002), darwinRange: darwin(23, 0, 23, 99), macOSReleases: "14",
    verifiedTags: ["xnu-10002.1.13", "xnu-10063.141.1"], provenance: .appleTags, layouts: .xnu10002,
    providers: withConn)
  public static let xnu11215 = FamilyFacts(
    ordinal: 12, lowestXNU: XNUVersion(11215), darwinRange: darwin(24, 0, 24, 99), macOSReleases: "15",
    verifiedTags: ["xnu-11215.1.10", "xnu-11417.121.6"], provenance: .appleTags, layouts: .xnu11215,
    providers: withConn)
  /// macOS 26. Apple has published no xnu-12377 tag; the layouts come from a third-party tree
  /// whose interface agrees with what macOS 26's NetworkStatistics framework checks
  /// (docs/protocol.md, "xnu-12377").
  public static let xnu12377 = FamilyFacts(
    ordinal: 13, lowestXNU: XNUVersion(12377), darwinRange: darwin(25, 0, 25, 99), macOSReleases: "26",
    verifiedTags: ["xnu-12377"],
    provenance: .tree(repository: "ProjectCalamari/xnu", commit: "a430cb1893d06204880ad635a6bed35d658eee11"),
    layouts: .xnu12377, providers: withConn)
}
