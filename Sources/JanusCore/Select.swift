import CJanusShims
import Synchronization

/// One operation of a select: a get from a queue, or a put of an item into one.
public enum SelectOperation<Element: Sendable>: Sendable {
    /// Take the next item of the queue.
    case get(JanusQueue<Element>)
    /// Put `item` into the queue. If another operation of the select happens instead, the item
    /// was not put: it is still the caller's.
    case put(Element, into: JanusQueue<Element>)

    @inlinable var queue: JanusQueue<Element> {
        switch self {
        case .get(let queue): return queue
        case .put(_, let queue): return queue
        }
    }

    @inlinable var side: WaitSide {
        switch self {
        case .get: return .get
        case .put: return .put
        }
    }

    /// Whether a spinning select should try this operation now: the lane's hint while the
    /// queue uses its lane. False for a queue without one: a try there takes the lock, and a
    /// spin must not hammer the lock its queue's other side needs.
    @inlinable var mayHappen: Bool {
        let queue = self.queue
        guard queue.usesLane, let lane = queue.lane else { return false }
        switch self {
        case .get: return lane.mayPop
        case .put: return lane.mayPush
        }
    }
}

/// What a select did: exactly one of its operations, by its index in the array given.
public enum SelectOutcome<Element: Sendable>: Sendable {
    /// The get at `index` took `item`.
    case got(Element, index: Int)
    /// The put at `index` put its item (the queue owns it now).
    case put(index: Int)
    /// The queue of the operation at `index` is shut down: that get found no item left, or that
    /// put was refused (its item is still the caller's). Nothing else happened.
    case shutDown(index: Int)

    /// The index of the operation this outcome is about.
    public var index: Int {
        switch self {
        case .got(_, let index), .put(let index), .shutDown(let index): return index
        }
    }
}

/// Waiting on several queues at once: Go's `select`, crossbeam-channel's `Select`, for both
/// faces, and never losing an item.
///
/// A select waits until one of its operations can happen, performs **exactly that one** and
/// says which; the others have not happened (no item taken, none put, `unfinishedTasks`
/// unchanged). A queue that is shut down counts as ready: its operation completes as
/// ``SelectOutcome/shutDown(index:)``, so a select over shut-down queues never hangs. The same
/// queue may appear more than once (for example a get and a put).
///
/// Fairness: when several operations are ready at the call, the one taken is not always the
/// first: each call starts its look at a pseudo-random index (a process-wide call counter,
/// scrambled), and goes round from there. While it waits, the select holds a place in the
/// first-come-first-served line of every queue, like any getter or putter; the queue that
/// serves it first wins, and it leaves the other lines before anyone else can pick it.
///
/// A FIFO queue that a select has to wait on leaves its lock-free path while the select is
/// listed: select waiters live in the locked buffer, where an item seen under the lock cannot
/// vanish before it is handed over. A bounded FIFO queue rejoins its lane once it is idle again
/// (`QueueStateMachine.rejoinLaneIfIdle`); an unbounded one stays off it for good (it then runs
/// at the speed of a LIFO queue), as after a peek.
public enum JanusSelect {
    /// The most operations one select may have.
    public static var maxOperations: Int { 64 }

    /// Blocks the calling thread until one of `operations` can happen (or `timeout` passes),
    /// and performs it.
    ///
    /// - Parameters:
    ///   - operations: 1 to ``maxOperations`` gets and puts, on one or several queues.
    ///   - timeout: nil waits as long as it takes; `.zero` does not wait (a non-blocking try
    ///     over all the operations); positive waits at most that long.
    /// - Returns: which operation happened, with the item of a get.
    /// - Throws: `.timedOut` when none could happen within the timeout (at once for `.zero`),
    ///   `.invalidArgument` for no operations, too many, or a negative timeout (nothing done).
    /// Thread safe; do not call from Swift concurrency's threads (use ``async(_:timeout:)``).
    @available(*, noasync, message: "blocks the thread: use JanusSelect.async from async code")
    public static func sync<Element>(
        _ operations: [SelectOperation<Element>], timeout: Duration? = nil
    ) throws(QueueError) -> SelectOutcome<Element> {
        guard !operations.isEmpty, operations.count <= maxOperations else { throw .invalidArgument }
        let wait = try ThreadWait(timeout)
        guard let (index, result) = threadSelect(operations, wait) else { throw .timedOut }
        return outcome(operations, index, result)
    }

    /// Suspends the calling task until one of `operations` can happen (or `timeout` passes),
    /// and performs it. As ``sync(_:timeout:)``; in addition:
    ///
    /// - Throws: `.cancelled` when the task is cancelled before any operation happened. An
    ///   operation that happened in the same moment wins over the cancellation and is returned,
    ///   so an item that reached a cancelled select is never lost.
    public static func async<Element>(
        _ operations: [SelectOperation<Element>], timeout: Duration? = nil
    ) async throws(QueueError) -> SelectOutcome<Element> {
        guard !operations.isEmpty, operations.count <= maxOperations else { throw .invalidArgument }
        let wait = try TaskWait(timeout)
        switch await taskSelect(operations, wait) {
        case .success(let decided): return outcome(operations, decided.index, decided.result)
        case .failure(let error): throw error
        }
    }

    @inlinable static func outcome<Element>(
        _ operations: [SelectOperation<Element>], _ index: Int, _ result: Result<Element?, QueueError>
    ) -> SelectOutcome<Element> {
        switch result {
        case .failure: return .shutDown(index: index)
        case .success(let item):
            if case .get = operations[index] { return .got(item.unsafelyUnwrapped, index: index) }
            return .put(index: index)
        }
    }

    // MARK: the algorithm, shared with the C library

    /// Where a select starts looking: a process-wide counter, scrambled (splitmix64) so that
    /// callers that alternate do not each see a fixed residue.
    @inlinable package static func startIndex(_ count: Int) -> Int {
        guard count > 1 else { return 0 }
        var z = UInt64(truncatingIfNeeded: shim_select_calls_next())
        z = z &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(count))
    }

    /// One non-blocking try of every operation, from `start` round; the first that happens
    /// ends it. Each try performs at most one operation and the loop stops at the first.
    @inlinable static func tryAll<Element, Operations: RandomAccessCollection>(_ operations: Operations, start: Int)
        -> (
            Int, Result<Element?, QueueError>
        )? where Operations.Element == SelectOperation<Element>, Operations.Index == Int
    {
        let count = operations.count
        for step in 0..<count {
            let index = (start + step) % count
            switch operations[index] {
            case .get(let queue):
                switch queue.selectTryGet() {
                case .item(let item): return (index, .success(item))
                case .shutDown: return (index, .failure(.shutDown))
                case .empty: continue
                }
            case .put(let item, let queue):
                switch queue.selectTryPut(item) {
                case .inserted: return (index, .success(nil))
                case .shutDown: return (index, .failure(.shutDown))
                case .full: continue
                }
            }
        }
        return nil
    }

    /// Lists `waiter` on every queue, from `start` round, until one registration performs its
    /// operation or finds the waiter decided. Marks the listed operations in `listed`.
    @inlinable static func register<Element, Operations: RandomAccessCollection>(
        _ operations: Operations, _ waiter: SelectWaiter<Element>, start: Int,
        listed: inout [Bool]
    ) where Operations.Element == SelectOperation<Element>, Operations.Index == Int {
        let count = operations.count
        for step in 0..<count {
            let index = (start + step) % count
            let entry = SelectEntry(waiter: waiter, index: index)
            let queue = operations[index].queue
            var wakeups = Wakeups<Element>()
            queue.lock.lock()
            let done: QueueStateMachine<Element>.SelectStep
            switch operations[index] {
            case .get: done = queue.state.pointee.selectGet(entry, &wakeups)
            case .put(let item, _): done = queue.state.pointee.selectPut(entry, item, &wakeups)
            }
            queue.unlock()
            wakeups.run(stamping: queue.shared)
            switch done {
            case .listed: listed[index] = true
            case .performed, .decided: return
            }
        }
    }

    /// Takes `waiter` out of every line it is listed in. After it is decided.
    @inlinable static func withdraw<Element, Operations: RandomAccessCollection>(
        _ operations: Operations, _ waiter: SelectWaiter<Element>, listed: [Bool]
    ) where Operations.Element == SelectOperation<Element>, Operations.Index == Int {
        for index in operations.indices where listed[index] {
            let queue = operations[index].queue
            var wakeups = Wakeups<Element>()
            queue.lock.lock()
            queue.state.pointee.selectWithdrawn(waiter, index: index, &wakeups)
            queue.unlock()
            wakeups.run(stamping: queue.shared)
        }
    }

    /// The blocking select: nil when nothing happened before the deadline.
    @inlinable package static func threadSelect<Element, Operations: RandomAccessCollection>(
        _ operations: Operations, _ wait: ThreadWait, start chosen: Int? = nil
    ) -> (Int, Result<Element?, QueueError>)?
    where Operations.Element == SelectOperation<Element>, Operations.Index == Int {
        // One operation that may wait is that get or put; a no-wait one is a try of the select
        // kind, which (unlike a no-wait get or put) leaves an event loop's descriptor alone.
        if operations.count == 1, case .until = wait { return threadSelectOne(operations[0], wait) }
        // `chosen`: the start of a first look the caller made already (the C library's lock-free
        // one), so that the rotation, and with it the fairness, is the same.
        let start = chosen ?? startIndex(operations.count)
        if let done = tryAll(operations, start: start) { return done }
        guard case .until(let deadline) = wait else { return nil }
        var started = 0
        if let done = spinAll(operations, start: start, started: &started) { return done }
        let decided = ThreadParker.withParker { parker -> (Int, Result<Element?, QueueError>)? in
            let waiter = SelectWaiter<Element>(parker: parker)
            var listed = [Bool](repeating: false, count: operations.count)
            register(operations, waiter, start: start, listed: &listed)
            if waiter.isWaiting && !parker.park(until: deadline) && waiter.giveUp() {
                withdraw(operations, waiter, listed: listed)
                return nil
            }
            // Decided. By a queue (or by our own registration, which claimed and performed).
            // A queue's wakeup must be delivered before the parker leaves this stack: wait for
            // it unless the claim was our own (then no wakeup comes, and `outcome` is set).
            if !selfPerformed(waiter, listed) { _ = parker.park(until: nil) }
            withdraw(operations, waiter, listed: listed)
            return (waiter.winner!, waiter.outcome!)
        }
        if let (index, _) = decided { learnFromSleep(operations[index], started: started) }
        return decided
    }

    /// A select of one operation is that get or put, with its lock-free path and its spin.
    @inlinable static func threadSelectOne<Element>(_ operation: SelectOperation<Element>, _ wait: ThreadWait)
        -> (Int, Result<Element?, QueueError>)?
    {
        switch operation {
        case .get(let queue):
            switch queue.threadGet(wait) {
            case .success(let item): return (0, .success(item))
            case .failure(.shutDown): return (0, .failure(.shutDown))
            case .failure: return nil  // empty: no item within the timeout
            }
        case .put(let item, let queue):
            switch queue.threadPut(item, wait) {
            case .success: return (0, .success(nil))
            case .failure(.shutDown): return (0, .failure(.shutDown))
            case .failure: return nil  // full: no room within the timeout
            }
        }
    }

    /// Before a select registers: tries its operations again while that pays, as a single get
    /// or put spins (`SpinPolicy`), within the largest budget its lane-using queues have learned
    /// for their operations' sides, polling the lanes' hints between the tries (a select whose
    /// queues all left their lanes does not spin). A select that registers
    /// costs a lock per queue twice and, on a FIFO queue, its lock-free path (see the type's
    /// comment), so a stream that keeps coming within the spin never pays that. When it gives
    /// up, `started` is when the wait began.
    @inlinable static func spinAll<Element, Operations: RandomAccessCollection>(
        _ operations: Operations, start: Int, started: inout Int
    )
        -> (Int, Result<Element?, QueueError>)?
    where Operations.Element == SelectOperation<Element>, Operations.Index == Int {
        var budget = 0
        for operation in operations where operation.queue.usesLane {
            budget = Swift.max(
                budget, operation.queue.shared.spinBudget(operation.side).pointee.load(ordering: .relaxed))
        }
        started = MonotonicDeadline.nanosecondsNow()
        guard budget > 0, SpinPolicy.enter() else { return nil }
        defer { SpinPolicy.leave() }
        var round = 0
        while true {
            SpinPolicy.pause(round)
            round &+= 1
            if operations.contains(where: { $0.mayHappen }), let done = tryAll(operations, start: start) {
                let operation = operations[done.0]
                SpinPolicy.caught(operation.queue.shared.spinBudget(operation.side))
                return done
            }
            if round & 3 == 0 && MonotonicDeadline.nanosecondsNow() - started > budget { return nil }
        }
    }

    /// After a select that waited: what the spin policy of the queue that served it learns.
    @inlinable static func learnFromSleep<Element>(_ operation: SelectOperation<Element>, started: Int) {
        let waited = MonotonicDeadline.nanosecondsNow() - started
        SpinPolicy.slept(handOffAfter: waited, operation.queue.shared.spinBudget(operation.side))
    }

    /// The async select: `.timedOut` or `.cancelled` when nothing happened.
    @inlinable package static func taskSelect<Element>(_ operations: [SelectOperation<Element>], _ wait: TaskWait) async
        -> Result<SelectDecision<Element>, QueueError>
    {
        if operations.count == 1, case .until = wait { return await taskSelectOne(operations[0], wait) }
        let start = startIndex(operations.count)
        if let (index, result) = tryAll(operations, start: start) {
            return .success(SelectDecision(index: index, result: result))
        }
        guard case .until(let timeout) = wait else { return .failure(.timedOut) }
        var started = 0
        if let (index, result) = spinAll(operations, start: start, started: &started) {
            return .success(SelectDecision(index: index, result: result))
        }
        let decided: Result<SelectDecision<Element>, QueueError>
        if let timeout {
            decided = await operations[0].queue.withTimeout(timeout, reporting: .timedOut) {
                await suspendSelect(operations, start: start)
            }
        } else {
            decided = await suspendSelect(operations, start: start)
        }
        if case .success(let decision) = decided { learnFromSleep(operations[decision.index], started: started) }
        return decided
    }

    /// A select of one operation is that get or put (`threadSelectOne`).
    @inlinable static func taskSelectOne<Element>(_ operation: SelectOperation<Element>, _ wait: TaskWait) async
        -> Result<SelectDecision<Element>, QueueError>
    {
        switch operation {
        case .get(let queue):
            switch await queue.taskGet(wait) {
            case .success(let item): return .success(SelectDecision(index: 0, result: .success(item)))
            case .failure(.shutDown): return .success(SelectDecision(index: 0, result: .failure(.shutDown)))
            case .failure(.cancelled): return .failure(.cancelled)
            case .failure: return .failure(.timedOut)
            }
        case .put(let item, let queue):
            switch await queue.taskPut(item, wait) {
            case .success: return .success(SelectDecision(index: 0, result: .success(nil)))
            case .failure(.shutDown): return .success(SelectDecision(index: 0, result: .failure(.shutDown)))
            case .failure(.cancelled): return .failure(.cancelled)
            case .failure: return .failure(.timedOut)
            }
        }
    }

    /// Suspends the task as a select waiter until a queue claims it or it is cancelled.
    ///
    /// The continuation is resumed once both the body (done registering) and the decider (the
    /// queue that claimed the waiter, or the cancellation handler that gave it up) have arrived,
    /// by the second of them (`SelectWaiter.arrive`), so the task never runs while the body still
    /// touches `listed`; a waiter the body claimed itself is resumed by the body.
    @inlinable static func suspendSelect<Element>(_ operations: [SelectOperation<Element>], start: Int) async
        -> Result<SelectDecision<Element>, QueueError>
    {
        let waiter = SelectWaiter<Element>(parker: nil)
        let listed = SelectListed(count: operations.count)
        let anchor = operations[0].queue.shared.resumeAnchor
        _ = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: SignalContinuation) in
                waiter.continuation = continuation
                register(operations, waiter, start: start, listed: &listed.flags)
                if selfPerformed(waiter, listed.flags) || waiter.arrive() {
                    shim_tsan_release(anchor)
                    continuation.resume(returning: .success(()))
                }
            }
        } onCancel: {
            if waiter.giveUp() && waiter.arrive() {
                shim_tsan_release(operations[0].queue.shared.resumeAnchor)
                waiter.continuation.unsafelyUnwrapped.resume(returning: .success(()))
            }
        }
        for operation in operations { shim_tsan_acquire(operation.queue.shared.resumeAnchor) }
        withdraw(operations, waiter, listed: listed.flags)
        guard let winner = waiter.winner else { return .failure(.cancelled) }
        return .success(SelectDecision(index: winner, result: waiter.outcome.unsafelyUnwrapped))
    }

    /// The winner performed the operation itself while registering: its entry was never
    /// listed for that operation (a queue only claims listed entries).
    @inlinable static func selfPerformed<Element>(_ waiter: SelectWaiter<Element>, _ listed: [Bool]) -> Bool {
        guard let winner = waiter.winner else { return false }
        return !listed[winner]
    }
}

/// Which operation a select performed, and how it went (a failure is `.shutDown`).
@usableFromInline
package struct SelectDecision<Element: Sendable>: Sendable {
    @usableFromInline package let index: Int
    @usableFromInline package let result: Result<Element?, QueueError>

    @inlinable init(index: Int, result: Result<Element?, QueueError>) {
        self.index = index
        self.result = result
    }
}

/// Which operations of a suspended select are listed in their queue's line.
///
/// @unchecked Sendable: written only by the registering body, read by the task after it is
/// resumed, which happens after the body is done (`JanusSelect.suspendSelect`).
@usableFromInline
final class SelectListed: @unchecked Sendable {
    @usableFromInline var flags: [Bool]

    @inlinable init(count: Int) { flags = [Bool](repeating: false, count: count) }
}

extension JanusQueue {
    /// A select's non-blocking get: lock-free while nobody waits, else one locked event.
    /// True when the lock-free path's failure to get (or put) is the answer the lock would give:
    /// the lane holds every item while the queue uses it, and nobody waits and the queue is not
    /// shut down, so an empty (full) lane means the operation cannot happen now.
    @inlinable package func laneSaysNo(toGet get: Bool) -> Bool {
        let stop = get ? QueueFlags.getsLocked | QueueFlags.shutDown : QueueFlags.putsLocked | QueueFlags.shutDown
        return usesLane && shared.flags.pointee.load(ordering: .relaxed) & stop == 0
    }

    @inlinable func selectTryGet() -> QueueStateMachine<Element>.GetOutcome {
        if let item = fastGet() { return .item(item) }
        if laneSaysNo(toGet: true) { return .empty }
        var wakeups = Wakeups<Element>()
        lock.lock()
        let outcome = state.pointee.get(&wakeups)
        unlock()
        wakeups.run(stamping: shared)
        return outcome
    }

    /// A select's non-blocking put.
    @inlinable func selectTryPut(_ item: Element) -> QueueStateMachine<Element>.PutOutcome {
        if fastPut(item) { return .inserted }
        if laneSaysNo(toGet: false) { return .full }
        var wakeups = Wakeups<Element>()
        lock.lock()
        let outcome = state.pointee.put(item, &wakeups)
        unlock()
        wakeups.run(stamping: shared)
        return outcome
    }
}
