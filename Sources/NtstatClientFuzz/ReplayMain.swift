#if !NTSTAT_FUZZING
  import NtstatFuzzSupport
  import NtstatFuzzChecks

  /// Without the fuzzer runtime: replays input files through the same check.
  @main
  struct ReplayClientInputs {
    static func main() {
      replayInputs { bytes in bytes.withUnsafeBytes { ClientFuzzing.check($0)?.description } }
    }
  }
#endif
