/// A Darwin `sockaddr_in`/`sockaddr_in6` as found in ntstat descriptors and parameters.
///
/// Darwin socket addresses start with a length byte (`sin_len`), then the family
/// (`AF_INET` = 2, `AF_INET6` = 30 on Darwin), then the port in network byte order. The
/// descriptor fields are unions of 28 bytes. A field whose bytes are exactly what the kernel
/// writes (`nstat_ip_to_sockaddr`, `nstat_ip6_to_sockaddr`: right length byte, zero padding)
/// decodes to ``ipv4(_:port:)`` or ``ipv6(_:port:flowInfo:scopeID:)``; all-zero bytes decode to
/// ``unspecified``; anything else is kept as ``other(_:)`` so no byte is lost.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
  case unspecified
  case ipv4(IPv4Address, port: UInt16)
  case ipv6(IPv6Address, port: UInt16, flowInfo: UInt32 = 0, scopeID: UInt32 = 0)
  /// Bytes that are not a canonical IPv4/IPv6 socket address, trailing zeros removed.
  case other([UInt8])

  /// Darwin's `AF_INET`.
  public static let darwinAFInet: UInt8 = 2
  /// Darwin's `AF_INET6` (30; Linux uses 10).
  public static let darwinAFInet6: UInt8 = 30
  static let inetSize = 16
  static let inet6Size = 28

  init(field: UnsafeRawBufferPointer) {
    let width = field.count
    // Whole words where they fit: a byte at a time, the two addresses of a descriptor were a
    // fifth of deriving a stream's fields (`callgrind`).
    func zero(_ range: Range<Int>) -> Bool {
      var index = range.lowerBound
      let end = range.upperBound
      if end - index >= 8 {
        while index + 8 < end {
          if field.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
          index += 8
        }
        // The last word ends at the range's end, overlapping the one before if need be.
        return field.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0
      }
      while index < end {
        if field[index] != 0 { return false }
        index += 1
      }
      return true
    }
    func be16(_ at: Int) -> UInt16 { UInt16(bigEndian: field.loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
    func le32(_ at: Int) -> UInt32 { UInt32(littleEndian: field.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func be64(_ at: Int) -> UInt64 { UInt64(bigEndian: field.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    // The kernel's two forms first, told by their first two bytes (an all-zero field is neither):
    // a scan of the whole field for zeros first was half of reading an address.
    if width >= Self.inetSize, field[0] == Self.inetSize, field[1] == Self.darwinAFInet, zero(8..<width) {
      let address = UInt32(bigEndian: field.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
      self = .ipv4(IPv4Address(rawValue: address), port: be16(2))
    } else if width >= Self.inet6Size, field[0] == Self.inet6Size, field[1] == Self.darwinAFInet6,
      zero(Self.inet6Size..<width)
    {
      self = .ipv6(
        IPv6Address(high: be64(8), low: be64(16)), port: be16(2), flowInfo: le32(4), scopeID: le32(24))
    } else if zero(0..<width) {
      self = .unspecified
    } else {
      var end = width
      while end > 0, field[end - 1] == 0 { end -= 1 }
      self = .other(Array(field[0..<end]))
    }
  }

  func write(into writer: inout ByteWriter, at offset: Int, width: Int) {
    switch self {
    case .unspecified:
      break
    case .ipv4(let address, let port):
      writer.set(UInt8(Self.inetSize), at: offset)
      writer.set(Self.darwinAFInet, at: offset + 1)
      writer.setBigEndian(port, at: offset + 2)
      withUnsafeBytes(of: address.rawValue.bigEndian) { writer.copy($0, to: offset + 4) }
    case .ipv6(let address, let port, let flowInfo, let scopeID):
      writer.set(UInt8(Self.inet6Size), at: offset)
      writer.set(Self.darwinAFInet6, at: offset + 1)
      writer.setBigEndian(port, at: offset + 2)
      writer.set(flowInfo, at: offset + 4)
      withUnsafeBytes(of: address.high.bigEndian) { writer.copy($0, to: offset + 8) }
      withUnsafeBytes(of: address.low.bigEndian) { writer.copy($0, to: offset + 16) }
      writer.set(scopeID, at: offset + 24)
    case .other(let bytes):
      writer.set(Array(bytes.prefix(width)), at: offset)
    }
  }

  /// The port in host byte order, or nil when there is no IP address.
  public var port: UInt16? {
    switch self {
    case .ipv4(_, let port), .ipv6(_, let port, _, _): return port
    default: return nil
    }
  }

  /// Address text without the port (`10.0.0.1`, `fe80::1`), `*` when unspecified.
  public var addressText: String { TextBytes.string { appendAddressText(to: &$0) } }

  /// `10.0.0.1:443`, `[fe80::1]:443`, `*` or `raw:…`.
  public var description: String { TextBytes.string { appendDescription(to: &$0) } }

  /// ``addressText`` appended as bytes: `*`, the address, or `raw:` and hex.
  @inlinable public func appendAddressText(to bytes: inout some TextSink) {
    bytes.append(atMost: addressTextBound) { writeAddressText(at: $0) }
  }

  /// The most bytes ``addressText`` can take.
  @inlinable public var addressTextBound: Int {
    switch self {
    case .unspecified: 1
    case .ipv4: 15
    case .ipv6: 45
    case .other(let raw): 4 + 2 * raw.count
    }
  }

  /// Writes ``addressText`` (``addressTextBound`` bytes at most) at `out` and returns how many.
  @inlinable public func writeAddressText(at out: UnsafeMutablePointer<UInt8>) -> Int {
    switch self {
    case .unspecified:
      out[0] = UInt8(ascii: "*")
      return 1
    case .ipv4(let address, _): return address.writeText(at: out)
    case .ipv6(let address, _, _, _): return address.writeText(at: out)
    case .other(let raw):
      let prefix: StaticString = "raw:"
      TextBytes.copy(prefix.utf8Start, count: prefix.utf8CodeUnitCount, to: out)
      var count = prefix.utf8CodeUnitCount
      for byte in raw {
        TextBytes.writeHexByte(byte, at: out + count)
        count &+= 2
      }
      return count
    }
  }

  /// ``description`` appended as bytes: `a.b.c.d:port`, `[v6]:port`, or the address text.
  @inlinable public func appendDescription(to bytes: inout some TextSink) {
    bytes.append(atMost: descriptionBound) { writeDescription(at: $0) }
  }

  /// The most bytes ``description`` can take: the address, brackets, a colon and five digits.
  @inlinable public var descriptionBound: Int { addressTextBound + 8 }

  /// Writes ``description`` (``descriptionBound`` bytes at most) at `out` and returns how many.
  @inlinable public func writeDescription(at out: UnsafeMutablePointer<UInt8>) -> Int {
    switch self {
    case .ipv4(let address, let port):
      var count = address.writeText(at: out)
      out[count] = UInt8(ascii: ":")
      count &+= 1
      return count &+ TextBytes.writeDecimal(UInt64(port), at: out + count)
    case .ipv6(let address, let port, _, _):
      out[0] = UInt8(ascii: "[")
      var count = 1 &+ address.writeText(at: out + 1)
      out[count] = UInt8(ascii: "]")
      out[count &+ 1] = UInt8(ascii: ":")
      count &+= 2
      return count &+ TextBytes.writeDecimal(UInt64(port), at: out + count)
    default:
      return writeAddressText(at: out)
    }
  }

}
