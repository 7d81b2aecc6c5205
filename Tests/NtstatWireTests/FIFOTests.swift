import NtstatWire
import Testing

/// The ring-buffer queue against an array doing the same, with elements that count their own
/// lives: every element pushed is popped or freed exactly once, across growth, wrap-around,
/// pushes at the front and copies that share storage until one changes.
@Suite struct FIFOTests {
  /// An element that counts the live instances of its kind.
  final class Tracked: Sendable {
    let value: Int
    let counter: LiveCounter
    init(_ value: Int, _ counter: LiveCounter) {
      self.value = value
      self.counter = counter
      counter.add(1)
    }
    deinit { counter.add(-1) }
  }

  final class LiveCounter: @unchecked Sendable {
    private var live = 0
    func add(_ delta: Int) { live += delta }
    var count: Int { live }
  }

  @Test(arguments: [1, 2, 3])
  func agreesWithAnArray(seed: UInt64) {
    let counter = LiveCounter()
    do {
      var state = seed
      func random(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int(truncatingIfNeeded: state >> 33) % bound
      }
      var queue = FIFO<Tracked>()
      var model: [Int] = []
      var snapshot: (FIFO<Tracked>, [Int])?
      var next = 0
      for step in 0..<20_000 {
        switch random(10) {
        case 0, 1, 2, 3:
          next += 1
          queue.push(Tracked(next, counter))
          model.append(next)
        case 4:
          next += 1
          queue.pushFront(Tracked(next, counter))
          model.insert(next, at: 0)
        case 5, 6, 7:
          #expect(queue.pop()?.value == (model.isEmpty ? nil : model.removeFirst()), "step \(step)")
        case 8:
          // A copy keeps what it held while the original changes, and the other way round.
          if let (copy, held) = snapshot {
            var copy = copy
            var popped: [Int] = []
            while let element = copy.pop() { popped.append(element.value) }
            #expect(popped == held, "step \(step)")
          }
          snapshot = (queue, model)
        default:
          #expect(queue.first?.value == model.first, "step \(step)")
        }
        #expect(queue.count == model.count, "step \(step)")
        #expect(queue.isEmpty == model.isEmpty)
      }
      snapshot = nil
      #expect(counter.count == queue.count, "elements alive beyond those queued")
    }
    #expect(counter.count == 0, "elements leaked")
  }

  @Test func growsAcrossTheWrapAround() {
    var queue = FIFO<Int>()
    for round in 0..<5 {
      // Leave the head mid-ring, then fill past the capacity.
      for value in 0..<10 { queue.push(value) }
      for _ in 0..<10 { _ = queue.pop() }
      for value in 0..<(100 * (round + 1)) { queue.push(value) }
      var popped: [Int] = []
      while let value = queue.pop() { popped.append(value) }
      #expect(popped == Array(0..<(100 * (round + 1))))
    }
  }
}
