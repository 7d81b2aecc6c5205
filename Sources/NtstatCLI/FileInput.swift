import NtstatCapture

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file that could not be read, with the system's reason: `path: No such file or directory`.
/// (Foundation's read errors print as NSError dumps, and its whole-file reader leaks a buffer
/// on an empty file.)
struct FileInputError: Error, CustomStringConvertible {
  var path: String
  var reason: String
  var description: String { "\(path): \(reason)" }
}

/// Reads up to `limit` bytes from the start of `path` (the whole file by default).
func readFile(_ path: String, limit: Int = .max) throws -> [UInt8] {
  let descriptor = InputFile.open(path)
  guard descriptor >= 0 else { throw FileInputError(path: path, reason: String(cString: strerror(errno))) }
  defer { close(descriptor) }
  var status = stat()
  if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
    throw FileInputError(path: path, reason: "is a directory")
  }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while bytes.count < limit {
    let wanted = min(chunk.count, limit - bytes.count)
    let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
    if count < 0 {
      if errno == EINTR { continue }
      throw FileInputError(path: path, reason: String(cString: strerror(errno)))
    }
    if count == 0 { break }
    bytes += chunk[0..<count]
  }
  return bytes
}

/// An error about `path` as one line that names the file once: errors that already start with
/// it (capture and event-file errors do) are kept as they are.
func describe(_ error: Error, reading path: String) -> String {
  let text = "\(error)"
  return text.hasPrefix(path) ? text : "\(path): \(text)"
}
