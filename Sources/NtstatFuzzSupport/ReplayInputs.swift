#if canImport(Glibc)
  import Glibc
#else
  import Darwin
#endif

/// For fuzz targets built without the fuzzer runtime: runs the files named on the command line
/// through the target's check and exits non-zero if any fails (to reproduce a crash in a
/// debugger). `check` returns a description of the violated property, or nil.
public func replayInputs(_ check: ([UInt8]) -> String?) -> Never {
  var failures = 0
  for path in CommandLine.arguments.dropFirst() {
    guard let bytes = readWholeFile(path) else {
      print("\(path): cannot read")
      failures += 1
      continue
    }
    if let violation = check(bytes) {
      print("\(path): VIOLATION \(violation)")
      failures += 1
    } else {
      print("\(path): ok")
    }
  }
  fflush(nil)
  exit(failures == 0 ? 0 : 1)
}

func readWholeFile(_ path: String) -> [UInt8]? {
  guard let file = fopen(path, "rb") else { return nil }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = fread(&buffer, 1, buffer.count, file)
    if count <= 0 { break }
    bytes += buffer[0..<count]
  }
  return bytes
}
