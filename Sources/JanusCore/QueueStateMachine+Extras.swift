import CJanusShims

/// culsans's extras and the readiness descriptors, as events of the state machine: leaving the
/// lane, peek, clear, a live `maxsize`, and the watchers (descriptors and waiting peeks) that
/// want to know when an item or room is there.
///
/// Transitions (all under the lock, like the rest):
/// | event           | what it does                                                            |
/// |-----------------|-------------------------------------------------------------------------|
/// | leaveLane       | close the lane, move its items (in order) to the locked buffer; for good |
/// |                 | for a peek or a maxsize, for a select until `rejoinLaneIfIdle`           |
/// | rejoinLaneIfIdle| (end of every event) left for selects only, buffer empty, no getter,    |
/// |                 | putter or peek listed, not shut down, bounded: reopen the lane           |
/// | peek            | (leaves the lane first) the next item, left in place; empty / shut down  |
/// | peekSuspended   | list a waiting peek, publish `readable`, settle the watchers             |
/// | clear           | take every item out (to be destroyed), count them done, settle putters   |
/// | setMaxsize      | (leaves the lane first) new limit; settle putters and the watchers       |
/// | descriptor      | make the eventfd once; readable now, or quiet and armed                  |
/// | quietReadable   | a no-wait get found nothing: drain the eventfd, arm it, publish, look    |
/// | quietWritable   | a no-wait put found no room: the same for the writable one               |
/// | settleWatchers  | item there (or shut down): wake the peeks, signal an armed readable fd;  |
/// |                 | room there (or shut down): signal an armed writable fd                   |
///
/// Why a queue leaves its lane for `peek` and `setMaxsize`: a lock-free get that read the flags
/// before a peek began can take the item the peek is looking at, with no bound on when (it may
/// be preempted in between), and a ring cannot grow. The locked buffer has neither problem.
extension QueueStateMachine {
    // MARK: leaving the lane

    /// Moves the items from the lane to the locked buffer and keeps them there: for good for a
    /// peek or a new `maxsize` (`forGood`), else (a select waiter is about to be listed) until
    /// `rejoinLaneIfIdle` finds the queue idle. Puts that reserved a slot before the lane closed
    /// finish first (`drain` waits for them); a lock-free get still running either claimed the
    /// head before the drain (an earlier item) or finds the lane empty, since the drain claims
    /// every item at once (`FastPath.swift`).
    ///
    /// The lists are settled again after the drain: a lock-free get may have taken an item
    /// (or a put added one) after the caller's `settle` and before the close, and be on its way
    /// to come in for a putter (getter) listed meanwhile — the few instructions of
    /// `FastPath.swift` in which the invariants may not hold. On the lane the next event's
    /// `settle` would repair that; off it, `settle` looks at the lists no more (the locked
    /// buffer changes only in events), so the putter would wait on a queue with room for good.
    @inlinable mutating func leaveLane(forGood: Bool, _ wakeups: inout Wakeups<Element>) {
        // Recorded even when the lane is left already (for a select): a peek or a new maxsize
        // after a select must not be undone by the rejoin.
        if forGood { laneLeftForGood = true }
        guard laneActive, let lane else { return }
        lane.close()
        for item in lane.drain() { items.insert(item) }
        laneActive = false
        if !isShutdown { settleLists(&wakeups) }
        publishFlags()
    }

    /// Called at the end of every event (`JanusQueue.unlock`, before the flags are published):
    /// a queue that left its lane only for selects takes it up again once that is safe. The
    /// branch that every event of a queue on its lane (or off it for good) pays is the first.
    @inline(__always)
    @inlinable mutating func rejoinLaneIfIdle() {
        guard !laneActive, !laneLeftForGood else { return }
        rejoinLaneIfIdleSlow()
    }

    /// The rejoin condition, and why each part is needed:
    /// - not for good (a peek's item must not vanish under a lock-free get, a ring cannot
    ///   follow a new maxsize), and a lane that can be reopened (`Lane.reopen`: bounded only);
    /// - not shut down: the lane was closed for the shutdown too, and stays closed;
    /// - the locked buffer is empty: every item queued is behind the items there, and the state
    ///   machine must never believe the buffer holds items while puts go into the lane (FIFO,
    ///   and `count` / the bound, which look at one place only);
    /// - no getter and no putter listed, of any kind: select waiters may only be listed off the
    ///   lane (`QueueStateMachine+Select.swift`), and dead select entries still count until
    ///   withdrawn; a plain waiter listed off the lane was settled against the locked buffer,
    ///   and the next event that empties the list rejoins;
    /// - no waiting peek: a peek leaves for good anyway, so one is never listed here, but the
    ///   check keeps the condition independent of that.
    /// Joiners and closers may wait: a join looks at counts (`done`, `lane.pushCount +
    /// lockedPuts`), which the lane keeps as well as the buffer, with the handshake of
    /// `FastPath.swift`; closers wait only after shutdown. Armed readiness descriptors are fine
    /// too: their handshake is with the lane's puts and gets, and the lane is empty, as the
    /// buffer was.
    @inlinable mutating func rejoinLaneIfIdleSlow() {
        guard !isShutdown, items.isEmpty, getters.isEmpty, putters.isEmpty, peekers.isEmpty,
            let lane, lane.reopen()
        else { return }
        laneActive = true
        laneRejoins &+= 1
        // The caller publishes the flags (without `offLane`) right after this: until then the
        // lock-free paths go to the lock, or (with flags read before the leave) use the reopened
        // lane as an ordinary lane, see `BoundedLane.reopen`.
    }

    // MARK: peek

    @usableFromInline
    enum PeekOutcome {
        case item(Element)
        case empty
        case shutDown
    }

    /// The next item, left in place (culsans `peek_nowait`).
    @inlinable mutating func peek(_ wakeups: inout Wakeups<Element>) -> PeekOutcome {
        settle(&wakeups)
        leaveLane(forGood: true, &wakeups)
        if let item = items.peek() { return .item(item) }
        return isShutdown ? .shutDown : .empty
    }

    /// The peek found nothing and waits: listed, flag published, watchers settled (it may so be
    /// woken at once). A woken peek looks again.
    @inlinable mutating func peekSuspended(_ waiter: SignalWaiter, _ wakeups: inout Wakeups<Element>) {
        peekers.append(waiter)
        publishFlags()
        settleWatchers(&wakeups)
    }

    @inlinable mutating func peekWithdrawn(id: UInt64, _ wakeups: inout Wakeups<Element>) -> SignalContinuation? {
        let continuation = Self.withdraw(id: id, from: &peekers)
        if continuation != nil { closeIfQuiet(&wakeups) }
        return continuation
    }

    @inlinable mutating func peekWithdrawn(parker: ThreadParker, _ wakeups: inout Wakeups<Element>) -> Bool {
        guard Self.withdraw(parker: parker, from: &peekers) else { return false }
        closeIfQuiet(&wakeups)
        return true
    }

    // MARK: clear, maxsize

    /// Takes out every item queued now (culsans `clear`), to be destroyed with no lock held;
    /// they count as done (janus issue #645), and the room goes to waiting putters.
    @inlinable mutating func clear(_ wakeups: inout Wakeups<Element>) -> [Element] {
        settle(&wakeups)
        var cleared: [Element] = []
        if let lane = activeLane {
            // As many as are there now: puts that keep coming do not keep the clear going.
            var left = lane.count
            while left > 0, let item = lane.pop() {
                cleared.append(item)
                left -= 1
            }
        } else {
            cleared = items.removeAll()
        }
        if !cleared.isEmpty { discard(cleared.count) }
        if !isShutdown { settleLists(&wakeups) }
        settleJoiners(&wakeups)
        settleWatchers(&wakeups)
        return cleared
    }

    /// A new limit (0: unbounded). Growing admits waiting putters, first come first served;
    /// shrinking keeps the items and makes puts wait until there is room under the new limit.
    @inlinable mutating func setMaxsize(_ newValue: Int, _ wakeups: inout Wakeups<Element>) {
        let limit = Swift.max(0, newValue)
        guard limit != maxsize else { return }
        settle(&wakeups)
        leaveLane(forGood: true, &wakeups)
        maxsize = limit
        if !isShutdown { settleLists(&wakeups) }
        settleWatchers(&wakeups)
    }

    // MARK: watchers

    /// Tells the watchers what became true: an item there (or shutdown) for the waiting peeks
    /// and a quiet readable descriptor, room there (or shutdown) for a quiet writable one. The
    /// descriptors are written after unlocking (`pendingSignals`).
    @inlinable mutating func settleWatchers(_ wakeups: inout Wakeups<Element>) {
        guard readableArmed || writableArmed || !peekers.isEmpty else { return }
        if readableArmed || !peekers.isEmpty, isShutdown || count > 0 {
            while !peekers.isEmpty { Self.signal(peekers.removeFirst(), .success(()), &wakeups) }
            if readableArmed {
                readableArmed = false
                pendingSignals |= Readiness.readable.rawValue
            }
        }
        if writableArmed, isShutdown || hasRoom {
            writableArmed = false
            pendingSignals |= Readiness.writable.rawValue
        }
    }

    /// The descriptor for `what`, made on the first request: readable now if an item is there
    /// (or the queue is shut down), else quiet and armed; the same for writable and room.
    /// An errno when the system has no descriptor to give.
    @inlinable mutating func descriptor(_ what: Readiness, _ wakeups: inout Wakeups<Element>)
        -> Result<Int32, QueueError>
    {
        let existing = what == .readable ? readableFD : writableFD
        if existing >= 0 { return .success(existing) }
        var fd: Int32 = -1
        let error = shim_eventfd(&fd)
        guard error == 0 else { return .failure(.systemError(error)) }
        if what == .readable {
            readableFD = fd
            readableArmed = true
        } else {
            writableFD = fd
            writableArmed = true
        }
        publishFlags()  // armed first, then look: the handshake of FastPath.swift
        settleWatchers(&wakeups)
        return .success(fd)
    }

    /// A get that would not wait found nothing: the readable descriptor goes quiet until the
    /// next item. Drained, armed and published before the look, so a put that misses the flag
    /// put its item before the look, which then signals.
    @inlinable mutating func quietReadable(_ wakeups: inout Wakeups<Element>) {
        guard readableFD >= 0, !readableArmed, !isShutdown else { return }
        _ = shim_eventfd_drain(readableFD)
        readableArmed = true
        publishFlags()
        settleWatchers(&wakeups)
    }

    /// A put that would not wait found no room: the writable descriptor goes quiet until room.
    @inlinable mutating func quietWritable(_ wakeups: inout Wakeups<Element>) {
        guard writableFD >= 0, !writableArmed, !isShutdown else { return }
        _ = shim_eventfd_drain(writableFD)
        writableArmed = true
        publishFlags()
        settleWatchers(&wakeups)
    }

    /// The descriptors to signal once the lock is released, and forgets them.
    @inlinable mutating func takeSignals() -> (readable: Int32, writable: Int32) {
        defer { pendingSignals = 0 }
        return (
            pendingSignals & Readiness.readable.rawValue != 0 ? readableFD : -1,
            pendingSignals & Readiness.writable.rawValue != 0 ? writableFD : -1
        )
    }
}

/// What a readiness descriptor tells an event loop.
public enum Readiness: Int, Sendable {
    /// A get would not wait: an item is there, or the queue is shut down.
    case readable = 1
    /// A put would not wait: there is room, or the queue is shut down.
    case writable = 2
}
