import CJanusShims

/// The async operations behind ``AsyncFace``, as `Result`s.
///
/// Each one first tries without suspending. If it must wait, it suspends on an
/// `UnsafeContinuation` that is enqueued under the lock; exactly one of the hand-off (an item,
/// room, shutdown) and the cancellation handler removes the waiter from its list, and only
/// that one resumes it. A timeout is a cancellation that the operation itself arranges.
extension JanusQueue {
    /// `markingDone`: `taskDone` calls owed for items this caller already processed, applied in
    /// the same lock acquisition as the get (a consumer loop's "process, task_done, get next"
    /// then takes the lock once per item instead of twice). The count must not exceed what the
    /// caller took; it is applied whatever the get's outcome.
    @inlinable package func taskGet(_ wait: TaskWait, markingDone done: Int = 0) async -> Result<Element, QueueError> {
        var wakeups = Wakeups<Element>()
        lock.lock()
        if done > 0 { state.pointee.tasksDone(done, &wakeups) }
        let outcome = state.pointee.get(&wakeups)
        lock.unlock()
        wakeups.run()
        switch outcome {
        case .item(let item): return .success(item)
        case .shutDown: return .failure(.shutDown)
        case .empty: break
        }
        guard case .until(let timeout) = wait else { return .failure(.empty) }
        if let item = spinForItem() { return .success(item) }
        guard let timeout else { return await suspendGet() }
        return await withTimeout(timeout, reporting: .empty) { await self.suspendGet() }
    }

    /// Before suspending, look again for a short while: a suspension and the executor hop that
    /// resumes it cost microseconds, more than an item that is about to arrive usually takes.
    /// Bounded by `ThreadParker.spinNanoseconds / 2`, so an idle consumer soon lets its
    /// thread go. A task takes its place in the first-come-first-served line when it
    /// suspends, after this look: a waiter that registers during those few microseconds is
    /// served first, and the look stops as soon as anyone waits (then it only starves them).
    @inlinable func spinForItem() -> Element? {
        let started = MonotonicDeadline.nanosecondsNow()
        while MonotonicDeadline.nanosecondsNow() - started < ThreadParker.spinNanoseconds / 2 {
            for _ in 0..<64 { janus_cpu_relax() }
            var wakeups = Wakeups<Element>()
            lock.lock()
            let outcome = state.pointee.get(&wakeups)
            let alone = state.pointee.hasNoGetters
            lock.unlock()
            wakeups.run()
            switch outcome {
            case .item(let item): return item
            case .shutDown: return nil  // the slow path reports it
            case .empty: if !alone { return nil }  // others wait already: spinning only starves
            }
        }
        return nil
    }

    @inlinable func suspendGet() async -> Result<Element, QueueError> {
        await self.suspend(
            decide: { machine, wakeups, id, continuation in
                switch machine.get(&wakeups) {
                case .item(let item): return .success(item)
                case .shutDown: return .failure(.shutDown)
                case .empty:
                    if Task.isCancelled { return .failure(.cancelled) }
                    machine.getSuspended(.task(id: id, continuation))
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
        var wakeups = Wakeups<Element>()
        lock.lock()
        let outcome = state.pointee.put(item, &wakeups)
        lock.unlock()
        wakeups.run()
        switch outcome {
        case .inserted: return .success(())
        case .shutDown: return .failure(.shutDown)
        case .full: break
        }
        guard case .until(let timeout) = wait else { return .failure(.full) }
        guard let timeout else { return await suspendPut(item) }
        return await withTimeout(timeout, reporting: .full) { await self.suspendPut(item) }
    }

    @inlinable func suspendPut(_ item: Element) async -> Result<Void, QueueError> {
        await self.suspend(
            decide: { machine, wakeups, id, continuation in
                switch machine.put(item, &wakeups) {
                case .inserted: return .success(())
                case .shutDown: return .failure(.shutDown)
                case .full:
                    if Task.isCancelled { return .failure(.cancelled) }
                    machine.putSuspended(.task(id: id, continuation, item))
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
        var done = 0
        for item in items {
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
        if withState({ $0.joinIsDone() }) { return .success(()) }
        guard case .until(let timeout) = wait else { return .failure(.timedOut) }
        guard let timeout else { return await suspendJoin() }
        return await withTimeout(timeout, reporting: .timedOut) { await self.suspendJoin() }
    }

    @inlinable func suspendJoin() async -> Result<Void, QueueError> {
        await self.suspend(
            decide: { machine, _, id, continuation in
                if machine.joinIsDone() { return .success(()) }
                if Task.isCancelled { return .failure(.cancelled) }
                machine.joinSuspended(.task(id: id, continuation))
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
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                var wakeups = Wakeups<Element>()
                lock.lock()
                let answer = decide(&state.pointee, &wakeups, id, continuation)
                lock.unlock()
                wakeups.run()
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            var wakeups = Wakeups<Element>()
            lock.lock()
            let continuation = withdraw(&state.pointee, &wakeups, id)
            lock.unlock()
            wakeups.run()
            continuation?.resume(returning: .failure(.cancelled))
        }
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
