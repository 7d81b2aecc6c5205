import NtstatCapture

/// Frames from a capture file or from memory.
struct FrameSource {
  private var reader: CaptureReadAhead?
  private var frames: [CapturedFrame] = []
  /// Records read from the file and not yet handed out (a zstd frame's worth at most), last
  /// first: each is moved out with `removeLast`, so a frame's bytes are neither retained when it
  /// is taken nor released when the batch is refilled (two atomic operations a frame).
  private var batch: [CaptureRecord] = []
  private var position = 0
  private(set) var metadata: CaptureMetadata?

  /// Frames of `reader`, read on a thread of their own if `threaded` (``CaptureReadAhead``).
  init(reader: CaptureFileReader, threaded: Bool) {
    self.reader = CaptureReadAhead(reader: reader, threaded: threaded)
  }

  /// Frames held in memory, noted afresh: a note read with them may predate a change to their
  /// bytes (``CapturedFrame/packedContexts``).
  init(frames: [CapturedFrame], metadata: CaptureMetadata) {
    self.frames = frames.map { frame in
      var frame = frame
      frame.notePackedContexts()
      return frame
    }
    self.metadata = metadata
  }

  /// Bytes of the file read so far (0 for frames held in memory).
  var compressedBytesRead: UInt64 { reader?.compressedBytes ?? 0 }

  /// Link types of the interfaces that are not ntstat's, and how many frames they carried.
  private(set) var foreignLinkTypes: Set<UInt16> = []
  private(set) var foreignFrames = 0
  private var interfaces: [Bool] = []  // per interface id in the current section: ntstat?

  mutating func next() throws -> CapturedFrame? {
    // Not `guard let reader`: that binding retained the reader for every frame.
    guard reader != nil else {
      guard position < frames.count else { return nil }
      position += 1
      return frames[position - 1]
    }
    while true {
      if batch.isEmpty {
        guard try reader.unsafelyUnwrapped.nextRecords(&batch) else { return nil }
        // Through the buffer, whose swaps move the records: `Array.reverse` copied each one
        // and destroyed the original.
        batch.withUnsafeMutableBufferPointer { $0.reverse() }
      }
      // Moved out (`unsafelyUnwrapped` of `popLast()` would copy it and destroy the original).
      switch batch.removeLast() {
      case .frame(let frame):
        // Frames of another tool's interfaces (Ethernet, …) are not ntstat datagrams.
        if Int(frame.interfaceID) < interfaces.count, !interfaces[Int(frame.interfaceID)] {
          foreignFrames += 1
          continue
        }
        return frame
      case .section(let section):
        if metadata == nil { metadata = section }
        interfaces = []
      case .interface(let interface):
        interfaces.append(interface.isNtstat)
        if !interface.isNtstat { foreignLinkTypes.insert(interface.linkType) }
      case .statistics: continue
      }
    }
  }
}
