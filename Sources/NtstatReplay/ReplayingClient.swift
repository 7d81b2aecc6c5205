import NTStat
import NtstatWire

extension NetworkStatisticsClient {
  /// A client replaying a capture, configured as the recording was (providers, interval,
  /// filters from its metadata).
  public static func replaying(
    _ path: String, speed: ReplaySpeed = .topSpeed, family: LayoutFamily? = nil
  ) throws -> NetworkStatisticsClient {
    let transport = try ReplayTransport(path: path, speed: speed, family: family)
    return NetworkStatisticsClient(
      transport: transport, configuration: transport.recordedConfiguration ?? ClientConfiguration())
  }
}
