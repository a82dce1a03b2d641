import Glibc
import JanusCore
import Synchronization
import Testing

/// culsans's extras on both faces: peek, clear, a live maxsize, waiting counts; and the
/// readiness descriptors with their level-like contract.
@Suite("Peek, clear, maxsize, descriptors")
struct ExtrasTests {
    // MARK: peek

    @Test("peekNowait shows the next item in the ordering and leaves it", arguments: Kind.allCases, Face.allCases)
    func peekNowait(kind: Kind, face: Face) throws {
        let queue = kind.makeQueue()
        #expect(Result { () throws(QueueError) in try queue.sync.peekNowait() }.failure == .empty)
        for item in [5, 1, 4] { try queue.sync.putNowait(item) }
        let expected = kind.expectedOrder([5, 1, 4])
        for next in expected {
            let peeked = face == .sync ? try queue.sync.peekNowait() : try queue.async.peekNowait()
            #expect(peeked == next)
            #expect(queue.count == expected.count - expected.firstIndex(of: next)!)
            #expect(try queue.sync.getNowait() == next)
        }
        queue.shutdown()
        #expect(Result { () throws(QueueError) in try queue.sync.peekNowait() }.failure == .shutDown)
    }

    @Test("a waiting peek is woken by a put and takes nothing", arguments: Face.allCases)
    func waitingPeek(face: Face) async throws {
        let queue = JanusQueue<Int>()
        let peek = start(
            face, sync: { () throws(QueueError) in try queue.sync.peek() },
            async: { () async throws(QueueError) in try await queue.async.peek() })
        try await waitForWaiters(queue, peekers: 1)
        try queue.sync.putNowait(7)
        #expect(try await peek.value() == .success(7))
        #expect(queue.count == 1 && queue.waiting == WaitingCounts())
        #expect(try queue.sync.getNowait() == 7)
    }

    @Test("a waiting peek times out with .empty, and shutdown ends it", arguments: Face.allCases)
    func peekTimeoutAndShutdown(face: Face) async throws {
        let queue = JanusQueue<Int>()
        let timed = try await run(
            face, sync: { () throws(QueueError) in try queue.sync.peek(timeout: .milliseconds(20)) },
            async: { () async throws(QueueError) in try await queue.async.peek(timeout: .milliseconds(20)) })
        #expect(timed.failure == .empty)
        let waiting = start(
            face, sync: { () throws(QueueError) in try queue.sync.peek() },
            async: { () async throws(QueueError) in try await queue.async.peek() })
        try await waitForWaiters(queue, peekers: 1)
        queue.shutdown()
        #expect(try await waiting.value().failure == .shutDown)
    }

    @Test("a FIFO queue keeps working, in order, after a peek takes it off its lock-free path", .heavy)
    func peekLeavesLane() async throws {
        let queue = JanusQueue<Int>(maxsize: 64)
        let total = 20_000
        let producer = spawnThread { () -> Bool in
            for i in 0..<total where (try? queue.sync.put(i)) == nil { return false }
            return true
        }
        var next = 0
        while next < total {
            if next == total / 3 { _ = try? queue.sync.peekNowait() }
            let item = try await queue.async.get()
            #expect(item == next)
            next += 1
        }
        #expect(try await producer.value())
    }

    // MARK: clear

    @Test("clear releases every item once, lowers unfinishedTasks, admits putters", arguments: Kind.allCases)
    func clear(kind: Kind) async throws {
        let tracker = LifetimeTests.Tracker()
        let queue: JanusQueue<LifetimeTests.Item> =
            switch kind {
            case .fifo: JanusQueue(.fifo, maxsize: 3)
            case .lifo: JanusQueue(.lifo, maxsize: 3)
            case .priority: JanusQueue(.priority(by: { $0.id < $1.id }), maxsize: 3)
            }
        for item in tracker.make(0..<3) { try queue.sync.putNowait(item) }
        let putter = queue.startPut(tracker.make(3), .sync)
        try await waitForWaiters(queue, putters: 1)
        #expect(queue.waitingPutters == 1)
        #expect(queue.unfinishedTasks == 3)
        #expect(queue.clear() == 3)
        #expect(tracker.destroyedCount == 3)
        #expect(try await putter.value().isSuccess, "the putter got the room")
        #expect(queue.count == 1 && queue.unfinishedTasks == 1)
        #expect(queue.clear() == 1 && queue.clear() == 0)
        #expect(queue.unfinishedTasks == 0)
        withExtendedLifetime(queue) {}
        try await LifetimeTests.waitAllDestroyed(tracker)
    }

    @Test("clear never lowers unfinishedTasks below zero")
    func clearAfterTaskDone() throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        for _ in 0..<3 { try queue.sync.taskDone() }  // done before taken: allowed, and counted
        #expect(queue.clear() == 3)
        #expect(queue.unfinishedTasks == 0)
        #expect(Result { () throws(QueueError) in try queue.sync.taskDone() }.failure == .invalidArgument)
    }

    // MARK: maxsize

    @Test("growing maxsize admits waiting putters first come first served", arguments: Kind.allCases, Face.allCases)
    func growMaxsize(kind: Kind, face: Face) async throws {
        let queue = kind.makeQueue(maxsize: 1)
        try queue.sync.putNowait(0)
        var putters: [Worker<Result<Void, QueueError>>] = []
        for item in 1...3 {
            putters.append(queue.startPut(item, face))
            try await waitForWaiters(queue, putters: item)
        }
        queue.maxsize = 3  // room for two more: the first two putters, in their order
        #expect(queue.maxsize == 3)
        #expect(try await putters[0].value().isSuccess)
        #expect(try await putters[1].value().isSuccess)
        try await waitForWaiters(queue, putters: 1)
        #expect(queue.count == 3)
        queue.maxsize = 0  // unbounded: the last one goes in too
        #expect(try await putters[2].value().isSuccess)
        #expect(queue.drainNowait() == kind.expectedOrder([0, 1, 2, 3]))
    }

    @Test("shrinking maxsize keeps the items; puts wait until the queue is below the new limit")
    func shrinkMaxsize() throws {
        let queue = JanusQueue<Int>(maxsize: 10)
        for i in 0..<6 { try queue.sync.putNowait(i) }
        queue.maxsize = 4
        #expect(queue.count == 6 && queue.isFull)
        #expect(Result { () throws(QueueError) in try queue.sync.putNowait(9) }.failure == .full)
        for i in 0..<3 { #expect(try queue.sync.getNowait() == i) }
        try queue.sync.putNowait(6)
        #expect(Result { () throws(QueueError) in try queue.sync.putNowait(9) }.failure == .full)
        #expect(queue.drainNowait() == [3, 4, 5, 6])
        queue.maxsize = -5
        #expect(queue.maxsize == 0)
    }

    @Test("changing maxsize under traffic loses and duplicates nothing", .heavy)
    func maxsizeUnderTraffic() async throws {
        let queue = JanusQueue<Int>(maxsize: 8)
        let total = 40_000
        let producers = (0..<2).map { p in
            spawnThread { () -> Bool in
                for i in 0..<total / 2 where (try? queue.sync.put(p * 1_000_000 + i)) == nil { return false }
                return true
            }
        }
        var last = [-1, -1]
        var got = 0
        while got < total {
            if got % 2000 == 0 { queue.maxsize = [4, 16, 0, 2, 64][got / 2000 % 5] }
            let item = try await queue.async.get()
            let p = item / 1_000_000
            #expect(item % 1_000_000 == last[p] + 1, "producer \(p) out of order")
            last[p] = item % 1_000_000
            got += 1
        }
        for producer in producers { #expect(try await producer.value()) }
        #expect(queue.isEmpty)
    }

    // MARK: waiting counts

    @Test("waitingGetters and waitingPutters count listed waiters of both faces")
    func waitingCounts() async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        let getters = [queue.startGet(.sync), queue.startGet(.async)]
        try await waitForWaiters(queue, getters: 2)
        #expect(queue.waitingGetters == 2 && queue.waitingPutters == 0)
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        for getter in getters { _ = try await getter.value() }
        try queue.sync.putNowait(3)
        let putters = [queue.startPut(4, .sync), queue.startPut(5, .async)]
        try await waitForWaiters(queue, putters: 2)
        #expect(queue.waitingGetters == 0 && queue.waitingPutters == 2)
        queue.shutdown()
        for putter in putters { #expect(try await putter.value().failure == .shutDown) }
    }

    // MARK: descriptors

    @Test(
        "the readable descriptor: readable while items wait, quiet only after a no-wait empty get",
        arguments: Kind.allCases)
    func readableDescriptor(kind: Kind) throws {
        let queue = kind.makeQueue()
        let fd = try queue.descriptor(for: .readable)
        #expect(try queue.descriptor(for: .readable) == fd, "the same descriptor every time")
        #expect(!isReadable(fd), "empty queue: quiet")
        try queue.sync.putNowait(1)
        #expect(isReadable(fd))
        try queue.sync.putNowait(2)
        _ = try queue.sync.getNowait()
        #expect(isReadable(fd), "an item is still there")
        _ = try queue.sync.getNowait()
        #expect(isReadable(fd), "no empty answer yet: may wake once more, spuriously")
        #expect(Result { () throws(QueueError) in try queue.sync.getNowait() }.failure == .empty)
        #expect(!isReadable(fd), "quiet after the empty answer")
        try queue.sync.putNowait(3)
        #expect(isReadable(fd), "readable again at the next item")
        _ = try queue.sync.getNowait()
        _ = Result { () throws(QueueError) in try queue.async.getNowait() }
        #expect(!isReadable(fd))
        queue.shutdown()
        #expect(isReadable(fd), "shut down: a get would not wait")
        #expect(Result { () throws(QueueError) in try queue.sync.getNowait() }.failure == .shutDown)
        #expect(isReadable(fd), "and it stays so")
    }

    @Test("a descriptor asked for while items wait is readable at once")
    func readableWhenMade() throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        #expect(isReadable(try queue.descriptor(for: .readable)))
    }

    @Test("the writable descriptor: quiet only after a no-wait full put, readable again at room")
    func writableDescriptor() throws {
        let unbounded = JanusQueue<Int>()
        #expect(isReadable(try unbounded.descriptor(for: .writable)), "an unbounded queue always has room")
        let queue = JanusQueue<Int>(maxsize: 2)
        let fd = try queue.descriptor(for: .writable)
        #expect(isReadable(fd))
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        #expect(isReadable(fd), "no full answer yet")
        #expect(Result { () throws(QueueError) in try queue.sync.putNowait(3) }.failure == .full)
        #expect(!isReadable(fd))
        _ = try queue.sync.getNowait()
        #expect(isReadable(fd), "room again")
        try queue.sync.putNowait(3)
        #expect(Result { () throws(QueueError) in try queue.sync.putNowait(4) }.failure == .full)
        #expect(!isReadable(fd))
        queue.maxsize = 3
        #expect(isReadable(fd), "a larger limit is room")
    }

    @Test(
        "an event loop racing threads and tasks: every item once, never quiet while items wait",
        .heavy, arguments: [0, 16])
    func eventLoopRace(maxsize: Int) async throws {
        let queue = JanusQueue<Int>(maxsize: maxsize)
        let fd = try queue.descriptor(for: .readable)
        let perProducer = 10_000
        let threadProducers = (0..<2).map { p in
            spawnThread { () -> Bool in
                for i in 0..<perProducer where (try? queue.sync.put(p * 1_000_000 + i)) == nil { return false }
                return true
            }
        }
        let taskProducers = (2..<4).map { p in
            spawnTask { () -> Bool in
                for i in 0..<perProducer {
                    do { try await queue.async.put(p * 1_000_000 + i) } catch { return false }
                }
                return true
            }
        }
        // A competing consumer that blocks in get: the loop sees spurious wakeups.
        let blocking = spawnThread { () -> [Int] in
            var got: [Int] = []
            while let item = try? queue.sync.get() { got.append(item) }
            return got
        }
        let loop = spawnThread { () -> ([Int], Int) in
            var got: [Int] = []
            var stuck = 0
            while true {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 2000) == 0 && queue.count > 0 { stuck += 1 }  // quiet with items
                drain: while true {
                    switch Result(catching: { () throws(QueueError) in try queue.sync.getNowait() }) {
                    case .success(let item): got.append(item)
                    case .failure(.shutDown): return (got, stuck)
                    case .failure: break drain  // .empty: back to the loop
                    }
                }
            }
        }
        for producer in threadProducers { #expect(try await producer.value()) }
        for producer in taskProducers { #expect(try await producer.value()) }
        queue.shutdown()
        let (loopGot, stuck) = try await loop.value()
        let blockingGot = try await blocking.value()
        #expect(stuck == 0, "the descriptor stayed quiet while items waited")
        var seen = [Int: Int]()
        for item in loopGot + blockingGot { seen[item, default: 0] += 1 }
        #expect(seen.count == 4 * perProducer && seen.values.allSatisfy { $0 == 1 })
        #expect(loopGot.count > 0, "the loop consumed some")
    }
}

/// Whether `fd` is readable right now (poll with no wait).
func isReadable(_ fd: Int32) -> Bool {
    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&poller, 1, 0) == 1 && poller.revents & Int16(POLLIN) != 0
}
