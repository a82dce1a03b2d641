import Glibc
import Testing

@testable import JanusCore

/// A bounded FIFO queue that a select had to wait on leaves its lane only while it must (select
/// waiters are listed off the lane) and rejoins it once idle (`rejoinLaneIfIdle`); a peek or a
/// new maxsize still leave it for good, and so does any select on an unbounded queue.
@Suite("Rejoin")
struct RejoinTests {
    static func select(_ operations: [SelectOperation<Int>], timeout: Duration? = nil)
        -> Worker<Result<SelectOutcome<Int>, QueueError>>
    {
        spawnThread { Result { () throws(QueueError) in try JanusSelect.sync(operations, timeout: timeout) } }
    }

    @Test("a select get that waited and was served: both queues back on their lanes")
    func getServed() async throws {
        let a = JanusQueue<Int>(.fifo, maxsize: 8)
        let b = JanusQueue<Int>(.fifo, maxsize: 8)
        #expect(a.usesLane && b.usesLane)
        let selecting = Self.select([.get(a), .get(b)])
        try await waitForWaiters(a, getters: 1)
        try await waitForWaiters(b, getters: 1)
        #expect(!a.usesLane && !b.usesLane)  // listed: off the lane while it waits
        try a.sync.putNowait(5)
        let outcome = try await selecting.value()
        guard case .success(.got(5, index: 0)) = outcome else { throw Failure("select: \(outcome)") }
        try await waitForWaiters(b)  // withdrawn from b after it was served by a
        #expect(a.usesLane && b.usesLane)
        // The lane again: lock-free, in order, counted once.
        try a.sync.putNowait(1)
        try a.sync.putNowait(2)
        #expect(a.count == 2 && a.unfinishedTasks == 3)
        #expect(try a.sync.getNowait() == 1)
        #expect(try a.sync.getNowait() == 2)
        for _ in 0..<3 { try a.sync.taskDone() }
        #expect(a.unfinishedTasks == 0 && b.unfinishedTasks == 0)
        #expect(Result { () throws(QueueError) in try a.sync.taskDone() }.failure == .invalidArgument)
    }

    @Test("a select put that waited: off the lane while its item is in the locked buffer, then back")
    func putServed() async throws {
        let a = JanusQueue<Int>(.fifo, maxsize: 1)
        let b = JanusQueue<Int>(.fifo, maxsize: 1)
        try a.sync.putNowait(1)
        try b.sync.putNowait(2)
        let selecting = Self.select([.put(10, into: a), .put(20, into: b)])
        try await waitForWaiters(a, putters: 1)
        try await waitForWaiters(b, putters: 1)
        #expect(try a.sync.getNowait() == 1)  // room in a: the select's item goes into a's buffer
        let outcome = try await selecting.value()
        guard case .success(.put(index: 0)) = outcome else { throw Failure("select: \(outcome)") }
        try await waitForWaiters(b)
        #expect(!a.usesLane && a.count == 1 && a.isFull)  // the buffer holds the item
        #expect(!b.usesLane && b.count == 1)  // b's item went to its buffer when the select listed
        #expect(try a.sync.getNowait() == 10)
        #expect(a.usesLane && a.count == 0)
        #expect(try b.sync.getNowait() == 2)
        #expect(b.usesLane)
        try a.sync.putNowait(11)
        #expect(Result { () throws(QueueError) in try a.sync.putNowait(12) }.failure == .full)  // the bound
        #expect(a.unfinishedTasks == 3 && b.unfinishedTasks == 1)
    }

    @Test("a select that timed out: back on the lane")
    func timedOut() async throws {
        let a = JanusQueue<Int>(.fifo, maxsize: 4)
        let b = JanusQueue<Int>(.fifo, maxsize: 4)
        let outcome = try await Self.select([.get(a), .get(b)], timeout: .milliseconds(20)).value()
        #expect(outcome.failure == .timedOut)
        #expect(a.usesLane && b.usesLane && a.waiting == WaitingCounts())
    }

    @Test("a plain waiter listed off the lane keeps it off until it is served")
    func plainWaiterOffLane() async throws {
        let a = JanusQueue<Int>(.fifo, maxsize: 4)
        let b = JanusQueue<Int>(.fifo, maxsize: 4)
        let selecting = Self.select([.get(a), .get(b)])
        try await waitForWaiters(a, getters: 1)
        let getter = spawnThread { Result { () throws(QueueError) in try a.sync.get() } }
        try await waitForWaiters(a, getters: 2)
        try b.sync.putNowait(7)  // the select goes, the plain getter stays listed on a
        let outcome = try await selecting.value()
        guard case .success(.got(7, index: 1)) = outcome else { throw Failure("select: \(outcome)") }
        try await waitForWaiters(a, getters: 1)
        #expect(!a.usesLane)
        try a.sync.putNowait(8)
        #expect(try await getter.value().get() == 8)
        #expect(a.usesLane && b.usesLane)
    }

    @Test("a peek or a new maxsize keep the lane left for good, before or after a select")
    func forGood() async throws {
        let peeked = JanusQueue<Int>(.fifo, maxsize: 4)
        try peeked.sync.putNowait(1)
        #expect(try peeked.sync.peekNowait() == 1)
        #expect(try peeked.sync.getNowait() == 1)
        #expect(!peeked.usesLane)
        _ = try await Self.select([.get(peeked)], timeout: .zero).value()
        #expect(!peeked.usesLane)

        let a = JanusQueue<Int>(.fifo, maxsize: 4)
        let b = JanusQueue<Int>(.fifo, maxsize: 4)
        let selecting = Self.select([.get(a), .get(b)])
        try await waitForWaiters(a, getters: 1)
        a.maxsize = 4  // unchanged: nothing happens
        #expect(Result { () throws(QueueError) in try a.sync.peekNowait() }.failure == .empty)
        try b.sync.putNowait(3)
        _ = try await selecting.value()
        try await waitForWaiters(a)
        #expect(!a.usesLane && b.usesLane)  // a was peeked while off: for good

        let resized = JanusQueue<Int>(.fifo, maxsize: 4)
        resized.maxsize = 2
        let timedOut = try await Self.select([.get(resized), .get(b)], timeout: .milliseconds(5)).value()
        #expect(timedOut.failure == .timedOut)
        #expect(!resized.usesLane && b.usesLane)
    }

    @Test("an unbounded FIFO queue stays off its lane after a select (bounded lanes rejoin only)")
    func unboundedStaysOff() async throws {
        let a = JanusQueue<Int>()
        let b = JanusQueue<Int>(.fifo, maxsize: 4)
        let outcome = try await Self.select([.get(a), .get(b)], timeout: .milliseconds(5)).value()
        #expect(outcome.failure == .timedOut)
        #expect(!a.usesLane && b.usesLane)
        try a.sync.putNowait(1)
        #expect(try a.sync.getNowait() == 1 && a.unfinishedTasks == 1)
    }
}

/// Many leave/rejoin cycles under load: plain producers that use the lane whenever the queue is
/// on it, selecting consumers with short timeouts (each wait takes the queue off its lane, each
/// serve or timeout may bring it back), and plain lock-free consumers. Every item is got exactly
/// once, each consumer sees each producer's items in order, and the counts end at zero.
@Suite("Rejoin stress", .heavy)
struct RejoinStressTests {
    static let producers = 3
    static let perProducer = 30000

    @Test("exactly once and per-producer FIFO across leave/rejoin cycles", arguments: [1, 16, 256])
    func stress(maxsize: Int) async throws {
        let queue = JanusQueue<Int>(.fifo, maxsize: maxsize)
        let other = JanusQueue<Int>(.fifo, maxsize: 4)  // never fed: selects wait on both
        let total = Self.producers * Self.perProducer
        let seen = Locked([Int](repeating: 0, count: total))
        let taken = Locked(0)
        let orderBroken = Locked(0)
        // Per consumer: the last sequence number seen from each producer.
        let account: @Sendable (Int, inout [Int]) -> Void = { item, last in
            let producer = item / Self.perProducer
            let seq = item % Self.perProducer
            if seq <= last[producer] { orderBroken.withLock { $0 += 1 } }
            last[producer] = seq
            seen.withLock { $0[item] += 1 }
            taken.withLock { $0 += 1 }
            _ = try? queue.sync.taskDone()
        }
        let allTaken: @Sendable () -> Bool = { taken.current >= total }
        var producers: [Worker<Void>] = []
        for producer in 0..<Self.producers {
            producers.append(
                spawnThread {
                    for seq in 0..<Self.perProducer {
                        try? queue.sync.put(producer * Self.perProducer + seq)
                        // Pauses now and then, so that the queue runs dry and selects wait.
                        if seq % 256 == 255 { usleep(50) }
                    }
                })
        }
        var consumers: [Worker<Void>] = []
        for _ in 0..<2 {
            consumers.append(
                spawnThread {
                    var last = [Int](repeating: -1, count: Self.producers)
                    var rng = SystemRandomNumberGenerator()
                    while !allTaken() {
                        let timeout = Duration.microseconds(Int.random(in: 0...500, using: &rng))
                        if case .got(let item, 0)? = try? JanusSelect.sync(
                            [.get(queue), .get(other)], timeout: timeout)
                        {
                            account(item, &last)
                        }
                    }
                })
        }
        consumers.append(
            spawnTask {
                var last = [Int](repeating: -1, count: Self.producers)
                while !allTaken() {
                    let outcome = try? await JanusSelect.async([.get(other), .get(queue)], timeout: .microseconds(300))
                    if case .got(let item, 1)? = outcome { account(item, &last) }
                }
            })
        consumers.append(
            spawnThread {
                var last = [Int](repeating: -1, count: Self.producers)
                while !allTaken() {
                    if let item = try? queue.sync.getNowait() {
                        account(item, &last)
                    } else {
                        sched_yield()
                    }
                }
            })
        for producer in producers { try await producer.value("producer") }
        for consumer in consumers { try await consumer.value("consumer") }
        #expect(seen.current.allSatisfy { $0 == 1 })
        #expect(orderBroken.current == 0)
        #expect(queue.count == 0 && queue.unfinishedTasks == 0 && other.unfinishedTasks == 0)
        try await waitForWaiters(queue)
        #expect(queue.usesLane && other.usesLane)
        #expect(queue.withState { $0.laneRejoins } > 0)
    }
}
