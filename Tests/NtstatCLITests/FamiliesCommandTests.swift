import Foundation
import NtstatTestSupport
import NtstatWire
import Testing

/// `ntstat families` lists every family, and says where each one's layouts came from.
@Suite(.hangLimit) struct FamiliesCommandTests {
  @Test func listsEveryFamilyWithItsProvenance() throws {
    let json = try NtstatProcess.run(["families", "--json"])
    #expect(json.status == 0)
    let rows = try json.stdout.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    #expect(rows.map { $0["family"] as? String } == LayoutFamily.allCases.map(\.name))
    let tahoe = try #require(rows.first { $0["family"] as? String == "xnu-12377" })
    #expect(tahoe["macos"] as? String == "26")
    #expect(tahoe["details"] as? Bool == true)
    let source = try #require(tahoe["source"] as? [String: Any])
    #expect(source["repository"] as? String == "ProjectCalamari/xnu")
    #expect(source["commit"] as? String == "a430cb1893d06204880ad635a6bed35d658eee11")
    #expect(source["apple_tag"] as? Bool == false)
    for row in rows where row["family"] as? String != "xnu-12377" {
      #expect((row["source"] as? [String: Any])?["apple_tag"] as? Bool == true)
    }

    let table = try NtstatProcess.run(["families"])
    let line = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("xnu-12377") })
    #expect(line.contains("ProjectCalamari/xnu@a430cb1893d0 (not an Apple tag)"))
  }
}
