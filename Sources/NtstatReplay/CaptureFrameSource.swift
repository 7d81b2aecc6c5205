import NtstatCapture

/// Frames from a capture file or from memory.
struct FrameSource {
  private var reader: CaptureReadAhead?
  private var frames: [CapturedFrame] = []
  /// Records read from the file and not yet handed out (a zstd frame's worth at most).
  private var batch: [CaptureRecord] = []
  private var position = 0
  private(set) var metadata: CaptureMetadata?

  init(reader: CaptureFileReader) { self.reader = CaptureReadAhead(reader: reader) }

  init(frames: [CapturedFrame], metadata: CaptureMetadata) {
    self.frames = frames
    self.metadata = metadata
  }

  /// Bytes of the file read so far (0 for frames held in memory).
  var compressedBytesRead: UInt64 { reader?.compressedBytes ?? 0 }

  /// Link types of the interfaces that are not ntstat's, and how many frames they carried.
  private(set) var foreignLinkTypes: Set<UInt16> = []
  private(set) var foreignFrames = 0
  private var interfaces: [Bool] = []  // per interface id in the current section: ntstat?

  mutating func next() throws -> CapturedFrame? {
    guard let reader else {
      guard position < frames.count else { return nil }
      position += 1
      return frames[position - 1]
    }
    while true {
      if position == batch.count {
        position = 0
        guard try reader.nextRecords(&batch) else { return nil }
      }
      let index = position
      position += 1
      // The frame's payload alone: copying the whole record out (it can hold a section's
      // metadata) and destroying it cost each frame 90 instructions.
      if case .frame(let frame) = batch[index] {
        // Frames of another tool's interfaces (Ethernet, …) are not ntstat datagrams.
        if Int(frame.interfaceID) < interfaces.count, !interfaces[Int(frame.interfaceID)] {
          foreignFrames += 1
          continue
        }
        return frame
      }
      switch batch[index] {
      case .section(let section):
        if metadata == nil { metadata = section }
        interfaces = []
      case .interface(let interface):
        interfaces.append(interface.isNtstat)
        if !interface.isNtstat { foreignLinkTypes.insert(interface.linkType) }
      case .frame, .statistics: continue
      }
    }
  }
}
