import CJanusShims
import Synchronization

/// A queue shared by OS threads and Swift concurrency tasks: Python's janus for Swift.
///
/// One queue, two faces over one state: ``sync`` blocks the calling thread (C pthreads,
/// `Thread`s, Dispatch blocks) and ``async`` suspends the calling task. Every operation works
/// from every thread and task, and waiters of both faces are served first come, first served.
///
/// ```swift
/// let queue = JanusQueue<Int>(maxsize: 100)
/// Thread { for i in 0..<10 { try! queue.sync.put(i) }; queue.shutdown() }.start()
/// for try await item in queue.async { print(item); try queue.async.taskDone() }
/// ```
///
/// The queue keeps one lock and one state machine (`QueueStateMachine`) for every decision that
/// involves a waiter; it decides under the lock and wakes threads and resumes tasks after
/// releasing it. A FIFO queue's puts and gets skip the lock while nobody waits
/// (`FastPath.swift`).
public final class JanusQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `state` is read and written only with `lock` held (every access is
    // inside lock()/unlock() in this file and its extensions), `lock` itself is a pthread mutex
    // made for cross-thread use, `lane` and `shared` are lock-free structures whose every word
    // is an atomic or is handed between threads by one (BoundedLane, UnboundedLane,
    // SharedState), and the remaining stored properties are immutable.
    @usableFromInline let lock: QueueLock
    @usableFromInline let state: UnsafeMutablePointer<QueueStateMachine<Element>>
    /// FIFO queues up to `Lane.boundedLimit`: the items, which the lock-free paths move while
    /// nobody waits (`FastPath.swift`). Nil for the others, whose items the state machine keeps.
    @usableFromInline let lane: Lane<Element>?
    /// What the lock-free paths read and count outside the lock.
    @usableFromInline let shared: SharedState
    /// Ids for waiting tasks, so that cancellation can find its own waiter.
    @usableFromInline let nextTaskID = Atomic<UInt64>(1)
    /// Called for every item an immediate shutdown discards, with no lock held.
    @usableFromInline package let onDiscard: (@Sendable (Element) -> Void)?
    /// The process generation the queue was made in (bumped in every forked child, fork.c).
    @usableFromInline let forkGeneration: UInt

    /// False in a child forked after the queue was made: the queue is the parent's. Its lock
    /// may be held by a thread that did not come along and its waiters are not in this
    /// process, so the child must not use it (the C library answers `JANUS_EFORK`).
    @inlinable package var madeInThisProcess: Bool { forkGeneration == shim_fork_generation() }

    /// Creates an empty queue.
    /// - Parameters:
    ///   - ordering: `.fifo` (default), `.lifo`, or `.priority` (stable: equal items keep
    ///     insertion order).
    ///   - maxsize: the most items the queue holds; `<= 0` means unbounded. A limit, not a
    ///     preallocation: storage grows with the items actually queued.
    public convenience init(_ ordering: QueueOrdering<Element> = .fifo, maxsize: Int = 0) {
        self.init(ordering, maxsize: maxsize, onDiscard: nil)
    }

    /// Creates a queue that hands every item discarded by an immediate shutdown (or left when
    /// the queue is deinitialized) to `onDiscard`, called on the discarding thread with no lock
    /// held. The C library uses it to call the user's `destroy`.
    @inlinable package init(
        _ ordering: QueueOrdering<Element>, maxsize: Int, onDiscard: (@Sendable (Element) -> Void)?
    ) {
        lock = QueueLock()
        shared = SharedState(lockedPuts: lock.companion)
        lane = ordering.kind == .fifo ? Lane.make(maxsize: maxsize) : nil
        state = .allocate(capacity: 1)
        state.initialize(
            to: QueueStateMachine(ordering: ordering, maxsize: maxsize, lane: lane, shared: shared))
        shared.maxsize.pointee.store(maxsize, ordering: .relaxed)
        self.onDiscard = onDiscard
        forkGeneration = shim_fork_generation()
    }

    deinit {
        // No waiter can be left: each one keeps the queue alive while it waits. The readiness
        // descriptors close only now, when no signal for them can still be on its way.
        if state.pointee.readableFD >= 0 { shim_close(state.pointee.readableFD) }
        if state.pointee.writableFD >= 0 { shim_close(state.pointee.writableFD) }
        let left = state.pointee.release()
        state.deinitialize(count: 1)
        state.deallocate()
        shared.deallocate()
        lock.destroy()
        if let onDiscard { for item in left { onDiscard(item) } }
    }

    /// The blocking face, for threads (janus `sync_q`). Do not use it from async code.
    @inlinable public var sync: SyncFace<Element> { SyncFace(queue: self) }

    /// The async face, for tasks (janus `async_q`). Also an `AsyncSequence` of the items.
    @inlinable public var async: AsyncFace<Element> { AsyncFace(queue: self) }

    // MARK: Snapshots

    /// The number of queued items (janus `qsize`). A snapshot: it may change at once.
    @inlinable public var count: Int {
        if let lane, shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.offLane == 0 { return lane.count }
        return withState { $0.count }
    }
    /// True when no item is queued.
    @inlinable public var isEmpty: Bool { count == 0 }
    /// True when `0 < maxsize <= count`.
    @inlinable public var isFull: Bool {
        let limit = maxsize
        return limit > 0 && count >= limit
    }
    /// The most items the queue holds; 0 means unbounded (culsans: changeable while in use).
    ///
    /// Setting it is thread safe and takes effect at once: a larger limit (or 0) admits waiting
    /// putters, first come first served; a smaller one keeps the items there and makes puts
    /// wait until the queue is below it; a negative one means unbounded. A FIFO queue whose
    /// limit is changed leaves its lock-free path for good (LIFO-like speed after that).
    @inlinable public var maxsize: Int {
        get { Swift.max(0, requestedMaxsize) }
        set {
            var wakeups = Wakeups<Element>()
            lock.lock()
            state.pointee.setMaxsize(newValue, &wakeups)
            shared.maxsize.pointee.store(newValue, ordering: .relaxed)
            unlock()
            wakeups.run(stamping: shared)
        }
    }

    /// The limit as last given (init or `maxsize`), as given: the C library reports a `size_t`
    /// limit above `Int.max` (which arrives here negative, and works as unbounded) back unchanged.
    @inlinable package var requestedMaxsize: Int { shared.maxsize.pointee.load(ordering: .relaxed) }
    /// Items put and not yet marked done with `taskDone`.
    @inlinable public var unfinishedTasks: Int { shared.unfinishedTasks(lane) }
    /// True once `shutdown` or `close` has been called.
    @inlinable public var isShutdown: Bool {
        shared.flags.pointee.load(ordering: .acquiring) & QueueFlags.shutDown != 0
    }
    /// Shut down and no caller still inside a waiting call (janus `closed`).
    @inlinable public var isClosed: Bool { withState { $0.isClosed } }

    /// How many callers wait in each list right now. For tests (a "did suspend" gate) and
    /// diagnostics; like every snapshot it may change at once.
    @inlinable package var waiting: WaitingCounts { withState { $0.waiting } }

    /// How many callers wait in `get` right now (listed; a caller still spinning before it
    /// lists itself is not counted). A snapshot, for metrics.
    @inlinable public var waitingGetters: Int { withState { $0.getters.count } }
    /// How many callers wait in `put` right now. A snapshot, for metrics.
    @inlinable public var waitingPutters: Int { withState { $0.putters.count } }

    /// The slots allocated for items right now (lane, ring or heap), for the tests of SPEC §4.5.
    @inlinable package var storageSlots: Int {
        withState { $0.items.storageSlots } + (lane?.storageSlots ?? 0)
    }

    // MARK: Shutdown

    /// The owner let go of the queue for good (C: `janus_queue_free`): an immediate shutdown, and
    /// since nobody can call `taskDone` any more, joins still waiting end with `.shutDown`.
    @inlinable package func abandon() {
        var wakeups = Wakeups<Element>()
        lock.lock()
        let discarded = state.pointee.abandon(&wakeups)
        unlock()
        wakeups.run(stamping: shared)
        if let onDiscard { for item in discarded { onDiscard(item) } }
    }

    /// Shuts the queue down, waking every waiter on both faces (SPEC §3, as CPython 3.13).
    ///
    /// Afterwards puts fail with `.shutDown`; gets return the remaining items, then fail with
    /// `.shutDown`. With `immediate`, the remaining items are discarded at once (and
    /// `unfinishedTasks` reduced by their number) so gets fail at once. Idempotent in any order
    /// of the two modes. Callable from any thread or task; never waits.
    @inlinable public func shutdown(immediate: Bool = false) {
        var wakeups = Wakeups<Element>()
        lock.lock()
        let discarded = state.pointee.shutdown(immediate: immediate, &wakeups)
        unlock()
        wakeups.run(stamping: shared)
        if let onDiscard { for item in discarded { onDiscard(item) } }
    }

    /// `shutdown(immediate: true)`.
    @inlinable public func close() { shutdown(immediate: true) }

    /// Unique id of a waiting task.
    @inlinable func makeTaskID() -> UInt64 { nextTaskID.wrappingAdd(1, ordering: .relaxed).oldValue }

    @inline(__always)
    @inlinable func withState<R>(_ body: (inout QueueStateMachine<Element>) -> R) -> R {
        lock.lock()
        defer { unlock() }
        return body(&state.pointee)
    }

    /// Releases the lock after publishing what the lock-free paths must know (every unlock in the
    /// queue goes through here), then signals the readiness descriptors the event asked for.
    @inline(__always)
    @inlinable func unlock() {
        // The end of every event: the one place where a queue that left its lane for a select
        // finds out it may use it again, before the flags say so.
        state.pointee.rejoinLaneIfIdle()
        state.pointee.publishFlags()
        guard state.pointee.pendingSignals != 0 else {
            lock.unlock()
            return
        }
        let (readable, writable) = state.pointee.takeSignals()
        lock.unlock()
        if readable >= 0 { _ = shim_eventfd_signal(readable) }
        if writable >= 0 { _ = shim_eventfd_signal(writable) }
    }
}
