import ArgumentParser
import NtstatWire

/// `ntstat families`: the layout families this build knows, as a table or JSON Lines.
struct FamiliesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "families", abstract: "List the XNU layout families and how each is selected.")

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  func run() {
    if json {
      for family in LayoutFamily.allCases {
        print(
          FieldRendering.json(
            .object([
              Field("family", .string(family.name)), Field("macos", .string(family.macOSReleases)),
              Field(
                "darwin",
                .string(
                  "\(family.darwinRange.lowerBound.major).\(family.darwinRange.lowerBound.minor)–\(family.darwinRange.upperBound.major).x"
                )),
              Field("tcp_descriptor", .uint(UInt64(family.layouts.tcpDescriptor.size))),
              Field("providers", .array(family.providers.map { .string("\($0.0.rawValue)=\($0.1.rawValue)") })),
              Field("verified_tags", .array(family.verifiedTags.map { .string($0) })),
              Field("source", provenance(family.provenance)),
              Field("details", .bool(family.hasDetails)),
            ])))
      }
      return
    }
    let rows = LayoutFamily.allCases.map { family -> [String] in
      let d = family.darwinRange
      let darwin =
        d.lowerBound.major == d.upperBound.major
        ? (d.lowerBound.minor == 0 && d.upperBound.minor == 99
          ? "\(d.lowerBound.major).x"
          : "\(d.lowerBound.major).\(d.lowerBound.minor)–\(d.upperBound.major).\(d.upperBound.minor)")
        : "\(d.lowerBound.major).\(d.lowerBound.minor)–\(d.upperBound.major).x"
      return [
        family.name, family.macOSReleases, darwin, String(family.layouts.tcpDescriptor.size),
        String(family.layouts.udpDescriptor.size), family.providers.map(\.1.rawValue).joined(separator: ","),
        family.provenance.summary,
      ]
    }
    print(
      TextTable.render(header: ["family", "macOS", "Darwin", "tcp", "udp", "providers", "layouts from"], rows: rows))
  }

  func provenance(_ provenance: FamilyProvenance) -> FieldValue {
    switch provenance {
    case .appleTags:
      return .object([Field("repository", .string("apple-oss-distributions/xnu")), Field("apple_tag", .bool(true))])
    case .tree(let repository, let commit):
      return .object([
        Field("repository", .string(repository)), Field("commit", .string(commit)), Field("apple_tag", .bool(false)),
      ])
    }
  }
}

/// Left-aligned columns separated by two spaces.
enum TextTable {
  static func render(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
      row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }.joined(separator: "  ")
    }.joined(separator: "\n")
  }
}
