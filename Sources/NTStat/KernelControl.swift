import NtstatWire

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#endif

/// The kernel-control ABI ntstat needs, defined here rather than imported so the code
/// compiles (and its failure path runs) on Linux. Values from XNU's `sys/sys_domain.h`,
/// `sys/kern_control.h` and `sys/socket.h`, checked by compiling them (see
/// `../shared/reference/xnu-ntstat.md` §e) and pinned by `KernelControlABITests`.
public enum KernelControlABI {
  /// `PF_SYSTEM` / `AF_SYSTEM`.
  public static let pfSystem: Int32 = 32
  /// `SYSPROTO_CONTROL`.
  public static let sysprotoControl: Int32 = 2
  /// `AF_SYS_CONTROL`, the `ss_sysaddr` of a `sockaddr_ctl`.
  public static let afSysControl: UInt16 = 2
  /// `CTLIOCGINFO` = `_IOWR('N', 3, struct ctl_info)`.
  public static let ctliocginfo: UInt = 0xC064_4E03
  /// `MAX_KCTL_NAME`.
  public static let maxControlName = 96
  /// `sizeof(struct ctl_info)`: `u32 ctl_id; char ctl_name[96]`.
  public static let controlInfoSize = 100
  /// `sizeof(struct sockaddr_ctl)`.
  public static let sockaddrControlSize = 32
  /// The ntstat control's name.
  public static let controlName = "com.apple.network.statistics"

  /// A `struct ctl_info` asking for `name`'s id.
  public static func controlInfo(name: String) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: controlInfoSize)
    for (index, byte) in name.utf8.prefix(maxControlName - 1).enumerated() { bytes[4 + index] = byte }
    return bytes
  }

  /// The `ctl_id` the kernel wrote into a `struct ctl_info`.
  public static func controlID(from info: [UInt8]) -> UInt32 {
    UInt32(info[0]) | UInt32(info[1]) << 8 | UInt32(info[2]) << 16 | UInt32(info[3]) << 24
  }

  /// A `struct sockaddr_ctl`: `sc_len` 32, `sc_family` AF_SYSTEM, `ss_sysaddr` AF_SYS_CONTROL,
  /// `sc_id`, `sc_unit` (0: the kernel picks), `sc_reserved[5]` zero. Host byte order, as
  /// the kernel reads it.
  public static func sockaddrControl(id: UInt32, unit: UInt32 = 0) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: sockaddrControlSize)
    bytes[0] = UInt8(sockaddrControlSize)
    bytes[1] = UInt8(pfSystem)
    withUnsafeBytes(of: afSysControl.littleEndian) { bytes.replaceSubrange(2..<4, with: $0) }
    withUnsafeBytes(of: id.littleEndian) { bytes.replaceSubrange(4..<8, with: $0) }
    withUnsafeBytes(of: unit.littleEndian) { bytes.replaceSubrange(8..<12, with: $0) }
    return bytes
  }
}

extension DatagramSocketTransport {
  /// Opens the `com.apple.network.statistics` kernel control: `socket(PF_SYSTEM, SOCK_DGRAM,
  /// SYSPROTO_CONTROL)`, `ioctl(CTLIOCGINFO)`, `connect(sockaddr_ctl)`, then raises the
  /// receive buffer. The family comes from `uname` unless given. Off macOS the first call
  /// fails, with a ``TransportError`` that says so.
  public static func kernelControl(
    family: LayoutFamily? = nil, receiveBufferSize: Int = 1 << 20, assumeNewest: Bool = false
  ) throws -> DatagramSocketTransport {
    #if canImport(Darwin)
      let dgram = SOCK_DGRAM
    #else
      let dgram = Int32(SOCK_DGRAM.rawValue)
    #endif
    let fd = socket(KernelControlABI.pfSystem, dgram, KernelControlABI.sysprotoControl)
    guard fd >= 0 else {
      throw TransportError(
        operation: "socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL)", errno: errno,
        detail: "the ntstat kernel control exists only on macOS; use --simulate or a capture elsewhere")
    }
    var info = KernelControlABI.controlInfo(name: KernelControlABI.controlName)
    let ioctlResult = info.withUnsafeMutableBytes { ioctl(fd, KernelControlABI.ctliocginfo, $0.baseAddress!) }
    guard ioctlResult == 0 else {
      let code = errno
      _ = Glue.close(fd)
      throw TransportError(operation: "ioctl(CTLIOCGINFO, \(KernelControlABI.controlName))", errno: code)
    }
    let address = KernelControlABI.sockaddrControl(id: KernelControlABI.controlID(from: info))
    let connected = address.withUnsafeBytes {
      connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
    }
    guard connected == 0 else {
      let code = errno
      _ = Glue.close(fd)
      throw TransportError(operation: "connect(sockaddr_ctl)", errno: code)
    }
    let kernel = runningKernel()
    let chosen: LayoutFamily
    if let family {
      chosen = family
    } else {
      do {
        chosen = try LayoutFamily.select(for: kernel, assumeNewest: assumeNewest)
      } catch {
        _ = Glue.close(fd)
        throw error
      }
    }
    let transport = DatagramSocketTransport(descriptor: fd, family: chosen, receiveBufferSize: receiveBufferSize)
    transport.kernelVersion = kernel
    return transport
  }

  /// `uname`'s release and version: `24.5.0` and `… root:xnu-11215.121.1~1/RELEASE_ARM64_T6000`.
  public static func runningKernel() -> KernelVersion {
    let names = UnameFields.current()
    return KernelVersion(release: names.release, version: names.version)
  }
}

/// The text fields of `uname(2)`.
public struct UnameFields: Sendable {
  public var release: String
  public var version: String
  public var machine: String

  public static func current() -> UnameFields {
    var names = utsname()
    uname(&names)
    func text<T>(_ field: inout T) -> String {
      withUnsafeBytes(of: &field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    return UnameFields(release: text(&names.release), version: text(&names.version), machine: text(&names.machine))
  }
}
