import Foundation
import Testing

@testable import NtstatWire

/// The output writers format into a ``TextBuffer``; `description`s format into byte arrays.
/// Both go through the same generic formatters and must give the same bytes, across the
/// buffer's growth.
@Suite struct TextBufferTests {
  static let values: [UInt64] = {
    var random = SystemRandomNumberGenerator()
    return [0, 9, 10, 99, 100, UInt64(Int64.max), .max] + (0..<200).map { _ in random.next() }
  }()
  static let addresses: [SocketAddress] = [
    .unspecified, .ipv4(IPv4Address(rawValue: 0x7F00_0001), port: 80),
    .ipv6(IPv6Address(high: 0x2001_0DB8_0000_0000, low: 1), port: 443),
    .ipv6(IPv6Address(high: 0, low: 0xFFFF_C0A8_0001), port: 8080), .other([0x01, 0xAB, 0xFF]),
  ]

  static func write<Sink: TextSink>(to sink: inout Sink) {
    for value in values {
      TextBytes.appendDecimal(value, to: &sink)
      sink.appendByte(UInt8(ascii: " "))
      TextBytes.appendHex(value, to: &sink, uppercase: value % 2 == 0)
      sink.appendByte(UInt8(ascii: "\n"))
    }
    for address in addresses {
      address.appendDescription(to: &sink)
      address.appendAddressText(to: &sink)
    }
    UUIDBytes(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210).appendText(to: &sink)
  }

  @Test func numbersAddressesAndUUIDsAreTheSameBytesInEitherSink() {
    var array: [UInt8] = []
    Self.write(to: &array)
    var buffer = TextBuffer(capacity: 1)  // grows on the first append, and again and again
    defer { buffer.deallocate() }
    Self.write(to: &buffer)
    #expect(array == Array(buffer.bytes))
    let text = String(decoding: buffer.bytes, as: UTF8.self)
    #expect(text.hasPrefix("0 0\n9 9\n10 A\n99 63\n100 64\n9223372036854775807 7fffffffffffffff\n"))
    #expect(
      text.hasSuffix(
        "\n**127.0.0.1:80127.0.0.1[2001:db8::1]:4432001:db8::1[::ffff:192.168.0.1]:8080::ffff:192.168.0.1"
          + "raw:01ABFFraw:01ABFF01234567-89AB-CDEF-FEDC-BA9876543210"))
  }

  /// The digit count is found by comparison before the digits are written, two at a time from a
  /// table: every length from 1 to 20, at both edges, and every pair of digits in every place
  /// must read back as `String(value)` does.
  @Test func decimalsOfEveryLengthMatchTheStandardLibrary() {
    var edges: [UInt64] = [0, .max] + (1...1_000).map { UInt64($0) } + (0..<100).map { 12_345_600 + UInt64($0) }
    var power: UInt64 = 1
    for _ in 1...19 {
      power *= 10
      edges += [power - 1, power, power + 1]
    }
    var array: [UInt8] = []
    var buffer = TextBuffer(capacity: 1)
    defer { buffer.deallocate() }
    for value in edges + Self.values {
      array.removeAll()
      buffer.removeAll()
      TextBytes.appendDecimal(value, to: &array)
      TextBytes.appendDecimal(value, to: &buffer)
      #expect(String(decoding: array, as: UTF8.self) == String(value))
      #expect(Array(buffer.bytes) == array)
    }
  }

  /// Compared eight bytes at a time, then the tail: a difference anywhere, in a word or in the
  /// tail, and a difference in length must all show.
  @Test func byteBuffersAreEqualOnlyWithTheSameBytes() {
    let text = Array("0123456789abcdefghij".utf8)
    for length in 0...text.count {
      let a = Array(text[..<length])
      a.withUnsafeBytes { x in
        a.withUnsafeBytes { y in #expect(TextBytes.equal(x, y)) }
        for index in 0..<length {
          var changed = a
          changed[index] ^= 0x20
          changed.withUnsafeBytes { y in #expect(!TextBytes.equal(x, y), "\(length) bytes, byte \(index)") }
        }
        Array(text[..<min(length + 1, text.count)]).withUnsafeBytes { y in
          #expect(TextBytes.equal(x, y) == (length == text.count))
        }
      }
    }
  }

  /// A C string's length in a fixed field, against a byte-by-byte scan: every length up to 24
  /// with a zero at every place, non-zero bytes that borrow into the next lane when a word is
  /// tested (0x01 after a zero, 0x80, 0xFF), and no zero at all.
  @Test func lengthBeforeZeroIsWhereTheFirstZeroIs() {
    for filler: UInt8 in [0x01, 0x41, 0x80, 0xFF] {
      for count in 0...24 {
        var bytes = [UInt8](repeating: filler, count: count)
        func check() {
          let expected = bytes.firstIndex(of: 0) ?? bytes.count
          bytes.withUnsafeBytes { #expect(TextBytes.lengthBeforeZero($0) == expected, "\(bytes)") }
        }
        check()
        for zero in 0..<count {
          bytes[zero] = 0
          check()
          if zero + 1 < count { bytes[zero + 1] = 0x01 }
          check()
          bytes = [UInt8](repeating: filler, count: count)
        }
      }
    }
  }

  @Test func largeAppendsGrowTheBufferOnce() {
    var buffer = TextBuffer(capacity: 16)
    defer { buffer.deallocate() }
    let block = [UInt8](repeating: 0x61, count: 1000)
    block.withUnsafeBytes { buffer.appendBytes($0) }
    buffer.appendByte(0x62)
    #expect(buffer.count == 1001 && Array(buffer.bytes) == block + [0x62])
    buffer.removeAll()
    #expect(buffer.count == 0)
  }
}

extension TextBufferTests {
  /// A provider's protocol name exists as a `String` and as static text (for writers that copy
  /// bytes); the two are written apart and must agree.
  @Test func protocolNameIsTheSameAsTextAndAsString() {
    for provider in ProviderKind.allCases {
      #expect(provider.protocolName == provider.protocolNameText.description, "\(provider)")
      #expect(provider.rawValue == provider.rawValueText.description, "\(provider)")
    }
  }

  /// A TCP state's name as static text is its description; beyond the defined states there
  /// is no static name, and the description spells out the number.
  @Test func tcpStateNamesAreTheSameAsTextAndAsString() {
    for value in UInt32(0)...11 {
      let state = TCPState(rawValue: value)
      #expect(state.nameText?.description ?? "STATE_\(value)" == state.description)
    }
    #expect(TCPState.established.nameText?.description == "ESTABLISHED")
    #expect(TCPState(rawValue: 11).nameText == nil && TCPState(rawValue: 11).description == "STATE_11")
  }
}

extension TextBufferTests {
  /// The widest text each kind of address can take.
  static let widestAddresses: [SocketAddress] = [
    .ipv4(IPv4Address(rawValue: 0xFFFF_FFFF), port: 65535),
    .ipv6(IPv6Address(high: 0x1111_2222_3333_4444, low: 0x5555_6666_7777_8888), port: 65535),
    .ipv6(IPv6Address(high: 0, low: 0xFFFF_FFFF_FFFF), port: 1),
    .other([UInt8](repeating: 0xAB, count: 28)),
  ]

  /// A run writes into room reserved once, with no check per piece: each piece must come out as
  /// the same piece appended on its own does, and no address may take more than the room it
  /// claims (``SocketAddress/addressTextBound``), at its widest.
  @Test func piecesOfARunAreThePiecesAppendedOneByOne() {
    var expected: [UInt8] = []
    var buffer = TextBuffer(capacity: 1)
    defer { buffer.deallocate() }
    let name = "Zoë’s ✓ helper"
    for address in Self.addresses + Self.widestAddresses {
      var alone: [UInt8] = []
      address.appendAddressText(to: &alone)
      #expect(alone.count <= address.addressTextBound, "\(address)")
      expected += alone
      TextBytes.append(" pid:", to: &expected)
      TextBytes.appendDecimal(UInt64(UInt32.max), to: &expected)
      expected.appendByte(UInt8(ascii: " "))
      TextBytes.append(name, to: &expected)
      TextBytes.append("UDP", to: &expected)
      buffer.appendRun(atMost: address.addressTextBound + 5 + 10 + 1 + name.utf8.count + 3) { run in
        run.put { address.writeAddressText(at: $0) }
        run.put(" pid:")
        run.put(decimal: UInt64(UInt32.max))
        run.put(byte: UInt8(ascii: " "))
        run.put(string: name)
        run.put(uppercased: "udp")
      }
    }
    #expect(Array(buffer.bytes) == expected)
  }

  /// Two digits from the table, for every value a clock field takes.
  @Test func twoDigitsAreTheDecimalPadded() {
    let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 2)
    defer { out.deallocate() }
    for value in 0..<100 {
      TextBytes.writeTwoDigits(value, at: out)
      #expect(
        String(decoding: UnsafeBufferPointer(start: out, count: 2), as: UTF8.self)
          == (value < 10 ? "0\(value)" : "\(value)"))
    }
  }
}

extension TextBufferTests {
  /// Short copies store whole words, the last overlapping the one before: every length up to
  /// past three words must copy exactly its bytes and write nothing either side of them.
  @Test func shortCopiesWriteExactlyTheirBytes() {
    let source = (0..<40).map { UInt8(0x41 + $0) }
    for count in 0...source.count {
      var out = [UInt8](repeating: 0, count: source.count + 2)
      source.withUnsafeBufferPointer { from in
        out.withUnsafeMutableBufferPointer { to in
          TextBytes.copy(from.baseAddress!, count: count, to: to.baseAddress! + 1)
        }
      }
      #expect(out == [0] + source[..<count] + [UInt8](repeating: 0, count: source.count + 1 - count), "\(count) bytes")
    }
  }
}

extension TextBufferTests {
  /// A UUID's text, each digit written at a place fixed in advance, must be Foundation's
  /// `uuidString` of the same sixteen bytes, and parse back to them.
  @Test func uuidTextIsFoundationsUUIDString() {
    var random = SystemRandomNumberGenerator()
    for _ in 0..<500 {
      let uuid = UUIDBytes(high: random.next(), low: random.next())
      var bytes = [UInt8](repeating: 0, count: 16)
      for index in 0..<8 {
        bytes[index] = UInt8(truncatingIfNeeded: uuid.high >> (56 - 8 * UInt64(index)))
        bytes[index + 8] = UInt8(truncatingIfNeeded: uuid.low >> (56 - 8 * UInt64(index)))
      }
      let foundation = bytes.withUnsafeBytes { UUID(uuid: $0.load(as: uuid_t.self)) }
      #expect(uuid.description == foundation.uuidString)
      #expect(UUIDBytes(uuid.description) == uuid)
    }
  }
}
