import Glibc
import JanusCore
import Testing

// Helpers shared by the suites: real pthreads for the blocking face, unstructured tasks for the
// async face, and gates that wait for a condition (usually `queue.waiting`) with a generous
// deadline, failing the test instead of hanging it.
//
// Locks here are pthread mutexes, not `Synchronization.Mutex`: ThreadSanitizer does not see the
// latter on Linux (PLATFORM-NOTES) and would report races in the tests themselves.

// MARK: Locked

/// A value behind a pthread mutex at a stable heap address.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched with `mutex` held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}

// MARK: Gates

/// How long a gate waits before it declares the test failed. Generous: under ThreadSanitizer and
/// with the suites running in parallel on two CPUs, a waiter can take a while to register.
let gateDeadline: Duration = .seconds(30)

/// A gate that did not open in time (the test has already recorded an issue).
struct GateTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "gate timed out: \(what)" }
}

/// Waits until `condition` holds: a few `Task.yield()`s, then polling with pauses that grow to a
/// few milliseconds (a polling interval, not a way to order events: the condition does that, and
/// the backoff keeps dozens of parallel gates from swamping the cooperative pool). Records an
/// issue and throws if it does not hold within `gateDeadline`.
func waitUntil(
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let start = clock.now
    var spins = 0
    var pause = Duration.microseconds(50)
    while !condition() {
        if clock.now - start > gateDeadline {
            Issue.record("gate timed out: \(what)", sourceLocation: sourceLocation)
            throw GateTimeout(what: what)
        }
        spins += 1
        if spins < 20 {
            await Task.yield()
        } else {
            try? await Task.sleep(for: pause)
            pause = Swift.min(pause * 2, .milliseconds(5))
        }
    }
}

/// Waits until the queue's waiter lists hold exactly the given counts.
func waitForWaiters<E>(
    _ queue: JanusQueue<E>, getters: Int = 0, putters: Int = 0, joiners: Int = 0, closers: Int = 0,
    peekers: Int = 0, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let expected = WaitingCounts(
        getters: getters, putters: putters, joiners: joiners, closers: closers, peekers: peekers)
    try await waitUntil("waiting == \(expected)", sourceLocation: sourceLocation) { queue.waiting == expected }
}

// MARK: Threads and tasks with a result

/// A unit of work running on its own pthread or in its own unstructured task, whose result the
/// test collects with a deadline. Unstructured on purpose: if a gate fails, the test throws and
/// leaves the stuck waiter behind instead of hanging on it.
final class Worker<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `state` and `joined` are Locked; `thread` and `task` are set once,
    // before the worker is shared.
    private struct State {
        var result: T?
        /// The one collector suspended in `value()`, resumed with true when the result is in.
        var collector: UnsafeContinuation<Bool, Never>?
    }

    private let state = Locked(State())
    private let joined = Locked(false)
    fileprivate var thread: pthread_t?
    fileprivate var task: Task<Void, Never>?

    fileprivate init() {}

    deinit {
        // A worker dropped without collecting its thread (a failed gate left it blocked, or the
        // test did not need the result): let the thread clean up after itself.
        if let thread, !joined.current { pthread_detach(thread) }
    }

    /// True once the work has finished.
    var isDone: Bool { state.withLock { $0.result != nil } }

    /// Cancels the task (for async workers; a thread cannot be cancelled).
    func cancel() { task?.cancel() }

    fileprivate func finish(_ value: T) {
        let collector = state.withLock { state in
            state.result = value
            defer { state.collector = nil }
            return state.collector
        }
        collector?.resume(returning: true)
    }

    /// The result, waiting for it (suspended, not polling) at most `gateDeadline`.
    func value(
        _ what: String = "worker finishes", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> T {
        let done = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.suspendUntilDone() }
            group.addTask {
                try? await Task.sleep(for: gateDeadline)
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        guard done || isDone else {
            Issue.record("gate timed out: \(what)", sourceLocation: sourceLocation)
            throw GateTimeout(what: what)
        }
        if let thread,
            !joined.withLock({ done in
                defer { done = true }
                return done
            })
        {
            // The thread has stored its result and is exiting: this join is immediate.
            pthread_join(thread, nil)
        }
        return state.withLock { $0.result! }
    }

    /// True when the result came; false when cancelled first (the deadline passed).
    private func suspendUntilDone() async -> Bool {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                // Checking the cancellation flag under the lock closes the race with onCancel:
                // either the flag is seen here or the handler finds the stored continuation.
                let answer: Bool? = state.withLock { state in
                    if state.result != nil { return true }
                    if Task.isCancelled { return false }
                    precondition(state.collector == nil, "value() called twice at once")
                    state.collector = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let collector = state.withLock { state in
                defer { state.collector = nil }
                return state.collector
            }
            collector?.resume(returning: false)
        }
    }
}

private final class ThreadStart: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Runs `body` on a new pthread. The start routine is a closure inside this nonisolated function
/// (PLATFORM-NOTES: a top-level one would be inferred `@MainActor` and trap on a foreign thread).
func spawnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> Worker<T> {
    let worker = Worker<T>()
    let start = ThreadStart {
        worker.finish(body())
    }
    var thread = pthread_t()
    let status = pthread_create(
        &thread, nil,
        { raw in
            let start = Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue()
            start.body()
            return nil
        }, Unmanaged.passRetained(start).toOpaque())
    precondition(status == 0, "pthread_create failed: \(status)")
    worker.thread = thread
    return worker
}

/// Runs `body` in a new unstructured task.
func spawnTask<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> Worker<T> {
    let worker = Worker<T>()
    worker.task = Task {
        worker.finish(await body())
    }
    return worker
}

/// Runs a blocking `body` on a fresh pthread and waits (without blocking this task's thread)
/// for its result.
func onThread<T: Sendable>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: @escaping @Sendable () -> T
) async throws -> T {
    try await spawnThread(body).value("thread finishes", sourceLocation: sourceLocation)
}

// MARK: Faces

/// Which face of the queue a test drives: the blocking one from a pthread, or the async one from
/// a task.
enum Face: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sync
    case async

    var testDescription: String { rawValue }
}

/// Starts an operation on `face`: the `sync` closure on a new pthread, or the `async` closure in a
/// new task. The result is captured as a `Result`.
func start<T: Sendable>(
    _ face: Face,
    sync: @escaping @Sendable () throws(QueueError) -> T,
    async: @escaping @Sendable () async throws(QueueError) -> T
) -> Worker<Result<T, QueueError>> {
    switch face {
    case .sync:
        return spawnThread { Result(catching: sync) }
    case .async:
        return spawnTask {
            do throws(QueueError) {
                return .success(try await async())
            } catch {
                return .failure(error)
            }
        }
    }
}

/// Runs an operation on `face` to completion (see ``start(_:sync:async:)``).
func run<T: Sendable>(
    _ face: Face, sourceLocation: SourceLocation = #_sourceLocation,
    sync: @escaping @Sendable () throws(QueueError) -> T,
    async: @escaping @Sendable () async throws(QueueError) -> T
) async throws -> Result<T, QueueError> {
    try await start(face, sync: sync, async: async).value(sourceLocation: sourceLocation)
}

/// The usual waiting calls, on either face.
extension JanusQueue {
    func startGet(_ face: Face, timeout: Duration? = nil) -> Worker<Result<Element, QueueError>> {
        start(
            face, sync: { () throws(QueueError) in try self.sync.get(timeout: timeout) },
            async: { () async throws(QueueError) in try await self.async.get(timeout: timeout) })
    }

    func startPut(_ item: Element, _ face: Face, timeout: Duration? = nil) -> Worker<Result<Void, QueueError>> {
        start(
            face, sync: { () throws(QueueError) in try self.sync.put(item, timeout: timeout) },
            async: { () async throws(QueueError) in try await self.async.put(item, timeout: timeout) })
    }

    func startJoin(_ face: Face, timeout: Duration? = nil) -> Worker<Result<Void, QueueError>> {
        start(
            face, sync: { () throws(QueueError) in try self.sync.join(timeout: timeout) },
            async: { () async throws(QueueError) in try await self.async.join(timeout: timeout) })
    }

    func startWaitClosed(_ face: Face, timeout: Duration? = nil) -> Worker<Result<Void, QueueError>> {
        start(
            face, sync: { () throws(QueueError) in try self.sync.waitClosed(timeout: timeout) },
            async: { () async throws(QueueError) in try await self.async.waitClosed(timeout: timeout) })
    }

    func get(_ face: Face, timeout: Duration? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> Result<Element, QueueError>
    {
        try await startGet(face, timeout: timeout).value(sourceLocation: sourceLocation)
    }

    func put(_ item: Element, _ face: Face, timeout: Duration? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> Result<Void, QueueError>
    {
        try await startPut(item, face, timeout: timeout).value(sourceLocation: sourceLocation)
    }

    func join(_ face: Face, timeout: Duration? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> Result<Void, QueueError>
    {
        try await startJoin(face, timeout: timeout).value(sourceLocation: sourceLocation)
    }

    func waitClosed(_ face: Face, timeout: Duration? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> Result<Void, QueueError>
    {
        try await startWaitClosed(face, timeout: timeout).value(sourceLocation: sourceLocation)
    }

    /// `getNowait` on the given face (never waits, so callable from the test task itself).
    func getNowait(_ face: Face) -> Result<Element, QueueError> {
        switch face {
        case .sync: Result { () throws(QueueError) in try self.sync.getNowait() }
        case .async: Result { () throws(QueueError) in try self.async.getNowait() }
        }
    }

    func putNowait(_ item: Element, _ face: Face) -> Result<Void, QueueError> {
        switch face {
        case .sync: Result { () throws(QueueError) in try self.sync.putNowait(item) }
        case .async: Result { () throws(QueueError) in try self.async.putNowait(item) }
        }
    }

    func taskDone(_ face: Face) -> Result<Void, QueueError> {
        switch face {
        case .sync: Result { () throws(QueueError) in try self.sync.taskDone() }
        case .async: Result { () throws(QueueError) in try self.async.taskDone() }
        }
    }

    /// Takes every queued item without waiting, in the order the queue hands them out.
    func drainNowait() -> [Element] {
        var items: [Element] = []
        while let item = try? sync.getNowait() { items.append(item) }
        return items
    }
}

extension Result {
    /// The error, or nil on success: lets `Result<Void, _>` be compared with `#expect`.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var isSuccess: Bool { failure == nil }
}

// MARK: Orderings

/// The three orderings, for parameterized tests over `JanusQueue<Int>`.
enum Kind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case fifo
    case lifo
    case priority

    var testDescription: String { rawValue }

    func makeQueue(maxsize: Int = 0) -> JanusQueue<Int> {
        switch self {
        case .fifo: JanusQueue(.fifo, maxsize: maxsize)
        case .lifo: JanusQueue(.lifo, maxsize: maxsize)
        case .priority: JanusQueue(.priority, maxsize: maxsize)
        }
    }

    /// The order in which the queue hands out `items` put in that order.
    func expectedOrder(_ items: [Int]) -> [Int] {
        switch self {
        case .fifo: items
        case .lifo: items.reversed()
        case .priority: items.sorted()
        }
    }
}

/// Measures how long `body` takes.
func elapsed<T>(_ body: () throws -> T) rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try body()
    return (value, clock.now - start)
}

func elapsedAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try await body()
    return (value, clock.now - start)
}

/// A timeout's lower bound, allowing for clock granularity.
func tookAtLeast(_ duration: Duration, _ timeout: Duration) -> Bool {
    duration >= timeout - .milliseconds(10)
}

/// The generous upper bound for any timed wait in these tests.
let timingUpperBound: Duration = .seconds(5)

// MARK: Keeping heavy tests away from timing checks

/// Tests that load the machine (many threads, many items) and tests that measure how long a
/// timeout took must not overlap: on two CPUs, and far more under ThreadSanitizer, a heavy test
/// delays the scheduling of every task, and a 50 ms timeout then "takes" seconds. Heavy tests
/// run one at a time and alone with respect to timing tests; timing tests may overlap each other;
/// every other test runs freely. First come, first served, so neither kind starves.
actor LoadGate {
    enum Kind: Sendable {
        case heavy
        case timing
    }

    static let shared = LoadGate()

    private var heavyRunning = false
    private var timingRunning = 0
    private var queue: [(kind: Kind, continuation: CheckedContinuation<Void, Never>)] = []

    private func canEnter(_ kind: Kind) -> Bool {
        switch kind {
        case .heavy: !heavyRunning && timingRunning == 0
        case .timing: !heavyRunning
        }
    }

    private func enter(_ kind: Kind) {
        switch kind {
        case .heavy: heavyRunning = true
        case .timing: timingRunning += 1
        }
    }

    func acquire(_ kind: Kind) async {
        if queue.isEmpty && canEnter(kind) {
            enter(kind)
            return
        }
        await withCheckedContinuation { queue.append((kind, $0)) }
    }

    func release(_ kind: Kind) {
        switch kind {
        case .heavy: heavyRunning = false
        case .timing: timingRunning -= 1
        }
        while let first = queue.first, canEnter(first.kind) {
            queue.removeFirst()
            enter(first.kind)
            first.continuation.resume()
        }
    }
}

/// The trait behind `.heavy` and `.timing` (see ``LoadGate``).
struct LoadTrait: TestTrait, SuiteTrait, TestScoping {
    let kind: LoadGate.Kind
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Scoped per test case (each case of a parameterized test takes its own turn); the
        // call for a whole test or suite just runs it.
        guard testCase != nil else { return try await function() }
        await LoadGate.shared.acquire(kind)
        do {
            try await function()
        } catch {
            await LoadGate.shared.release(kind)
            throw error
        }
        await LoadGate.shared.release(kind)
    }
}

extension Trait where Self == LoadTrait {
    /// Loads the machine: runs alone with respect to other heavy and timing tests.
    static var heavy: Self { LoadTrait(kind: .heavy) }
    /// Measures a timeout: runs when no heavy test does.
    static var timing: Self { LoadTrait(kind: .timing) }
}
