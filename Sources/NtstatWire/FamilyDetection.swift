/// Guesses the layout family of kernel datagrams whose source is unknown (a recording without
/// metadata): the family under which the most datagrams decode with no byte left over and no
/// byte missing. Struct sizes differ between families in almost every message kind, so a
/// handful of descriptions or counts usually leaves one candidate.
public enum FamilyDetection {
  public struct Result: Hashable, Sendable, CustomStringConvertible {
    public var family: LayoutFamily
    /// Datagrams that fit the family exactly, of those examined.
    public var fitting: Int
    public var examined: Int
    /// Other families that fit just as well (the newest of them all is chosen).
    public var tiedWith: [LayoutFamily]

    public var description: String {
      var text = "\(family): \(fitting) of \(examined) kernel datagrams have exactly this family's struct sizes"
      if !tiedWith.isEmpty {
        text += "; \(tiedWith.map(\.name).joined(separator: ", ")) fit as well, the newest was chosen"
      }
      return text
    }
  }

  /// Scores every family on `datagrams` (kernel → client). Nil when none is given or no
  /// family fits a single one.
  public static func detect(kernelDatagrams datagrams: [[UInt8]]) -> Result? {
    guard !datagrams.isEmpty else { return nil }
    var scores: [(LayoutFamily, Int)] = []
    for family in LayoutFamily.allCases {
      let decoder = MessageDecoder(family: family)
      var fitting = 0
      for datagram in datagrams {
        guard let messages = try? decoder.decode(datagram), !messages.isEmpty else { continue }
        if messages.allSatisfy({ $0.trailingBytes.isEmpty && !isUnknown($0) }) { fitting += 1 }
      }
      scores.append((family, fitting))
    }
    let best = scores.map(\.1).max() ?? 0
    guard best > 0 else { return nil }
    let winners = scores.filter { $0.1 == best }.map(\.0).sorted()
    let chosen = winners.last!
    return Result(family: chosen, fitting: best, examined: datagrams.count, tiedWith: winners.dropLast().reversed())
  }

  static func isUnknown(_ message: Message) -> Bool {
    if case .unknown = message.body { return true }
    return false
  }
}
