import Foundation
import NtstatCapture

/// A one-line progress report on standard error for long reads, shown only when standard error
/// is a terminal and the file is large, and redrawn at most four times a second.
final class ProgressLine {
  private let label: String
  private let total: UInt64
  private let enabled: Bool
  private var lastDraw = ContinuousClock.now
  private var drawn = false

  /// - Parameter quiet: never draw (for instance when the output itself goes to the terminal).
  init(file: String, quiet: Bool = false) {
    label = file
    let size = ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.uint64Value ?? 0
    total = size
    enabled = !quiet && isatty(2) == 1 && size >= 32 << 20
  }

  /// Call often; draws when a quarter second has passed.
  func update(_ reader: CaptureFileReader) {
    update(bytesRead: reader.stream.compressedBytes)
  }

  private var ticks = 0

  /// Call once per item of a long loop (an event): looks at the clock and at `bytesRead` only
  /// every 4,096th call, so the loop pays almost nothing for its progress line.
  func tick(bytesRead: () -> UInt64) {
    ticks &+= 1
    if enabled, ticks & 4095 == 0 { update(bytesRead: bytesRead()) }
  }

  /// Call often with the bytes of the file read so far; draws when a quarter second has passed.
  func update(bytesRead done: UInt64) {
    guard enabled, ContinuousClock.now - lastDraw >= .milliseconds(250) else { return }
    lastDraw = ContinuousClock.now
    let percent = total > 0 ? done * 100 / total : 0
    let line = "\r\(label): \(percent)% (\(done >> 20) of \(total >> 20) MiB)"
    FileHandle.standardError.write(Data(line.utf8))
    drawn = true
  }

  /// Clears the line.
  func finish() {
    guard drawn else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
