// Test tool: records deterministic frames into a capture through CaptureFileWriter until it is
// killed (or has written --frames). The SIGKILL tests run it as a child and read what it left.
//
//   NtstatCaptureStress PATH [--frames N] [--interval-us U] [--report-every N]
//
// Every N frames (100 by default) it prints how many it has handed to the writer, so a test
// reading the pipe knows, to within the pipe's delivery, when each frame was enqueued.
import NtstatCapture
import NtstatWire

#if canImport(Glibc)
  import Glibc
#else
  import Darwin
#endif

/// Frame `i`'s bytes: its index in the first 8 bytes, then a pattern, 40–200 bytes long.
func frameBytes(_ i: UInt64) -> [UInt8] {
  let length = 40 + Int(i % 161)
  var bytes = [UInt8](repeating: 0, count: length)
  for k in 0..<8 { bytes[k] = UInt8(truncatingIfNeeded: i >> (8 * UInt64(k))) }
  for k in 8..<length { bytes[k] = UInt8(truncatingIfNeeded: UInt64(k) &* 31 &+ i) }
  return bytes
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
  print("usage: NtstatCaptureStress PATH [--frames N] [--interval-us U]")
  exit(2)
}
func option(_ name: String, _ fallback: UInt64) -> UInt64 {
  guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
  return UInt64(arguments[index + 1]) ?? fallback
}
let limit = option("--frames", .max)
let interval = option("--interval-us", 200)
let reportEvery = max(1, option("--report-every", 100))

var metadata = CaptureMetadata()
metadata.recorderName = "NtstatCaptureStress"
metadata.simulated = true
metadata.family = .xnu11215
do {
  let writer = try CaptureFileWriter(path: arguments[1], metadata: metadata)
  // SIGINT/SIGTERM close the file cleanly; SIGKILL cannot be caught (that is what the crash
  // tests exercise).
  writer.closeOnSignals { _ in exit(0) }
  let clock = AnchoredClock()
  var i: UInt64 = 0
  while i < limit {
    writer.enqueue(
      CapturedFrame(timestamp: clock.now(), direction: i % 2 == 0 ? .fromKernel : .toKernel, bytes: frameBytes(i)))
    i += 1
    if i % reportEvery == 0 {
      print(i)
      fflush(nil)
    }
    if interval > 0 { usleep(UInt32(interval)) }
  }
  try writer.close()
} catch {
  print("error: \(error)")
  exit(1)
}
