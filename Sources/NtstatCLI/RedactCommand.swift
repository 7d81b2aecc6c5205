import ArgumentParser
import Foundation
import NTStat
import NtstatCapture
import NtstatReplay
import NtstatWire

/// `ntstat redact IN OUT`: a capture for sharing, with addresses, names and UUIDs replaced by
/// consistent pseudonyms, that replays to the same structure.
struct RedactCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "redact",
    abstract:
      "Redact a capture for sharing: consistent pseudonyms for addresses, process names, UUIDs and the host name.",
    discussion: """
      Addresses keep their structure (the same /24 or /64 gets the same pseudonymous prefix; \
      loopback, link-local and unspecified are kept), so the redacted capture replays to the same \
      streams, counters and events. Ports and counters are kept unless --ports / --counters. The \
      pseudonyms come from a key: the same --key gives the same pseudonyms across captures; \
      without one a random key is used. The key is never written to the output; its metadata \
      says what was redacted.
      """)

  @Argument(help: "The capture to redact.") var input: String
  @Argument(help: "The redacted capture to write.") var output: String
  @Option(name: .long, help: "The pseudonyms' key: 32 hex digits (default: random, not stored).") var key: String?
  @Flag(name: .long, help: "Replace ports too.") var ports = false
  @Flag(name: .long, help: "Zero the traffic counters too.") var counters = false
  @Option(
    name: .long, help: "Decode with this layout family instead of the capture's.",
    transform: FamilyArgument.init(parsing:))
  var family: FamilyArgument?
  @Option(name: .long, help: "zstd or none (default: from OUT's suffix).") var compression: String?
  @Option(name: .long, help: "zstd level.") var level: Int32 = CaptureCompression.defaultLevel
  @OptionGroup var outputFile: OutputFileOptions

  func run() throws {
    let options = RedactionOptions(key: try keyBytes(), ports: ports, counters: counters)
    let override = try family?.resolve(assumeNewest: true)
    let reader = try openCapture(input)
    let out = try OutputCapture(
      path: output, compression: compression, level: level, policy: try outputFile.policy())
    var redactor: Redactor?
    var rewrite = CaptureRewrite()
    let source = input
    rewrite.section = { metadata in
      guard let chosen = override ?? metadata.declaredFamily?.family else {
        throw CommandFailure("\(source) does not say which layout family it holds; pass --family")
      }
      let current = Redactor(family: chosen, options: options)
      redactor = current
      return Self.redact(metadata, with: current)
    }
    rewrite.interface = { description in
      // The control's name and family say nothing about the host: kept, for the dissector.
      guard let description, !PcapngFormat.isControlDescription(description) else { return description }
      return redactor?.pseudonym(description, prefix: "if-") ?? ""
    }
    rewrite.frame = { frame in
      guard var current = redactor, let bytes = current.redact(frame.bytes.array, direction: frame.direction) else {
        redactor?.countDrop()
        return nil
      }
      redactor = current
      var copy = frame
      copy.bytes = DatagramBytes(bytes)
      return copy
    }
    let copied = try copyRecords(from: reader, to: out, rewrite: rewrite) { _, _ in .keep }
    let dropped = redactor?.dropped ?? 0
    print(
      "\(output): \(copied) frame(s) redacted (\(options.summary))"
        + (dropped > 0 ? "; \(dropped) datagram(s) that did not decode were left out" : ""))
  }

  func keyBytes() throws -> [UInt8] {
    guard let key else { return RedactionOptions.randomKey() }
    let digits = Array(key.utf8)
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: digits.count, by: 2) where index + 1 < digits.count {
      guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { break }
      bytes.append(byte)
    }
    guard digits.count == 32, bytes.count == 16 else {
      throw ValidationError("--key: 32 hexadecimal digits (16 bytes)")
    }
    return bytes
  }

  /// The metadata with the host name pseudonymised, process names in filters too, and a note of
  /// what was redacted (never the key).
  static func redact(_ metadata: CaptureMetadata, with redactor: Redactor) -> CaptureMetadata {
    var metadata = metadata
    metadata.hostName = metadata.hostName.map { redactor.pseudonym($0, prefix: "host-") }
    if let configuration = metadata.configuration {
      metadata.configuration = configuration.split(separator: " ").map { part -> String in
        guard part.hasPrefix("filter=") else { return String(part) }
        return "filter="
          + part.dropFirst(7).split(separator: ",").map { rule -> String in
            guard rule.hasPrefix("process:") else { return String(rule) }
            return "process:"
              + rule.dropFirst(8).split(separator: "|").map {
                redactor.pseudonym(String($0), prefix: "p-")
              }.joined(separator: "|")
          }.joined(separator: ",")
      }.joined(separator: " ")
    }
    metadata.extra["ntstat.redacted"] = redactor.options.summary
    return metadata
  }
}
