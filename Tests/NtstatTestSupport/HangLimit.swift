import Testing

extension Trait where Self == TimeLimitTrait {
  /// The one time limit every suite has: it turns a hang into a failure, and is no measure of
  /// speed. Swift Testing starts every test of a run at once and counts a test's time from
  /// then, so a test that waits for a free thread counts its wait: the limit has to hold the
  /// whole run. Under AddressSanitizer, beside a second suite on two cores, that was 17 minutes
  /// (docs/reliability.md); CI's limit is 90.
  package static var hangLimit: Self { .timeLimit(.minutes(30)) }
}
