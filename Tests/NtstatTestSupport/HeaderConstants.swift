import Foundation
import NtstatWire

/// The protocol numbers compiled from each tag's headers (`Tests/Tools/layouts/constants.sh`),
/// committed under `Tests/NtstatWireTests/Fixtures/constants`: the oracle for every constant
/// the code uses.
package enum HeaderConstants {
  package static let directory = "Tests/NtstatWireTests/Fixtures/constants"

  /// Every tag with a fixture, sorted by name.
  package static var tags: [String] {
    Repository.files(in: directory, endingIn: [".json"]).map { String($0.dropLast(5)) }
  }

  /// The constants of `tag`, by C name.
  package static func values(_ tag: String) throws -> [String: UInt64] {
    let data = try Data(contentsOf: Repository.url("\(directory)/\(tag).json"))
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let values = object["constants"] as? [String: NSNumber]
    else { throw FixtureError(path: "\(directory)/\(tag).json", reason: "no \"constants\" object") }
    return values.mapValues(\.uint64Value)
  }

  /// The newest derived tag of `family` no newer than `version`, and its constants.
  package static func nearest(
    to version: XNUVersion, in family: LayoutFamily
  ) throws -> (tag: String, values: [String: UInt64]) {
    let candidates = tags.compactMap(XNUVersion.init).filter {
      $0 <= version && LayoutFamily.family(forXNU: $0) == family
    }
    guard let tag = candidates.max() else {
      throw FixtureError(path: directory, reason: "no tag of \(family.name) at or below \(version)")
    }
    return (tag.description, try values(tag.description))
  }
}

/// A committed fixture that is missing or malformed.
package struct FixtureError: Error, CustomStringConvertible {
  package var path: String
  package var reason: String
  package var description: String { "\(path): \(reason)" }
}
