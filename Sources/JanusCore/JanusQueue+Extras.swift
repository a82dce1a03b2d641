/// culsans's extras and the readiness descriptors, on the queue (the state machine's events are
/// in `QueueStateMachine+Extras.swift`).
extension JanusQueue {
    // MARK: peek

    /// The next item, left in the queue; waits (up to the deadline) until there is one.
    @inlinable package func threadPeek(_ wait: ThreadWait) -> Result<Element, QueueError> {
        // A woken peek looks again, so unlike the other waits it touches the queue after
        // `parkThread` has let go of it: it holds the queue itself from its first wait, taken
        // under the lock like `parkThread`'s (the C library may free the queue meanwhile).
        var keepAlive: Unmanaged<JanusQueue>? = nil
        defer { keepAlive?.release() }
        while true {
            var wakeups = Wakeups<Element>()
            lock.lock()
            switch state.pointee.peek(&wakeups) {
            case .item(let item):
                unlock()
                wakeups.run(stamping: shared)
                return .success(item)
            case .shutDown:
                unlock()
                wakeups.run(stamping: shared)
                return .failure(.shutDown)
            case .empty:
                guard case .until(let deadline) = wait else {
                    unlock()
                    wakeups.run(stamping: shared)
                    return .failure(.empty)
                }
                // Woken when an item is there (or shutdown): then look again, since a get may
                // have taken it meanwhile.
                if keepAlive == nil { keepAlive = Unmanaged.passRetained(self) }
                let outcome = parkThread(
                    initial: Result<Void, QueueError>?.none, deadline: deadline, pending: wakeups,
                    enqueue: { $0.peekSuspended(.thread($1), &$2) },
                    withdraw: { $0.peekWithdrawn(parker: $1, &$2) })
                guard let outcome else { return .failure(.empty) }
                if case .failure(let error) = outcome! { return .failure(error) }
            }
        }
    }

    /// The async form of `threadPeek`: suspends until there is an item; cancellation and the
    /// timeout end the wait with nothing taken (there is nothing to take anyway).
    @inlinable package func taskPeek(_ wait: TaskWait) async -> Result<Element, QueueError> {
        let clock = ContinuousClock()
        let deadline: ContinuousClock.Instant? =
            if case .until(let timeout?) = wait { clock.now.advanced(by: timeout) } else { nil }
        while true {
            var wakeups = Wakeups<Element>()
            lock.lock()
            let outcome = state.pointee.peek(&wakeups)
            unlock()
            wakeups.run(stamping: shared)
            switch outcome {
            case .item(let item): return .success(item)
            case .shutDown: return .failure(.shutDown)
            case .empty: break
            }
            guard case .until = wait else { return .failure(.empty) }
            let woken: Result<Void, QueueError>
            if let deadline {
                let left = deadline - clock.now
                guard left > .zero else { return .failure(.empty) }
                woken = await withTimeout(left, reporting: .empty) { await self.suspendPeek() }
            } else {
                woken = await suspendPeek()
            }
            if case .failure(let error) = woken { return .failure(error) }
        }
    }

    @inlinable func suspendPeek() async -> Result<Void, QueueError> {
        await suspend(
            decide: { machine, wakeups, id, continuation in
                switch machine.peek(&wakeups) {
                case .item: return .success(())  // look again at once
                case .shutDown: return .failure(.shutDown)
                case .empty:
                    if Task.isCancelled { return .failure(.cancelled) }
                    machine.peekSuspended(.task(id: id, continuation), &wakeups)
                    return nil
                }
            },
            withdraw: { machine, wakeups, id in machine.peekWithdrawn(id: id, &wakeups) })
    }

    // MARK: clear

    /// Removes every item queued now (culsans `clear`), atomically: each is handed to
    /// `onDiscard` (the C library's `destroy`) or released, exactly once, with no lock held;
    /// `unfinishedTasks` goes down by their number; waiting putters are admitted to the room.
    /// Returns how many were removed. Never waits; callable from any thread or task.
    @discardableResult
    @inlinable public func clear() -> Int {
        var wakeups = Wakeups<Element>()
        lock.lock()
        let cleared = state.pointee.clear(&wakeups)
        unlock()
        wakeups.run(stamping: shared)
        if let onDiscard { for item in cleared { onDiscard(item) } }
        return cleared.count
    }

    // MARK: readiness descriptors

    /// A file descriptor for an event loop (epoll, poll, kqueue-less Linux loops, libuv's
    /// `uv_poll_t`, asyncio's `add_reader`): readable while a get would not wait (`.readable`:
    /// an item is there, or the queue is shut down), or while a put would not wait (`.writable`:
    /// room, or shut down).
    ///
    /// Made on the first call (a Linux eventfd, close-on-exec and nonblocking) and the same on
    /// every call after; owned by the queue, closed when the queue goes away: do not close it,
    /// and take it out of an epoll set before freeing the queue if the set outlives it.
    ///
    /// Level-like, with no trap for the loop: after the descriptor wakes the loop, it gets with
    /// no wait (`getNowait`, C `JANUS_NO_WAIT`) until that answers empty; only that answer
    /// makes the readable descriptor quiet again, and an item that arrives afterwards makes it
    /// readable, so it never stays quiet while an item waits. It may wake the loop when another
    /// consumer took the item first (the no-wait get then answers empty). The same for
    /// `.writable` with puts, full and room. Never read from or write to it yourself.
    /// - Throws: `.systemError(errno)` when the process has no descriptor to spare (`EMFILE`).
    @inlinable public func descriptor(for readiness: Readiness) throws(QueueError) -> Int32 {
        var wakeups = Wakeups<Element>()
        lock.lock()
        let result = state.pointee.descriptor(readiness, &wakeups)
        unlock()
        wakeups.run(stamping: shared)
        return try result.get()
    }
}
