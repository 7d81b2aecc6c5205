/// An IPv4 address in network byte order.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The address as a big-endian integer (`10.0.0.1` is `0x0A000001`).
  public var rawValue: UInt32

  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
  }

  /// Parses dotted-quad text.
  public init?(_ text: String) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var value: UInt32 = 0
    for part in parts {
      guard !part.isEmpty, part.count <= 3, let byte = UInt8(part) else { return nil }
      value = value << 8 | UInt32(byte)
    }
    rawValue = value
  }

  public static let any = IPv4Address(rawValue: 0)

  public var isLoopback: Bool { rawValue >> 24 == 127 }

  public var description: String { TextBytes.string { appendText(to: &$0) } }

  /// ``description`` appended as bytes (output writers print millions of addresses).
  @inlinable public func appendText(to bytes: inout some TextSink) {
    bytes.append(atMost: 15) { writeText(at: $0) }
  }

  /// Writes ``description`` (15 bytes at most) at `out` and returns how many: one capacity check
  /// for the whole address rather than one per piece.
  @inlinable func writeText(at out: UnsafeMutablePointer<UInt8>) -> Int {
    var count = Self.writeOctet(Int(rawValue >> 24), at: out)
    @inline(__always) func dotAndOctet(_ shift: UInt32) {
      out[count] = UInt8(ascii: ".")
      count &+= 1
      count &+= Self.writeOctet(Int(rawValue >> shift & 0xff), at: out + count)
    }
    dotAndOctet(16)
    dotAndOctet(8)
    dotAndOctet(0)
    return count
  }

  /// Writes `octet` (0 to 255) in decimal at `out` and returns how many digits: the general
  /// decimal writer, made for 64-bit values, took 40 instructions an octet (`callgrind`: an IPv4
  /// address's text was 170 instructions).
  @inlinable @inline(__always) static func writeOctet(_ octet: Int, at out: UnsafeMutablePointer<UInt8>) -> Int {
    if octet >= 100 {
      let hundreds = octet / 100
      out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: hundreds)
      TextBytes.writeTwoDigits(octet &- hundreds &* 100, at: out + 1)
      return 3
    }
    if octet >= 10 {
      TextBytes.writeTwoDigits(octet, at: out)
      return 2
    }
    out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: octet)
    return 1
  }

  public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv6 address in network byte order.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The first 64 bits, big-endian.
  public var high: UInt64
  /// The last 64 bits, big-endian.
  public var low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  /// Parses RFC 4291 text (with `::` compression and an optional trailing dotted quad).
  public init?(_ text: String) {
    var groups: [UInt16] = []
    let halves = text.components(separatedByDoubleColon: ())
    guard halves.count <= 2 else { return nil }
    func parse(_ part: Substring) -> [UInt16]? {
      if part.isEmpty { return [] }
      var result: [UInt16] = []
      let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
      for (index, piece) in pieces.enumerated() {
        if index == pieces.count - 1, piece.contains("."), let v4 = IPv4Address(String(piece)) {
          result.append(UInt16(v4.rawValue >> 16))
          result.append(UInt16(v4.rawValue & 0xffff))
        } else {
          guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
          result.append(value)
        }
      }
      return result
    }
    guard let head = parse(halves[0]) else { return nil }
    if halves.count == 2 {
      guard let tail = parse(halves[1]), head.count + tail.count <= 7 else { return nil }
      groups = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    } else {
      guard head.count == 8 else { return nil }
      groups = head
    }
    var high: UInt64 = 0
    var low: UInt64 = 0
    for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
    for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
    self.init(high: high, low: low)
  }

  public static let any = IPv6Address(high: 0, low: 0)

  public var isLoopback: Bool { high == 0 && low == 1 }

  /// The eight 16-bit groups, most significant first.
  public var groups: [UInt16] {
    (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
      + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
  }

  /// RFC 5952 text: lower case, the longest run of two or more zero groups shortened to `::`,
  /// and IPv4-mapped addresses (`::ffff:a.b.c.d`) with a dotted quad.
  public var description: String { TextBytes.string { appendText(to: &$0) } }

  /// ``description`` appended as bytes.
  @inlinable public func appendText(to bytes: inout some TextSink) {
    bytes.append(atMost: 45) { writeText(at: $0) }
  }

  /// Writes ``description`` (45 bytes at most) at `out` and returns how many: one capacity check
  /// for the whole address rather than one per digit.
  @inlinable func writeText(at out: UnsafeMutablePointer<UInt8>) -> Int {
    let prefix: StaticString = "::ffff:"
    if high == 0, low >> 32 == 0xffff {
      TextBytes.copy(prefix.utf8Start, count: prefix.utf8CodeUnitCount, to: out)
      return prefix.utf8CodeUnitCount
        + IPv4Address(rawValue: UInt32(truncatingIfNeeded: low)).writeText(at: out + prefix.utf8CodeUnitCount)
    }
    @inline(__always) func group(_ index: Int) -> UInt16 {
      UInt16(truncatingIfNeeded: (index < 4 ? high : low) >> (48 - 16 * UInt64(index & 3)))
    }
    // The longest run of two or more zero groups (the first of equal runs) becomes "::". Bit i
    // of `zeros` is group i being zero; after k rounds of `run &= run >> 1`, bit i of `run` is
    // groups i to i + k all zero, so the last non-zero `run` marks where the longest runs start.
    var zeros: UInt8 = 0
    for index in 0..<8 where group(index) == 0 { zeros |= 1 << index }
    var run = zeros
    var longest: UInt8 = 0
    var bestLength = 0
    while run != 0 {
      longest = run
      bestLength &+= 1
      run &= run >> 1
    }
    let bestStart = bestLength >= 2 ? longest.trailingZeroBitCount : -1
    var count = 0
    @inline(__always) func join(_ range: Range<Int>) {
      for index in range {
        if index > range.lowerBound {
          out[count] = UInt8(ascii: ":")
          count &+= 1
        }
        count &+= Self.writeGroup(group(index), at: out + count)
      }
    }
    if bestStart < 0 {
      join(0..<8)
    } else {
      join(0..<bestStart)
      out[count] = UInt8(ascii: ":")
      out[count &+ 1] = UInt8(ascii: ":")
      count &+= 2
      join((bestStart + bestLength)..<8)
    }
    return count
  }

  /// Writes a group in lower-case hexadecimal without leading zeros and returns how many
  /// digits: the digit count from the leading zeros, then each digit, with no loop.
  @inlinable @inline(__always) static func writeGroup(_ value: UInt16, at out: UnsafeMutablePointer<UInt8>) -> Int {
    let digits = TextBytes.hexDigits.utf8Start
    let count = value == 0 ? 1 : (19 &- value.leadingZeroBitCount) >> 2
    var index = count
    var rest = Int(value)
    repeat {
      index &-= 1
      out[index] = digits[rest & 0xF]
      rest >>= 4
    } while index > 0
    return count
  }

  public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
    (lhs.high, lhs.low) < (rhs.high, rhs.low)
  }
}

extension String {
  /// Splits at the first `::` only (enough for IPv6 parsing; a second `::` makes 3 parts).
  fileprivate func components(separatedByDoubleColon: Void) -> [Substring] {
    var parts: [Substring] = []
    var rest = self[...]
    while let range = rest.firstRange(of: "::") {
      parts.append(rest[..<range.lowerBound])
      rest = rest[range.upperBound...]
    }
    parts.append(rest)
    return parts
  }
}
