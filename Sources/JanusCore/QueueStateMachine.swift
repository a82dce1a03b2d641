/// The state of a queue and every decision about it, shared by both faces.
///
/// Pure: no locks, no resumes, no clocks. Each event is a `mutating func` called with the
/// queue lock held; its effects on waiters are appended to a `Wakeups` that the caller runs
/// after unlocking.
///
/// States: active or shut down (`isShutdown`), with items and four waiter lists.
/// Invariants (checked in debug builds):
/// - getters wait only while there are no items: a put hands its item straight to the first
///   getter, so a waiting getter is never passed over;
/// - putters wait only while the queue is full: a get admits the first putter's item at once;
/// - after shutdown no getter or putter waits (all were woken with `.shutDown`).
///
/// Transitions:
/// | event            | active                                        | shut down                  |
/// |------------------|-----------------------------------------------|----------------------------|
/// | put              | to first getter, else insert, else full/wait  | `.shutDown`                |
/// | get              | take (and admit first putter), else empty/wait| take remaining, else `.shutDown` |
/// | taskDone         | count - 1; at 0 release joiners               | same                       |
/// | join             | done at 0, else wait                          | same                       |
/// | shutdown         | wake all getters/putters with `.shutDown`; immediate: discard items | idempotent |
/// | waitClosed       | `.misuse`                                     | done when closed, else wait|
/// | cancel / timeout | the waiter is removed if still listed; else it was served first | same  |
/// A snapshot of the waiter lists (see ``JanusQueue/waiting``).
@usableFromInline
package struct WaitingCounts: Equatable, Sendable {
    @usableFromInline package var getters: Int
    @usableFromInline package var putters: Int
    @usableFromInline package var joiners: Int
    @usableFromInline package var closers: Int

    @inlinable package init(getters: Int = 0, putters: Int = 0, joiners: Int = 0, closers: Int = 0) {
        self.getters = getters
        self.putters = putters
        self.joiners = joiners
        self.closers = closers
    }
}

@usableFromInline
struct QueueStateMachine<Element> {
    @usableFromInline var items: ItemBuffer<Element>
    /// 0 means unbounded.
    @usableFromInline let maxsize: Int
    @usableFromInline var unfinishedTasks = 0
    @usableFromInline var isShutdown = false
    @usableFromInline var getters = Ring<GetWaiter<Element>>()
    @usableFromInline var putters = Ring<PutWaiter<Element>>()
    @usableFromInline var joiners = Ring<SignalWaiter>()
    @usableFromInline var closers = Ring<SignalWaiter>()

    @inlinable init(ordering: QueueOrdering<Element>, maxsize: Int) {
        items = ItemBuffer(ordering)
        self.maxsize = Swift.max(0, maxsize)
    }

    @inlinable var count: Int { items.count }
    @inlinable var isFull: Bool { maxsize > 0 && items.count >= maxsize }
    /// Shut down, and no caller still inside a waiting call (SPEC §2 `closed`).
    @inlinable var isClosed: Bool { isShutdown && getters.isEmpty && putters.isEmpty && joiners.isEmpty }

    /// True when a new waiter would be alone in its list (see `ThreadParker.park`).
    @inlinable var hasNoGetters: Bool { getters.isEmpty }
    @inlinable var hasNoPutters: Bool { putters.isEmpty }

    /// How many callers wait in each list: a hook for tests that must know a waiter is parked
    /// or suspended before they act, instead of sleeping.
    @inlinable var waiting: WaitingCounts {
        WaitingCounts(getters: getters.count, putters: putters.count, joiners: joiners.count, closers: closers.count)
    }

    /// Frees all storage; only the queue's deinit calls this. Returns the items still queued.
    @inlinable mutating func release() -> [Element] {
        let left = items.removeAll()
        items.release()
        getters.release()
        putters.release()
        joiners.release()
        closers.release()
        return left
    }

    // MARK: put

    @usableFromInline
    enum PutOutcome {
        case inserted
        case full
        case shutDown
    }

    /// A put that does not wait.
    @inlinable mutating func put(_ item: Element, _ wakeups: inout Wakeups<Element>) -> PutOutcome {
        if isShutdown { return .shutDown }
        if !getters.isEmpty {
            assert(items.isEmpty, "a getter waited while items were queued")
            unfinishedTasks += 1
            serve(getters.removeFirst(), .success(item), &wakeups)
            return .inserted
        }
        if isFull { return .full }
        items.insert(item)
        unfinishedTasks += 1
        return .inserted
    }

    /// The put found the queue full and the caller waits for room, first come first served.
    @inlinable mutating func putSuspended(_ waiter: PutWaiter<Element>) {
        assert(isFull && !isShutdown)
        putters.append(waiter)
    }

    /// A waiting task put was cancelled or timed out. Returns nil when the putter had already
    /// been admitted or refused (whoever removes a waiter first owns it).
    @inlinable mutating func putWithdrawn(id: UInt64, _ wakeups: inout Wakeups<Element>)
        -> (SignalContinuation, Element)?
    {
        guard
            let index = putters.firstIndex(where: {
                if case .task(id, _, _) = $0 { return true }
                return false
            }),
            case .task(_, let continuation, let item) = putters.remove(at: index)
        else { return nil }
        closeIfQuiet(&wakeups)
        return (continuation, item)
    }

    /// A blocked putter thread's deadline passed. False when it had already been served.
    @inlinable mutating func putWithdrawn(parker: ThreadParker, _ wakeups: inout Wakeups<Element>) -> Bool {
        guard
            let index = putters.firstIndex(where: {
                if case .thread(let slot) = $0 { return slot.parker == parker }
                return false
            })
        else { return false }
        _ = putters.remove(at: index)
        closeIfQuiet(&wakeups)
        return true
    }

    // MARK: get

    @usableFromInline
    enum GetOutcome {
        case item(Element)
        case empty
        case shutDown
    }

    /// A get that does not wait.
    @inlinable mutating func get(_ wakeups: inout Wakeups<Element>) -> GetOutcome {
        if items.isEmpty { return isShutdown ? .shutDown : .empty }
        let item = items.remove()
        admitFirstPutter(&wakeups)
        return .item(item)
    }

    /// Takes up to `buffer.count` items without waiting, initializing the front of `buffer`.
    /// Returns how many were taken (0: see `isShutdown` for why).
    @inlinable mutating func getMany(
        into buffer: UnsafeMutableBufferPointer<Element>, _ wakeups: inout Wakeups<Element>
    )
        -> Int
    {
        var taken = 0
        while taken < buffer.count && !items.isEmpty {
            (buffer.baseAddress! + taken).initialize(to: items.remove())
            taken += 1
            admitFirstPutter(&wakeups)
        }
        return taken
    }

    /// The get found the queue empty and the caller waits for an item.
    @inlinable mutating func getSuspended(_ waiter: GetWaiter<Element>) {
        assert(items.isEmpty && !isShutdown)
        getters.append(waiter)
    }

    /// A waiting task get was cancelled or timed out. Nil when an item (or shutdown) reached it
    /// first: then the task gets that outcome and nothing is lost.
    @inlinable mutating func getWithdrawn(id: UInt64, _ wakeups: inout Wakeups<Element>) -> GetContinuation<Element>? {
        guard
            let index = getters.firstIndex(where: {
                if case .task(id, _) = $0 { return true }
                return false
            }),
            case .task(_, let continuation) = getters.remove(at: index)
        else { return nil }
        closeIfQuiet(&wakeups)
        return continuation
    }

    /// A blocked getter thread's deadline passed. False when it had already been served.
    @inlinable mutating func getWithdrawn(parker: ThreadParker, _ wakeups: inout Wakeups<Element>) -> Bool {
        guard
            let index = getters.firstIndex(where: {
                if case .thread(let slot) = $0 { return slot.parker == parker }
                return false
            })
        else { return false }
        _ = getters.remove(at: index)
        closeIfQuiet(&wakeups)
        return true
    }

    // MARK: task_done, join

    @inlinable mutating func taskDone(_ wakeups: inout Wakeups<Element>) -> Result<Void, QueueError> {
        guard unfinishedTasks > 0 else { return .failure(.invalidArgument) }
        unfinishedTasks -= 1
        if unfinishedTasks == 0 { releaseJoiners(&wakeups) }
        return .success(())
    }

    /// `count` task_done calls at once, for items the caller took and processed.
    @inlinable mutating func tasksDone(_ count: Int, _ wakeups: inout Wakeups<Element>) {
        guard count > 0, unfinishedTasks > 0 else { return }
        unfinishedTasks -= Swift.min(count, unfinishedTasks)
        if unfinishedTasks == 0 { releaseJoiners(&wakeups) }
    }

    /// True when there is nothing to wait for.
    @inlinable func joinIsDone() -> Bool { unfinishedTasks == 0 }

    @inlinable mutating func joinSuspended(_ waiter: SignalWaiter) {
        assert(unfinishedTasks > 0)
        joiners.append(waiter)
    }

    @inlinable mutating func joinWithdrawn(id: UInt64, _ wakeups: inout Wakeups<Element>) -> SignalContinuation? {
        let continuation = Self.withdraw(id: id, from: &joiners)
        if continuation != nil { closeIfQuiet(&wakeups) }
        return continuation
    }

    @inlinable mutating func joinWithdrawn(parker: ThreadParker, _ wakeups: inout Wakeups<Element>) -> Bool {
        guard Self.withdraw(parker: parker, from: &joiners) else { return false }
        closeIfQuiet(&wakeups)
        return true
    }

    // MARK: shutdown, waitClosed

    /// Shuts the queue down (SPEC §3). Idempotent; `immediate` after a plain shutdown still
    /// discards what is left. Returns the discarded items, to be destroyed with no lock held.
    @inlinable mutating func shutdown(immediate: Bool, _ wakeups: inout Wakeups<Element>) -> [Element] {
        isShutdown = true
        var discarded: [Element] = []
        if immediate && !items.isEmpty {
            discarded = items.removeAll()
            unfinishedTasks = Swift.max(0, unfinishedTasks - discarded.count)
        }
        while !getters.isEmpty { serve(getters.removeFirst(), .failure(.shutDown), &wakeups) }
        while !putters.isEmpty { refuse(putters.removeFirst(), .shutDown, &wakeups) }
        if unfinishedTasks == 0 { releaseJoiners(&wakeups) }
        closeIfQuiet(&wakeups)
        return discarded
    }

    /// The queue was freed (see `JanusQueue.abandon`): shut down immediately and end the joins.
    @inlinable mutating func abandon(_ wakeups: inout Wakeups<Element>) -> [Element] {
        let discarded = shutdown(immediate: true, &wakeups)
        while !joiners.isEmpty { Self.signal(joiners.removeFirst(), .failure(.shutDown), &wakeups) }
        closeIfQuiet(&wakeups)
        return discarded
    }

    @usableFromInline
    enum WaitClosedOutcome {
        case closed
        case wait
        case misuse
    }

    @inlinable func waitClosed() -> WaitClosedOutcome {
        guard isShutdown else { return .misuse }
        return isClosed ? .closed : .wait
    }

    @inlinable mutating func waitClosedSuspended(_ waiter: SignalWaiter) {
        assert(isShutdown && !isClosed)
        closers.append(waiter)
    }

    @inlinable mutating func waitClosedWithdrawn(id: UInt64) -> SignalContinuation? {
        Self.withdraw(id: id, from: &closers)
    }

    @inlinable mutating func waitClosedWithdrawn(parker: ThreadParker) -> Bool {
        Self.withdraw(parker: parker, from: &closers)
    }

    // MARK: helpers

    @inlinable mutating func admitFirstPutter(_ wakeups: inout Wakeups<Element>) {
        guard !putters.isEmpty else { return }
        switch putters.removeFirst() {
        case .task(_, let continuation, let item):
            items.insert(item)
            wakeups.append(.resume(continuation, .success(())))
        case .thread(let slot):
            items.insert(slot.value.pointee.item.take()!)
            slot.value.pointee.outcome = .success(())
            wakeups.append(.unpark(slot.parker))
        }
        unfinishedTasks += 1
    }

    @inlinable func serve(
        _ getter: GetWaiter<Element>, _ result: Result<Element, QueueError>, _ wakeups: inout Wakeups<Element>
    ) {
        switch getter {
        case .task(_, let continuation):
            wakeups.append(.resumeGetter(continuation, result))
        case .thread(let slot):
            slot.value.pointee = result
            wakeups.append(.unpark(slot.parker))
        }
    }

    @inlinable func refuse(_ putter: PutWaiter<Element>, _ error: QueueError, _ wakeups: inout Wakeups<Element>) {
        switch putter {
        case .task(_, let continuation, let item):
            wakeups.append(.resume(continuation, .failure(error)))
            wakeups.append(.release(item))
        case .thread(let slot):
            // The item stays in the thread's slot: it is still the caller's.
            slot.value.pointee.outcome = .failure(error)
            wakeups.append(.unpark(slot.parker))
        }
    }

    @inlinable mutating func releaseJoiners(_ wakeups: inout Wakeups<Element>) {
        while !joiners.isEmpty { Self.signal(joiners.removeFirst(), .success(()), &wakeups) }
        closeIfQuiet(&wakeups)
    }

    /// Wakes `waitClosed` callers once the queue is shut down and nobody is inside.
    @inlinable mutating func closeIfQuiet(_ wakeups: inout Wakeups<Element>) {
        guard isClosed else { return }
        while !closers.isEmpty { Self.signal(closers.removeFirst(), .success(()), &wakeups) }
    }

    @inlinable static func signal(
        _ waiter: SignalWaiter, _ result: Result<Void, QueueError>,
        _ wakeups: inout Wakeups<Element>
    ) {
        switch waiter {
        case .task(_, let continuation):
            wakeups.append(.resume(continuation, result))
        case .thread(let slot):
            slot.value.pointee = result
            wakeups.append(.unpark(slot.parker))
        }
    }

    @inlinable static func withdraw(id: UInt64, from list: inout Ring<SignalWaiter>) -> SignalContinuation? {
        guard
            let index = list.firstIndex(where: {
                if case .task(id, _) = $0 { return true }
                return false
            }),
            case .task(_, let continuation) = list.remove(at: index)
        else { return nil }
        return continuation
    }

    @inlinable static func withdraw(parker: ThreadParker, from list: inout Ring<SignalWaiter>) -> Bool {
        guard
            let index = list.firstIndex(where: {
                if case .thread(let slot) = $0 { return slot.parker == parker }
                return false
            })
        else { return false }
        _ = list.remove(at: index)
        return true
    }
}
