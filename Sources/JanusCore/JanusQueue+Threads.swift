import Synchronization

/// The blocking operations behind ``SyncFace`` (and the C library), as `Result`s.
///
/// Each one first tries the lock-free path (`FastPath.swift`). Failing that it decides under the
/// lock; if it must wait, it spins for a while if that has been paying off, then enqueues the
/// thread's slot, releases the lock and parks. A thread that wakes by its own deadline takes
/// itself out of the list unless somebody already chose it, in which case it waits for that
/// wakeup (it is imminent).
extension JanusQueue {
    @inlinable package func threadGet(_ wait: ThreadWait) -> Result<Element, QueueError> {
        if let item = fastGet() { return .success(item) }
        return threadGetSlow(wait)
    }

    @inlinable package func threadGetSlow(_ wait: ThreadWait) -> Result<Element, QueueError> {
        var started = 0
        if case .until = wait, let item = spinGet(started: &started) { return .success(item) }
        var wakeups = Wakeups<Element>()
        lock.lock()
        switch state.pointee.get(&wakeups) {
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
                state.pointee.quietReadable(&wakeups)  // an event loop's descriptor goes quiet
                unlock()
                wakeups.run(stamping: shared)
                return .failure(.empty)
            }
            let outcome = parkThread(
                initial: Result<Element, QueueError>?.none, deadline: deadline, pending: wakeups,
                learning: (.get, started),
                enqueue: { $0.getSuspended(.thread($1), &$2) },
                withdraw: { $0.getWithdrawn(parker: $1, &$2) })
            return outcome.map { $0! } ?? .failure(.empty)
        }
    }

    /// Waits (up to the deadline) for one item, then takes up to `buffer.count` in all without
    /// waiting more. Returns how many items were written to the front of `buffer`.
    @inlinable package func threadGetMany(into buffer: UnsafeMutableBufferPointer<Element>, _ wait: ThreadWait)
        -> Result<Int, QueueError>
    {
        guard buffer.count > 0 else { return .success(0) }
        let taken = takeMore(into: buffer)
        if taken > 0 { return .success(taken) }
        switch threadGet(wait) {
        case .failure(let error):
            return .failure(error)
        case .success(let first):
            buffer.baseAddress!.initialize(to: first)
            return .success(1 + takeMore(into: UnsafeMutableBufferPointer(rebasing: buffer.dropFirst())))
        }
    }

    /// Appends what is there to `items` without waiting, until `items` holds `limit`. Taken in
    /// chunks, so that a huge limit reserves nothing (a limit, not a preallocation).
    @inlinable package func takeAvailable(into items: inout [Element], upTo limit: Int) {
        let chunk = 256
        while items.count < limit {
            let want = Swift.min(chunk, limit - items.count)
            let taken = [Element](unsafeUninitializedCapacity: want) { buffer, initialized in
                initialized = takeMore(into: buffer)
            }
            items.append(contentsOf: taken)
            if taken.count < want { return }
        }
    }

    /// Takes what is there, up to `buffer.count`, without waiting: lock-free while nobody waits.
    @inlinable package func takeMore(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        guard buffer.count > 0 else { return 0 }
        var taken = fastGet(into: buffer)
        if taken == buffer.count || (lane != nil && taken > 0) { return taken }
        // Empty, or somebody waits (a FIFO get must come in), or the locked buffer.
        var wakeups = Wakeups<Element>()
        lock.lock()
        taken += state.pointee.getMany(
            into: UnsafeMutableBufferPointer(rebasing: buffer[taken...]), &wakeups)
        unlock()
        wakeups.run(stamping: shared)
        return taken
    }

    @inlinable package func threadPut(_ item: Element, _ wait: ThreadWait) -> Result<Void, QueueError> {
        if fastPut(item) { return .success(()) }
        return threadPutSlow(item, wait)
    }

    @inlinable package func threadPutSlow(_ item: Element, _ wait: ThreadWait) -> Result<Void, QueueError> {
        var started = 0
        if case .until = wait, spinPut(item, started: &started) { return .success(()) }
        var wakeups = Wakeups<Element>()
        lock.lock()
        switch state.pointee.put(item, &wakeups) {
        case .inserted:
            unlock()
            wakeups.run(stamping: shared)
            return .success(())
        case .shutDown:
            unlock()
            wakeups.run(stamping: shared)
            return .failure(.shutDown)
        case .full:
            guard case .until(let deadline) = wait else {
                state.pointee.quietWritable(&wakeups)
                unlock()
                wakeups.run(stamping: shared)
                return .failure(.full)
            }
            let outcome = parkThread(
                initial: PendingPut(item: item, outcome: nil), deadline: deadline, pending: wakeups,
                learning: (.put, started),
                enqueue: { $0.putSuspended(.thread($1), &$2) },
                withdraw: { $0.putWithdrawn(parker: $1, &$2) })
            return outcome.map { $0.outcome! } ?? .failure(.full)
        }
    }

    /// Puts the items in order, sharing one deadline, and stops at the first that cannot go in.
    @inlinable package func threadPutMany(_ items: UnsafeBufferPointer<Element>, _ wait: ThreadWait) -> (
        Int, QueueError?
    ) {
        var done = 0
        while done < items.count {
            done += fastPut(contentsOf: UnsafeBufferPointer(rebasing: items[done...]))
            if done == items.count { break }
            var wakeups = Wakeups<Element>()
            lock.lock()
            var blocked = false
            while done < items.count && !blocked {
                switch state.pointee.put(items[done], &wakeups) {
                case .inserted: done += 1
                case .full, .shutDown: blocked = true
                }
            }
            unlock()
            wakeups.run(stamping: shared)
            guard blocked else { break }
            // The next item waits like a single put; the lock is taken again there, so a
            // shutdown or a free slot in between is seen.
            switch threadPut(items[done], wait) {
            case .success: done += 1
            case .failure(let error): return (done, error)
            }
        }
        return (done, nil)
    }

    @inlinable package func threadJoin(_ wait: ThreadWait) -> Result<Void, QueueError> {
        if shared.unfinishedTasks(lane) == 0 { return .success(()) }  // atomics, no lock
        guard case .until(let deadline) = wait else { return .failure(.timedOut) }
        lock.lock()
        let outcome = parkThread(
            initial: Result<Void, QueueError>?.none, deadline: deadline, pending: Wakeups(),
            enqueue: { $0.joinSuspended(.thread($1), &$2) },
            withdraw: { $0.joinWithdrawn(parker: $1, &$2) })
        return outcome.map { $0! } ?? .failure(.timedOut)
    }

    @inlinable package func threadWaitClosed(_ wait: ThreadWait) -> Result<Void, QueueError> {
        lock.lock()
        switch state.pointee.waitClosed() {
        case .misuse:
            unlock()
            return .failure(.misuse)
        case .closed:
            unlock()
            return .success(())
        case .wait:
            guard case .until(let deadline) = wait else {
                unlock()
                return .failure(.timedOut)
            }
            let outcome = parkThread(
                initial: Result<Void, QueueError>?.none, deadline: deadline, pending: Wakeups(),
                enqueue: { machine, slot, _ in machine.waitClosedSuspended(.thread(slot)) },
                withdraw: { machine, parker, _ in machine.waitClosedWithdrawn(parker: parker) })
            return outcome.map { $0! } ?? .failure(.timedOut)
        }
    }

    /// Parks the calling thread in a list. Called with the lock held; returns with it released.
    ///
    /// `enqueue` puts the thread's slot (holding `initial`) in a waiter list, and may serve it at
    /// once (the look again of the handshake) through the wakeups it appends; `withdraw` takes it
    /// out again after the deadline passed, returning false if the thread was already chosen.
    /// `pending`: effects of the event that decided to wait, run after unlocking like the rest.
    /// `learning`: for a get or put, what `SpinPolicy` learns from this wait (and, for a queue
    /// without a lane, the spin on the parker before sleeping). Returns the slot's final value,
    /// or nil when the thread withdrew at its deadline.
    @inlinable func parkThread<Value>(
        initial: Value, deadline: MonotonicDeadline?, pending: consuming Wakeups<Element>,
        learning: (side: WaitSide, started: Int)? = nil,
        enqueue: (inout QueueStateMachine<Element>, ThreadSlot<Value>, inout Wakeups<Element>) -> Void,
        withdraw: (inout QueueStateMachine<Element>, ThreadParker, inout Wakeups<Element>) -> Bool
    ) -> Value? {
        // The C library calls in without a retain of its own (janus.h: a queue may be freed while
        // threads are blocked in it); a parked thread holds the queue until it has left.
        let keepAlive = Unmanaged.passRetained(self)
        defer { keepAlive.release() }
        var wakeups = pending
        return withUnsafeTemporaryAllocation(of: Value.self, capacity: 1) { storage in
            let value = storage.baseAddress!
            value.initialize(to: initial)
            defer { value.deinitialize(count: 1) }
            return ThreadParker.withParker { parker -> Value? in
                enqueue(&state.pointee, ThreadSlot(parker: parker, value: value), &wakeups)
                unlock()
                wakeups.run(stamping: shared)
                // Without a lane the wait's clock starts here, before the spin on the parker
                // (with a lane, before the spin that came before listing).
                var learning = learning
                if learning?.started == 0 { learning?.started = MonotonicDeadline.nanosecondsNow() }
                if let learning, spinListed(parker, learning.side) { return value.pointee }
                if !parker.park(until: deadline) {
                    var wakeups = Wakeups<Element>()
                    lock.lock()
                    let withdrew = withdraw(&state.pointee, parker, &wakeups)
                    unlock()
                    wakeups.run(stamping: shared)
                    if withdrew {
                        if let learning { learnFromSleep(learning.side, started: learning.started, served: false) }
                        return nil
                    }
                    // Chosen just as the deadline passed: the wakeup is on its way, and the
                    // slot must stay alive until it has been delivered.
                    _ = parker.park(until: nil)
                }
                if let learning { learnFromSleep(learning.side, started: learning.started, served: true) }
                return value.pointee
            }
        }
    }

    /// A listed waiter of a queue without a lane spins on its parker while that pays off
    /// (`SpinPolicy`); true when it was served meanwhile.
    @inlinable func spinListed(_ parker: ThreadParker, _ side: WaitSide) -> Bool {
        guard !usesLane else { return false }
        let budget = shared.spinBudget(side)
        let nanoseconds = budget.pointee.load(ordering: .relaxed)
        guard nanoseconds > 0 else { return false }
        // A short first spin is not counted against the cores (most hand-offs that come, come
        // within it, and counting costs two contended read-modify-writes); the rest is.
        let quick = Swift.min(nanoseconds, SpinPolicy.uncountedNanoseconds)
        var caught = parker.spin(for: quick)
        if !caught && nanoseconds > quick && SpinPolicy.enter() {
            caught = parker.spin(for: nanoseconds - quick)
            SpinPolicy.leave()
        }
        if caught { SpinPolicy.caught(budget) }
        return caught
    }

}
