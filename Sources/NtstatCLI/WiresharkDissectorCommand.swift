import ArgumentParser
import Foundation
import NtstatCapture
import NtstatWireshark

/// `ntstat wireshark-dissector`: writes the Lua dissector generated from the layout tables.
struct WiresharkDissectorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "wireshark-dissector",
    abstract: "Write ntstat.lua, a Wireshark and tshark dissector for every layout family.",
    discussion: """
      Generated from the same layout tables as the decoder. Copy the file into Wireshark's \
      personal Lua plugins folder (~/.local/lib/wireshark/plugins on Linux and macOS), or run \
      tshark -X lua_script:ntstat.lua -r CAPTURE. See docs/wireshark.md.
      """)

  @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.")
  var output: String?

  @Flag(name: .long, help: "Replace an existing regular file.")
  var force = false

  func run() throws {
    let text = Data(WiresharkDissector.lua().utf8)
    guard let output else {
      FileHandle.standardOutput.write(text)
      return
    }
    // A plugin holds nothing private: readable by all, like any installed plugin.
    let handle = try openOutput(output, policy: OutputFilePolicy(mode: 0o644, replaceExisting: force))
    do {
      try handle.write(contentsOf: text)
      try handle.close()
    } catch {
      throw CommandFailure("\(output): \(error)")
    }
  }
}
