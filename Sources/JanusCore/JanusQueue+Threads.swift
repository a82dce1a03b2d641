/// The blocking operations behind ``SyncFace`` (and the C library), as `Result`s.
///
/// Each one decides under the lock; if it must wait, it enqueues the thread's slot, releases
/// the lock and parks. A thread that wakes by its own deadline takes itself out of the list
/// unless somebody already chose it, in which case it waits for that wakeup (it is imminent).
extension JanusQueue {
    /// `markingDone`: `taskDone` calls owed for items the caller already took and processed,
    /// settled in the same lock acquisition (see `taskGet`). A consumer loop also uses this,
    /// with `.noWait`, as its fast path: a plain call, where an async one costs a frame and
    /// executor checks per item.
    @inlinable package func threadGet(_ wait: ThreadWait, markingDone done: Int = 0) -> Result<Element, QueueError> {
        var wakeups = Wakeups<Element>()
        lock.lock()
        if done > 0 { state.pointee.tasksDone(done, &wakeups) }
        switch state.pointee.get(&wakeups) {
        case .item(let item):
            lock.unlock()
            wakeups.run()
            return .success(item)
        case .shutDown:
            lock.unlock()
            wakeups.run()
            return .failure(.shutDown)
        case .empty:
            guard case .until(let deadline) = wait else {
                lock.unlock()
                wakeups.run()
                return .failure(.empty)
            }
            if !wakeups.isEmpty {
                // The settled task_done released joiners: wake them before this thread parks.
                lock.unlock()
                wakeups.run()
                return threadGet(wait)
            }
            let outcome = parkThread(
                initial: Result<Element, QueueError>?.none, deadline: deadline,
                spinning: state.pointee.hasNoGetters,
                enqueue: { $0.getSuspended(.thread($1)) },
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
        var wakeups = Wakeups<Element>()
        lock.lock()
        let taken = state.pointee.getMany(into: buffer, &wakeups)
        let isShutdown = state.pointee.isShutdown
        lock.unlock()
        wakeups.run()
        if taken > 0 { return .success(taken) }
        if isShutdown { return .failure(.shutDown) }
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

    /// Takes what is there, up to `buffer.count`, without waiting.
    @inlinable package func takeMore(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        guard buffer.count > 0 else { return 0 }
        var wakeups = Wakeups<Element>()
        lock.lock()
        let taken = state.pointee.getMany(into: buffer, &wakeups)
        lock.unlock()
        wakeups.run()
        return taken
    }

    @inlinable package func threadPut(_ item: Element, _ wait: ThreadWait) -> Result<Void, QueueError> {
        var wakeups = Wakeups<Element>()
        lock.lock()
        switch state.pointee.put(item, &wakeups) {
        case .inserted:
            lock.unlock()
            wakeups.run()
            return .success(())
        case .shutDown:
            lock.unlock()
            return .failure(.shutDown)
        case .full:
            guard case .until(let deadline) = wait else {
                lock.unlock()
                return .failure(.full)
            }
            let outcome = parkThread(
                initial: PendingPut(item: item, outcome: nil), deadline: deadline,
                spinning: state.pointee.hasNoPutters,
                enqueue: { $0.putSuspended(.thread($1)) },
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
            var wakeups = Wakeups<Element>()
            lock.lock()
            var blocked = false
            while done < items.count && !blocked {
                switch state.pointee.put(items[done], &wakeups) {
                case .inserted: done += 1
                case .full, .shutDown: blocked = true
                }
            }
            lock.unlock()
            wakeups.run()
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
        lock.lock()
        if state.pointee.joinIsDone() {
            lock.unlock()
            return .success(())
        }
        guard case .until(let deadline) = wait else {
            lock.unlock()
            return .failure(.timedOut)
        }
        let outcome = parkThread(
            initial: Result<Void, QueueError>?.none, deadline: deadline,
            enqueue: { $0.joinSuspended(.thread($1)) },
            withdraw: { $0.joinWithdrawn(parker: $1, &$2) })
        return outcome.map { $0! } ?? .failure(.timedOut)
    }

    @inlinable package func threadWaitClosed(_ wait: ThreadWait) -> Result<Void, QueueError> {
        lock.lock()
        switch state.pointee.waitClosed() {
        case .misuse:
            lock.unlock()
            return .failure(.misuse)
        case .closed:
            lock.unlock()
            return .success(())
        case .wait:
            guard case .until(let deadline) = wait else {
                lock.unlock()
                return .failure(.timedOut)
            }
            let outcome = parkThread(
                initial: Result<Void, QueueError>?.none, deadline: deadline,
                enqueue: { $0.waitClosedSuspended(.thread($1)) },
                withdraw: { machine, parker, _ in machine.waitClosedWithdrawn(parker: parker) })
            return outcome.map { $0! } ?? .failure(.timedOut)
        }
    }

    /// Never waits, so it serves both faces.
    @inlinable package func markTaskDone() -> Result<Void, QueueError> {
        var wakeups = Wakeups<Element>()
        lock.lock()
        let result = state.pointee.taskDone(&wakeups)
        lock.unlock()
        wakeups.run()
        return result
    }

    /// Parks the calling thread in a list. Called with the lock held; returns with it released.
    ///
    /// `enqueue` puts the thread's slot (holding `initial`) in a waiter list; `withdraw` takes it
    /// out again after the deadline passed, returning false if the thread was already chosen.
    /// Returns the slot's final value, or nil when the thread withdrew at its deadline.
    @inlinable func parkThread<Value>(
        initial: Value, deadline: MonotonicDeadline?, spinning: Bool = false,
        enqueue: (inout QueueStateMachine<Element>, ThreadSlot<Value>) -> Void,
        withdraw: (inout QueueStateMachine<Element>, ThreadParker, inout Wakeups<Element>) -> Bool
    ) -> Value? {
        // The C library calls in without a retain of its own (janus.h: a queue may be freed while
        // threads are blocked in it); a parked thread holds the queue until it has left.
        let keepAlive = Unmanaged.passRetained(self)
        defer { keepAlive.release() }
        return withUnsafeTemporaryAllocation(of: Value.self, capacity: 1) { storage in
            let value = storage.baseAddress!
            value.initialize(to: initial)
            defer { value.deinitialize(count: 1) }
            return ThreadParker.withParker { parker -> Value? in
                enqueue(&state.pointee, ThreadSlot(parker: parker, value: value))
                lock.unlock()
                if !parker.park(until: deadline, spinning: spinning) {
                    var wakeups = Wakeups<Element>()
                    lock.lock()
                    let withdrew = withdraw(&state.pointee, parker, &wakeups)
                    lock.unlock()
                    wakeups.run()
                    if withdrew { return nil }
                    // Chosen just as the deadline passed: the wakeup is on its way, and the
                    // slot must stay alive until it has been delivered.
                    _ = parker.park(until: nil)
                }
                return value.pointee
            }
        }
    }
}
