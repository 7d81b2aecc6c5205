// Release-mode benchmarks: `swift run -c release NtstatBenchmarks [decode|capture|simulator|engine|sizes|replay|divergent|capture-size] [--frames N]`.
// Figures and the commands that produced them are kept in docs/performance.md.
#if canImport(Glibc)
  import Glibc
#else
  import Darwin
#endif

var arguments = Array(CommandLine.arguments.dropFirst())
var frameCount = 1_000_000
if let index = arguments.firstIndex(of: "--frames"), index + 1 < arguments.count, let n = Int(arguments[index + 1]) {
  frameCount = n
  arguments.removeSubrange(index...(index + 1))
}
let selected = Set(
  arguments.isEmpty
    ? ["decode"]
    : ["replay-only", "read-only", "write-replay-capture", "replay-configured", "write-divergent-capture"].contains(
      arguments[0]) ? [] : arguments)

if selected.contains("sizes") { printSizes() }
if selected.contains("decode") {
  DecodeBenchmark.run(frames: frameCount)
}
if selected.contains("capture") {
  CaptureBenchmark.run(frames: frameCount)
}
if selected.contains("simulator") {
  SimulatorBenchmark.run()
}
if selected.contains("engine") {
  EngineBenchmark.run()
}
if selected.contains("replay") {
  try! ReplayBenchmark.run(frames: frameCount)
}
if selected.contains("capture-speed") {
  try! RealRateSizeBenchmark.speedOnly()
}
if selected.contains("capture-size") {
  try! RealRateSizeBenchmark.run()
}
if selected.contains("divergent") {
  try! DivergentReplayBenchmark.run()
}
if arguments.first == "replay-configured", arguments.count == 3 || arguments.count == 4 {
  // `replay-configured CAPTURE default|recorded [keeping]`
  try! DivergentReplayBenchmark.replayConfigured(
    arguments[1], arguments[2], keeping: arguments.count == 4 && arguments[3] == "keeping")
}
if arguments.first == "write-divergent-capture", arguments.count == 3 {
  try! DivergentReplayBenchmark.writeCapture(arguments[1], arguments[2])
}
if arguments.first == "write-replay-capture", arguments.count == 2 {
  try! ReplayBenchmark.writeCapture(arguments[1], frames: frameCount, spacing: 50_000)
}
if arguments.first == "read-only", arguments.count == 2 {
  try! ReplayBenchmark.readOnly(arguments[1])
}
if arguments.first == "replay-only", arguments.count == 2 {
  try! ReplayBenchmark.replayOnly(arguments[1])
}
