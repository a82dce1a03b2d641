import Synchronization

/// The state of a queue and every decision that involves a waiter, shared by both faces.
///
/// Each event is a `mutating func` called with the queue lock held; its effects on waiters are
/// appended to a `Wakeups` that the caller runs after unlocking. No clocks, no resumes, no
/// waiting of its own.
///
/// Items live in one of two places. LIFO, priority and FIFO queues above `Lane.boundedLimit`
/// keep them in `items`, touched only here, under the lock. Other FIFO queues keep them in a
/// lock-free `lane` that puts and gets also use without the lock while nobody waits
/// (`FastPath.swift`); the machine then sees the lane change between two events, and every
/// event starts by settling what changed (`settle`): items that reached the lane while getters
/// wait go to those getters, room that appeared while putters wait goes to those putters, a
/// count of unfinished tasks that reached zero releases the joiners. What the lock-free paths
/// need to know is published in `SharedState.flags` (`publishFlags`, before every unlock).
///
/// Invariants (between events; the lock-free paths may break the first two for the few
/// instructions before they come in to settle, see `FastPath.swift`):
/// - getters wait only while there are no items: a put hands its item straight to the first
///   getter, so a waiting getter is never passed over;
/// - putters wait only while the queue is full: a get admits the first putter's item at once;
/// - after shutdown no getter or putter waits (all were woken with `.shutDown`);
/// - a list is non-empty exactly when its bit is set in the published flags.
///
/// Transitions:
/// | event            | active                                        | shut down                  |
/// |------------------|-----------------------------------------------|----------------------------|
/// | settle           | lane items to waiting getters, room to waiting putters, joiners at 0 | getters only |
/// | put              | to first getter, else insert, else full/wait  | `.shutDown`                |
/// | get              | take (and admit first putter), else empty/wait| take remaining, else `.shutDown` |
/// | put/getSuspended | enqueue, publish the flag, settle (the look again of the handshake) | —  |
/// | join             | done at 0, else enqueue, publish, settle      | same                       |
/// | shutdown         | close the lane; wake all getters/putters with `.shutDown`; immediate: discard items | idempotent |
/// | waitClosed       | `.misuse`                                     | done when closed, else wait|
/// | cancel / timeout | the waiter is removed if still listed; else it was served first | same  |
///
/// `taskDone` is not an event here: it counts in `SharedState.done` without the lock and comes
/// in only when a join may have been released (`FastPath.swift`).
/// A snapshot of the waiter lists (see ``JanusQueue/waiting``).
@usableFromInline
package struct WaitingCounts: Equatable, Sendable {
    @usableFromInline package var getters: Int
    @usableFromInline package var putters: Int
    @usableFromInline package var joiners: Int
    @usableFromInline package var closers: Int
    @usableFromInline package var peekers: Int

    @inlinable package init(getters: Int = 0, putters: Int = 0, joiners: Int = 0, closers: Int = 0, peekers: Int = 0) {
        self.getters = getters
        self.putters = putters
        self.joiners = joiners
        self.closers = closers
        self.peekers = peekers
    }
}

@usableFromInline
struct QueueStateMachine<Element> {
    /// The locked storage (see the type's comment); empty and unused when there is a lane.
    @usableFromInline var items: ItemBuffer<Element>
    @usableFromInline let lane: Lane<Element>?
    /// False once the queue has left its lane for the locked buffer (`leaveLane`): the lane is
    /// then closed and empty, and the items live in `items` like a LIFO queue's.
    @usableFromInline var laneActive: Bool
    /// The lane was left for a peek or a new `maxsize` (`leaveLane(forGood:)`): it stays left.
    /// A queue that left it only because a select waiter had to be listed rejoins it once idle
    /// (`rejoinLaneIfIdle`).
    @usableFromInline var laneLeftForGood = false
    /// How many times the queue rejoined its lane: for tests (an event count, under the lock).
    @usableFromInline var laneRejoins = 0
    @usableFromInline let shared: SharedState
    /// 0 means unbounded. Changed only by `setMaxsize`.
    @usableFromInline var maxsize: Int
    @usableFromInline var isShutdown = false
    /// The flags as last stored in `shared.flags`.
    @usableFromInline var published = 0
    @usableFromInline var getters = Ring<GetWaiter<Element>>()
    @usableFromInline var putters = Ring<PutWaiter<Element>>()
    @usableFromInline var joiners = Ring<SignalWaiter>()
    @usableFromInline var closers = Ring<SignalWaiter>()
    /// Waiting peeks: woken (to look again) once an item is there or the queue is shut down.
    @usableFromInline var peekers = Ring<SignalWaiter>()
    /// The readiness descriptors (`Readiness.swift`), -1 until asked for, and whether each is
    /// quiet and waiting for the next item (readable) or the next room (writable).
    @usableFromInline var readableFD: Int32 = -1
    @usableFromInline var writableFD: Int32 = -1
    @usableFromInline var readableArmed = false
    @usableFromInline var writableArmed = false
    /// Descriptors to signal after unlocking (`Readiness.signal...` bits), taken by the unlock.
    @usableFromInline var pendingSignals = 0

    @inlinable init(ordering: QueueOrdering<Element>, maxsize: Int, lane: Lane<Element>?, shared: SharedState) {
        items = ItemBuffer(ordering)
        self.maxsize = Swift.max(0, maxsize)
        self.lane = lane
        laneActive = lane != nil
        self.shared = shared
    }

    /// The lane while items live there; nil for the locked buffer.
    @inlinable var activeLane: Lane<Element>? { laneActive ? lane : nil }

    @inlinable var count: Int { activeLane?.count ?? items.count }
    /// There is room for one more item.
    @inlinable var hasRoom: Bool { maxsize == 0 || count < maxsize }
    @inlinable var isFull: Bool { maxsize > 0 && count >= maxsize }
    /// Shut down, and no caller still inside a waiting call (SPEC §2 `closed`).
    @inlinable var isClosed: Bool {
        isShutdown && getters.isEmpty && putters.isEmpty && joiners.isEmpty && peekers.isEmpty
    }

    /// How many callers wait in each list: a hook for tests that must know a waiter is parked
    /// or suspended before they act, instead of sleeping.
    @inlinable var waiting: WaitingCounts {
        WaitingCounts(
            getters: getters.count, putters: putters.count, joiners: joiners.count, closers: closers.count,
            peekers: peekers.count)
    }

    @inlinable var totalPuts: Int { shared.totalPuts(lane) }
    @inlinable var unfinishedTasks: Int { shared.unfinishedTasks(lane) }

    /// Frees all storage; only the queue's deinit calls this. Returns the items still queued.
    @inlinable mutating func release() -> [Element] {
        var left = items.removeAll()
        if let lane {
            left += lane.drain()
            lane.deallocate()
        }
        items.release()
        getters.release()
        putters.release()
        joiners.release()
        closers.release()
        peekers.release()
        return left
    }

    /// Stores what the lock-free paths must know, if it changed. Called before every unlock, and
    /// inside the `...Suspended` events between enqueueing and looking again (the handshake of
    /// `FastPath.swift`). A sequentially consistent store: it pairs with the lanes'
    /// sequentially consistent index operations and loads.
    @inlinable mutating func publishFlags() {
        var flags = 0
        if !getters.isEmpty { flags |= QueueFlags.getters }
        if !putters.isEmpty { flags |= QueueFlags.putters }
        if !joiners.isEmpty { flags |= QueueFlags.joiners }
        if isShutdown { flags |= QueueFlags.shutDown }
        if readableArmed || !peekers.isEmpty { flags |= QueueFlags.readable }
        if writableArmed { flags |= QueueFlags.writable }
        if !laneActive && lane != nil { flags |= QueueFlags.offLane }
        if flags != published {
            shared.flags.pointee.store(flags, ordering: .sequentiallyConsistent)
            published = flags
        }
    }

    // MARK: storage

    /// The next item in the queue's ordering, or nil when there is none.
    @inlinable mutating func take() -> Element? {
        if let lane = activeLane { return lane.pop() }
        return items.isEmpty ? nil : items.remove()
    }

    /// Inserts `item` if there is room. Only while not shut down (the lane is closed then).
    @inlinable mutating func offer(_ item: Element) -> Bool {
        if let lane = activeLane { return lane.push(item) == .pushed }
        if isFull { return false }
        items.insert(item)
        countLockedPut()
        return true
    }

    /// One more item went in without the lane. Only lock holders write `lockedPuts`, so a load
    /// and a store do, without a locked read-modify-write; readers outside the lock see a value
    /// that is at most one event old.
    @inline(__always)
    @inlinable func countLockedPut() {
        let puts = shared.lockedPuts.pointee.load(ordering: .relaxed)
        shared.lockedPuts.pointee.store(puts &+ 1, ordering: .releasing)
    }

    // MARK: settle

    /// Brings the waiter lists up to date with what the lock-free paths did since the last event.
    /// The locked buffer changes only in events, which keep the lists settled themselves: there
    /// only a lock-free `taskDone` (the joiners) can have changed anything behind the lock.
    @inlinable mutating func settle(_ wakeups: inout Wakeups<Element>) {
        if laneActive { settleLists(&wakeups) }
        settleJoiners(&wakeups)
        settleWatchers(&wakeups)
    }

    /// Serving getters makes room and admitting putters makes items, so the two alternate until
    /// neither can go on (a putter admitted while a getter registers must reach that getter).
    @inlinable mutating func settleLists(_ wakeups: inout Wakeups<Element>) {
        while true {
            settleGetters(&wakeups)
            if isShutdown || putters.isEmpty || settlePutters(&wakeups) == 0 || getters.isEmpty { break }
        }
    }

    /// Items that are there go to the waiting getters, first come first served.
    @inlinable mutating func settleGetters(_ wakeups: inout Wakeups<Element>) {
        // A select getter is claimed before its item is taken, so off the lane (the only place
        // select waiters are listed) the item must be sure first (`QueueStateMachine+Select`).
        while !getters.isEmpty && (laneActive || !items.isEmpty), claimFirstGetter(), let item = take() {
            serve(getters.removeFirst(), .success(item), &wakeups)
            wakeups.servedGetter = true
        }
    }

    /// Room that is there goes to the waiting putters, first come first served. Returns how many
    /// were admitted.
    @discardableResult
    @inlinable mutating func settlePutters(_ wakeups: inout Wakeups<Element>) -> Int {
        var admitted = 0
        while !putters.isEmpty {
            switch putters[0] {
            case .task(_, let continuation, let item):
                guard offer(item) else { return admitted }
                _ = putters.removeFirst()
                wakeups.append(.resume(continuation, .success(())))
                wakeups.servedPutter = true
            case .thread(let slot):
                guard offer(slot.value.pointee.item.unsafelyUnwrapped) else { return admitted }
                _ = putters.removeFirst()
                slot.value.pointee.item = nil
                slot.value.pointee.outcome = .success(())
                wakeups.append(.unpark(slot.parker))
                wakeups.servedPutter = true
            case .select(let entry, let item):
                guard hasRoom else { return admitted }
                _ = putters.removeFirst()
                guard entry.waiter.claim(entry.index) else { continue }  // served elsewhere: dropped
                admitSelectPut(entry, item, &wakeups)
            }
            admitted += 1
        }
        return admitted
    }

    @inlinable mutating func settleJoiners(_ wakeups: inout Wakeups<Element>) {
        if !joiners.isEmpty && unfinishedTasks == 0 { releaseJoiners(&wakeups) }
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
        settle(&wakeups)
        if isShutdown { return .shutDown }
        if claimFirstGetter() {
            // Getters wait only on an empty queue (settle just made sure): straight to the first.
            countLockedPut()
            serve(getters.removeFirst(), .success(item), &wakeups)
            wakeups.servedGetter = true
            return .inserted
        }
        if !putters.isEmpty { return .full }  // room goes to those who wait first
        guard offer(item) else { return .full }
        settleWatchers(&wakeups)
        return .inserted
    }

    /// The put found the queue full and the caller waits for room, first come first served. The
    /// waiter is listed first and the flag published, then room is looked for again: a get that
    /// freed a slot without seeing the flag freed it before this look (see `FastPath.swift`).
    /// The waiter may so be admitted at once, through `wakeups` like any other.
    @inlinable mutating func putSuspended(_ waiter: PutWaiter<Element>, _ wakeups: inout Wakeups<Element>) {
        assert(!isShutdown)
        putters.append(waiter)
        publishFlags()
        settle(&wakeups)
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
        settle(&wakeups)
        // Getters still waiting after settling mean there is no item; they come first anyway.
        if getters.isEmpty, let item = take() {
            if !isShutdown && !putters.isEmpty { settleLists(&wakeups) }
            settleWatchers(&wakeups)
            return .item(item)
        }
        return isShutdown ? .shutDown : .empty
    }

    /// Takes up to `buffer.count` items without waiting, initializing the front of `buffer`.
    /// Returns how many were taken (0: see `isShutdown` for why).
    @inlinable mutating func getMany(
        into buffer: UnsafeMutableBufferPointer<Element>, _ wakeups: inout Wakeups<Element>
    )
        -> Int
    {
        settle(&wakeups)
        guard getters.isEmpty else { return 0 }
        var taken = 0
        while taken < buffer.count, let item = take() {
            (buffer.baseAddress! + taken).initialize(to: item)
            taken += 1
            if !isShutdown && !putters.isEmpty { settleLists(&wakeups) }
        }
        if taken > 0 { settleWatchers(&wakeups) }
        return taken
    }

    /// The get found the queue empty and the caller waits for an item: listed, flag published,
    /// then items looked for again (the handshake of `FastPath.swift`); it may so be served at
    /// once, through `wakeups`.
    @inlinable mutating func getSuspended(_ waiter: GetWaiter<Element>, _ wakeups: inout Wakeups<Element>) {
        assert(!isShutdown)
        getters.append(waiter)
        publishFlags()
        settle(&wakeups)
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

    // MARK: join

    @inlinable mutating func joinSuspended(_ waiter: SignalWaiter, _ wakeups: inout Wakeups<Element>) {
        joiners.append(waiter)
        publishFlags()
        settleJoiners(&wakeups)
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
        // From here no put reserves a slot; puts already in flight finish, and `take` waits for
        // them, so an item that a put has reserved is served, discarded or left for gets below,
        // never stranded behind a getter woken with `.shutDown`.
        activeLane?.close()
        var discarded: [Element] = []
        if immediate {
            discarded = items.removeAll()
            if let lane = activeLane { discarded += lane.drain() }
            if !discarded.isEmpty { discard(discarded.count) }
        } else {
            settleGetters(&wakeups)
        }
        while claimFirstGetter() { serve(getters.removeFirst(), .failure(.shutDown), &wakeups) }
        while !putters.isEmpty { refuse(putters.removeFirst(), .shutDown, &wakeups) }
        settleJoiners(&wakeups)
        settleWatchers(&wakeups)
        closeIfQuiet(&wakeups)
        return discarded
    }

    /// `count` items were discarded: they count as done, never beyond what was put (SPEC §3:
    /// `unfinishedTasks` never below 0).
    @inlinable func discard(_ count: Int) {
        var done = shared.done.pointee.load(ordering: .relaxed)
        while true {
            let capped = Swift.min(done &+ count, Swift.max(done, totalPuts))
            let (exchanged, current) = shared.done.pointee.compareExchange(
                expected: done, desired: capped, ordering: .sequentiallyConsistent)
            if exchanged { return }
            done = current
        }
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

    @inlinable func serve(
        _ getter: GetWaiter<Element>, _ result: Result<Element, QueueError>, _ wakeups: inout Wakeups<Element>
    ) {
        switch getter {
        case .task(_, let continuation):
            wakeups.append(.resumeGetter(continuation, result))
        case .thread(let slot):
            slot.value.pointee = result
            wakeups.append(.unpark(slot.parker))
        case .select(let entry):
            entry.waiter.complete(result.map { Optional($0) }, &wakeups)  // claimed by `claimFirstGetter`
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
        case .select(let entry, _):
            // The item stays the selector's; a selector served elsewhere is simply dropped.
            if entry.waiter.claim(entry.index) { entry.waiter.complete(.failure(error), &wakeups) }
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
