import NtstatFuzzChecks

// libFuzzer entry point: built with Tests/Tools/fuzz.sh (-sanitize=fuzzer, -DNTSTAT_FUZZING).
@_cdecl("LLVMFuzzerTestOneInput")
public func ntstatCaptureFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let violation = CaptureFuzzing.check(UnsafeRawBufferPointer(start: data, count: size)) {
    fatalError("capture fuzz property violated: \(violation)")
  }
  return 0
}
