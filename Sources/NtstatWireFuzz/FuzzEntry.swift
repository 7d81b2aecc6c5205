import NtstatFuzzChecks

// libFuzzer entry point: built with Tests/Tools/fuzz.sh (-sanitize=fuzzer, -DNTSTAT_FUZZING).
@_cdecl("LLVMFuzzerTestOneInput")
public func ntstatWireFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = UnsafeRawBufferPointer(start: data, count: size)
  if let violation = WireFuzzing.check(input) {
    fatalError("wire fuzz property violated: \(violation)")
  }
  return 0
}
