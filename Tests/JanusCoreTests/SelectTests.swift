import Foundation
import JanusCore
import Testing

/// `JanusSelect` on both faces: exactly one operation, the others untouched, shutdown as ready,
/// first come first served against plain waiters, timeouts, cancellation that never loses an
/// item, fairness, and exactness under stress.
@Suite("Select")
struct SelectTests {
    /// A select on `face`, as a `Result`.
    static func select<E: Sendable>(
        _ face: Face, _ operations: [SelectOperation<E>], timeout: Duration? = nil
    ) -> Worker<Result<SelectOutcome<E>, QueueError>> {
        start(
            face, sync: { () throws(QueueError) in try JanusSelect.sync(operations, timeout: timeout) },
            async: { () async throws(QueueError) in try await JanusSelect.async(operations, timeout: timeout) })
    }

    static func got(_ result: Result<SelectOutcome<Int>, QueueError>) -> (Int, Int)? {
        if case .success(.got(let item, let index)) = result { return (item, index) }
        return nil
    }

    @Test("bad arguments do nothing", arguments: Face.allCases)
    func invalid(face: Face) async throws {
        let queue = JanusQueue<Int>()
        let empty: [SelectOperation<Int>] = []
        let tooMany = [SelectOperation<Int>](repeating: .put(1, into: queue), count: JanusSelect.maxOperations + 1)
        for (operations, timeout) in [
            (empty, Duration?.none), (tooMany, nil), ([.put(1, into: queue)], .milliseconds(-1)),
        ] {
            let result = try await Self.select(face, operations, timeout: timeout).value()
            guard case .failure(.invalidArgument) = result else {
                Issue.record("expected invalidArgument, got \(result)")
                continue
            }
        }
        #expect(queue.count == 0 && queue.unfinishedTasks == 0)
    }

    @Test("no wait: a try over all, exactly the ready one", arguments: Kind.allCases, Face.allCases)
    func noWait(kind: Kind, face: Face) async throws {
        let a = kind.makeQueue(maxsize: 1)
        let b = kind.makeQueue(maxsize: 1)
        let result = try await Self.select(face, [.get(a), .get(b)], timeout: .zero).value()
        guard case .failure(.timedOut) = result else { throw Failure("empty: \(result)") }
        try b.sync.putNowait(5)
        let one = try await Self.select(face, [.get(a), .get(b)], timeout: .zero).value()
        #expect(Self.got(one)! == (5, 1))
        try a.sync.putNowait(7)
        let put = try await Self.select(face, [.put(8, into: a), .put(9, into: b)], timeout: .zero).value()
        guard case .success(.put(index: 1)) = put else { throw Failure("put: \(put)") }
        #expect(a.count == 1 && b.count == 1 && a.unfinishedTasks == 1 && b.unfinishedTasks == 2)
    }

    @Test("a shut-down queue is ready; all shut down never hangs", arguments: Face.allCases)
    func shutdownIsReady(face: Face) async throws {
        let a = JanusQueue<Int>()
        let b = JanusQueue<Int>(.lifo)
        b.shutdown()
        let first = try await Self.select(face, [.get(a), .get(b)]).value()
        guard case .success(.shutDown(index: 1)) = first else { throw Failure("\(first)") }
        a.shutdown()
        let all = try await Self.select(face, [.put(1, into: a), .put(2, into: b)]).value()
        guard case .success(.shutDown) = all else { throw Failure("\(all)") }
        #expect(a.count == 0 && b.count == 0)
    }

    @Test("the same queue twice: a get and a put", arguments: Kind.allCases)
    func sameQueueTwice(kind: Kind) async throws {
        let queue = kind.makeQueue(maxsize: 1)
        let ops: [SelectOperation<Int>] = [.get(queue), .put(11, into: queue)]
        let put = try await Self.select(.sync, ops).value()
        guard case .success(.put(index: 1)) = put else { throw Failure("\(put)") }
        let get = try await Self.select(.async, ops).value()
        #expect(Self.got(get)! == (11, 0))
        #expect(queue.count == 0 && queue.unfinishedTasks == 1)
    }

    @Test(
        "a put hands its item to the waiting select; it leaves the other line", arguments: Kind.allCases, Face.allCases)
    func handOff(kind: Kind, face: Face) async throws {
        let a = kind.makeQueue(maxsize: 2)
        let b = kind.makeQueue()
        let worker = Self.select(face, [.get(a), .get(b)])
        try await waitForWaiters(a, getters: 1)
        try await waitForWaiters(b, getters: 1)
        try b.sync.putNowait(42)
        #expect(Self.got(try await worker.value())! == (42, 1))
        try await waitForWaiters(a, getters: 0)
        try a.sync.putNowait(43)
        #expect(a.count == 1 && b.count == 0)
    }

    @Test("a select put waits for room and puts only there", arguments: Kind.allCases, Face.allCases)
    func selectPutWaits(kind: Kind, face: Face) async throws {
        let a = kind.makeQueue(maxsize: 1)
        let b = kind.makeQueue(maxsize: 1)
        try a.sync.putNowait(1)
        try b.sync.putNowait(2)
        let worker = Self.select(face, [.put(10, into: a), .put(20, into: b)])
        try await waitForWaiters(a, putters: 1)
        try await waitForWaiters(b, putters: 1)
        #expect(try b.sync.getNowait() == 2)
        let result = try await worker.value()
        guard case .success(.put(index: 1)) = result else { throw Failure("\(result)") }
        try await waitForWaiters(a, putters: 0)
        #expect(try b.sync.getNowait() == 20)
        #expect(a.count == 1 && a.unfinishedTasks == 1)
    }

    @Test("first come, first served with plain getters", arguments: Face.allCases)
    func fcfs(face: Face) async throws {
        let a = JanusQueue<Int>()
        let b = JanusQueue<Int>()
        let getter = a.startGet(.sync)
        try await waitForWaiters(a, getters: 1)
        let selector = Self.select(face, [.get(a), .get(b)])
        try await waitForWaiters(a, getters: 2)
        try await waitForWaiters(b, getters: 1)
        try a.sync.putNowait(1)
        #expect(try await getter.value() == .success(1))
        try a.sync.putNowait(2)
        #expect(Self.got(try await selector.value())! == (2, 0))
    }

    @Test("a timeout does nothing and leaves every line", .timing, arguments: Face.allCases)
    func timeout(face: Face) async throws {
        let a = JanusQueue<Int>(.priority)
        let b = JanusQueue<Int>(maxsize: 1)
        try b.sync.putNowait(0)
        let (result, took) = try await elapsedAsync {
            try await Self.select(face, [.get(a), .put(1, into: b)], timeout: .milliseconds(50)).value()
        }
        guard case .failure(.timedOut) = result else { throw Failure("\(result)") }
        #expect(tookAtLeast(took, .milliseconds(50)))
        #expect(a.waiting == WaitingCounts() && b.waiting == WaitingCounts())
        #expect(b.count == 1 && b.unfinishedTasks == 1)
    }

    @Test("cancelled while waiting: nothing happens", arguments: Kind.allCases)
    func cancelled(kind: Kind) async throws {
        let a = kind.makeQueue()
        let b = kind.makeQueue()
        let worker = Self.select(.async, [.get(a), .get(b)])
        try await waitForWaiters(a, getters: 1)
        try await waitForWaiters(b, getters: 1)
        worker.cancel()
        let result = try await worker.value()
        guard case .failure(.cancelled) = result else { throw Failure("\(result)") }
        #expect(a.waiting == WaitingCounts() && b.waiting == WaitingCounts())
        try a.sync.putNowait(1)
        #expect(a.count == 1)
    }

    @Test("cancellation racing a put never loses the item", arguments: Kind.allCases)
    func cancelRacingPut(kind: Kind) async throws {
        let a = kind.makeQueue()
        let b = kind.makeQueue()
        var got = 0
        for round in 0..<200 {
            let worker = Self.select(.async, [.get(a), .get(b)])
            try await waitForWaiters(a, getters: 1)
            try await waitForWaiters(b, getters: 1)
            let target = round % 2 == 0 ? a : b
            let putter = spawnThread { try? target.sync.put(round) }
            worker.cancel()
            _ = try await putter.value()
            switch try await worker.value() {
            case .success(.got(let item, let index)):
                #expect(item == round && index == round % 2)
                got += 1
            case .failure(.cancelled):
                #expect(try target.sync.getNowait() == round)  // still there
            case let other:
                Issue.record("unexpected \(other)")
            }
            #expect(a.count == 0 && b.count == 0)
        }
        _ = got
    }

    @Test("fair: two ready queues, neither wins more than 60% of 100,000 selects")
    func fairness() throws {
        let a = JanusQueue<Int>()
        let b = JanusQueue<Int>(.lifo)
        var wins = [0, 0]
        for _ in 0..<100_000 {
            wins[try JanusSelect.sync([.put(1, into: a), .put(2, into: b)], timeout: .zero).index] += 1
        }
        #expect(wins.allSatisfy { $0 <= 60_000 }, "\(wins)")
        var got = [0, 0]
        for _ in 0..<100_000 {
            let index = try JanusSelect.sync([.get(a), .get(b)], timeout: .zero).index
            got[index] += 1
            try (index == 0 ? a : b).sync.put(3)
        }
        #expect(got.allSatisfy { $0 <= 60_000 }, "\(got)")
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Producers into several queues, selecting consumers over all of them on both faces with
/// random timeouts and cancellations, and selecting putters into bounded queues: every item
/// arrives exactly once (per-producer sequence numbers).
@Suite("Select stress", .heavy)
struct SelectStressTests {
    static let perProducer = 20000
    static let producers = 4

    @Test("exactly once, threads and tasks, timeouts and cancellations")
    func exactlyOnce() async throws {
        let queues: [JanusQueue<Int>] = [
            JanusQueue(.fifo, maxsize: 4), JanusQueue(.fifo), JanusQueue(.lifo, maxsize: 2),
            JanusQueue(.priority, maxsize: 8),
        ]
        let seen = Locked([Int: Int]())
        let account: @Sendable (Int, Int) -> Void = { item, index in
            seen.withLock { $0[item, default: 0] += 1 }
            _ = try? queues[index].sync.taskDone()
        }
        let allShutDown: @Sendable () -> Bool = { queues.allSatisfy { $0.isShutdown && $0.count == 0 } }
        var producers: [Worker<Void>] = []
        for producer in 0..<Self.producers {
            let selecting = producer % 2 == 0
            if producer < 2 {
                producers.append(spawnThread { Self.produceOnThread(producer, selecting, queues) })
            } else {
                producers.append(spawnTask { await Self.produceOnTask(producer, selecting, queues) })
            }
        }
        var consumers: [Worker<Void>] = []
        for _ in 0..<2 {
            consumers.append(
                spawnThread {
                    var rng = SystemRandomNumberGenerator()
                    let ops = queues.map { SelectOperation.get($0) }
                    while !allShutDown() {
                        let pick = Int.random(in: 0..<4, using: &rng)
                        let timeout: Duration? = pick == 0 ? .zero : pick == 1 ? nil : .milliseconds(pick)
                        if case .got(let item, let index)? = try? JanusSelect.sync(ops, timeout: timeout) {
                            account(item, index)
                        }
                    }
                })
            consumers.append(
                spawnTask {
                    var rng = SystemRandomNumberGenerator()
                    let ops = queues.map { SelectOperation.get($0) }
                    while !allShutDown() {
                        // Each select in a child task, cancelled at a random moment.
                        let child = Task { try await JanusSelect.async(ops, timeout: .milliseconds(5)) }
                        if Bool.random(using: &rng) {
                            try? await Task.sleep(for: .microseconds(Int.random(in: 0...300, using: &rng)))
                            child.cancel()
                        }
                        if case .success(.got(let item, let index)) = await child.result { account(item, index) }
                    }
                })
        }
        for producer in producers { try await producer.value("producer") }
        for queue in queues { queue.shutdown() }
        for consumer in consumers { try await consumer.value("consumer") }
        let counts = seen.current
        #expect(counts.count == Self.producers * Self.perProducer)
        #expect(counts.values.allSatisfy { $0 == 1 })
        for queue in queues {
            #expect(queue.count == 0 && queue.unfinishedTasks == 0 && queue.waiting == WaitingCounts())
        }
    }

    /// A producer on a thread: selecting putters over every queue with random timeouts, or
    /// plain puts into a random queue.
    static func produceOnThread(_ producer: Int, _ selecting: Bool, _ queues: [JanusQueue<Int>]) {
        var rng = SystemRandomNumberGenerator()
        var seq = 0
        while seq < perProducer {
            let item = producer * 1_000_000 + seq
            if selecting {
                let timeout = Duration.milliseconds(Int.random(in: 0...2, using: &rng))
                if (try? JanusSelect.sync(queues.map { .put(item, into: $0) }, timeout: timeout)) != nil { seq += 1 }
            } else if (try? queues[Int.random(in: 0..<queues.count, using: &rng)].sync.put(item)) != nil {
                seq += 1
            }
        }
    }

    /// The same on a task.
    static func produceOnTask(_ producer: Int, _ selecting: Bool, _ queues: [JanusQueue<Int>]) async {
        var rng = SystemRandomNumberGenerator()
        var seq = 0
        while seq < perProducer {
            let item = producer * 1_000_000 + seq
            if selecting {
                let timeout = Duration.milliseconds(Int.random(in: 0...2, using: &rng))
                if (try? await JanusSelect.async(queues.map { .put(item, into: $0) }, timeout: timeout)) != nil {
                    seq += 1
                }
            } else if (try? await queues[Int.random(in: 0..<queues.count, using: &rng)].async.put(item)) != nil {
                seq += 1
            }
        }
    }
}
