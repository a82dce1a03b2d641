import JanusCore
import Testing

/// One queue, two faces (SPEC §1, §4.3): waiters on one face released by the other, shutdown
/// waking every kind of waiter on both faces, and one first-come-first-served order for threads
/// and tasks.
@Suite("Cross-face")
struct CrossFaceTests {
    // MARK: hand-offs between faces

    @Test("a thread blocked in sync.get is released by an async put")
    func syncGetAsyncPut() async throws {
        let queue = JanusQueue<Int>()
        let getter = queue.startGet(.sync)
        try await waitForWaiters(queue, getters: 1)
        #expect(!getter.isDone)
        try await queue.async.put(7)
        #expect(try await getter.value() == .success(7))
        #expect(queue.isEmpty && queue.unfinishedTasks == 1)
    }

    @Test("a task suspended in async.get is released by a thread's put")
    func asyncGetSyncPut() async throws {
        let queue = JanusQueue<Int>()
        let getter = queue.startGet(.async)
        try await waitForWaiters(queue, getters: 1)
        #expect(!getter.isDone)
        #expect(try await queue.put(8, .sync).isSuccess)
        #expect(try await getter.value() == .success(8))
        #expect(queue.isEmpty && queue.unfinishedTasks == 1)
    }

    @Test("a putter blocked on a full queue is admitted by a get on the other face", arguments: Face.allCases)
    func putterAdmittedAcrossFaces(putterFace: Face) async throws {
        let getterFace: Face = putterFace == .sync ? .async : .sync
        let queue = JanusQueue<Int>(maxsize: 1)
        try queue.sync.putNowait(1)
        let putter = queue.startPut(2, putterFace)
        try await waitForWaiters(queue, putters: 1)
        #expect(!putter.isDone)
        #expect(try await queue.get(getterFace) == .success(1))
        #expect(try await putter.value().isSuccess)
        #expect(try await queue.get(getterFace) == .success(2))
    }

    @Test("join on one face is released by taskDone on the other", arguments: Face.allCases)
    func joinReleasedAcrossFaces(joinFace: Face) async throws {
        let doneFace: Face = joinFace == .sync ? .async : .sync
        let queue = JanusQueue<Int>()
        try await queue.async.put(1)
        #expect(try await queue.put(2, .sync).isSuccess)
        let joiner = queue.startJoin(joinFace)
        try await waitForWaiters(queue, joiners: 1)
        #expect(try await queue.get(doneFace) == .success(1))
        #expect(try await queue.get(doneFace) == .success(2))
        // taskDone on the other face, from a thread or from a task.
        #expect(
            try await run(
                doneFace, sync: { () throws(QueueError) in try queue.sync.taskDone() },
                async: { () async throws(QueueError) in try queue.async.taskDone() }
            ).isSuccess)
        #expect(queue.waiting.joiners == 1 && !joiner.isDone)
        #expect(
            try await run(
                doneFace, sync: { () throws(QueueError) in try queue.sync.taskDone() },
                async: { () async throws(QueueError) in try queue.async.taskDone() }
            ).isSuccess)
        #expect(try await joiner.value().isSuccess)
    }

    @Test("tasks on different executors and threads share one queue", .heavy)
    func ping() async throws {
        // A round trip: task -> thread -> task, 200 times, through two queues.
        let requests = JanusQueue<Int>(maxsize: 1)
        let replies = JanusQueue<Int>(maxsize: 1)
        let echo = spawnThread { () -> Int in
            var handled = 0
            while let request = try? requests.sync.get() {
                try? replies.sync.put(request * 2)
                handled += 1
            }
            return handled
        }
        for i in 0..<200 {
            try await requests.async.put(i)
            #expect(try await replies.async.get() == i * 2)
        }
        requests.shutdown()
        #expect(try await echo.value() == 200)
    }

    // MARK: first come, first served across faces

    static let patterns: [[Face]] = [
        [.sync, .async, .sync, .async],
        [.async, .sync, .sync, .async, .async, .sync],
    ]

    @Test("getters of both faces are served in arrival order", arguments: patterns)
    func fairGetters(pattern: [Face]) async throws {
        let queue = JanusQueue<Int>()
        var getters: [Worker<Result<Int, QueueError>>] = []
        for (index, face) in pattern.enumerated() {
            getters.append(queue.startGet(face))
            try await waitForWaiters(queue, getters: index + 1)
        }
        for i in pattern.indices { try queue.sync.putNowait(i) }
        for (index, getter) in getters.enumerated() {
            #expect(try await getter.value() == .success(index), "getter \(index) on \(pattern[index])")
        }
    }

    @Test("putters of both faces are admitted in arrival order", arguments: patterns)
    func fairPutters(pattern: [Face]) async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        try queue.sync.putNowait(-1)
        var putters: [Worker<Result<Void, QueueError>>] = []
        for (index, face) in pattern.enumerated() {
            putters.append(queue.startPut(index, face))
            try await waitForWaiters(queue, putters: index + 1)
        }
        var out: [Int] = []
        for _ in 0...pattern.count { out.append(try await queue.async.get()) }
        #expect(out == [-1] + Array(pattern.indices))
        for putter in putters { #expect(try await putter.value().isSuccess) }
    }

    @Test("a getter that timed out leaves the order of the others intact", arguments: Face.allCases)
    func fairAfterTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>()
        let first = queue.startGet(.sync)
        try await waitForWaiters(queue, getters: 1)
        let leaving = queue.startGet(face, timeout: .milliseconds(100))
        try await waitUntil("the leaving getter waits or is gone") { queue.waiting.getters == 2 || leaving.isDone }
        let last = queue.startGet(.async)
        // Usually all three wait at once; on a slow machine the leaving one may already be gone.
        try await waitUntil("the last getter waits") {
            queue.waiting.getters == (leaving.isDone ? 2 : 3)
        }
        #expect(try await leaving.value() == .failure(.empty))
        try await waitForWaiters(queue, getters: 2)
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        #expect(try await first.value() == .success(1))
        #expect(try await last.value() == .success(2))
    }

    // MARK: shutdown wakes every waiter on both faces (SPEC §3)

    struct ShutdownCase: Sendable, CustomTestStringConvertible {
        var waiter: Face
        var immediate: Bool
        /// Whether `shutdown` is called from a plain thread or from the test's task.
        var caller: Face

        var testDescription: String { "\(waiter) waiter, immediate: \(immediate), shutdown from \(caller)" }

        static let all: [ShutdownCase] = Face.allCases.flatMap { waiter in
            [false, true].flatMap { immediate in
                Face.allCases.map { ShutdownCase(waiter: waiter, immediate: immediate, caller: $0) }
            }
        }

        func shutdown<E>(_ queue: JanusQueue<E>) async throws {
            switch caller {
            case .sync: try await onThread { [immediate] in queue.shutdown(immediate: immediate) }
            case .async: queue.shutdown(immediate: immediate)
            }
        }
    }

    @Test("a waiting getter gets .shutDown", arguments: ShutdownCase.all)
    func shutdownWakesGetter(c: ShutdownCase) async throws {
        let queue = JanusQueue<Int>()
        let getter = queue.startGet(c.waiter)
        try await waitForWaiters(queue, getters: 1)
        try await c.shutdown(queue)
        #expect(try await getter.value() == .failure(.shutDown))
        #expect(queue.waiting == WaitingCounts())
        #expect(queue.isClosed)
    }

    @Test("a waiting putter gets .shutDown and its item is never inserted", arguments: ShutdownCase.all)
    func shutdownWakesPutter(c: ShutdownCase) async throws {
        let queue = JanusQueue<Int>(maxsize: 2)
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        let putter = queue.startPut(3, c.waiter)
        try await waitForWaiters(queue, putters: 1)
        try await c.shutdown(queue)
        #expect(try await putter.value().failure == .shutDown)
        #expect(queue.waiting == WaitingCounts())
        if c.immediate {
            #expect(queue.count == 0 && queue.unfinishedTasks == 0)
        } else {
            #expect(queue.unfinishedTasks == 2)
            // Room now, but the refused item stays out and new puts fail.
            #expect(queue.drainNowait() == [1, 2])
            #expect(queue.putNowait(4, .sync).failure == .shutDown)
        }
        #expect(queue.getNowait(.async) == .failure(.shutDown))
    }

    @Test("a waiting joiner: immediate shutdown releases it, a plain one does not", arguments: ShutdownCase.all)
    func shutdownAndJoiner(c: ShutdownCase) async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        let joiner = queue.startJoin(c.waiter)
        try await waitForWaiters(queue, joiners: 1)
        try await c.shutdown(queue)
        if c.immediate {
            // Both items discarded: unfinished 0, join returns.
            #expect(try await joiner.value().isSuccess)
            #expect(queue.unfinishedTasks == 0)
        } else {
            // A plain shutdown leaves the items and the count: join waits for every taskDone.
            #expect(queue.unfinishedTasks == 2)
            #expect(queue.waiting.joiners == 1 && !joiner.isDone)
            #expect(queue.drainNowait() == [1, 2])
            try queue.sync.taskDone()
            #expect(queue.waiting.joiners == 1 && !joiner.isDone)
            try queue.async.taskDone()
            #expect(try await joiner.value().isSuccess)
        }
        #expect(queue.isClosed)
    }

    @Test(
        "a joiner waiting for an item already taken: still waits after immediate shutdown", arguments: ShutdownCase.all)
    func shutdownJoinerWithTakenItem(c: ShutdownCase) async throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        #expect(try queue.sync.getNowait() == 0)
        let joiner = queue.startJoin(c.waiter)
        try await waitForWaiters(queue, joiners: 1)
        try await c.shutdown(queue)
        #expect(queue.unfinishedTasks == (c.immediate ? 1 : 3))
        #expect(queue.waiting.joiners == 1 && !joiner.isDone)
        if !c.immediate {
            #expect(queue.drainNowait() == [1, 2])
            try queue.sync.taskDone()
            try queue.sync.taskDone()
        }
        #expect(queue.waiting.joiners == 1 && !joiner.isDone)
        try queue.async.taskDone()  // the item taken before the shutdown
        #expect(try await joiner.value().isSuccess)
        #expect(queue.unfinishedTasks == 0)
    }

    @Test(
        "waitClosed on both faces, waiting for a joiner, is woken when an immediate shutdown releases it",
        arguments: Face.allCases, Face.allCases)
    func shutdownWakesWaitClosed(closerFace: Face, joinerFace: Face) async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        queue.shutdown()
        let joiner = queue.startJoin(joinerFace)
        try await waitForWaiters(queue, joiners: 1)
        #expect(!queue.isClosed)
        let closer = queue.startWaitClosed(closerFace)
        try await waitForWaiters(queue, joiners: 1, closers: 1)
        #expect(!closer.isDone)
        // Idempotent, so a second plain shutdown changes nothing and wakes nobody for good.
        queue.shutdown()
        #expect(queue.waiting == WaitingCounts(joiners: 1, closers: 1))
        queue.shutdown(immediate: true)
        #expect(try await joiner.value().isSuccess)
        #expect(try await closer.value().isSuccess)
        #expect(queue.isClosed)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("one shutdown wakes a crowd of waiters of every kind on both faces", arguments: [false, true])
    func shutdownWakesEveryone(immediate: Bool) async throws {
        let empty = JanusQueue<Int>()
        let full = JanusQueue<Int>(maxsize: 1)
        try full.sync.putNowait(0)
        var getters: [Worker<Result<Int, QueueError>>] = []
        var putters: [Worker<Result<Void, QueueError>>] = []
        for (index, face) in [Face.sync, .async, .sync, .async].enumerated() {
            getters.append(empty.startGet(face))
            putters.append(full.startPut(index + 1, face))
        }
        try await waitForWaiters(empty, getters: 4)
        try await waitForWaiters(full, putters: 4)
        empty.shutdown(immediate: immediate)
        full.shutdown(immediate: immediate)
        for getter in getters { #expect(try await getter.value() == .failure(.shutDown)) }
        for putter in putters { #expect(try await putter.value().failure == .shutDown) }
        #expect(full.count == (immediate ? 0 : 1))
        #expect(full.drainNowait() == (immediate ? [] : [0]))
    }
}
