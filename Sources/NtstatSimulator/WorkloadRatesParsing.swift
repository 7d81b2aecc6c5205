/// A `--rate` text that is not `KEY=NUMBER,…` with known keys.
public struct WorkloadRatesError: Error, Hashable, Sendable {
  public var message: String
}

extension WorkloadRates {
  /// The keys of ``init(parsing:)``.
  public static let keys = [
    "tcp", "udp", "quic", "conn", "failed", "ipv6", "initial", "listeners", "burst", "burst-interval", "lifetime",
  ]

  /// Parses `tcp=20,udp=5,burst=200,burst-interval=15` (as `--rate` takes it and a simulated
  /// capture's `ntstat.simulator.rates` records it) over the defaults.
  public init(parsing text: String) throws(WorkloadRatesError) {
    self.init()
    for item in text.split(separator: ",") {
      let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, let value = Double(parts[1]), value >= 0 else {
        throw WorkloadRatesError(message: "\"\(item)\" is not KEY=NUMBER")
      }
      switch parts[0] {
      case "tcp": connectionsPerSecond = value
      case "udp": udpFlowsPerSecond = value
      case "quic": quicFlowsPerSecond = value
      case "conn": connFlowsPerSecond = value
      case "failed": failedFraction = min(value, 1)
      case "ipv6": ipv6Fraction = min(value, 1)
      case "initial": initialFlows = Int(value)
      case "listeners": listeners = Int(value)
      case "burst": burstSize = Int(value)
      case "burst-interval": burstInterval = value
      case "lifetime": meanLifetime = value
      default:
        throw WorkloadRatesError(message: "unknown key \"\(parts[0])\" (have \(Self.keys.joined(separator: ", ")))")
      }
    }
  }
}
