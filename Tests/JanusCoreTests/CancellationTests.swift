import JanusCore
import Testing

/// SPEC §4.2: cancellation of async waiters is clean, and async timeouts (a cancellation the
/// queue arranges itself) leave nothing behind.
@Suite("Cancellation (SPEC §4.2)")
struct CancellationTests {
    /// Cancels the current task from inside it, so that the next call starts already cancelled.
    static func cancelSelf() {
        withUnsafeCurrentTask { $0?.cancel() }
    }

    // MARK: waiting getters and putters

    @Test("a cancelled getter takes nothing and throws .cancelled", arguments: [nil, Duration.seconds(30)])
    func cancelledGetter(timeout: Duration?) async throws {
        let queue = JanusQueue<Int>()
        let getter = queue.startGet(.async, timeout: timeout)
        try await waitForWaiters(queue, getters: 1)
        getter.cancel()
        #expect(try await getter.value() == .failure(.cancelled))
        #expect(queue.waiting == WaitingCounts())
        // The next item stays in the queue: nobody is waiting for it any more.
        try queue.sync.putNowait(1)
        #expect(queue.count == 1)
        #expect(try queue.sync.getNowait() == 1)
    }

    @Test("a cancelled putter inserts nothing and throws .cancelled", arguments: [nil, Duration.seconds(30)])
    func cancelledPutter(timeout: Duration?) async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        try queue.sync.putNowait(0)
        let putter = queue.startPut(5, .async, timeout: timeout)
        try await waitForWaiters(queue, putters: 1)
        putter.cancel()
        #expect(try await putter.value().failure == .cancelled)
        #expect(queue.waiting == WaitingCounts())
        #expect(try queue.sync.getNowait() == 0)
        #expect(queue.isEmpty, "the cancelled put's item went in")
        #expect(queue.unfinishedTasks == 1)
    }

    @Test("with two getters waiting and the first cancelled, a put goes to the second", arguments: Face.allCases)
    func secondGetterServed(secondFace: Face) async throws {
        let queue = JanusQueue<Int>()
        let first = queue.startGet(.async)
        try await waitForWaiters(queue, getters: 1)
        let second = queue.startGet(secondFace)
        try await waitForWaiters(queue, getters: 2)
        first.cancel()
        try await waitForWaiters(queue, getters: 1)
        try queue.sync.putNowait(9)
        #expect(try await second.value() == .success(9))
        #expect(try await first.value() == .failure(.cancelled))
        #expect(queue.isEmpty)
    }

    @Test("with two putters waiting and the first cancelled, a get admits the second", arguments: Face.allCases)
    func secondPutterAdmitted(secondFace: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        try queue.sync.putNowait(0)
        let first = queue.startPut(1, .async)
        try await waitForWaiters(queue, putters: 1)
        let second = queue.startPut(2, secondFace)
        try await waitForWaiters(queue, putters: 2)
        first.cancel()
        try await waitForWaiters(queue, putters: 1)
        #expect(try queue.sync.getNowait() == 0)
        #expect(try await second.value().isSuccess)
        #expect(try await first.value().failure == .cancelled)
        #expect(queue.drainNowait() == [2])
    }

    @Test("a getter handed an item and then cancelled still returns the item")
    func handedThenCancelled() async throws {
        let queue = JanusQueue<Int>()
        let getter = queue.startGet(.async)
        try await waitForWaiters(queue, getters: 1)
        try queue.sync.putNowait(3)
        getter.cancel()
        #expect(try await getter.value() == .success(3))
        #expect(queue.isEmpty)
    }

    @Test(
        "a put racing a cancellation: the item is returned or stays queued, never lost", .heavy,
        arguments: Face.allCases)
    func putRacingCancel(putterFace: Face) async throws {
        // The put comes from a thread or from a task, at the same moment as the cancel.
        for round in 0..<100 {
            let queue = JanusQueue<Int>()
            let getter = queue.startGet(.async, timeout: round % 2 == 0 ? nil : .seconds(30))
            try await waitForWaiters(queue, getters: 1)
            let putter = queue.startPut(round, putterFace)
            getter.cancel()
            #expect(try await putter.value().isSuccess)
            switch try await getter.value() {
            case .success(let item):
                #expect(item == round)
                #expect(queue.isEmpty)
            case .failure(let error):
                #expect(error == .cancelled)
                #expect(queue.drainNowait() == [round])
            }
            #expect(queue.waiting == WaitingCounts())
            #expect(queue.unfinishedTasks == 1)
        }
    }

    @Test("getters cancelled at random while items arrive: every item is got exactly once or stays queued", .heavy)
    func manyGettersRacingCancel() async throws {
        let queue = JanusQueue<Int>()
        let count = 64
        var getters: [Worker<Result<Int, QueueError>>] = []
        for _ in 0..<count { getters.append(queue.startGet(.async)) }
        try await waitForWaiters(queue, getters: count)
        let putter = spawnThread { () -> Bool in
            for i in 0..<count where (try? queue.sync.putNowait(i)) == nil { return false }
            return true
        }
        for (index, getter) in getters.enumerated() where index % 2 == 0 { getter.cancel() }
        #expect(try await putter.value())
        // 64 items for 32 getters that stay: every getter finishes, served or cancelled.
        var got: [Int] = []
        var cancelled = 0
        for getter in getters {
            switch try await getter.value("getter finishes") {
            case .success(let item): got.append(item)
            case .failure(let error):
                #expect(error == .cancelled)
                cancelled += 1
            }
        }
        got += queue.drainNowait()
        #expect(got.sorted() == Array(0..<count))
        #expect(cancelled <= count / 2)
        #expect(queue.waiting == WaitingCounts())
    }

    // MARK: already cancelled tasks

    @Test("an already-cancelled get: throws at once on an empty queue, returns an item that is there")
    func alreadyCancelledGet() async throws {
        let queue = JanusQueue<Int>()
        let empty = spawnTask { () -> Result<Int, QueueError> in
            Self.cancelSelf()
            do throws(QueueError) { return .success(try await queue.async.get()) } catch { return .failure(error) }
        }
        #expect(try await empty.value() == .failure(.cancelled))
        let emptyWithTimeout = spawnTask { () -> Result<Int, QueueError> in
            Self.cancelSelf()
            do throws(QueueError) { return .success(try await queue.async.get(timeout: .seconds(30))) } catch {
                return .failure(error)
            }
        }
        #expect(try await emptyWithTimeout.value() == .failure(.cancelled))
        #expect(queue.waiting == WaitingCounts())

        // Like asyncio: a get that need not wait returns the item even in a cancelled task.
        try queue.sync.putNowait(1)
        let present = spawnTask { () -> Result<Int, QueueError> in
            Self.cancelSelf()
            do throws(QueueError) { return .success(try await queue.async.get()) } catch { return .failure(error) }
        }
        #expect(try await present.value() == .success(1))
        #expect(queue.isEmpty)
    }

    @Test("an already-cancelled put: throws at once on a full queue, inserts when there is room")
    func alreadyCancelledPut() async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        let room = spawnTask { () -> Result<Void, QueueError> in
            Self.cancelSelf()
            do throws(QueueError) { try await queue.async.put(1) } catch { return .failure(error) }
            return .success(())
        }
        #expect(try await room.value().isSuccess)
        let full = spawnTask { () -> Result<Void, QueueError> in
            Self.cancelSelf()
            do throws(QueueError) { try await queue.async.put(2) } catch { return .failure(error) }
            return .success(())
        }
        #expect(try await full.value().failure == .cancelled)
        #expect(queue.waiting == WaitingCounts())
        #expect(queue.drainNowait() == [1])
    }

    @Test("an already-cancelled join or waitClosed that would wait throws .cancelled")
    func alreadyCancelledSignals() async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        let joiner = spawnTask { () -> Result<Void, QueueError> in
            Self.cancelSelf()
            do throws(QueueError) { try await queue.async.join() } catch { return .failure(error) }
            return .success(())
        }
        #expect(try await joiner.value().failure == .cancelled)
        let realJoiner = queue.startJoin(.sync)
        try await waitForWaiters(queue, joiners: 1)
        queue.shutdown()
        let closer = spawnTask { () -> Result<Void, QueueError> in
            Self.cancelSelf()
            do throws(QueueError) { try await queue.async.waitClosed() } catch { return .failure(error) }
            return .success(())
        }
        #expect(try await closer.value().failure == .cancelled)
        #expect(queue.waiting == WaitingCounts(joiners: 1))
        _ = try queue.sync.getNowait()
        try queue.sync.taskDone()
        #expect(try await realJoiner.value().isSuccess)
    }

    // MARK: join, waitClosed, putMany, iteration

    @Test("a cancelled join leaves the list and lets waitClosed finish")
    func cancelledJoin() async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        let joiner = queue.startJoin(.async)
        try await waitForWaiters(queue, joiners: 1)
        queue.shutdown()
        let closer = queue.startWaitClosed(.sync)
        try await waitForWaiters(queue, joiners: 1, closers: 1)
        joiner.cancel()
        #expect(try await joiner.value().failure == .cancelled)
        #expect(try await closer.value().isSuccess)
        #expect(queue.unfinishedTasks == 1)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("a cancelled waitClosed leaves the list")
    func cancelledWaitClosed() async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        let joiner = queue.startJoin(.sync)
        try await waitForWaiters(queue, joiners: 1)
        queue.shutdown()
        let closer = queue.startWaitClosed(.async)
        try await waitForWaiters(queue, joiners: 1, closers: 1)
        closer.cancel()
        #expect(try await closer.value().failure == .cancelled)
        #expect(queue.waiting == WaitingCounts(joiners: 1))
        try queue.sync.taskDone()
        #expect(try await joiner.value().isSuccess)
    }

    @Test("a cancelled putMany reports the prefix that went in")
    func cancelledPutMany() async throws {
        let queue = JanusQueue<Int>(maxsize: 2)
        let putter = startPutMany(queue, [1, 2, 3, 4], .async, timeout: nil)
        try await waitForWaiters(queue, putters: 1)
        putter.cancel()
        #expect(try await putter.value() == PutManyError(reason: .cancelled, inserted: 2))
        #expect(queue.drainNowait() == [1, 2])
    }

    @Test("a cancelled getMany takes nothing")
    func cancelledGetMany() async throws {
        let queue = JanusQueue<Int>()
        let getter = spawnTask { () -> Result<[Int], QueueError> in
            do throws(QueueError) { return .success(try await queue.async.getMany(max: 5)) } catch {
                return .failure(error)
            }
        }
        try await waitForWaiters(queue, getters: 1)
        getter.cancel()
        #expect(try await getter.value() == .failure(.cancelled))
        try queue.sync.putNowait(1)
        #expect(queue.count == 1)
    }

    @Test("a cancelled iteration throws .cancelled and takes nothing")
    func cancelledIteration() async throws {
        let queue = JanusQueue<Int>()
        let consumer = spawnTask { () -> Result<[Int], QueueError> in
            var out: [Int] = []
            do throws(QueueError) {
                for try await item in queue.async { out.append(item) }
            } catch {
                return .failure(error)
            }
            return .success(out)
        }
        try await waitForWaiters(queue, getters: 1)
        consumer.cancel()
        #expect(try await consumer.value() == .failure(.cancelled))
        #expect(queue.waiting == WaitingCounts())
    }

    // MARK: async timeouts

    @Test("async timeouts answer .empty, .full, .timedOut and leave no waiter behind")
    func asyncTimeoutsLeaveNothing() async throws {
        let timeout = Duration.milliseconds(20)
        let queue = JanusQueue<Int>(maxsize: 1)
        await #expect(throws: QueueError.empty) { try await queue.async.get(timeout: timeout) }
        #expect(queue.waiting == WaitingCounts())
        try queue.async.putNowait(1)
        await #expect(throws: QueueError.full) { try await queue.async.put(2, timeout: timeout) }
        #expect(queue.waiting == WaitingCounts())
        #expect(queue.count == 1 && queue.unfinishedTasks == 1)
        await #expect(throws: QueueError.timedOut) { try await queue.async.join(timeout: timeout) }
        #expect(queue.waiting == WaitingCounts())
        await #expect(throws: PutManyError(reason: .full, inserted: 0)) {
            try await queue.async.putMany([5, 6], timeout: timeout)
        }
        #expect(queue.waiting == WaitingCounts())
        #expect(try queue.async.getNowait() == 1)
        await #expect(throws: QueueError.empty) { try await queue.async.getMany(max: 3, timeout: timeout) }
        #expect(queue.waiting == WaitingCounts())

        // waitClosed times out while a (thread) join is inside.
        let joiner = queue.startJoin(.sync)
        try await waitForWaiters(queue, joiners: 1)
        queue.shutdown()
        await #expect(throws: QueueError.timedOut) { try await queue.async.waitClosed(timeout: timeout) }
        #expect(queue.waiting == WaitingCounts(joiners: 1))
        try queue.sync.taskDone()
        #expect(try await joiner.value().isSuccess)
    }

    @Test("a task cancelled while waiting with a timeout gets .cancelled, not the timeout error")
    func cancelledBeforeTimeout() async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        let getter = queue.startGet(.async, timeout: .seconds(30))
        try await waitForWaiters(queue, getters: 1)
        getter.cancel()
        #expect(try await getter.value() == .failure(.cancelled))
        try queue.sync.putNowait(1)
        let joiner = queue.startJoin(.async, timeout: .seconds(30))
        try await waitForWaiters(queue, joiners: 1)
        joiner.cancel()
        #expect(try await joiner.value().failure == .cancelled)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("timeouts racing hand-offs lose nothing", .heavy, arguments: Face.allCases)
    func timeoutsRacingHandoffs(consumerFace: Face) async throws {
        // Consumers poll with tiny timeouts while a producer puts: items handed to a getter just
        // as its timeout fires must be returned, never dropped.
        let queue = JanusQueue<Int>(maxsize: 4)
        let total = 300
        let producer = spawnThread { () -> Bool in
            for i in 0..<total {
                do { try queue.sync.put(i) } catch { return false }
            }
            return true
        }
        let consumers = (0..<2).map { _ in
            start(
                consumerFace,
                sync: { () throws(QueueError) -> [Int] in
                    var got: [Int] = []
                    while true {
                        do throws(QueueError) {
                            got.append(try queue.sync.get(timeout: .microseconds(200)))
                        } catch {
                            if error == .shutDown { return got }
                        }
                    }
                },
                async: { () async throws(QueueError) -> [Int] in
                    var got: [Int] = []
                    while true {
                        do throws(QueueError) {
                            got.append(try await queue.async.get(timeout: .microseconds(200)))
                        } catch {
                            if error == .shutDown { return got }
                            if error == .cancelled { throw error }
                        }
                    }
                })
        }
        #expect(try await producer.value())
        queue.shutdown()
        var all: [Int] = []
        for consumer in consumers {
            let got = try await consumer.value().get()
            #expect(got == got.sorted(), "one consumer sees one producer's items in order")
            all += got
        }
        #expect(all.sorted() == Array(0..<total))
        #expect(queue.waiting == WaitingCounts())
    }
}
