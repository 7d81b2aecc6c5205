import ArgumentParser
import NtstatWire

/// A `--family` value: a family name (`xnu-11215`), `newest`, an XNU version
/// (`xnu-11417.121.6`) or a Darwin release (`24.5.0`).
///
/// Checked when the arguments are parsed: a text that names none of these, or a kernel older
/// than the first family, is a usage error before any command runs. Whether a version newer
/// than every known family is accepted depends on the command (`--assume-newest`), so the
/// commands resolve it in `validate()`, still before running.
struct FamilyArgument: Hashable {
  /// The text as given (an exact version is simulated as that tag).
  let text: String

  init(parsing text: String) throws(ValidationError) {
    do { _ = try LayoutFamily.parse(text, assumeNewest: true) } catch { throw ValidationError(error.description) }
    self.text = text
  }

  /// The family; a kernel newer than every known family only with `assumeNewest`.
  func resolve(assumeNewest: Bool) throws(ValidationError) -> LayoutFamily {
    do { return try LayoutFamily.parse(text, assumeNewest: assumeNewest) } catch {
      throw ValidationError(error.description)
    }
  }
}
