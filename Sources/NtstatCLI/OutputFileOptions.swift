import ArgumentParser
import Foundation
import NtstatCapture

/// How a command creates its output file: private and never clobbering unless told otherwise
/// (``OutputFile``). Shared by `record`, `convert` and `slice`.
struct OutputFileOptions: ParsableArguments {
  @Flag(name: .long, help: "Replace an existing regular file (never a symbolic link or anything else).")
  var force = false
  @Option(name: .long, help: "Permission bits of a new file, in octal (default 600: only you can read it).")
  var mode: String = "600"
  @Flag(name: .long, help: "Under sudo, leave the file owned by root (default: handed to the user who ran sudo).")
  var keepRootOwner = false

  func policy() throws -> OutputFilePolicy {
    guard let bits = UInt32(mode, radix: 8), bits <= 0o777 else {
      throw ValidationError("--mode: \"\(mode)\" is not octal permission bits (e.g. 600, 640)")
    }
    let owner = keepRootOwner ? nil : OutputFilePolicy.invokingUser(environment: ProcessInfo.processInfo.environment)
    return OutputFilePolicy(mode: mode_t(bits), replaceExisting: force, owner: owner)
  }

  /// What the summary says about ownership, if anything.
  func ownershipNote(_ policy: OutputFilePolicy) -> String? {
    guard let owner = policy.owner else { return nil }
    return "owned by uid \(owner.uid) (the user who ran sudo), mode \(mode)"
  }
}

/// Opens an output file under `policy`, or says why not (exit 2, nothing touched).
func openOutput(_ path: String, policy: OutputFilePolicy) throws -> FileHandle {
  do {
    return FileHandle(fileDescriptor: try OutputFile.open(path, policy: policy), closeOnDealloc: true)
  } catch {
    throw CommandFailure("\(error)")
  }
}
