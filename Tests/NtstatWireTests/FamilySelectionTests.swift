import NtstatTestSupport
import NtstatWire
import Testing

@Suite(.hangLimit) struct FamilySelectionTests {
  @Test func orderFollowsTheLowestXNUVersion() {
    let byVersion = LayoutFamily.allCases.sorted { $0.lowestXNU < $1.lowestXNU }
    #expect(LayoutFamily.allCases.sorted() == byVersion)
    for (a, b) in zip(byVersion, byVersion.dropFirst()) { #expect(a < b && !(b < a)) }
    // The comparison's own switch agrees with the rows.
    #expect(LayoutFamily.allCases.map(\.facts.ordinal) == Array(LayoutFamily.allCases.indices))
  }

  @Test(arguments: [
    ("xnu-1699.32.7", LayoutFamily.xnu1699), ("xnu-2050.48.11", .xnu2050), ("xnu-2422.1.72", .xnu2422),
    ("xnu-2782.40.9", .xnu2782), ("xnu-3247.1.106", .xnu3247), ("xnu-3248.60.10", .xnu3247),
    ("xnu-3789.70.16", .xnu3789), ("xnu-4570.71.2", .xnu4570), ("xnu-4903.270.47", .xnu4570),
    ("xnu-6153.141.1", .xnu6153), ("xnu-7195.141.2", .xnu7195), ("xnu-8019.41.5", .xnu8019_41),
    ("xnu-8019.61.5", .xnu8019_61), ("xnu-8020.140.41", .xnu8019_61), ("xnu-8796.141.3", .xnu8019_61),
    ("xnu-10002.1.13", .xnu10002), ("xnu-10063.141.1", .xnu10002), ("xnu-11215.1.10", .xnu11215),
    ("xnu-11417.121.6", .xnu11215), ("xnu-11417.140.69", .xnu11215), ("xnu-7195.999.1", .xnu7195),
  ])
  func xnuVersionsSelectByRange(version: String, family: LayoutFamily) throws {
    #expect(try LayoutFamily.parse(version) == family)
  }

  @Test(arguments: [
    ("11.4.2", LayoutFamily.xnu1699), ("13.4.0", .xnu2422), ("15.6.0", .xnu3247), ("17.7.0", .xnu4570),
    ("18.2.0", .xnu4570), ("19.6.0", .xnu6153), ("20.6.0", .xnu7195), ("21.1.0", .xnu8019_41),
    ("21.2.0", .xnu8019_61), ("22.6.0", .xnu8019_61), ("23.6.0", .xnu10002), ("24.5.0", .xnu11215),
  ])
  func darwinReleasesSelectByRange(release: String, family: LayoutFamily) throws {
    #expect(try LayoutFamily.parse(release) == family)
  }

  @Test func familyNamesParseToThemselves() throws {
    for family in LayoutFamily.allCases { #expect(try LayoutFamily.parse(family.name) == family) }
  }

  @Test func unameStringsAreParsed() throws {
    let kernel = KernelVersion(
      release: "24.5.0\n",
      version: "Darwin Kernel Version 24.5.0: Tue Apr 22 19:54:29 PDT 2025; root:xnu-11417.121.6~2/RELEASE_ARM64_T6000")
    #expect(kernel.darwin == DarwinVersion(24, 5, 0))
    #expect(kernel.xnu == XNUVersion(11417, 121, 6))
    #expect(try LayoutFamily.select(for: kernel) == .xnu11215)
  }

  @Test func macOS26SelectsXNU12377() throws {
    let tahoe = KernelVersion(
      release: "25.0.0", version: "Darwin Kernel Version 25.0.0: …; root:xnu-12377.1.9~3/RELEASE_ARM64_T8103")
    #expect(try LayoutFamily.select(for: tahoe) == .xnu12377)
    #expect(try LayoutFamily.select(for: KernelVersion(darwin: DarwinVersion(25, 1, 0))) == .xnu12377)
    #expect(try LayoutFamily.parse("xnu-12377.41.6") == .xnu12377)
    #expect(try LayoutFamily.parse("25.2.0") == .xnu12377)
    #expect(LayoutFamily.newest == .xnu12377)
  }

  @Test func unknownNewerKernelsFailClosedUnlessAssumed() throws {
    let next = KernelVersion(
      release: "26.0.0", version: "Darwin Kernel Version 26.0.0: …; root:xnu-13377.1.1~1/RELEASE_ARM64_T8103")
    #expect(throws: FamilySelectionError.unknownNewerKernel(next, newestKnown: .xnu12377)) {
      try LayoutFamily.select(for: next)
    }
    #expect(try LayoutFamily.select(for: next, assumeNewest: true) == .newest)
    #expect(throws: FamilySelectionError.self) { try LayoutFamily.parse("26.0") }
    #expect(throws: FamilySelectionError.self) { try LayoutFamily.parse("10.6.8") }
    #expect(throws: FamilySelectionError.self) { try LayoutFamily.parse("macOS") }
  }
}
