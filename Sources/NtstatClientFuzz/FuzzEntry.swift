import NtstatFuzzChecks

// libFuzzer entry point: built with Tests/Tools/fuzz.sh (-sanitize=fuzzer, -DNTSTAT_FUZZING).
@_cdecl("LLVMFuzzerTestOneInput")
public func ntstatClientFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  if let violation = ClientFuzzing.check(UnsafeRawBufferPointer(start: data, count: size)) {
    fatalError("client fuzz property violated: \(violation)")
  }
  return 0
}
