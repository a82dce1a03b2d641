import CJanusShims

/// culsans's extras and the readiness descriptors, as events of the state machine: leaving the
/// lane, peek, clear, a live `maxsize`, and the watchers (descriptors and waiting peeks) that
/// want to know when an item or room is there.
///
/// Transitions (all under the lock, like the rest):
/// | event           | what it does                                                            |
/// |-----------------|-------------------------------------------------------------------------|
/// | leaveLane       | close the lane, move its items (in order) to the locked buffer, for good |
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

    /// Moves the items from the lane to the locked buffer and keeps them there from now on.
    /// Puts that reserved a slot before the lane closed finish first (`drain` waits for them);
    /// a lock-free get still running either claimed the head before the drain (an earlier item)
    /// or finds the lane empty, since the drain claims every item at once (`FastPath.swift`).
    @inlinable mutating func leaveLane() {
        guard laneActive, let lane else { return }
        lane.close()
        for item in lane.drain() { items.insert(item) }
        laneActive = false
        publishFlags()
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
        leaveLane()
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
        leaveLane()
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
