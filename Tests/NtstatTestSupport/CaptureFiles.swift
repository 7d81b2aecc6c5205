import NtstatCapture

/// A capture file read whole, as the tests compare it.
package struct CaptureContents {
  /// The first section's metadata.
  package var metadata: CaptureMetadata?
  package var frames: [CapturedFrame] = []
  /// The damage the reader ended with, if any (every frame before it is in `frames`).
  package var damage: CaptureError?

  /// Reads `path` to its end or its damage. Throws only when it cannot be opened.
  package init(path: String) throws {
    let reader = try CaptureFileReader(path: path)
    do {
      while let record = try reader.next() {
        switch record {
        case .section(let section): metadata = metadata ?? section
        case .frame(let frame): frames.append(frame)
        default: break
        }
      }
    } catch let error as CaptureError {
      damage = error
    }
  }
}
