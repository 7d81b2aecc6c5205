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

/// `path` opened for reading (never blocking on a FIFO), refused if it is a directory.
private func openInput(_ path: String) throws -> Int32 {
  let descriptor = InputFile.open(path)
  guard descriptor >= 0 else { throw FileInputError(path: path, reason: String(cString: strerror(errno))) }
  var status = stat()
  if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
    close(descriptor)
    throw FileInputError(path: path, reason: "is a directory")
  }
  return descriptor
}

/// Reads up to `limit` bytes from the start of `path` (the whole file by default).
func readFile(_ path: String, limit: Int = .max) throws -> [UInt8] {
  let descriptor = try openInput(path)
  defer { close(descriptor) }
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

/// Reads `path` a line at a time (without the newline), a megabyte at a time: memory bounded by
/// the longest line, whatever the file's size.
func forEachLine(in path: String, _ body: (Substring) throws -> Void) throws {
  let descriptor = try openInput(path)
  defer { close(descriptor) }
  var pending: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 20)
  while true {
    let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    if count < 0 {
      if errno == EINTR { continue }
      throw FileInputError(path: path, reason: String(cString: strerror(errno)))
    }
    if count == 0 { break }
    var start = 0
    for index in 0..<count where chunk[index] == UInt8(ascii: "\n") {
      pending += chunk[start..<index]
      try body(Substring(String(decoding: pending, as: UTF8.self)))
      pending.removeAll(keepingCapacity: true)
      start = index + 1
    }
    pending += chunk[start..<count]
  }
  // The last line, and the empty line after a final newline, as `split` gives them.
  try body(Substring(String(decoding: pending, as: UTF8.self)))
}

/// An error about `path` as one line that names the file once: errors that already start with
/// it (capture and event-file errors do) are kept as they are.
func describe(_ error: Error, reading path: String) -> String {
  let text = "\(error)"
  return text.hasPrefix(path) ? text : "\(path): \(text)"
}
