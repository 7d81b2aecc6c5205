/// An XNU version such as `11417.121.6` (from `xnu-11417.121.6~2` in `kern.version`).
public struct XNUVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// Dot-separated components; missing trailing components compare as zero.
  public var components: [Int]

  public init(_ components: Int...) { self.components = components }
  public init(components: [Int]) { self.components = components }

  /// Parses `11417.121.6`, `xnu-11417.121.6` or `xnu-11417.121.6~2`.
  public init?(_ text: String) {
    var body = Substring(text)
    if body.hasPrefix("xnu-") { body = body.dropFirst(4) }
    if let tilde = body.firstIndex(of: "~") { body = body[..<tilde] }
    let parts = body.split(separator: ".", omittingEmptySubsequences: false)
    guard !parts.isEmpty, parts.count <= 6 else { return nil }
    var components: [Int] = []
    for part in parts {
      guard !part.isEmpty, part.count <= 9, part.allSatisfy(\.isASCII), let value = Int(part) else { return nil }
      components.append(value)
    }
    self.components = components
  }

  public var major: Int { components.first ?? 0 }
  public var description: String { "xnu-" + components.map(String.init).joined(separator: ".") }

  public static func < (lhs: XNUVersion, rhs: XNUVersion) -> Bool {
    let count = max(lhs.components.count, rhs.components.count)
    for index in 0..<count {
      let l = index < lhs.components.count ? lhs.components[index] : 0
      let r = index < rhs.components.count ? rhs.components[index] : 0
      if l != r { return l < r }
    }
    return false
  }

  public static func == (lhs: XNUVersion, rhs: XNUVersion) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
  public func hash(into hasher: inout Hasher) {
    var trimmed = components
    while trimmed.last == 0 { trimmed.removeLast() }
    hasher.combine(trimmed)
  }
}

/// A Darwin release (`uname -r`, `kern.osrelease`) such as `24.5.0`.
public struct DarwinVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var major: Int
  public var minor: Int
  public var patch: Int

  public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
    self.major = major
    self.minor = minor
    self.patch = patch
  }

  /// Parses `24.5.0` or `24.5`; the major number must be below 100 (to tell it from XNU).
  public init?(_ text: String) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard (2...3).contains(parts.count),
      let major = Int(parts[0]), let minor = Int(parts[1]), (0..<100).contains(major), minor >= 0
    else { return nil }
    let patch = parts.count == 3 ? Int(parts[2]) : 0
    guard let patch, patch >= 0 else { return nil }
    self.init(major, minor, patch)
  }

  public var description: String { "\(major).\(minor).\(patch)" }

  public static func < (lhs: DarwinVersion, rhs: DarwinVersion) -> Bool {
    (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
  }
}

/// What a Mac says about its kernel: `uname -r` and `uname -v`.
public struct KernelVersion: Hashable, Sendable, CustomStringConvertible {
  /// The Darwin release (`24.5.0`), if known.
  public var darwin: DarwinVersion?
  /// The XNU build (`xnu-11417.121.6`), if the version string carried one.
  public var xnu: XNUVersion?

  public init(darwin: DarwinVersion? = nil, xnu: XNUVersion? = nil) {
    self.darwin = darwin
    self.xnu = xnu
  }

  /// Parses `uname -r` (`24.5.0`) and `uname -v`
  /// (`Darwin Kernel Version 24.5.0: …; root:xnu-11417.121.6~2/RELEASE_ARM64_T6000`); either may
  /// be nil or lack the part it usually carries.
  public init(release: String?, version: String?) {
    darwin = release.flatMap { DarwinVersion($0.trimmingSpaces) }
    if let version {
      if let range = version.firstRange(of: "xnu-") {
        let tail = version[range.lowerBound...].prefix { !$0.isWhitespace && $0 != "/" }
        xnu = XNUVersion(String(tail))
      }
      if darwin == nil, let range = version.firstRange(of: "Darwin Kernel Version ") {
        let tail = version[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        darwin = DarwinVersion(String(tail))
      }
    }
  }

  public var description: String {
    [darwin.map { "Darwin \($0)" }, xnu.map(\.description)].compactMap { $0 }.joined(separator: ", ")
  }
}

extension String {
  var trimmingSpaces: String {
    String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
  }
}

/// Why no family could be chosen for a kernel.
public enum FamilySelectionError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The kernel is newer than every family this library knows: its layouts may have changed.
  case unknownNewerKernel(KernelVersion, newestKnown: LayoutFamily)
  /// The kernel predates ntstat's first public layout (xnu-1699, OS X 10.7).
  case tooOld(KernelVersion)
  /// Neither a Darwin release nor an XNU version was given.
  case noVersion
  /// A `--family` argument that is neither a family name, an XNU version nor a Darwin release.
  case unrecognised(String)

  public var description: String {
    switch self {
    case .unknownNewerKernel(let kernel, let newest):
      return
        "kernel \(kernel) is newer than the newest known layout family \(newest) (macOS \(newest.macOSReleases)); "
        + "its structs may differ. Pass --assume-newest (or --family newest, or a family name) to decode it as "
        + "\(newest) anyway; live, ntstat checks \(newest) against what the kernel sends"
    case .tooOld(let kernel):
      return "kernel \(kernel) predates the first ntstat layout (xnu-1699, OS X 10.7)"
    case .noVersion:
      return "no kernel version given: need a Darwin release (24.5.0) or an XNU version (xnu-11417.121.6)"
    case .unrecognised(let text):
      return "'\(text)' is not a layout family, an XNU version (xnu-11417.121.6) or a Darwin release (24.5.0); "
        + "families: " + LayoutFamily.allCases.map(\.name).joined(separator: ", ")
    }
  }
}

extension LayoutFamily {
  /// The newest Darwin major and XNU major this library has seen layouts for; anything above is
  /// an unknown newer kernel.
  public static let newestKnownDarwinMajor = 25
  static let newestKnownXNUMajor = 12999

  /// The family of an XNU version, by range.
  public static func family(forXNU version: XNUVersion) -> LayoutFamily? {
    guard version >= LayoutFamily.xnu1699.lowestXNU, version.major <= newestKnownXNUMajor else { return nil }
    return allCases.last { $0.lowestXNU <= version }
  }

  /// The family of a Darwin release, by range.
  public static func family(forDarwin version: DarwinVersion) -> LayoutFamily? {
    allCases.first { $0.darwinRange.contains(DarwinVersion(version.major, version.minor)) }
  }

  /// Chooses the family for a kernel. The XNU version wins when both are known (it is the
  /// finer-grained of the two). A kernel newer than every known family fails closed unless
  /// `assumeNewest` is set, in which case it is decoded as ``newest``.
  public static func select(
    for kernel: KernelVersion, assumeNewest: Bool = false
  ) throws(FamilySelectionError)
    -> LayoutFamily
  {
    if let xnu = kernel.xnu {
      if xnu < LayoutFamily.xnu1699.lowestXNU { throw .tooOld(kernel) }
      if let family = family(forXNU: xnu) { return family }
      if assumeNewest { return .newest }
      throw .unknownNewerKernel(kernel, newestKnown: .newest)
    }
    if let darwin = kernel.darwin {
      if darwin.major < 11 { throw .tooOld(kernel) }
      if let family = family(forDarwin: darwin) { return family }
      if assumeNewest { return .newest }
      throw .unknownNewerKernel(kernel, newestKnown: .newest)
    }
    throw .noVersion
  }

  /// Parses a user's `--family` argument: a family name (`xnu-8019.61`), an XNU version
  /// (`xnu-11417.121.6`, `11417.121.6`), a Darwin release (`24.5.0`), or `newest`.
  public static func parse(_ text: String, assumeNewest: Bool = false) throws(FamilySelectionError) -> LayoutFamily {
    let trimmed = text.trimmingSpaces
    if trimmed == "newest" || trimmed == "latest" { return .newest }
    if let family = LayoutFamily(rawValue: trimmed) { return family }
    if let darwin = DarwinVersion(trimmed) {
      return try select(for: KernelVersion(darwin: darwin), assumeNewest: assumeNewest)
    }
    if let xnu = XNUVersion(trimmed), trimmed.hasPrefix("xnu-") || xnu.major >= 100 {
      return try select(for: KernelVersion(xnu: xnu), assumeNewest: assumeNewest)
    }
    throw .unrecognised(text)
  }
}
