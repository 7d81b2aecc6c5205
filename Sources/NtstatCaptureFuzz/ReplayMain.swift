#if !NTSTAT_FUZZING
  #if canImport(Glibc)
    import Glibc
  #else
    import Darwin
  #endif
  import NtstatCapture

  /// Without the fuzzer runtime, replays the files named on the command line through the same
  /// check (handy for reproducing a crash in a debugger).
  @main
  struct ReplayInputs {
    static func main() {
      var failures = 0
      for path in CommandLine.arguments.dropFirst() {
        guard let bytes = readFile(path) else {
          print("\(path): cannot read")
          failures += 1
          continue
        }
        let result = bytes.withUnsafeBytes { CaptureFuzzing.check($0) }
        print("\(path): \(result.map { "VIOLATION \($0)" } ?? "ok")")
        fflush(nil)
        if result != nil { failures += 1 }
      }
      if failures > 0 { fatalError("\(failures) input(s) failed") }
    }

    static func readFile(_ path: String) -> [UInt8]? {
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
  }
#endif
