import JanusCore
import Synchronization
import Testing

/// SPEC §4.1 and §4.5: every item is released exactly once, whatever path it takes out of the
/// queue, and storage follows the load.
@Suite("Lifetime and memory (SPEC §4.1, §4.5)")
struct LifetimeTests {
    /// Counts the items of one test that were created and destroyed.
    final class Tracker: Sendable {
        let created = Atomic<Int>(0)
        let destroyed = Atomic<Int>(0)

        var live: Int { created.load(ordering: .acquiring) - destroyed.load(ordering: .acquiring) }
        var destroyedCount: Int { destroyed.load(ordering: .acquiring) }

        func make(_ id: Int) -> Item { Item(id, self) }
        func make(_ ids: Range<Int>) -> [Item] { ids.map { Item($0, self) } }
    }

    final class Item: Sendable {
        let id: Int
        let tracker: Tracker

        init(_ id: Int, _ tracker: Tracker) {
            self.id = id
            self.tracker = tracker
            tracker.created.add(1, ordering: .releasing)
        }

        deinit { tracker.destroyed.add(1, ordering: .releasing) }
    }

    /// Waits until every item the tracker made has been destroyed (a release may happen on
    /// another thread just after the call that caused it returns, e.g. when a task ends).
    static func waitAllDestroyed(_ tracker: Tracker, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await waitUntil("every item destroyed (\(tracker.live) alive)", sourceLocation: sourceLocation) {
            tracker.live == 0
        }
    }

    // MARK: exactly once

    @Test("immediate shutdown releases every queued item at once, exactly once", arguments: Kind.allCases)
    func immediateShutdownReleases(kind: Kind) throws {
        let tracker = Tracker()
        let queue: JanusQueue<Item> =
            switch kind {
            case .fifo: JanusQueue(.fifo)
            case .lifo: JanusQueue(.lifo)
            case .priority: JanusQueue(.priority(by: { $0.id < $1.id }))
            }
        for item in tracker.make(0..<100) { try queue.sync.putNowait(item) }
        let taken = try queue.sync.getNowait()
        #expect(tracker.destroyedCount == 0)
        queue.shutdown(immediate: true)
        #expect(tracker.destroyedCount == 99, "the discarded items are released by shutdown itself")
        queue.shutdown(immediate: true)
        #expect(tracker.destroyedCount == 99)
        withExtendedLifetime(taken) {}
    }

    @Test("onDiscard sees every discarded item once: at immediate shutdown and at deinit")
    func onDiscardOnce() throws {
        let tracker = Tracker()
        let seen = Locked<[Int]>([])
        do {
            let queue = JanusQueue<Item>(.fifo, maxsize: 0, onDiscard: { item in seen.withLock { $0.append(item.id) } })
            for item in tracker.make(0..<10) { try queue.sync.putNowait(item) }
            queue.close()
            #expect(seen.current == Array(0..<10))
            #expect(tracker.destroyedCount == 10)
        }
        seen.withLock { $0 = [] }
        do {
            let queue = JanusQueue<Item>(.lifo, maxsize: 5, onDiscard: { item in seen.withLock { $0.append(item.id) } })
            for item in tracker.make(0..<5) { try queue.sync.putNowait(item) }
            _ = try queue.sync.getNowait()
        }
        #expect(seen.current.sorted() == [0, 1, 2, 3])
        #expect(tracker.live == 0)
    }

    @Test("a queue dropped with items releases each of them once", arguments: Kind.allCases)
    func droppedQueueReleases(kind: Kind) throws {
        let tracker = Tracker()
        func fill() throws {
            let queue: JanusQueue<Item> =
                switch kind {
                case .fifo: JanusQueue(.fifo, maxsize: 64)
                case .lifo: JanusQueue(.lifo, maxsize: 64)
                case .priority: JanusQueue(.priority(by: { $0.id < $1.id }), maxsize: 64)
                }
            for item in tracker.make(0..<50) { try queue.sync.putNowait(item) }
            _ = try queue.sync.getNowait()  // released at once by the caller
            #expect(tracker.destroyedCount == 1)
        }
        try fill()
        #expect(tracker.live == 0)
        #expect(tracker.destroyedCount == 50)
    }

    @Test("items that go through the queue are not retained by it", arguments: Face.allCases)
    func roundTripReleases(face: Face) async throws {
        let tracker = Tracker()
        let queue = JanusQueue<Item>(maxsize: 4)
        let producer = spawnThread { () -> Bool in
            for i in 0..<200 where (try? queue.sync.put(tracker.make(i))) == nil { return false }
            return true
        }
        var received = 0
        for _ in 0..<200 {
            let item = try await queue.get(face).get()
            #expect(item.id == received)
            received += 1
        }
        #expect(try await producer.value())
        // A getter handed an item directly, with no queue storage in between.
        do {
            let getter = queue.startGet(face)
            try await waitForWaiters(queue, getters: 1)
            try queue.sync.putNowait(tracker.make(200))
            #expect(try await getter.value().map(\.id) == .success(200))
        }  // the worker keeps its result (the item) until here
        try await Self.waitAllDestroyed(tracker)
        #expect(tracker.destroyedCount == 201)
    }

    @Test("cancelled and timed-out async puts release their item and insert nothing")
    func cancelledPutsRelease() async throws {
        let tracker = Tracker()
        let queue = JanusQueue<Item>(maxsize: 1)
        try queue.sync.putNowait(tracker.make(0))
        var putters: [Worker<Result<Void, QueueError>>] = []
        for i in 1...3 {
            putters.append(
                spawnTask { () -> Result<Void, QueueError> in
                    do throws(QueueError) { try await queue.async.put(tracker.make(i)) } catch {
                        return .failure(error)
                    }
                    return .success(())
                })
            try await waitForWaiters(queue, putters: i)
        }
        for putter in putters { putter.cancel() }
        for putter in putters { #expect(try await putter.value().failure == .cancelled) }
        let timedOut = spawnTask { () -> Result<Void, QueueError> in
            do throws(QueueError) { try await queue.async.put(tracker.make(4), timeout: .milliseconds(10)) } catch {
                return .failure(error)
            }
            return .success(())
        }
        #expect(try await timedOut.value().failure == .full)
        try await waitUntil("the four refused items are destroyed") { tracker.destroyedCount == 4 }
        #expect(queue.count == 1 && queue.waiting == WaitingCounts())
        queue.close()
        try await Self.waitAllDestroyed(tracker)
    }

    @Test("putters refused by shutdown, on both faces, keep nothing alive", arguments: [false, true])
    func refusedPuttersRelease(immediate: Bool) async throws {
        let tracker = Tracker()
        let queue = JanusQueue<Item>(maxsize: 1)
        try queue.sync.putNowait(tracker.make(0))
        let threadPutter = spawnThread { () -> QueueError? in
            Result { () throws(QueueError) in try queue.sync.put(tracker.make(1)) }.failure
        }
        try await waitForWaiters(queue, putters: 1)
        let timedThreadPutter = spawnThread { () -> QueueError? in
            Result { () throws(QueueError) in try queue.sync.put(tracker.make(2), timeout: .seconds(30)) }.failure
        }
        try await waitForWaiters(queue, putters: 2)
        let taskPutter = spawnTask { () -> QueueError? in
            do throws(QueueError) { try await queue.async.put(tracker.make(3)) } catch { return error }
            return nil
        }
        try await waitForWaiters(queue, putters: 3)
        queue.shutdown(immediate: immediate)
        #expect(try await threadPutter.value() == .shutDown)
        #expect(try await timedThreadPutter.value() == .shutDown)
        #expect(try await taskPutter.value() == .shutDown)
        try await waitUntil("the refused items are destroyed") {
            tracker.destroyedCount == (immediate ? 4 : 3)
        }
        #expect(queue.count == (immediate ? 0 : 1))
        queue.close()
        try await Self.waitAllDestroyed(tracker)
    }

    @Test("a timed-out thread put releases its item", arguments: [Duration.zero, .milliseconds(10)])
    func timedOutThreadPutReleases(timeout: Duration) async throws {
        let tracker = Tracker()
        let queue = JanusQueue<Item>(maxsize: 1)
        try queue.sync.putNowait(tracker.make(0))
        let result = try await onThread { () -> QueueError? in
            Result { () throws(QueueError) in try queue.sync.put(tracker.make(1), timeout: timeout) }.failure
        }
        #expect(result == .full)
        #expect(tracker.destroyedCount == 1)
        #expect(queue.count == 1)
    }

    @Test("under concurrent traffic with cancellations, every item is released exactly once", .heavy)
    func trafficReleases() async throws {
        let tracker = Tracker()
        do {
            let queue = JanusQueue<Item>(maxsize: 3)
            let producers = (0..<2).map { p in
                spawnThread { () -> Bool in
                    for i in 0..<500 where (try? queue.sync.put(tracker.make(p * 1000 + i))) == nil { return false }
                    return true
                }
            }
            // Async getters with short timeouts and cancellations racing the hand-offs.
            var received = 0
            while received < 1000 {
                let getter = queue.startGet(.async, timeout: .microseconds(300))
                if received % 3 == 0 { getter.cancel() }
                if case .success = try await getter.value() { received += 1 }
            }
            for producer in producers { #expect(try await producer.value()) }
            #expect(queue.isEmpty)
        }
        try await Self.waitAllDestroyed(tracker)
        #expect(tracker.destroyedCount == 1000)
    }

    // MARK: memory follows load

    @Test("storage grows with a burst and is given back when it drains", .heavy, arguments: Kind.allCases)
    func memoryFollowsLoad(kind: Kind) async throws {
        let queue = kind.makeQueue()
        let idle = queue.storageSlots
        // The burst runs on a thread of its own (batch calls block) and in batches, which take
        // the same storage paths as single calls with fewer lock round trips (it matters under
        // ThreadSanitizer).
        let burst = 100_000
        let (drainedAll, peak, drained) = try await onThread { () -> (Bool, Int?, Int?) in
            do { try queue.sync.putMany(Array(0..<burst)) } catch { return (false, nil, nil) }
            let peak = queue.storageSlots
            var taken = 0
            while let batch = try? queue.sync.getMany(max: 1000, timeout: .zero) { taken += batch.count }
            return (taken == burst, peak, queue.storageSlots)
        }
        #expect(drainedAll)
        let peakSlots = try #require(peak)
        let drainedSlots = try #require(drained)
        #expect(peakSlots >= burst)
        // The queue may keep a working set (a few thousand slots) so that a swinging length
        // does not reallocate, but not the burst: at most a sixteenth of the peak is kept.
        #expect(
            drainedSlots <= Swift.max(idle, peakSlots / 16),
            "storage kept \(drainedSlots) slots after draining (peak \(peakSlots))")
        // The queue still works, in its ordering.
        for item in [3, 1, 2] { try queue.sync.putNowait(item) }
        #expect(queue.drainNowait() == kind.expectedOrder([3, 1, 2]))
        #expect(queue.unfinishedTasks == burst + 3)
    }

    @Test("immediate shutdown gives the storage back", .heavy, arguments: Kind.allCases)
    func memoryAfterImmediateShutdown(kind: Kind) async throws {
        let queue = kind.makeQueue()
        let filled = try await onThread { () -> Bool in (try? queue.sync.putMany(Array(0..<20_000))) != nil }
        #expect(filled)
        #expect(queue.storageSlots >= 20_000)
        queue.close()
        #expect(queue.count == 0)
        let left = queue.storageSlots
        #expect(left <= 256, "storage kept \(left) slots after close")
    }

    @Test("steady streaming through a bounded queue keeps its storage small", .heavy)
    func memorySteady() async throws {
        let queue = JanusQueue<Int>(maxsize: 8)
        let producer = spawnThread { () -> Bool in
            for i in 0..<20_000 where (try? queue.sync.put(i)) == nil { return false }
            return true
        }
        var next = 0
        while next < 20_000 {
            let item = try await queue.async.get()
            #expect(item == next)
            next += 1
        }
        #expect(try await producer.value())
        let capacity = queue.storageSlots
        #expect(capacity <= 64, "a queue of at most 8 items kept \(capacity) slots")
    }
}
