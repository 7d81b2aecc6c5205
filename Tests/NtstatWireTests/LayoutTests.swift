import Foundation
import NtstatTestSupport
import NtstatWire
import Testing

/// Pins every family's layout tables to the offsets and sizes obtained by compiling each XNU
/// tag's `ntstat.h` for x86_64 and arm64 (Fixtures/layouts, made by Tests/Tools/layouts/derive.sh).
@Suite(.hangLimit) struct LayoutTests {
  struct CompiledLayout: Decodable {
    struct Record: Decodable {
      let size: Int
      let fields: [String: [CodableValue]]
    }
    let tag: String
    let structs: [String: Record]
  }

  /// The fixture's `[offset, "type"]` pairs.
  enum CodableValue: Decodable {
    case int(Int), string(String), ints([Int])
    init(from decoder: Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let v = try? c.decode(Int.self) {
        self = .int(v)
      } else if let v = try? c.decode(String.self) {
        self = .string(v)
      } else {
        self = .ints(try c.decode([Int].self))
      }
    }
    var int: Int? { if case .int(let v) = self { return v } else { return nil } }
  }

  static func compiled(_ tag: String) throws -> CompiledLayout {
    let url = try #require(Bundle.module.url(forResource: tag, withExtension: "json", subdirectory: "Fixtures/layouts"))
    return try JSONDecoder().decode(CompiledLayout.self, from: Data(contentsOf: url))
  }

  /// Compares one layout table with every C struct it describes in one compiled tag.
  static func check<F: LayoutField>(_ layout: StructLayout<F>?, in compiled: CompiledLayout, family: LayoutFamily) {
    for cName in F.cStructNames {
      let record = compiled.structs[cName]
      guard let layout else {
        #expect(record == nil, "\(family) has no table for \(cName) but \(compiled.tag) defines it")
        continue
      }
      guard let record else {
        Issue.record("\(family) has a table for \(cName) but \(compiled.tag) does not define it")
        continue
      }
      #expect(layout.size == record.size, "sizeof(\(cName)) in \(compiled.tag)")
      for field in F.allCases {
        let entry = record.fields[field.cFieldPath]
        let expected = entry?.first?.int
        #expect(layout[field]?.offset == expected, "\(cName).\(field.cFieldPath) in \(compiled.tag)")
        if let entry, entry.count > 1, case .string(let type) = entry[1], let width = Self.width(ofCType: type) {
          #expect(layout[field]?.width == width, "width of \(cName).\(field.cFieldPath) (\(type)) in \(compiled.tag)")
        }
      }
    }
  }

  /// The size of the C types whose size the name alone gives (arrays and fixed-width integers).
  static func width(ofCType type: String) -> Int? {
    let fixed: [String: Int] = [
      "u_int64_t": 8, "uint64_t": 8, "nstat_event_flags_t": 8, "u_int32_t": 4, "uint32_t": 4, "pid_t": 4,
      "uid_t": 4, "nstat_provider_id_t": 4, "u_int16_t": 2, "uint16_t": 2, "u_int8_t": 1, "uint8_t": 1,
      "bool": 1, "uuid_t": 16,
    ]
    if let width = fixed[type] { return width }
    if let open = type.firstIndex(of: "["), type.hasSuffix("]"),
      let count = Int(type[type.index(after: open)..<type.index(before: type.endIndex)])
    {
      return count
    }
    return nil
  }

  @Test(
    "every field offset and struct size matches the compiled header of every tag in the family",
    arguments: LayoutFamily.allCases)
  func tablesMatchCompiledHeaders(family: LayoutFamily) throws {
    let l = family.layouts
    for tag in family.verifiedTags {
      let c = try Self.compiled(tag)
      Self.check(l.counts, in: c, family: family)
      Self.check(l.errorMessage, in: c, family: family)
      Self.check(l.addSourceMessage, in: c, family: family)
      Self.check(l.addAllSourcesMessage, in: c, family: family)
      Self.check(l.sourceAddedMessage, in: c, family: family)
      Self.check(l.sourceRefMessage, in: c, family: family)
      Self.check(l.setFilterMessage, in: c, family: family)
      Self.check(l.sourceDescriptionMessage, in: c, family: family)
      Self.check(l.sourceCountsMessage, in: c, family: family)
      Self.check(l.sourceUpdateMessage, in: c, family: family)
      Self.check(l.trafficStats, in: c, family: family)
      Self.check(l.mediaStats, in: c, family: family)
      Self.check(l.detailedCounts, in: c, family: family)
      Self.check(l.sourceDetailsMessage, in: c, family: family)
      Self.check(l.sysinfoCountsMessage, in: c, family: family)
      Self.check(l.sysinfoCountsHeader, in: c, family: family)
      Self.check(l.sysinfoKeyValue, in: c, family: family)
      Self.check(l.tcpDescriptor, in: c, family: family)
      Self.check(l.udpDescriptor, in: c, family: family)
      Self.check(l.routeDescriptor, in: c, family: family)
      Self.check(l.interfaceDescriptor, in: c, family: family)
      Self.check(l.connectionDescriptor, in: c, family: family)
      Self.check(l.domainInfo, in: c, family: family)
      Self.check(l.interfaceCounts, in: c, family: family)
      Self.check(l.sysinfoDescriptor, in: c, family: family)
      Self.check(l.routeAddParameters, in: c, family: family)
      Self.check(l.tcpAddParameters, in: c, family: family)
      Self.check(l.interfaceAddParameters, in: c, family: family)
      Self.check(l.sysinfoAddParameters, in: c, family: family)
    }
  }

  /// xnu-12377's details structs, typed in by hand from what macOS 26's NetworkStatistics
  /// framework checks (message type 1009, minimum lengths 488/688/768/832, the provider at 480)
  /// and from the struct definitions (`traffic_stats` is four u64 and a 24-byte bitmap), as a
  /// check that does not go through the fixtures or the generator.
  @Test func detailsStructsAgreeWithWhatMacOS26Checks() throws {
    let l = LayoutFamily.xnu12377.layouts
    let details = try #require(l.sourceDetailsMessage)
    #expect(details[.data]?.offset == 488)
    #expect(details[.provider]?.offset == 480)
    #expect(details[.detailedCounts]?.offset == 32)
    #expect(details.size == 488)
    #expect(details[.data]!.offset + l.tcpDescriptor.size == 832)
    #expect(details[.data]!.offset + l.udpDescriptor.size == 768)
    #expect(details[.data]!.offset + l.connectionDescriptor!.size == 688)
    let counts = try #require(l.detailedCounts)
    #expect(counts.size == 448)
    #expect(counts[.mediaStats]?.offset == 0)
    #expect(counts[.rxDuplicateBytes]?.offset == 392)
    #expect(counts[.txRetransmit]?.offset == 408)
    #expect(counts[.minRTT]?.offset == 416)
    #expect(counts[.extraFlags]?.offset == 428)
    #expect(counts[.extraUUID]?.offset == 432)
    let media = try #require(l.mediaStats)
    #expect(media.size == 7 * 56)
    for (index, field) in MediaStatsField.allCases.enumerated() { #expect(media[field]?.offset == index * 56) }
    let traffic = try #require(l.trafficStats)
    #expect(traffic.size == 56)
    #expect(traffic[.activityBitmap]?.offset == 32)
    // No family before it has any of them.
    for family in LayoutFamily.allCases where family < .xnu12377 {
      #expect(family.layouts.sourceDetailsMessage == nil && family.layouts.detailedCounts == nil, "\(family)")
    }
  }

  /// Sizes typed in by hand from shared/reference/xnu-ntstat.md §a (computed there by compiling),
  /// as a check that does not go through the fixtures or the generator.
  @Test func sizesAgreeWithTheReferenceTable() {
    let families = LayoutFamily.allCases
    let tcp = [168, 172, 216, 252, 260, 260, 304, 304, 336, 336, 336, 344, 344, 344]
    let udp = [144, 148, 192, 208, 212, 212, 256, 256, 272, 272, 272, 280, 280, 280]
    let counts = [64, 64, 96, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112]
    let srcCounts = [84, 84, 116, 132, 132, 144, 144, 144, 144, 144, 144, 144, 144, 144]
    let descData = [24, 24, 24, 24, 24, 36, 40, 40, 40, 40, 40, 40, 40, 40]
    let addAll = [20, 20, 20, 20, 28, 56, 56, 56, 56, 56, 56, 56, 56, 56]
    let error = [20, 20, 20, 20, 20, 20, 24, 24, 24, 24, 24, 24, 24, 24]
    for (index, family) in families.enumerated() {
      let l = family.layouts
      #expect(l.tcpDescriptor.size == tcp[index], "tcp descriptor \(family)")
      #expect(l.udpDescriptor.size == udp[index], "udp descriptor \(family)")
      #expect(l.counts.size == counts[index], "nstat_counts \(family)")
      #expect(l.sourceCountsMessage.size == srcCounts[index], "src_counts \(family)")
      #expect(l.sourceDescriptionMessage[.data]?.offset == descData[index], "src_desc data \(family)")
      #expect(l.addAllSourcesMessage.size == addAll[index], "add_all \(family)")
      #expect(l.errorMessage.size == error[index], "error \(family)")
    }
    // Offsets the reference singles out as moving (macOS 11 shifted TCP fields by 16).
    #expect(LayoutFamily.xnu4570.layouts.tcpDescriptor[.pid]?.offset == 100)
    #expect(LayoutFamily.xnu7195.layouts.tcpDescriptor[.pid]?.offset == 116)
    #expect(LayoutFamily.xnu7195.layouts.tcpDescriptor[.processName]?.offset == 196)
    #expect(LayoutFamily.xnu7195.layouts.tcpDescriptor[.local]?.offset == 124)
    #expect(LayoutFamily.xnu11215.layouts.tcpDescriptor[.state]?.offset == 76)
    #expect(LayoutFamily.xnu2422.layouts.tcpDescriptor[.processName]?.offset == 108)
    #expect(LayoutFamily.xnu8019_41.layouts.domainInfo?.size == 1032)
    #expect(LayoutFamily.xnu8019_61.layouts.domainInfo?.size == 1056)
    #expect(LayoutFamily.xnu8019_61.layouts.connectionDescriptor?.size == 192)
    #expect(LayoutFamily.xnu10002.layouts.connectionDescriptor?.size == 200)
  }

  @Test func sourceRefWidthFollowsTheFamily() {
    #expect(LayoutFamily.xnu3247.layouts.sourceRefMessage[.sourceRef]?.width == 4)
    #expect(LayoutFamily.xnu3789.layouts.sourceRefMessage[.sourceRef]?.width == 8)
    #expect(LayoutFamily.xnu7195.layouts.tcpDescriptor[.interfaceProperties]?.width == 2)
    #expect(LayoutFamily.xnu8019_41.layouts.tcpDescriptor[.interfaceProperties]?.width == 4)
  }
}
