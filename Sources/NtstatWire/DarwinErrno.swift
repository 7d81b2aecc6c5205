/// The Darwin errno values ntstat puts in `nstat_msg_error.error` (`bsd/sys/errno.h`).
///
/// Darwin's numbering differs from Linux's above 34 (`EAGAIN` is 35 on Darwin, 11 on
/// Linux), so protocol code uses these constants, never the host's.
public enum DarwinErrno {
  public static let eperm: Int32 = 1
  public static let enoent: Int32 = 2
  public static let enomem: Int32 = 12
  public static let einval: Int32 = 22
  public static let eagain: Int32 = 35
  public static let ealready: Int32 = 37
  public static let enotsup: Int32 = 45
  public static let eafnosupport: Int32 = 47
  public static let enobufs: Int32 = 55
  public static let eopnotsupp: Int32 = 102
}
