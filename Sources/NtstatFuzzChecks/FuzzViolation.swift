/// A property a fuzz check found violated: what, in words. The one result type of every check
/// in this target (wire, capture, client), for the fuzz executables and for the unit tests that
/// replay saved inputs.
package struct FuzzViolation: Error, CustomStringConvertible, Equatable {
  package var description: String

  package init(_ description: String) { self.description = description }
}
