#if !NTSTAT_FUZZING
  import NtstatFuzzSupport
  import NtstatFuzzChecks

  /// Without the fuzzer runtime: replays input files through the same check.
  @main
  struct ReplayCaptureInputs {
    static func main() {
      replayInputs { bytes in bytes.withUnsafeBytes { CaptureFuzzing.check($0)?.description } }
    }
  }
#endif
