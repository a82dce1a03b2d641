import JanusCore
import Testing

/// SPEC §3 (as CPython 3.13 `Queue.shutdown`), `close`, `waitClosed`, `aclose`, `isClosed`, and
/// the async sequence ending at shutdown.
@Suite("Shutdown (SPEC §3)")
struct ShutdownTests {
    // MARK: the table, column immediate = false

    @Test(
        "plain shutdown: puts fail even with room, gets drain the items, then .shutDown", arguments: Kind.allCases,
        Face.allCases)
    func plainShutdown(kind: Kind, face: Face) async throws {
        let queue = kind.makeQueue(maxsize: 5)
        for item in [3, 1, 2] { try queue.sync.putNowait(item) }
        queue.shutdown()
        #expect(queue.isShutdown)
        #expect(queue.unfinishedTasks == 3 && queue.count == 3)
        #expect(queue.putNowait(9, face).failure == .shutDown)
        #expect(try await queue.put(9, face).failure == .shutDown)
        #expect(try await queue.put(9, face, timeout: .milliseconds(10)).failure == .shutDown)
        #expect(
            try await runPutMany(queue, [9, 9], face, timeout: nil) == PutManyError(reason: .shutDown, inserted: 0))
        #expect(queue.count == 3 && queue.unfinishedTasks == 3)
        var out: [Int] = []
        out.append(try queue.getNowait(face).get())
        out.append(try await queue.get(face).get())
        out.append(try await queue.get(face, timeout: .milliseconds(10)).get())
        #expect(out == kind.expectedOrder([3, 1, 2]))
        // Empty and shut down: .shutDown, never .empty, with or without waiting.
        #expect(queue.getNowait(face) == .failure(.shutDown))
        #expect(try await queue.get(face) == .failure(.shutDown))
        #expect(try await queue.get(face, timeout: .zero) == .failure(.shutDown))
        #expect(try await queue.get(face, timeout: .seconds(10)) == .failure(.shutDown))
        #expect(try await runGetMany(queue, max: 3, face) == .failure(.shutDown))
        // unfinished_tasks unchanged by the gets; task_done normal.
        #expect(queue.unfinishedTasks == 3)
        #expect(queue.taskDone(face).isSuccess)
        #expect(queue.unfinishedTasks == 2)
    }

    @Test("plain shutdown: getMany returns the remaining items first", arguments: Face.allCases)
    func plainShutdownGetMany(face: Face) async throws {
        let queue = JanusQueue<Int>()
        for i in 0..<4 { try queue.sync.putNowait(i) }
        queue.shutdown()
        #expect(try await runGetMany(queue, max: 3, face) == .success([0, 1, 2]))
        #expect(try await runGetMany(queue, max: 3, face, timeout: .zero) == .success([3]))
        #expect(try await runGetMany(queue, max: 3, face, timeout: .zero) == .failure(.shutDown))
    }

    @Test("shut down takes precedence over full and empty", arguments: Face.allCases)
    func precedence(face: Face) async throws {
        let full = JanusQueue<Int>(maxsize: 1)
        try full.sync.putNowait(1)
        full.shutdown()
        #expect(full.putNowait(2, face).failure == .shutDown)
        #expect(try await full.put(2, face, timeout: .zero).failure == .shutDown)
        let empty = JanusQueue<Int>()
        empty.shutdown()
        #expect(empty.getNowait(face) == .failure(.shutDown))
        #expect(try await empty.get(face, timeout: .zero) == .failure(.shutDown))
    }

    @Test("plain shutdown: join still waits for taskDone of every item", arguments: Face.allCases)
    func plainShutdownJoin(face: Face) async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        queue.shutdown()
        #expect(try await queue.join(face, timeout: .zero).failure == .timedOut)
        let joiner = queue.startJoin(face)
        try await waitForWaiters(queue, joiners: 1)
        _ = queue.drainNowait()
        try queue.sync.taskDone()
        #expect(!joiner.isDone)
        try queue.sync.taskDone()
        #expect(try await joiner.value().isSuccess)
    }

    // MARK: the table, column immediate = true

    @Test(
        "immediate shutdown discards the items: gets fail at once, unfinished reduced", arguments: Kind.allCases,
        Face.allCases)
    func immediateShutdown(kind: Kind, face: Face) async throws {
        let queue = kind.makeQueue(maxsize: 5)
        for item in [3, 1, 2, 5] { try queue.sync.putNowait(item) }
        _ = try queue.sync.getNowait()  // taken: still needs its taskDone
        queue.shutdown(immediate: true)
        #expect(queue.isShutdown)
        #expect(queue.count == 0 && queue.isEmpty)
        #expect(queue.unfinishedTasks == 1)
        #expect(queue.getNowait(face) == .failure(.shutDown))
        #expect(try await queue.get(face) == .failure(.shutDown))
        #expect(queue.putNowait(9, face).failure == .shutDown)
        #expect(try await queue.put(9, face).failure == .shutDown)
        #expect(queue.count == 0)
        // The item taken before still needs task_done; join waits for it.
        #expect(try await queue.join(face, timeout: .zero).failure == .timedOut)
        #expect(queue.taskDone(face).isSuccess)
        #expect(queue.unfinishedTasks == 0)
        #expect(try await queue.join(face).isSuccess)
        #expect(queue.taskDone(face).failure == .invalidArgument)
    }

    @Test("immediate shutdown never takes unfinishedTasks below 0")
    func immediateNeverBelowZero() throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        // task_done without get is allowed: the count reaches 0 while 3 items are still queued.
        for _ in 0..<3 { try queue.sync.taskDone() }
        #expect(queue.unfinishedTasks == 0 && queue.count == 3)
        queue.shutdown(immediate: true)
        #expect(queue.unfinishedTasks == 0 && queue.count == 0)

        let partly = JanusQueue<Int>()
        for i in 0..<4 { try partly.sync.putNowait(i) }
        try partly.sync.taskDone()
        partly.shutdown(immediate: true)
        #expect(partly.unfinishedTasks == 0)
    }

    @Test("join after immediate shutdown returns once the count is 0", arguments: Face.allCases)
    func joinAfterImmediate(face: Face) async throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        queue.close()
        #expect(try await queue.join(face).isSuccess)
        #expect(queue.isClosed)
    }

    // MARK: idempotence

    @Test("plain then immediate: the second call discards what is left")
    func plainThenImmediate() throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        queue.shutdown()
        #expect(try queue.sync.getNowait() == 0)
        queue.shutdown()  // idempotent
        #expect(queue.count == 2 && queue.unfinishedTasks == 3)
        queue.shutdown(immediate: true)
        #expect(queue.count == 0 && queue.unfinishedTasks == 1)
        #expect(queue.getNowait(.sync) == .failure(.shutDown))
        queue.shutdown(immediate: true)
        #expect(queue.count == 0 && queue.unfinishedTasks == 1)
    }

    @Test("immediate then plain: stays shut down with nothing to get")
    func immediateThenPlain() throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        queue.close()
        queue.shutdown()
        queue.close()
        #expect(queue.isShutdown && queue.isClosed)
        #expect(queue.count == 0 && queue.unfinishedTasks == 0)
        #expect(queue.getNowait(.async) == .failure(.shutDown))
        #expect(queue.putNowait(1, .async).failure == .shutDown)
    }

    // MARK: isClosed, waitClosed, aclose

    @Test("isShutdown and isClosed follow the shutdown and the waiters inside")
    func isClosed() async throws {
        let queue = JanusQueue<Int>()
        #expect(!queue.isShutdown && !queue.isClosed)
        try queue.sync.putNowait(1)
        let joiner = queue.startJoin(.sync)
        try await waitForWaiters(queue, joiners: 1)
        queue.shutdown()
        #expect(queue.isShutdown)
        #expect(!queue.isClosed, "a join is still inside")
        _ = try queue.sync.getNowait()
        try queue.sync.taskDone()
        #expect(try await joiner.value().isSuccess)
        #expect(queue.isClosed)
    }

    @Test("waitClosed before shutdown is a misuse", arguments: Face.allCases)
    func waitClosedMisuse(face: Face) async throws {
        let queue = JanusQueue<Int>()
        #expect(try await queue.waitClosed(face).failure == .misuse)
        #expect(try await queue.waitClosed(face, timeout: .zero).failure == .misuse)
        #expect(try await queue.waitClosed(face, timeout: .seconds(10)).failure == .misuse)
        #expect(queue.waiting == WaitingCounts())
        await #expect(throws: QueueError.misuse) { try await queue.waitClosed() }
    }

    @Test("waitClosed on a closed queue returns at once", arguments: Face.allCases)
    func waitClosedWhenClosed(face: Face) async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        queue.shutdown()  // items left, but nobody is inside: closed
        #expect(queue.isClosed)
        #expect(try await queue.waitClosed(face).isSuccess)
        #expect(try await queue.waitClosed(face, timeout: .zero).isSuccess)
        try await queue.waitClosed()
    }

    @Test("waitClosed times out while a join waits, and returns when the join does", .timing, arguments: Face.allCases)
    func waitClosedWhileJoinWaits(face: Face) async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        queue.shutdown()
        let joiner = queue.startJoin(face == .sync ? .async : .sync)
        try await waitForWaiters(queue, joiners: 1)
        #expect(try await queue.waitClosed(face, timeout: .zero).failure == .timedOut)
        let timeout = Duration.milliseconds(50)
        let (result, took) = try await timed(face) { () throws(QueueError) in
            try queue.sync.waitClosed(timeout: timeout)
        } async: { () async throws(QueueError) in
            try await queue.async.waitClosed(timeout: timeout)
        }
        #expect(result.failure == .timedOut)
        #expect(tookAtLeast(took, timeout), "returned after \(took)")
        #expect(took < timingUpperBound)
        #expect(queue.waiting == WaitingCounts(joiners: 1))
        let closer = queue.startWaitClosed(face)
        try await waitForWaiters(queue, joiners: 1, closers: 1)
        _ = try queue.sync.getNowait()
        try queue.sync.taskDone()
        #expect(try await joiner.value().isSuccess)
        #expect(try await closer.value().isSuccess)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("a join that times out after shutdown lets waitClosed finish", arguments: Face.allCases)
    func waitClosedAfterJoinTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        queue.shutdown()
        // The join's timeout must outlast the two gates below; if it ever does not (a very
        // slow machine), the gates let go and the test still passes, just less pointedly.
        let joiner = queue.startJoin(face, timeout: .milliseconds(300))
        try await waitUntil("join waits") { queue.waiting.joiners == 1 || joiner.isDone }
        let closer = queue.startWaitClosed(face == .sync ? .async : .sync)
        try await waitUntil("waitClosed waits") { queue.waiting.closers == 1 || closer.isDone }
        #expect(try await joiner.value().failure == .timedOut)
        #expect(try await closer.value().isSuccess)
        #expect(queue.isClosed && queue.unfinishedTasks == 1)
    }

    @Test("aclose closes, then waits for the joiners still inside")
    func aclose() async throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        #expect(try queue.sync.getNowait() == 0)
        let joiner = queue.startJoin(.sync)
        try await waitForWaiters(queue, joiners: 1)
        let closing = spawnTask { () -> Result<Void, QueueError> in
            do throws(QueueError) { try await queue.async.aclose() } catch { return .failure(error) }
            return .success(())
        }
        try await waitForWaiters(queue, joiners: 1, closers: 1)
        #expect(queue.isShutdown && queue.count == 0 && queue.unfinishedTasks == 1)
        #expect(!closing.isDone)
        try queue.sync.taskDone()
        #expect(try await joiner.value().isSuccess)
        #expect(try await closing.value().isSuccess)
        // On a closed queue aclose returns at once.
        try await queue.aclose()
    }

    // MARK: async iteration

    @Test("for try await ends when the queue is shut down and drained")
    func iterationEndsAtShutdown() async throws {
        let queue = JanusQueue<Int>(maxsize: 4)
        let producer = spawnThread { () -> Bool in
            for i in 0..<100 {
                do { try queue.sync.put(i) } catch { return false }
            }
            queue.shutdown()
            return true
        }
        var out: [Int] = []
        for try await item in queue.async {
            out.append(item)
            try queue.async.taskDone()
        }
        #expect(out == Array(0..<100))
        #expect(try await producer.value())
        #expect(queue.unfinishedTasks == 0)
    }

    @Test(
        "iteration over a shut-down queue returns what is left, or nothing after immediate shutdown",
        arguments: [false, true])
    func iterationAfterShutdown(immediate: Bool) async throws {
        let queue = JanusQueue<Int>(.lifo)
        for i in 0..<5 { try queue.sync.putNowait(i) }
        queue.shutdown(immediate: immediate)
        var out: [Int] = []
        for try await item in queue.async { out.append(item) }
        #expect(out == (immediate ? [] : [4, 3, 2, 1, 0]))
    }

    @Test("a suspended iteration ends when shutdown comes")
    func iterationWokenByShutdown() async throws {
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
        try queue.sync.putNowait(1)
        try await waitForWaiters(queue, getters: 1)
        queue.shutdown()
        #expect(try await consumer.value() == .success([1]))
    }
}
