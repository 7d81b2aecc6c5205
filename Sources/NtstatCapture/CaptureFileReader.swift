#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a capture file (`.pcapng.zst` or `.pcapng`, detected by magic) record by record, in
/// memory bounded by one zstd frame plus one block whatever the file's size.
///
/// ``next()`` returns every record before any damage, then throws the ``CaptureError``
/// (truncated or corrupt, naming the file and offsets); a clean end returns nil.
public final class CaptureFileReader {
  public let path: String
  public let stream: CaptureStreamReader
  private let descriptor: Int32
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)
  private var atEnd = false

  public init(path: String) throws {
    self.path = path
    stream = CaptureStreamReader(file: path)
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw CaptureError(.io, file: path, errno: errno, reason: String(cString: strerror(errno)))
    }
    var status = stat()
    if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
      closeDescriptor(fd)
      throw CaptureError(.io, file: path, errno: EISDIR, reason: "is a directory")
    }
    descriptor = fd
  }

  deinit { closeDescriptor(descriptor) }

  /// The next record; nil at a clean end; throws at the first damage, after every record before it.
  public func next() throws -> CaptureRecord? {
    while true {
      if let record = stream.nextRecord() { return record }
      if let error = stream.error { throw error }
      if atEnd { return nil }
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw CaptureError(
          .io, file: path, compressedOffset: stream.compressedBytes, errno: errno,
          reason: String(cString: strerror(errno)))
      }
      if count == 0 {
        atEnd = true
        stream.finish()
        continue
      }
      buffer.withUnsafeBytes { stream.push(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
  }

  /// All records as an asynchronous sequence (reading happens as it is iterated).
  public var records: AsyncThrowingStream<CaptureRecord, Error> {
    AsyncThrowingStream { [self] in try self.next() }
  }
}

extension CaptureFileReader: @unchecked Sendable {}
