/// The events of a select (`Select.swift`, `SelectWaiter.swift`) on one queue's state machine.
///
/// A select waiter is listed in a queue's getter or putter line like any waiter (same
/// first-come-first-served place), but it may be served by another queue at any moment, so a
/// queue must win the waiter's claim before it performs anything for it, and once it has won it
/// must perform at once, in the same event. Hence two rules:
/// - select waiters are listed only in the locked buffer: a listing leaves the lane
///   (`leaveLane(forGood: false)`). There an item or room that the state machine sees under the
///   lock cannot vanish before it is used, which a lane's lock-free gets and puts do not
///   promise. Not for good: once no select (nor any waiter) is listed and the buffer is empty,
///   a bounded lane is reopened at the end of the event (`rejoinLaneIfIdle`), so a stream that
///   a select only now and then waits for runs lock-free again in between. (The select's first, non-blocking try still uses the lane: one lock-free
///   operation, and the select returns at once with it.)
/// - a claim comes after the check that the operation can happen and before the operation;
///   a claim lost to another queue drops the entry (it is dead: its selector is served or gave
///   up, and will withdraw it) and the event goes on with the next waiter.
///
/// Transitions:
/// | event          | active                                                         | shut down             |
/// |----------------|----------------------------------------------------------------|-----------------------|
/// | selectGet      | item there and nobody before us: claim, take; else list        | claim: `.shutDown`    |
/// | selectPut      | room there and nobody before us: claim, put (to the first live getter or in); else list | claim: `.shutDown` |
/// | selectWithdrawn| the entry is removed if still listed (claimed elsewhere, gave up) | same               |
///
/// Invariants kept (see `QueueStateMachine`): dead entries never keep an item or room from a
/// live waiter, since every event that serves a line drops dead entries at its head first
/// (`claimFirstGetter`, `settlePutters`); a line made of dead entries only still means "no item"
/// (getters) or "full" (putters), since an item or room that arrives purges them.
extension QueueStateMachine {
    @usableFromInline
    enum SelectStep {
        /// The operation happened now, performed by the selector itself (it won its own claim).
        case performed
        /// Listed in the line; a later event may claim it.
        case listed
        /// The waiter was decided elsewhere (another queue claimed it, or it gave up): nothing
        /// done here, and registering further is pointless.
        case decided
    }

    /// True when `getters[0]` is a getter this event may serve now: dead select entries at the
    /// head are dropped and a live one is claimed (so the caller must serve it in this event).
    @inlinable mutating func claimFirstGetter() -> Bool {
        while !getters.isEmpty {
            guard case .select(let entry) = getters[0] else { return true }
            if entry.waiter.claim(entry.index) { return true }
            _ = getters.removeFirst()
        }
        return false
    }

    /// A claimed select put goes in: room is sure (checked under this lock before the claim),
    /// and a getter waiting meanwhile is impossible (getters wait only on an empty queue).
    @inlinable mutating func admitSelectPut(
        _ entry: SelectEntry<Element>, _ item: Element, _ wakeups: inout Wakeups<Element>
    ) {
        let inserted = offer(item)
        assert(inserted, "a claimed select put found no room")
        entry.waiter.complete(.success(nil), &wakeups)
        wakeups.servedPutter = true
    }

    /// A select's get on this queue, while registering: performed at once if it can happen now
    /// (and the selector wins its own claim), else listed in the getters' line.
    @inlinable mutating func selectGet(_ entry: SelectEntry<Element>, _ wakeups: inout Wakeups<Element>) -> SelectStep {
        settle(&wakeups)
        leaveLane(forGood: false, &wakeups)
        guard entry.waiter.isWaiting else { return .decided }
        // Getters still listed mean there is no item (or they come first).
        if isShutdown || (getters.isEmpty && !items.isEmpty) {
            guard entry.waiter.claim(entry.index) else { return .decided }
            switch get(&wakeups) {
            case .item(let item): entry.waiter.outcome = .success(item)
            case .shutDown: entry.waiter.outcome = .failure(.shutDown)
            case .empty: preconditionFailure("an item checked under the lock vanished")
            }
            return .performed
        }
        getters.append(.select(entry))
        return .listed
    }

    /// A select's put on this queue, while registering: performed at once if it can happen now,
    /// else listed in the putters' line. Room and no putter before us is enough: a getter may be
    /// waiting only on an empty queue, which has room.
    @inlinable mutating func selectPut(
        _ entry: SelectEntry<Element>, _ item: Element, _ wakeups: inout Wakeups<Element>
    ) -> SelectStep {
        settle(&wakeups)
        leaveLane(forGood: false, &wakeups)
        guard entry.waiter.isWaiting else { return .decided }
        if isShutdown || (putters.isEmpty && hasRoom) {
            guard entry.waiter.claim(entry.index) else { return .decided }
            switch put(item, &wakeups) {
            case .inserted: entry.waiter.outcome = .success(nil)
            case .shutDown: entry.waiter.outcome = .failure(.shutDown)
            case .full: preconditionFailure("room checked under the lock vanished")
            }
            return .performed
        }
        putters.append(.select(entry, item))
        return .listed
    }

    /// The selector leaves this queue's lines once it is decided (served here or elsewhere, or
    /// gave up). Finds nothing when this queue served the entry or dropped it as dead.
    @inlinable mutating func selectWithdrawn(
        _ waiter: SelectWaiter<Element>, index: Int, _ wakeups: inout Wakeups<Element>
    ) {
        if let position = getters.firstIndex(where: {
            if case .select(let entry) = $0 { return entry.matches(waiter, index) }
            return false
        }) {
            _ = getters.remove(at: position)
        }
        if let position = putters.firstIndex(where: {
            if case .select(let entry, _) = $0 { return entry.matches(waiter, index) }
            return false
        }) {
            _ = putters.remove(at: position)
        }
        closeIfQuiet(&wakeups)
    }
}
