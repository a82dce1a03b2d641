import CJanusShims

/// The async operations behind ``AsyncFace``, as `Result`s.
///
/// Each one first tries without suspending. If it must wait, it suspends on an
/// `UnsafeContinuation` that is enqueued under the lock; exactly one of the hand-off (an item,
/// room, shutdown) and the cancellation handler removes the waiter from its list, and only
/// that one resumes it. A timeout is a cancellation that the operation itself arranges.
extension JanusQueue {
    @inlinable package func taskGet(_ wait: TaskWait) async -> Result<Element, QueueError> {
        if let item = fastGet() { return .success(item) }
        var wakeups = Wakeups<Element>()
        lock.lock()
        let outcome = state.pointee.get(&wakeups)
        if case .empty = outcome, case .noWait = wait { state.pointee.quietReadable(&wakeups) }
        unlock()
        wakeups.run(stamping: shared)
        switch outcome {
        case .item(let item): return .success(item)
        case .shutDown: return .failure(.shutDown)
        case .empty: break
        }
        guard case .until(let timeout) = wait else { return .failure(.empty) }
        return await waitForItem(timeout: timeout)
    }

    /// The waiting part of a get that found nothing: spin while that pays (`SpinPolicy`), then
    /// suspend in the line. A task takes its place in the first-come-first-served line when it
    /// suspends, after the spin: a waiter that registers meanwhile is served first, and the spin
    /// stops as soon as anyone waits.
    @inlinable package func waitForItem(timeout: Duration?) async -> Result<Element, QueueError> {
        var started = 0
        if let item = spinGet(started: &started) { return .success(item) }
        if !usesLane {
            started = MonotonicDeadline.nanosecondsNow()
            if let item = spinGetLocked(started: started) { return .success(item) }
        }
        let result: Result<Element, QueueError>
        if let timeout {
            result = await withTimeout(timeout, reporting: .empty) { await self.suspendGet() }
        } else {
            result = await suspendGet()
        }
        if case .success = result {
            learnFromSleep(.get, started: started, served: true)
        } else {
            learnFromSleep(.get, started: started, served: false)
        }
        return result
    }

    @inlinable func suspendGet() async -> Result<Element, QueueError> {
        await self.suspend(
            decide: { machine, wakeups, id, continuation in
                switch machine.get(&wakeups) {
                case .item(let item): return .success(item)
                case .shutDown: return .failure(.shutDown)
                case .empty:
                    if Task.isCancelled { return .failure(.cancelled) }
                    machine.getSuspended(.task(id: id, continuation), &wakeups)
                    return nil
                }
            },
            withdraw: { machine, wakeups, id in machine.getWithdrawn(id: id, &wakeups) })
    }

    /// Waits for one item, then takes up to `max` in all without waiting more.
    @inlinable package func taskGetMany(max: Int, _ wait: TaskWait) async -> Result<[Element], QueueError> {
        guard max > 0 else { return .success([]) }
        switch await taskGet(wait) {
        case .failure(let error):
            return .failure(error)
        case .success(let first):
            var items = [first]
            takeAvailable(into: &items, upTo: max)
            return .success(items)
        }
    }

    @inlinable package func taskPut(_ item: Element, _ wait: TaskWait) async -> Result<Void, QueueError> {
        if fastPut(item) { return .success(()) }
        var wakeups = Wakeups<Element>()
        lock.lock()
        let outcome = state.pointee.put(item, &wakeups)
        unlock()
        wakeups.run(stamping: shared)
        switch outcome {
        case .inserted: return .success(())
        case .shutDown: return .failure(.shutDown)
        case .full: break
        }
        guard case .until(let timeout) = wait else { return .failure(.full) }
        var started = 0
        if spinPut(item, started: &started) { return .success(()) }
        if !usesLane { started = MonotonicDeadline.nanosecondsNow() }
        let result: Result<Void, QueueError>
        if let timeout {
            result = await withTimeout(timeout, reporting: .full) { await self.suspendPut(item) }
        } else {
            result = await suspendPut(item)
        }
        if case .success = result {
            learnFromSleep(.put, started: started, served: true)
        } else {
            learnFromSleep(.put, started: started, served: false)
        }
        return result
    }

    @inlinable func suspendPut(_ item: Element) async -> Result<Void, QueueError> {
        await self.suspend(
            decide: { machine, wakeups, id, continuation in
                switch machine.put(item, &wakeups) {
                case .inserted: return .success(())
                case .shutDown: return .failure(.shutDown)
                case .full:
                    if Task.isCancelled { return .failure(.cancelled) }
                    machine.putSuspended(.task(id: id, continuation, item), &wakeups)
                    return nil
                }
            },
            withdraw: { machine, wakeups, id in
                guard let (continuation, item) = machine.putWithdrawn(id: id, &wakeups) else { return nil }
                wakeups.append(.release(item))
                return continuation
            })
    }

    @inlinable package func taskPutMany(_ items: some Sequence<Element>, _ wait: TaskWait) async -> (Int, QueueError?) {
        // One deadline for the whole batch: the remaining time shrinks as items go in.
        let clock = ContinuousClock()
        let deadline: ContinuousClock.Instant? =
            if case .until(let timeout?) = wait { clock.now.advanced(by: timeout) } else { nil }
        // A contiguous batch goes in through the lock-free path as far as it can; the rest, and
        // any other sequence, item by item.
        var done = items.withContiguousStorageIfAvailable { fastPut(contentsOf: $0) } ?? 0
        for item in items.dropFirst(done) {
            var itemWait = wait
            if let deadline {
                let left = deadline - clock.now
                itemWait = left > .zero ? .until(left) : .noWait
            }
            if case .failure(let error) = await taskPut(item, itemWait) { return (done, error) }
            done += 1
        }
        return (done, nil)
    }

    @inlinable package func taskJoin(_ wait: TaskWait) async -> Result<Void, QueueError> {
        if shared.unfinishedTasks(lane) == 0 { return .success(()) }  // atomics, no lock
        guard case .until(let timeout) = wait else { return .failure(.timedOut) }
        guard let timeout else { return await suspendJoin() }
        return await withTimeout(timeout, reporting: .timedOut) { await self.suspendJoin() }
    }

    @inlinable func suspendJoin() async -> Result<Void, QueueError> {
        await self.suspend(
            decide: { machine, wakeups, id, continuation in
                if machine.unfinishedTasks == 0 { return .success(()) }
                if Task.isCancelled { return .failure(.cancelled) }
                machine.joinSuspended(.task(id: id, continuation), &wakeups)
                return nil
            },
            withdraw: { machine, wakeups, id in machine.joinWithdrawn(id: id, &wakeups) })
    }

    @inlinable package func taskWaitClosed(_ wait: TaskWait) async -> Result<Void, QueueError> {
        switch withState({ $0.waitClosed() }) {
        case .misuse: return .failure(.misuse)
        case .closed: return .success(())
        case .wait: break
        }
        guard case .until(let timeout) = wait else { return .failure(.timedOut) }
        guard let timeout else { return await suspendWaitClosed() }
        return await withTimeout(timeout, reporting: .timedOut) { await self.suspendWaitClosed() }
    }

    @inlinable func suspendWaitClosed() async -> Result<Void, QueueError> {
        await self.suspend(
            decide: { machine, _, id, continuation in
                switch machine.waitClosed() {
                case .misuse: return .failure(.misuse)
                case .closed: return .success(())
                case .wait:
                    if Task.isCancelled { return .failure(.cancelled) }
                    machine.waitClosedSuspended(.task(id: id, continuation))
                    return nil
                }
            },
            withdraw: { machine, _, id in machine.waitClosedWithdrawn(id: id) })
    }

    /// Suspends the current task in a waiter list.
    ///
    /// `decide` runs under the lock with the task's continuation: it either answers at once
    /// (the state changed since the fast path, or the task is already cancelled) or enqueues the
    /// continuation and returns nil. `withdraw` runs under the lock when the task is cancelled;
    /// it returns the continuation if the waiter was still listed (so this side owns it).
    ///
    /// Checking `Task.isCancelled` inside `decide` closes the race with the cancellation
    /// handler: the flag is set before the handler runs, and the handler takes the same lock,
    /// so either `decide` sees the flag or the handler finds the waiter.
    @inlinable func suspend<T>(
        decide: (
            inout QueueStateMachine<Element>, inout Wakeups<Element>, UInt64,
            UnsafeContinuation<Result<T, QueueError>, Never>
        ) -> Result<T, QueueError>?,
        withdraw:
            @Sendable (inout QueueStateMachine<Element>, inout Wakeups<Element>, UInt64) -> UnsafeContinuation<
                Result<T, QueueError>, Never
            >?
    ) async -> Result<T, QueueError> {
        let id = makeTaskID()
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                var wakeups = Wakeups<Element>()
                lock.lock()
                let answer = decide(&state.pointee, &wakeups, id, continuation)
                unlock()
                wakeups.run(stamping: shared)
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            var wakeups = Wakeups<Element>()
            lock.lock()
            let continuation = withdraw(&state.pointee, &wakeups, id)
            unlock()
            wakeups.run(stamping: shared)
            if let continuation {
                shim_tsan_release(shared.resumeAnchor)
                continuation.resume(returning: .failure(.cancelled))
            }
        }
        shim_tsan_acquire(shared.resumeAnchor)
        return result
    }

    /// Runs `operation` with a time limit. When the limit passes first the operation is
    /// cancelled, which by the rules above takes no item and inserts nothing; if the operation
    /// was served in that same moment, its result wins, so nothing is lost.
    @inlinable func withTimeout<T: Sendable>(
        _ timeout: Duration, reporting timeoutError: QueueError,
        _ operation: @escaping @Sendable () async -> Result<T, QueueError>
    ) async -> Result<T, QueueError> {
        let result = await withTaskGroup(of: Result<T, QueueError>?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var result: Result<T, QueueError> = .failure(.cancelled)
            while let next = await group.next() {
                guard let next else {
                    group.cancelAll()  // time is up: cancel the operation and take its answer
                    continue
                }
                result = next
                group.cancelAll()  // answered: stop the timer
            }
            return result
        }
        if case .failure(.cancelled) = result, !Task.isCancelled { return .failure(timeoutError) }
        return result
    }
}
