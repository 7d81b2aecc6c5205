import ArgumentParser
import Foundation
import NtstatWire

/// `ntstat decode`: print every field of every message in raw ntstat datagrams.
struct DecodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "decode",
    abstract: "Decode raw ntstat datagrams and print every field.",
    discussion: """
      FILE holds one datagram as raw bytes. Without FILE (or with -), standard input holds \
      hexadecimal text, one datagram a line (spaces, colons and 0x prefixes are ignored). \
      With --hex, FILE is read as such text too.

      Exit status: 0 every datagram decoded, 1 a datagram did not decode (the error names the \
      datagram, byte offset and message type), 2 bad arguments or an unreadable input.
      """
  )

  @Option(
    name: .long,
    help: "Layout family: a family name (xnu-11215), an XNU version (xnu-11417.121.6) or a Darwin release (24.5.0).",
    transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument

  @Flag(name: .long, help: "Decode a kernel newer than every known family as the newest one.")
  var assumeNewest = false

  @Option(name: .long, help: "in (kernel → client), out (client → kernel), or auto (by the first message's type).")
  var direction: DirectionChoice = .auto

  @Flag(name: .long, help: "Print JSON Lines, one message a line.")
  var json = false

  @Flag(name: .long, help: "Read FILE as hexadecimal text.")
  var hex = false

  @Argument(help: "A file holding one raw datagram; - or nothing reads hex from standard input.")
  var file: String?

  enum DirectionChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, `in`, out
  }

  func validate() throws { _ = try family.resolve(assumeNewest: assumeNewest) }

  func run() throws {
    let layoutFamily = try family.resolve(assumeNewest: assumeNewest)
    let datagrams = try readDatagrams()
    let decoder = MessageDecoder(family: layoutFamily)
    var failed = false
    for (index, datagram) in datagrams.enumerated() {
      let direction = resolveDirection(datagram)
      do {
        let messages = try decoder.decode(datagram, direction: direction)
        let ranges = try decoder.messageRanges(in: datagram, direction: direction)
        for (message, range) in zip(messages, ranges) {
          let fields = message.fieldValue(family: layoutFamily)
          if json {
            var line = [
              Field("datagram", .uint(UInt64(index))), Field("offset", .uint(UInt64(range.lowerBound))),
              Field("direction", .string(direction.rawValue)), Field("family", .string(layoutFamily.name)),
            ]
            if case .object(let rest) = fields { line += rest }
            print(FieldRendering.json(.object(line)))
          } else {
            print(
              "datagram \(index) offset \(range.lowerBound) (\(direction == .fromKernel ? "kernel → client" : "client → kernel"), \(layoutFamily))"
            )
            print(FieldRendering.text(fields, indent: 2))
          }
        }
      } catch {
        failed = true
        let message = "datagram \(index): \(error)"
        if json {
          print(
            FieldRendering.json(
              .object([
                Field("datagram", .uint(UInt64(index))), Field("decode_error", .string(error.code.description)),
                Field("offset", .uint(UInt64(error.offset))), Field("reason", .string(error.reason)),
              ])))
        }
        FileHandle.standardError.write(Data(("ntstat decode: " + message + "\n").utf8))
      }
    }
    if failed { throw ExitCode(1) }
  }

  func resolveDirection(_ datagram: [UInt8]) -> Direction {
    switch direction {
    case .in: return .fromKernel
    case .out: return .toKernel
    case .auto:
      guard datagram.count >= 12 else { return .fromKernel }
      let type =
        UInt32(datagram[8]) | UInt32(datagram[9]) << 8 | UInt32(datagram[10]) << 16 | UInt32(datagram[11]) << 24
      return MessageType(rawValue: type).isRequest ? .toKernel : .fromKernel
    }
  }

  func readDatagrams() throws -> [[UInt8]] {
    if let file, file != "-" {
      guard let data = FileManager.default.contents(atPath: file) else {
        throw ValidationError("cannot read \(file)")
      }
      if hex { return try Self.parseHexLines(String(decoding: data, as: UTF8.self), source: file) }
      guard !data.isEmpty else { throw ValidationError("\(file) is empty") }
      return [[UInt8](data)]
    }
    var text = ""
    while let line = readLine(strippingNewline: false) { text += line }
    return try Self.parseHexLines(text, source: "standard input")
  }

  /// One datagram per non-empty line; `#` starts a comment.
  static func parseHexLines(_ text: String, source: String) throws -> [[UInt8]] {
    var datagrams: [[UInt8]] = []
    for (lineNumber, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      var line = rawLine.prefix { $0 != "#" }
      line = Substring(line.replacingOccurrences(of: "0x", with: ""))
      let digits = line.filter { !$0.isWhitespace && $0 != ":" && $0 != "," }
      if digits.isEmpty { continue }
      guard digits.count % 2 == 0 else {
        throw ValidationError("\(source) line \(lineNumber + 1): odd number of hex digits")
      }
      var bytes: [UInt8] = []
      var index = digits.startIndex
      while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else {
          throw ValidationError("\(source) line \(lineNumber + 1): '\(digits[index..<next])' is not hex")
        }
        bytes.append(byte)
        index = next
      }
      datagrams.append(bytes)
    }
    guard !datagrams.isEmpty else { throw ValidationError("no datagrams in \(source)") }
    return datagrams
  }
}
