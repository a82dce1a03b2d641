import JanusCore
import Testing

/// SPEC §2, operation by operation, on both faces and for the three orderings.
@Suite("Behaviour (SPEC §2)")
struct BehaviourTests {
    static let mixed = [5, 1, 4, 2, 3, 9, 0, 7]

    // MARK: put / get and the orderings

    @Test("nowait put and get hand items out in the queue's ordering", arguments: Kind.allCases, Face.allCases)
    func nowaitOrdering(kind: Kind, face: Face) {
        let queue = kind.makeQueue()
        for item in Self.mixed { #expect(queue.putNowait(item, face).isSuccess) }
        var out: [Int] = []
        while case .success(let item) = queue.getNowait(face) { out.append(item) }
        #expect(out == kind.expectedOrder(Self.mixed))
        #expect(queue.getNowait(face) == .failure(.empty))
    }

    @Test("waiting put and get that need not wait behave like nowait", arguments: Kind.allCases, Face.allCases)
    func waitingCallsOrdering(kind: Kind, face: Face) async throws {
        let queue = kind.makeQueue(maxsize: Self.mixed.count)
        for item in Self.mixed { #expect(try await queue.put(item, face).isSuccess) }
        #expect(queue.isFull)
        var out: [Int] = []
        for _ in Self.mixed { out.append(try await queue.get(face).get()) }
        #expect(out == kind.expectedOrder(Self.mixed))
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("puts and gets interleaved keep the ordering", arguments: Kind.allCases)
    func interleaved(kind: Kind) {
        let queue = kind.makeQueue()
        var model: [Int] = []
        var out: [Int] = []
        var expected: [Int] = []
        // put 3, get 1, put 3, get 1, ...: compare with a model of the ordering.
        var next = 0
        for round in 0..<20 {
            for _ in 0..<3 {
                let item = (next * 7919) % 23
                next += 1
                try? queue.sync.putNowait(item)
                model.append(item)
            }
            if round % 2 == 0 || round > 15 {
                out.append((try? queue.sync.getNowait()) ?? -1)
                let index: Int =
                    switch kind {
                    case .fifo: 0
                    case .lifo: model.count - 1
                    case .priority: model.firstIndex(of: model.min()!)!
                    }
                expected.append(model.remove(at: index))
            }
        }
        out += queue.drainNowait()
        expected += kind.expectedOrder(model)
        #expect(out == expected)
    }

    @Test("priority is stable: equal keys come out in insertion order")
    func priorityStable() {
        struct Job: Sendable, Equatable {
            var key: Int
            var seq: Int
        }
        let queue = JanusQueue<Job>(.priority(by: { $0.key < $1.key }))
        var jobs: [Job] = []
        for seq in 0..<1000 {
            jobs.append(Job(key: (seq * 37) % 5, seq: seq))
        }
        for job in jobs { try? queue.sync.putNowait(job) }
        // Interleave some gets and puts so that the heap is reshuffled (and shrinks) midway.
        var out: [Job] = []
        for _ in 0..<300 { out.append(try! queue.sync.getNowait()) }
        var late: [Job] = []
        for seq in 1000..<1100 {
            let job = Job(key: seq % 5, seq: seq)
            late.append(job)
            try? queue.sync.putNowait(job)
        }
        out += queue.drainNowait()
        let stable = { (a: Job, b: Job) in a.key != b.key ? a.key < b.key : a.seq < b.seq }
        let first = jobs.sorted(by: stable).prefix(300)
        #expect(Array(out.prefix(300)) == Array(first))
        let rest = (jobs.sorted(by: stable).dropFirst(300) + late).sorted(by: stable)
        #expect(Array(out.dropFirst(300)) == rest)
    }

    @Test("priority(by:) uses the given order: here highest first, ties in insertion order")
    func priorityCustomOrder() {
        let queue = JanusQueue<(Int, String)>(.priority(by: { $0.0 > $1.0 }))
        for item in [(1, "a"), (3, "b"), (2, "c"), (3, "d"), (1, "e")] { try? queue.sync.putNowait(item) }
        let out = queue.drainNowait().map(\.1)
        #expect(out == ["b", "d", "c", "a", "e"])
    }

    // MARK: Snapshots

    @Test("qsize, empty, full, maxsize and unfinishedTasks", arguments: Kind.allCases)
    func snapshots(kind: Kind) throws {
        let queue = kind.makeQueue(maxsize: 3)
        let sync = queue.sync
        let async = queue.async
        #expect(queue.maxsize == 3 && sync.maxsize == 3 && async.maxsize == 3)
        #expect(queue.isEmpty && sync.isEmpty && async.isEmpty)
        #expect(!queue.isFull && !sync.isFull && !async.isFull)
        #expect(queue.count == 0 && queue.unfinishedTasks == 0)
        try sync.putNowait(1)
        try async.putNowait(2)
        #expect(queue.count == 2 && sync.count == 2 && async.count == 2)
        #expect(!queue.isEmpty && !queue.isFull)
        try sync.putNowait(3)
        #expect(queue.isFull && sync.isFull && async.isFull)
        #expect(queue.unfinishedTasks == 3 && sync.unfinishedTasks == 3 && async.unfinishedTasks == 3)
        _ = try sync.getNowait()
        // get does not change unfinished_tasks.
        #expect(queue.count == 2 && queue.unfinishedTasks == 3 && !queue.isFull)
        try async.taskDone()
        #expect(queue.unfinishedTasks == 2 && queue.count == 2)
    }

    @Test("maxsize <= 0 is unbounded: never full", arguments: [0, -1, -100])
    func unbounded(maxsize: Int) throws {
        let queue = JanusQueue<Int>(maxsize: maxsize)
        #expect(queue.maxsize == 0)
        for i in 0..<1000 { try queue.sync.putNowait(i) }
        #expect(!queue.isFull)
        #expect(queue.count == 1000)
    }

    // MARK: nowait and timeouts

    @Test("putNowait on a full queue: .full, nothing changes", arguments: Face.allCases)
    func putNowaitFull(face: Face) {
        let queue = JanusQueue<Int>(maxsize: 2)
        #expect(queue.putNowait(1, face).isSuccess)
        #expect(queue.putNowait(2, face).isSuccess)
        #expect(queue.putNowait(3, face).failure == .full)
        #expect(queue.count == 2 && queue.unfinishedTasks == 2)
        #expect(queue.drainNowait() == [1, 2])
    }

    @Test("getNowait on an empty queue: .empty", arguments: Face.allCases)
    func getNowaitEmpty(face: Face) {
        let queue = JanusQueue<Int>()
        #expect(queue.getNowait(face) == .failure(.empty))
        #expect(queue.unfinishedTasks == 0)
    }

    @Test("a zero timeout does not wait: .empty, .full, .timedOut", arguments: Face.allCases)
    func zeroTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        #expect(try await queue.get(face, timeout: .zero) == .failure(.empty))
        #expect(try await queue.put(1, face, timeout: .zero).isSuccess)
        #expect(try await queue.put(2, face, timeout: .zero).failure == .full)
        #expect(try await queue.join(face, timeout: .zero).failure == .timedOut)
        #expect(try await queue.get(face, timeout: .zero) == .success(1))
        try queue.sync.taskDone()
        #expect(try await queue.join(face, timeout: .zero).isSuccess)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("a negative timeout is .invalidArgument and changes nothing", arguments: Face.allCases, [0, 1, 2])
    func negativeTimeout(face: Face, maxsize: Int) async throws {
        // maxsize 0: unbounded (CPython accepts a negative timeout there; SPEC §2 does not);
        // 2: bounded with room; 1: bounded and full after the first put.
        let queue = JanusQueue<Int>(maxsize: maxsize)
        let negative = Duration.milliseconds(-1)
        #expect(try await queue.put(1, face, timeout: negative).failure == .invalidArgument)
        #expect(queue.count == 0 && queue.unfinishedTasks == 0)
        try queue.sync.putNowait(1)
        #expect(try await queue.put(2, face, timeout: negative).failure == .invalidArgument)
        #expect(queue.count == 1 && queue.unfinishedTasks == 1)
        // With an item present, a negative get still takes nothing.
        #expect(try await queue.get(face, timeout: negative) == .failure(.invalidArgument))
        #expect(queue.count == 1)
        #expect(try await queue.join(face, timeout: negative).failure == .invalidArgument)
        _ = try queue.sync.getNowait()
        #expect(try await queue.get(face, timeout: .nanoseconds(-1)) == .failure(.invalidArgument))
        let many = try await run(
            face, sync: { () throws(QueueError) in try queue.sync.getMany(max: 3, timeout: negative) },
            async: { () async throws(QueueError) in try await queue.async.getMany(max: 3, timeout: negative) })
        #expect(many == .failure(.invalidArgument))
        let putMany = try await runPutMany(queue, [7, 8], face, timeout: negative)
        #expect(putMany == PutManyError(reason: .invalidArgument, inserted: 0))
        #expect(queue.count == 0)
        queue.shutdown()
        #expect(try await queue.waitClosed(face, timeout: negative).failure == .invalidArgument)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("get with a timeout on an empty queue: .empty after about the timeout", .timing, arguments: Face.allCases)
    func getTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>()
        let timeout = Duration.milliseconds(50)
        let (result, took) = try await timed(face) { () throws(QueueError) in
            try queue.sync.get(timeout: timeout)
        } async: { () async throws(QueueError) in
            try await queue.async.get(timeout: timeout)
        }
        #expect(result == .failure(.empty))
        #expect(tookAtLeast(took, timeout), "returned after \(took)")
        #expect(took < timingUpperBound)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test(
        "put with a timeout on a full queue: .full after about the timeout, item not inserted", .timing,
        arguments: Face.allCases)
    func putTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 2)
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        let timeout = Duration.milliseconds(50)
        let (result, took) = try await timed(face) { () throws(QueueError) in
            try queue.sync.put(3, timeout: timeout)
        } async: { () async throws(QueueError) in
            try await queue.async.put(3, timeout: timeout)
        }
        #expect(result.failure == .full)
        #expect(tookAtLeast(took, timeout), "returned after \(took)")
        #expect(took < timingUpperBound)
        #expect(queue.waiting == WaitingCounts())
        #expect(queue.unfinishedTasks == 2)
        #expect(queue.drainNowait() == [1, 2])
    }

    @Test("join with a timeout while tasks are unfinished: .timedOut", .timing, arguments: Face.allCases)
    func joinTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        let timeout = Duration.milliseconds(50)
        let (result, took) = try await timed(face) { () throws(QueueError) in
            try queue.sync.join(timeout: timeout)
        } async: { () async throws(QueueError) in
            try await queue.async.join(timeout: timeout)
        }
        #expect(result.failure == .timedOut)
        #expect(tookAtLeast(took, timeout), "returned after \(took)")
        #expect(took < timingUpperBound)
        #expect(queue.waiting == WaitingCounts())
    }

    /// Int64.max seconds and milliseconds (SPEC §5: up to INT64_MAX ms), and 95 years: just
    /// under the point where the queue treats a timeout as none at all.
    static let hugeTimeouts: [Duration] = [.seconds(Int64.max), .milliseconds(Int64.max), .seconds(3_000_000_000)]

    @Test("a huge timeout means a long wait, not an overflow", arguments: Face.allCases, hugeTimeouts)
    func hugeTimeout(face: Face, huge: Duration) async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        let getter = queue.startGet(face, timeout: huge)
        try await waitForWaiters(queue, getters: 1)
        #expect(!getter.isDone)
        try queue.sync.putNowait(1)
        #expect(try await getter.value() == .success(1))

        try queue.sync.putNowait(2)
        let putter = queue.startPut(3, face, timeout: huge)
        try await waitForWaiters(queue, putters: 1)
        #expect(!putter.isDone)
        #expect(try queue.sync.getNowait() == 2)
        #expect(try await putter.value().isSuccess)
        #expect(try queue.sync.getNowait() == 3)

        let joiner = queue.startJoin(face, timeout: huge)
        try await waitForWaiters(queue, joiners: 1)
        for _ in 0..<3 { try queue.sync.taskDone() }
        #expect(try await joiner.value().isSuccess)
    }

    @Test("a tiny positive timeout waits at most briefly", arguments: Face.allCases)
    func tinyTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 1)
        #expect(try await queue.get(face, timeout: .nanoseconds(1)) == .failure(.empty))
        try queue.sync.putNowait(1)
        #expect(try await queue.put(2, face, timeout: .nanoseconds(1)).failure == .full)
        #expect(try await queue.join(face, timeout: .nanoseconds(1)).failure == .timedOut)
        #expect(queue.waiting == WaitingCounts())
        #expect(queue.drainNowait() == [1])
    }

    // MARK: waiting and hand-off

    @Test("a waiting get is released by a put on the same face", arguments: Kind.allCases, Face.allCases)
    func getWaitsForPut(kind: Kind, face: Face) async throws {
        let queue = kind.makeQueue()
        let getter = queue.startGet(face)
        try await waitForWaiters(queue, getters: 1)
        #expect(!getter.isDone)
        #expect(try await queue.put(42, face).isSuccess)
        #expect(try await getter.value() == .success(42))
        // Handed straight to the getter: it still counts as an unfinished task.
        #expect(queue.unfinishedTasks == 1 && queue.count == 0)
    }

    @Test("a waiting put is admitted by a get, in the queue's ordering", arguments: Kind.allCases, Face.allCases)
    func putWaitsForGet(kind: Kind, face: Face) async throws {
        let queue = kind.makeQueue(maxsize: 2)
        try queue.sync.putNowait(5)
        try queue.sync.putNowait(3)
        let putter = queue.startPut(4, face)
        try await waitForWaiters(queue, putters: 1)
        #expect(!putter.isDone)
        let first = try await queue.get(face).get()
        #expect(try await putter.value().isSuccess)
        #expect(queue.count == 2 && queue.unfinishedTasks == 3)
        let out = [first] + queue.drainNowait()
        switch kind {
        case .fifo: #expect(out == [5, 3, 4])
        case .lifo: #expect(out == [3, 4, 5])
        case .priority: #expect(out == [3, 4, 5])
        }
    }

    // MARK: task_done and join

    @Test("taskDone more times than items were put: .invalidArgument, count unchanged", arguments: Face.allCases)
    func taskDoneTooMany(face: Face) throws {
        let queue = JanusQueue<Int>()
        #expect(queue.taskDone(face).failure == .invalidArgument)
        #expect(queue.unfinishedTasks == 0)
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        _ = try queue.sync.getNowait()
        #expect(queue.taskDone(face).isSuccess)
        #expect(queue.unfinishedTasks == 1)
        #expect(queue.taskDone(face).isSuccess)
        #expect(queue.unfinishedTasks == 0)
        #expect(queue.taskDone(face).failure == .invalidArgument)
        #expect(queue.unfinishedTasks == 0)
        // The queue still counts normally afterwards.
        try queue.sync.putNowait(3)
        #expect(queue.unfinishedTasks == 1 && queue.count == 2)
    }

    @Test("join returns at once when nothing is unfinished, and can be called again", arguments: Face.allCases)
    func joinAtZero(face: Face) async throws {
        let queue = JanusQueue<Int>()
        #expect(try await queue.join(face).isSuccess)
        #expect(try await queue.join(face).isSuccess)
        try queue.sync.putNowait(1)
        _ = try queue.sync.getNowait()
        try queue.sync.taskDone()
        #expect(try await queue.join(face).isSuccess)
    }

    @Test("join waits for the last taskDone", arguments: Face.allCases)
    func joinWaitsForLastTaskDone(face: Face) async throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        let joiner = queue.startJoin(face)
        try await waitForWaiters(queue, joiners: 1)
        for _ in 0..<3 { _ = try queue.sync.getNowait() }
        try queue.sync.taskDone()
        try queue.async.taskDone()
        #expect(queue.waiting.joiners == 1 && !joiner.isDone)
        #expect(queue.taskDone(face).isSuccess)
        #expect(try await joiner.value().isSuccess)
        // Callable again after it returned.
        #expect(try await queue.join(face).isSuccess)
    }

    @Test("several joiners are all released by the last taskDone")
    func severalJoiners() async throws {
        let queue = JanusQueue<Int>()
        try queue.sync.putNowait(1)
        let joiners = [
            queue.startJoin(.sync), queue.startJoin(.async), queue.startJoin(.sync), queue.startJoin(.async),
        ]
        try await waitForWaiters(queue, joiners: 4)
        try queue.sync.taskDone()
        for joiner in joiners { #expect(try await joiner.value().isSuccess) }
    }

    // MARK: putMany / getMany

    @Test("putMany without waiting puts a prefix and says how many", arguments: Face.allCases)
    func putManyPrefix(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 4)
        try queue.sync.putNowait(0)
        let error = try await runPutMany(queue, [10, 11, 12, 13, 14], face, timeout: .zero)
        #expect(error == PutManyError(reason: .full, inserted: 3))
        #expect(queue.unfinishedTasks == 4)
        #expect(queue.drainNowait() == [0, 10, 11, 12])
    }

    @Test("putMany with a timeout shares one deadline and puts a prefix", .timing, arguments: Face.allCases)
    func putManyTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 2)
        let timeout = Duration.milliseconds(50)
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await runPutMany(queue, [1, 2, 3, 4], face, timeout: timeout)
        let took = clock.now - start
        #expect(error == PutManyError(reason: .full, inserted: 2))
        #expect(tookAtLeast(took, timeout), "returned after \(took)")
        #expect(took < timingUpperBound)
        #expect(queue.waiting == WaitingCounts())
        #expect(queue.drainNowait() == [1, 2])
    }

    @Test("putMany of everything that fits succeeds; an empty batch is fine", arguments: Face.allCases)
    func putManyAll(face: Face) async throws {
        let queue = JanusQueue<Int>()
        #expect(try await runPutMany(queue, [], face, timeout: .zero) == nil)
        #expect(try await runPutMany(queue, Array(0..<100), face, timeout: nil) == nil)
        #expect(queue.unfinishedTasks == 100)
        #expect(queue.drainNowait() == Array(0..<100))
    }

    @Test("putMany waits for room item by item until a consumer takes them", arguments: Face.allCases)
    func putManyWaitsForRoom(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 2)
        let putter = startPutMany(queue, Array(1...6), face, timeout: nil)
        var out: [Int] = []
        while out.count < 6 {
            try await waitUntil("putMany fills the queue") { queue.isFull || putter.isDone }
            out.append(try await queue.async.get())
        }
        #expect(try await putter.value() == nil)
        #expect(out == Array(1...6))
        #expect(queue.isEmpty && queue.unfinishedTasks == 6)
    }

    @Test("putMany stopped by shutdown reports the prefix that went in", arguments: Face.allCases)
    func putManyShutDown(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 2)
        let putter = startPutMany(queue, [1, 2, 3, 4], face, timeout: nil)
        try await waitForWaiters(queue, putters: 1)
        queue.shutdown()
        #expect(try await putter.value() == PutManyError(reason: .shutDown, inserted: 2))
        #expect(queue.drainNowait() == [1, 2])
        #expect(try await runPutMany(queue, [5], face, timeout: nil) == PutManyError(reason: .shutDown, inserted: 0))
    }

    @Test("getMany takes up to max without waiting more, in the ordering", arguments: Kind.allCases, Face.allCases)
    func getMany(kind: Kind, face: Face) async throws {
        let queue = kind.makeQueue()
        for item in Self.mixed { try queue.sync.putNowait(item) }
        let expected = kind.expectedOrder(Self.mixed)
        #expect(try await runGetMany(queue, max: 3, face) == .success(Array(expected.prefix(3))))
        #expect(try await runGetMany(queue, max: 100, face) == .success(Array(expected.dropFirst(3))))
        #expect(try await runGetMany(queue, max: 3, face, timeout: .zero) == .failure(.empty))
        #expect(try await runGetMany(queue, max: 0, face) == .failure(.invalidArgument))
        #expect(try await runGetMany(queue, max: -1, face) == .failure(.invalidArgument))
        #expect(queue.unfinishedTasks == Self.mixed.count)
    }

    @Test("getMany waits for one item, then returns what is there", arguments: Face.allCases)
    func getManyWaits(face: Face) async throws {
        let queue = JanusQueue<Int>()
        let getter = start(
            face, sync: { () throws(QueueError) in try queue.sync.getMany(max: 10) },
            async: { () async throws(QueueError) in try await queue.async.getMany(max: 10) })
        try await waitForWaiters(queue, getters: 1)
        #expect(!getter.isDone)
        try queue.sync.putNowait(7)
        #expect(try await getter.value() == .success([7]))
    }

    @Test("getMany with a timeout on an empty queue: .empty", .timing, arguments: Face.allCases)
    func getManyTimeout(face: Face) async throws {
        let queue = JanusQueue<Int>()
        let timeout = Duration.milliseconds(50)
        let (result, took) = try await timed(face) { () throws(QueueError) in
            try queue.sync.getMany(max: 4, timeout: timeout)
        } async: { () async throws(QueueError) in
            try await queue.async.getMany(max: 4, timeout: timeout)
        }
        #expect(result == .failure(.empty))
        #expect(tookAtLeast(took, timeout), "returned after \(took)")
        #expect(took < timingUpperBound)
        #expect(queue.waiting == WaitingCounts())
    }

    @Test("getMany on a full queue lets the waiting putters in", arguments: Face.allCases)
    func getManyAdmitsPutters(face: Face) async throws {
        let queue = JanusQueue<Int>(maxsize: 2)
        try queue.sync.putNowait(1)
        try queue.sync.putNowait(2)
        let putter = queue.startPut(3, .sync)
        try await waitForWaiters(queue, putters: 1)
        let got = try await runGetMany(queue, max: 1, face)
        #expect(got == .success([1]))
        #expect(try await putter.value().isSuccess)
        #expect(queue.drainNowait() == [2, 3])
    }

    @Test(
        "getMany with a huge max takes what is there without preallocating max slots",
        arguments: Face.allCases)
    func getManyHugeMax(face: Face) async throws {
        let queue = JanusQueue<Int>()
        for i in 0..<3 { try queue.sync.putNowait(i) }
        #expect(try await runGetMany(queue, max: Int.max, face) == .success([0, 1, 2]))
    }
}

// MARK: Helpers for the batch calls and timings

func startPutMany(_ queue: JanusQueue<Int>, _ items: [Int], _ face: Face, timeout: Duration?)
    -> Worker<PutManyError?>
{
    switch face {
    case .sync:
        return spawnThread {
            do throws(PutManyError) {
                try queue.sync.putMany(items, timeout: timeout)
                return nil
            } catch {
                return error
            }
        }
    case .async:
        return spawnTask {
            do throws(PutManyError) {
                try await queue.async.putMany(items, timeout: timeout)
                return nil
            } catch {
                return error
            }
        }
    }
}

func runPutMany(_ queue: JanusQueue<Int>, _ items: [Int], _ face: Face, timeout: Duration?) async throws
    -> PutManyError?
{
    try await startPutMany(queue, items, face, timeout: timeout).value()
}

func runGetMany(_ queue: JanusQueue<Int>, max: Int, _ face: Face, timeout: Duration? = nil) async throws
    -> Result<[Int], QueueError>
{
    try await run(
        face, sync: { () throws(QueueError) in try queue.sync.getMany(max: max, timeout: timeout) },
        async: { () async throws(QueueError) in try await queue.async.getMany(max: max, timeout: timeout) })
}

/// Runs an operation on `face` and measures it where it runs (on the thread, or in the task).
func timed<T: Sendable>(
    _ face: Face,
    sync: @escaping @Sendable () throws(QueueError) -> T,
    async: @escaping @Sendable () async throws(QueueError) -> T
) async throws -> (Result<T, QueueError>, Duration) {
    switch face {
    case .sync:
        return try await onThread { elapsed { Result(catching: sync) } }
    case .async:
        return try await spawnTask {
            await elapsedAsync { () async -> Result<T, QueueError> in
                do throws(QueueError) {
                    return .success(try await async())
                } catch {
                    return .failure(error)
                }
            }
        }.value()
    }
}
