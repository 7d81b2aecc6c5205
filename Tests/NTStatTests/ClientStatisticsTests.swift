import Testing

@testable import NTStat

/// The client publishes its statistics after every input with ``ClientStatistics/assign(_:)``,
/// which copies the bytes when both values hold the same provider box. That is sound only while
/// every other stored property is a plain number.
@Suite struct ClientStatisticsTests {
  static func sample(_ seed: UInt64) -> ClientStatistics {
    var s = ClientStatistics()
    s.datagramsReceived = seed
    s.messagesReceived = seed &+ 1
    s.requestsSent = seed &+ 2
    s.kernelDrops = seed &+ 3
    s.liveSources = Int(seed % 1000)
    s.sweepsDeferred = seed &+ 4
    return s
  }

  @Test func assigningWithTheSameBoxCopiesEveryCounter() {
    var providers = Self.sample(1)
    providers.providersSubscribed = [.tcpKernel, .udpKernel]
    providers.providersRefused = [.connUserland: 1]
    var published = providers
    var next = providers
    next.datagramsReceived = 99
    next.pollOverruns = 7
    next.liveSources = -3
    published.assign(next)
    #expect(published == next)
    #expect(published.providersSubscribed == [.tcpKernel, .udpKernel])
  }

  @Test func assigningAnotherBoxTakesIt() {
    var published = Self.sample(1)
    published.providersSubscribed = [.tcpKernel]
    var next = Self.sample(2)
    next.providersSubscribed = [.udpKernel]
    next.providersRefused = [.udpSubflow: 13]
    published.assign(next)
    #expect(published == next)
    #expect(published.providersRefused == [.udpSubflow: 13])
  }

  /// What makes the byte copy sound: a new stored property that holds a reference (a string,
  /// an array, a class) must go into the provider box or change `assign`.
  @Test func everyStoredPropertyButTheProvidersIsANumber() {
    for child in Mirror(reflecting: ClientStatistics()).children {
      if child.label == "providers" {
        #expect(child.value is ProviderOutcomes)
      } else {
        #expect(child.value is UInt64 || child.value is Int, "\(child.label ?? "?") is \(type(of: child.value))")
      }
    }
  }

  /// Many assignments over one box neither leak it nor free it early.
  @Test func theBoxOutlivesItsHoldersAndNoMore() {
    weak var box: ProviderOutcomes?
    do {
      var source = Self.sample(3)
      source.providersSubscribed = [.tcpKernel]
      var published = ClientStatistics()
      for round in 0..<1000 {
        source.datagramsReceived = UInt64(round)
        published.assign(source)
      }
      box = Mirror(reflecting: published).children.first { $0.label == "providers" }?.value as? ProviderOutcomes
      #expect(box != nil)
      #expect(published.datagramsReceived == 999)
    }
    #expect(box == nil)
  }
}
