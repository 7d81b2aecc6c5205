import NtstatCapture
import NtstatWire

/// The properties the capture fuzzer checks, shared with the unit test that replays saved inputs.
package enum CaptureFuzzing {
  /// Reads `input` as a capture twice, pushed in chunks of two different sizes (byte 0 picks
  /// one, 1–1021 bytes), and checks that reading never traps, that both readings agree on every
  /// record and on the outcome (the same error, with the same offsets), and that error offsets
  /// lie within the input.
  package static func check(_ input: UnsafeRawBufferPointer) -> FuzzViolation? {
    guard let selector = input.first else { return nil }
    let data = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    let first = read(data, chunk: 1 + Int(selector % 61) * 17)
    let second = read(data, chunk: 4096)
    if first.records != second.records {
      return FuzzViolation("chunking changed the records (\(first.records.count) vs \(second.records.count))")
    }
    if first.error != second.error {
      return FuzzViolation(
        "chunking changed the outcome: \(String(describing: first.error)) vs \(String(describing: second.error))")
    }
    if let offset = first.error?.compressedOffset, offset > UInt64(data.count) {
      return FuzzViolation("error offset \(offset) beyond the input (\(data.count) bytes)")
    }
    return nil
  }

  static func read(_ data: UnsafeRawBufferPointer, chunk: Int) -> (records: [CaptureRecord], error: CaptureError?) {
    let reader = CaptureStreamReader(file: nil)
    var records: [CaptureRecord] = []
    var offset = 0
    while offset < data.count {
      let end = min(data.count, offset + chunk)
      reader.push(UnsafeRawBufferPointer(rebasing: data[offset..<end]))
      while let record = reader.nextRecord() { records.append(record) }
      offset = end
    }
    reader.finish()
    while let record = reader.nextRecord() { records.append(record) }
    return (records, reader.error)
  }
}
