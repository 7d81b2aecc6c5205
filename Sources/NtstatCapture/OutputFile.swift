#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How a command may create a file. A capture holds every process's network activity (names,
/// pids, addresses, the host name), so by default a new file is private (0600), never replaces
/// anything, and is never written through a symbolic link.
public struct OutputFilePolicy: Hashable, Sendable {
  /// Permission bits for a new file (the umask still applies).
  public var mode: mode_t = 0o600
  /// Replace an existing regular file. A symbolic link or anything but a regular file is
  /// refused all the same.
  public var replaceExisting = false
  /// Hand the new file to this user and group (`fchown`), as the recorder does under `sudo`.
  public var owner: (uid: uid_t, gid: gid_t)?

  public init(mode: mode_t = 0o600, replaceExisting: Bool = false, owner: (uid: uid_t, gid: gid_t)? = nil) {
    self.mode = mode
    self.replaceExisting = replaceExisting
    self.owner = owner
  }

  public static func == (lhs: OutputFilePolicy, rhs: OutputFilePolicy) -> Bool {
    lhs.mode == rhs.mode && lhs.replaceExisting == rhs.replaceExisting && lhs.owner?.uid == rhs.owner?.uid
      && lhs.owner?.gid == rhs.owner?.gid
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(mode)
    hasher.combine(replaceExisting)
    hasher.combine(owner?.uid)
    hasher.combine(owner?.gid)
  }

  /// Under `sudo` (effective uid 0 with `SUDO_UID`/`SUDO_GID` set): the user who ran it.
  public static func invokingUser(environment: [String: String]) -> (uid: uid_t, gid: gid_t)? {
    guard geteuid() == 0, let uid = environment["SUDO_UID"].flatMap(UInt32.init),
      let gid = environment["SUDO_GID"].flatMap(UInt32.init), uid != 0
    else { return nil }
    return (uid_t(uid), gid_t(gid))
  }
}

/// The one place that creates output files: `record` (and its rotation), `convert`, `slice`.
public enum OutputFile {
  /// Opens `path` for writing under `policy`; the descriptor is the caller's to close. Fails
  /// with a ``CaptureError`` that says what was refused, before anything is touched.
  public static func open(_ path: String, policy: OutputFilePolicy) throws(CaptureError) -> Int32 {
    var existing = stat()
    if lstat(path, &existing) == 0 {
      let type = existing.st_mode & S_IFMT
      if type == S_IFLNK { throw refusal(path, ELOOP, "is a symbolic link; ntstat does not write through links") }
      if type == S_IFDIR { throw refusal(path, EISDIR, "is a directory") }
      if type != S_IFREG { throw refusal(path, EINVAL, "is not a regular file") }
      if !policy.replaceExisting { throw refusal(path, EEXIST, "exists; pass --force to replace it") }
    }
    // O_NOFOLLOW and O_EXCL close the gap between the check above and the open: a link or a
    // file put there meanwhile is refused by the kernel itself. O_NONBLOCK keeps a FIFO from
    // blocking the open; it is cleared once the file is known to be regular.
    var flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
    if !policy.replaceExisting { flags |= O_EXCL }
    let fd = openDescriptor(path, flags, policy.mode)
    guard fd >= 0 else {
      let code = errno
      switch code {
      case EEXIST: throw refusal(path, code, "exists; pass --force to replace it")
      case ELOOP: throw refusal(path, code, "is a symbolic link; ntstat does not write through links")
      default: throw refusal(path, code, String(cString: strerror(code)))
      }
    }
    var status = stat()
    guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
      closeDescriptor(fd)
      throw refusal(path, EINVAL, "is not a regular file")
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    // A replaced file takes the new file's mode too: the old one may have been readable by all.
    if policy.replaceExisting, ftruncate(fd, 0) != 0 || fchmod(fd, policy.mode) != 0 {
      let code = errno
      closeDescriptor(fd)
      throw refusal(path, code, String(cString: strerror(code)))
    }
    if let owner = policy.owner, fchown(fd, owner.uid, owner.gid) != 0 {
      let code = errno
      closeDescriptor(fd)
      throw refusal(path, code, "cannot hand the file to uid \(owner.uid): \(String(cString: strerror(code)))")
    }
    return fd
  }

  /// Checks, before a long recording starts, that `path` could be created: its directory exists
  /// and is writable, and the path is free (or replaceable under `policy`).
  public static func checkCreatable(_ path: String, policy: OutputFilePolicy) throws(CaptureError) {
    let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
    var status = stat()
    guard stat(directory.isEmpty ? "/" : directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
      throw refusal(path, ENOENT, "its directory \(directory) does not exist")
    }
    guard access(directory.isEmpty ? "/" : directory, W_OK) == 0 else {
      throw refusal(path, EACCES, "its directory \(directory) is not writable")
    }
    var existing = stat()
    guard lstat(path, &existing) == 0 else { return }
    let type = existing.st_mode & S_IFMT
    if type == S_IFLNK { throw refusal(path, ELOOP, "is a symbolic link; ntstat does not write through links") }
    if type == S_IFDIR { throw refusal(path, EISDIR, "is a directory") }
    if type != S_IFREG { throw refusal(path, EINVAL, "is not a regular file") }
    if !policy.replaceExisting { throw refusal(path, EEXIST, "exists; pass --force to replace it") }
  }

  static func refusal(_ path: String, _ code: Int32, _ reason: String) -> CaptureError {
    CaptureError(.io, file: path, errno: code, reason: reason)
  }
}

/// `open(2)` (its module differs between the C libraries, and the name collides with ours).
func openDescriptor(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
  #if canImport(Glibc)
    return Glibc.open(path, flags, mode)
  #else
    return Darwin.open(path, flags, mode)
  #endif
}
