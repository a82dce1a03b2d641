import Glibc
import Synchronization
import Testing

@testable import JanusCore

/// The lock-free lanes on their own, below the queue: order, bounds, batches across block and
/// lap boundaries, closing, and many threads at once with per-producer sequence numbers (every
/// item taken exactly once, each producer's items in order). The handshake with waiters is
/// model-checked (Tests/model); these check the lanes' own protocols under real concurrency.
@Suite("Lock-free lanes")
struct LaneTests {
    enum Flavour: String, CaseIterable, CustomTestStringConvertible {
        case ring1, ring3, ring64, list
        var testDescription: String { rawValue }

        func make() -> Lane<Int> {
            switch self {
            case .ring1: .bounded(BoundedLane(capacity: 1))
            case .ring3: .bounded(BoundedLane(capacity: 3))
            case .ring64: .bounded(BoundedLane(capacity: 64))
            case .list: .unbounded(UnboundedLane())
            }
        }

        var capacity: Int? {
            switch self {
            case .ring1: 1
            case .ring3: 3
            case .ring64: 64
            case .list: nil
            }
        }
    }

    /// The run hints a spinning put and get poll (`BoundedLane.pushRun`, `Lane.popRun`): exact
    /// when one thread moves the lane, across many laps of the ring and blocks of the list.
    @Test("run hints: room for a run, a run of items, across laps and blocks", arguments: Flavour.allCases)
    func runHints(flavour: Flavour) {
        let lane = flavour.make()
        defer {
            _ = lane.drain()
            lane.deallocate()
        }
        let capacity = flavour.capacity ?? 1000
        let run = flavour.capacity.map { _ in lane.pushRun } ?? lane.popRun
        #expect(run == (flavour == .ring64 ? 8 : flavour == .list ? UnboundedLane<Int>.itemsPerBlock : 1))
        var queued = 0
        var next = 0
        var taken = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            // Random steps in and out, so that the head and the tail pass every index and lap.
            if Bool.random(using: &generator) && queued < capacity {
                #expect(lane.push(next) == .pushed)
                next += 1
                queued += 1
            } else if queued > 0 {
                #expect(lane.pop() == taken)
                taken += 1
                queued -= 1
            }
            for probe in [1, 2, run, Swift.max(1, run - 1)] where probe <= capacity {
                // The list's single-item hint is always "try" (its pop is the cheapest look).
                let expected = flavour == .list && probe == 1 ? true : queued >= probe
                #expect(lane.mayPop(run: probe) == expected, "mayPop(run: \(probe)) with \(queued)")
                if flavour.capacity != nil {
                    #expect(
                        lane.mayPush(run: probe) == (capacity - queued >= probe),
                        "mayPush(run: \(probe)) with \(queued)")
                }
            }
        }
    }

    @Test("single thread: FIFO order, the bound, counts", arguments: Flavour.allCases)
    func singleThread(flavour: Flavour) {
        let lane = flavour.make()
        defer {
            _ = lane.drain()
            lane.deallocate()
        }
        var next = 0
        var expected = 0
        // Many laps of the ring, many blocks of the list.
        for round in 0..<500 {
            let burst = 1 + round % 7
            for _ in 0..<burst {
                let pushed = lane.push(next)
                if let capacity = flavour.capacity, lane.count >= capacity, pushed == .full {
                    break
                }
                #expect(pushed == .pushed)
                next += 1
            }
            if let capacity = flavour.capacity { #expect(lane.count <= capacity) }
            #expect(lane.count == next - expected)
            while let item = lane.pop() {
                #expect(item == expected)
                expected += 1
            }
            #expect(lane.count == 0 && lane.pop() == nil)
        }
        #expect(lane.pushCount == next)
    }

    @Test("batches across lap and block boundaries keep order", arguments: Flavour.allCases)
    func batches(flavour: Flavour) {
        let lane = flavour.make()
        defer {
            _ = lane.drain()
            lane.deallocate()
        }
        var next = 0
        var expected = 0
        for round in 0..<400 {
            let size = 1 + (round * 37) % 150
            let batch = Array(next..<(next + size))
            let pushed = batch.withUnsafeBufferPointer { lane.push(contentsOf: $0) }
            if let capacity = flavour.capacity {
                #expect(pushed == Swift.min(size, capacity - (next - expected)))
            } else {
                #expect(pushed == size)
            }
            next += pushed
            let want = 1 + (round * 53) % 140
            let taken = [Int](unsafeUninitializedCapacity: want) { buffer, initialized in
                initialized = lane.pop(into: buffer)
            }
            #expect(taken == Array(expected..<(expected + taken.count)))
            expected += taken.count
        }
        let rest = lane.drain()
        #expect(rest == Array(expected..<next))
    }

    @Test("closing refuses puts and keeps what is queued", arguments: Flavour.allCases)
    func closing(flavour: Flavour) {
        let lane = flavour.make()
        defer { lane.deallocate() }
        #expect(lane.push(1) == .pushed)
        lane.close()
        #expect(lane.push(2) == .closed)
        #expect([3, 4].withUnsafeBufferPointer { lane.push(contentsOf: $0) } == 0)
        #expect(lane.drain() == [1])
        #expect(lane.pop() == nil)
    }

    @Test(
        "threads: every item exactly once, each producer's in order",
        .heavy, arguments: Flavour.allCases, [false, true])
    func threads(flavour: Flavour, batched: Bool) async throws {
        let lane = flavour.make()
        defer {
            _ = lane.drain()
            lane.deallocate()
        }
        let producers = 3
        let consumers = 3
        let perProducer = 30_000
        let done = Atomic<Int>(0)
        let box = LaneBox(lane)
        // Items are producer * 1_000_000 + sequence.
        let producerWorkers = (0..<producers).map { p in
            spawnThread { () -> Bool in
                var sequence = 0
                while sequence < perProducer {
                    if batched {
                        let size = Swift.min(1 + sequence % 9, perProducer - sequence)
                        let items = (0..<size).map { p * 1_000_000 + sequence + $0 }
                        let pushed = items.withUnsafeBufferPointer { box.lane.push(contentsOf: $0) }
                        sequence += pushed
                        if pushed < size { sched_yield() }
                    } else if box.lane.push(p * 1_000_000 + sequence) == .pushed {
                        sequence += 1
                    } else {
                        sched_yield()
                    }
                }
                return true
            }
        }
        let consumerWorkers = (0..<consumers).map { _ in
            spawnThread { () -> [Int] in
                var got: [Int] = []
                var buffer = [Int](repeating: 0, count: 8)
                while done.load(ordering: .acquiring) < producers * perProducer {
                    if batched {
                        let taken = buffer.withUnsafeMutableBufferPointer { box.lane.pop(into: $0) }
                        if taken == 0 { sched_yield() }
                        for index in 0..<taken { got.append(buffer[index]) }
                        done.wrappingAdd(taken, ordering: .releasing)
                    } else if let item = box.lane.pop() {
                        got.append(item)
                        done.wrappingAdd(1, ordering: .releasing)
                    } else {
                        sched_yield()
                    }
                }
                return got
            }
        }
        for worker in producerWorkers { #expect(try await worker.value()) }
        var seen = [Int](repeating: 0, count: producers * perProducer)
        for worker in consumerWorkers {
            var last = [Int](repeating: -1, count: producers)
            for item in try await worker.value() {
                let producer = item / 1_000_000
                let sequence = item % 1_000_000
                // Each consumer sees each producer's items in order.
                #expect(sequence > last[producer])
                last[producer] = sequence
                seen[producer * perProducer + sequence] += 1
            }
        }
        #expect(seen.allSatisfy { $0 == 1 }, "some item was lost or taken twice")
        #expect(lane.pop() == nil)
    }

    /// A queue leaves its lane (peek, a new maxsize) by closing and draining it while lock-free
    /// gets that started earlier may still run: the drain must take its items at once, so that
    /// no such get takes an item from behind the ones drained (its caller would see them out of
    /// order). Every item a popper took must come before every drained one.
    @Test("a drain is never overtaken by gets running beside it", .heavy, arguments: Flavour.allCases)
    func drainBesideGets(flavour: Flavour) async throws {
        for round in 0..<200 {
            let lane = flavour.make()
            defer { lane.deallocate() }
            let box = LaneBox(lane)
            let total = flavour.capacity ?? 500
            for item in 0..<total { #expect(lane.push(item) == .pushed) }
            let started = Atomic<Int>(0)
            let poppers = (0..<2).map { _ in
                spawnThread { () -> [Int] in
                    started.wrappingAdd(1, ordering: .releasing)
                    var got: [Int] = []
                    var misses = 0
                    while misses < 50 {
                        if let item = box.lane.pop() { got.append(item) } else { misses += 1 }
                    }
                    return got
                }
            }
            while started.load(ordering: .acquiring) < 2 {}
            let delay = Atomic<Int>(0)
            for _ in 0..<(round * 7919) % 2000 { delay.wrappingAdd(1, ordering: .relaxed) }
            lane.close()
            let drained = lane.drain()
            var popped: [Int] = []
            for popper in poppers { popped += try await popper.value() }
            #expect((popped + drained).sorted() == Array(0..<total), "lost or taken twice")
            #expect(drained == drained.sorted())
            if let first = drained.first, let latest = popped.max() {
                #expect(latest < first, "round \(round): a get took \(latest) after the drain began at \(first)")
            }
        }
    }
}

/// The lanes are plain structs over shared memory, made for use from many threads at once.
final class LaneBox: Sendable {
    // Sendable: `lane` is immutable; the memory it points to is the lane's own, synchronized
    // by its atomics (that is what the test checks).
    let lane: Lane<Int>
    init(_ lane: Lane<Int>) { self.lane = lane }
}

extension Lane: @unchecked Sendable {}
// @unchecked Sendable (tests only): a lane value is two pointers into memory that the lane
// synchronizes itself; the threads test shares one between threads on purpose.
