import CJanusShims
import Synchronization

/// The lock-free path of a FIFO queue: puts and gets that find nobody waiting move their item
/// through the `Lane` without the lock, and `taskDone` counts without it. Everything that
/// involves a waiter stays in `QueueStateMachine`, under the lock; this file is the protocol
/// between the two.
///
/// The protocol, for a put (a get is the mirror image: `getters` ↔ `putters`, "item" ↔ "room"):
///
/// | step | lock-free put                                  | a getter that registers (under the lock)        |
/// |------|------------------------------------------------|-------------------------------------------------|
/// | 1    | `flags` has `putters`? go to the lock (FCFS)   | the get found no item: list itself as a waiter  |
/// | 2    | reserve a lane slot (CAS on `tail`, seq. cst.) | publish `getters` in `flags` (store, seq. cst.) |
/// | 3    | write the item, publish the slot               | look in the lane again (`settleGetters`: loads of `tail`, seq. cst.) |
/// | 4    | load `flags` (seq. cst.): `getters`? come in to settle: the item goes to the first getter | found one: served at once; else sleep |
///
/// Why no wakeup is lost: steps 2 and 4 of the put and 2 and 3 of the getter are sequentially
/// consistent, so they fall in one total order. If the put's reservation comes before the
/// getter's look, the look sees the slot reserved and takes the item, waiting the few
/// instructions until it is published (`Backoff`). Otherwise the getter's flag store comes
/// before the look, which comes before the reservation, which comes before the put's load of
/// `flags`: the put sees `getters` and comes in, and `settle` hands the item over. Both may
/// happen; then the second finds nothing to do. The same argument, with `head` and `putters`,
/// covers a putter waiting for room and a lock-free get; with `done` and `joiners`, a `join` and
/// a lock-free `taskDone`; and with `readable` (`writable`), an event loop's descriptor that goes
/// quiet after an empty answer and a lock-free put (get) — the descriptor is drained, armed and
/// published before its look again (`QueueStateMachine+Extras.swift`). Weakly ordered CPUs are
/// covered because the argument uses only the guarantees of sequentially consistent atomics,
/// never the CPU's own ordering. `Tests/model/handshake.pml` checks every interleaving of these
/// steps, for two putters and two getters, waiting or not, and for the event loop.
///
/// Why nothing is lost or taken twice: every item is in exactly one place, moved by one
/// compare-and-swap (a lane slot claimed, a waiter removed from its list under the lock).
///
/// First come, first served: a waiter's place in the line is the publication of its flag (step 2,
/// right after it is listed). A lock-free get or put checks the flag before it acts (step 1) and
/// otherwise goes to the lock, where `settle` serves the listed waiters first; one that read the
/// flag before a waiter's place started first and may finish first.
///
/// Leaving the lane (`leaveLane`: for good for a peek or a new maxsize, until idle for a
/// select) closes it and drains it under the lock, then publishes `offLane`. Lock-free gets and puts that read the flags before may
/// still be running: a put's reservation after the close fails (it comes to the lock and
/// queues behind the drained items), and the drain claims every item with one compare-and-swap
/// of the head, so a get still running either claimed its item before (an earlier item, handed
/// out first) or finds the lane empty — never an item from the middle of the drain.
/// `Tests/model/leave.pml` checks every interleaving of this with a producer and one or two
/// consumers on each lane, and that draining item by item (the first version) breaks FIFO.
///
/// Rejoining the lane (`rejoinLaneIfIdle`, a bounded lane left only for a select; at the end of
/// the event, under the lock): only with the locked buffer empty and nobody listed, so no put
/// can go into the lane while the state machine holds older items in the buffer; the ring is
/// reopened by clearing the tail's closed bit (after the drain it is an empty ring at its
/// position), then the flags are published without `offLane`. A lock-free call that read the
/// flags before the leave and runs on after the rejoin acts on the reopened lane as an ordinary
/// call that started then: positions only grow, so its compare-and-swap either fails or (a tail
/// word restored to the same value: no put reserved it meanwhile) is a correct reservation of
/// the reopened ring (`BoundedLane.reopen`). `Tests/model/rejoin.pml` checks this with a
/// producer, one or two consumers and a select leaving and rejoining twice, and that rejoining
/// with an item still in the buffer, or with the select still listed, is caught.
///
/// The invariants of `QueueStateMachine` ("a getter waits only while there are no items", "a
/// putter only while the queue is full") hold between events except for the instructions
/// between a lock-free operation's step 3 and its coming in at step 4.
extension JanusQueue {
    /// A put that needs no waiter: true when `item` went into the lane.
    @inline(__always)
    @inlinable package func fastPut(_ item: Element) -> Bool {
        guard let lane else { return false }
        // Relaxed: a stale "nobody waits" only lets this put go ahead of a putter that registered
        // at the same moment (a tie); the lane's own checks keep the queue's bounds.
        if shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.putsLocked != 0 { return false }
        guard lane.push(item) == .pushed else { return false }
        if shared.flags.pointee.load(ordering: .sequentiallyConsistent) & QueueFlags.afterPut != 0 {
            settleWaiters()
        }
        return true
    }

    /// A get that needs no waiter: the item at the lane's head, or nil.
    @inline(__always)
    @inlinable package func fastGet() -> Element? {
        guard let lane else { return nil }
        if shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.getsLocked != 0 { return nil }
        guard let item = lane.pop() else { return nil }
        if shared.flags.pointee.load(ordering: .sequentiallyConsistent) & QueueFlags.afterGet != 0 {
            settleWaiters()
        }
        return item
    }

    /// A batch put that needs no waiter: puts a prefix of `items` into the lane and returns its
    /// length (0 when somebody waits or there is no lane; short when the lane filled up).
    @inlinable package func fastPut(contentsOf items: UnsafeBufferPointer<Element>) -> Int {
        guard let lane, !items.isEmpty else { return 0 }
        if shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.putsLocked != 0 { return 0 }
        let done = lane.push(contentsOf: items)
        if done > 0
            && shared.flags.pointee.load(ordering: .sequentiallyConsistent) & QueueFlags.afterPut != 0
        {
            settleWaiters()
        }
        return done
    }

    /// A batch get that needs no waiter: fills the front of `buffer` from the lane and returns
    /// how many it took (0 when somebody waits, there is no lane or it is empty).
    @inlinable package func fastGet(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        guard let lane, !buffer.isEmpty else { return 0 }
        if shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.getsLocked != 0 { return 0 }
        let taken = lane.pop(into: buffer)
        if taken > 0
            && shared.flags.pointee.load(ordering: .sequentiallyConsistent) & QueueFlags.afterGet != 0
        {
            settleWaiters()
        }
        return taken
    }

    /// The items are in the lane (a FIFO queue that has not left it): the lock-free paths apply.
    @inlinable var usesLane: Bool {
        lane != nil && shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.offLane == 0
    }

    /// Comes in after a lock-free step that a waiter may be waiting for.
    @inline(never)
    @inlinable func settleWaiters() {
        var wakeups = Wakeups<Element>()
        lock.lock()
        state.pointee.settle(&wakeups)
        unlock()
        wakeups.run(stamping: shared)
    }

    /// One `taskDone` (janus `task_done`), checked: never more than were put.
    @inlinable package func markTaskDone() -> Result<Void, QueueError> {
        let done = shared.done
        var seen = done.pointee.load(ordering: .relaxed)
        while true {
            // Puts only grow, so one that counted it stays counted by the time of the swap.
            if seen >= shared.totalPuts(lane) { return .failure(.invalidArgument) }
            let (exchanged, current) = done.pointee.weakCompareExchange(
                expected: seen, desired: seen &+ 1,
                successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed)
            if exchanged { break }
            seen = current
        }
        afterTasksDone()
        return .success(())
    }

    /// `count` `taskDone` calls for items the caller took and processed itself (a consumer
    /// loop): not checked, since they cannot be too many.
    @inlinable package func markTasksDone(_ count: Int) {
        guard count > 0 else { return }
        shared.done.pointee.wrappingAdd(count, ordering: .sequentiallyConsistent)
        afterTasksDone()
    }

    /// The join half of the handshake: `done` was added to (seq. cst.), now `flags` is loaded
    /// (seq. cst.); a joiner publishes `joiners` and then reads `done`.
    @inline(__always)
    @inlinable func afterTasksDone() {
        if shared.flags.pointee.load(ordering: .sequentiallyConsistent) & QueueFlags.joiners != 0 {
            settleWaiters()
        }
    }

    // MARK: spinning

    /// Before a get registers as a waiter: looks for an item with the lock-free get for as long
    /// as `SpinPolicy` has learned pays off here, and not at all once somebody waits (the line
    /// is theirs). First a few quick looks with no clock and no accounting (most hand-offs that
    /// come soon come within them), then the measured spin. When it gives up, `started` is when
    /// the wait began, for `learnFromSleep`.
    ///
    /// A get that streams right behind its put (the put a little slower) would take each item
    /// the moment it is written and read the very cache line the put writes next: the two
    /// cores would trade that line for every item or two (see `BoundedLane.pushRun`). Once a
    /// spin shows that pattern (it caught an item within its first two looks), the next spins
    /// wait a moment (`SpinPolicy.runNanoseconds`) for a run of items, which puts the two sides
    /// lines apart. A run that does not come in that moment (ping-pong, a slow producer) turns
    /// the waiting off again, so a round trip pays it at most once in a while.
    @inlinable func spinGet(started: inout Int) -> Element? {
        guard let lane else { return nil }  // its waiters spin after listing (`spinListed`)
        let budget = shared.getSpin.pointee.load(ordering: .relaxed)
        var run = shared.getRun.pointee.load(ordering: .relaxed)
        var round = 0
        if budget > 0 {
            while round < SpinPolicy.quickRounds
                && shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.getsLocked == 0
            {
                if lane.mayPop(run: run), let item = fastGet() {
                    if run == 1 && round < 2 { shared.getRun.pointee.store(lane.popRun, ordering: .relaxed) }
                    return item
                }
                SpinPolicy.pause(round)
                round &+= 1
            }
        }
        started = MonotonicDeadline.nanosecondsNow()
        let until = started + budget
        guard budget > 0, SpinPolicy.enter() else { return nil }
        defer { SpinPolicy.leave() }
        while shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.getsLocked == 0 {
            if lane.mayPop(run: run), let item = fastGet() {
                SpinPolicy.caught(shared.getSpin)
                return item
            }
            round &+= 1
            if round & 3 == 0 {
                let now = MonotonicDeadline.nanosecondsNow()
                if now > until { return nil }
                if run > 1 && now - started > SpinPolicy.runNanoseconds {
                    run = 1
                    shared.getRun.pointee.store(1, ordering: .relaxed)
                }
            }
            SpinPolicy.pause(round)
        }
        return nil
    }

    /// Before a put registers as a waiter: tries the lock-free put the same way (`spinGet`).
    @inlinable func spinPut(_ item: Element, started: inout Int) -> Bool {
        guard let lane else { return false }
        let budget = shared.putSpin.pointee.load(ordering: .relaxed)
        let stop = QueueFlags.putsLocked | QueueFlags.shutDown
        // Room for a run first (`BoundedLane.pushRun`), for a moment; then any room.
        var run = lane.pushRun
        var round = 0
        if budget > 0 {
            while round < SpinPolicy.quickRounds && shared.flags.pointee.load(ordering: .relaxed) & stop == 0 {
                if lane.mayPush(run: run) && fastPut(item) { return true }
                SpinPolicy.pause(round)
                round &+= 1
            }
        }
        started = MonotonicDeadline.nanosecondsNow()
        let until = started + budget
        guard budget > 0, SpinPolicy.enter() else { return false }
        defer { SpinPolicy.leave() }
        while shared.flags.pointee.load(ordering: .relaxed) & stop == 0 {
            if lane.mayPush(run: run) && fastPut(item) {
                SpinPolicy.caught(shared.putSpin)
                return true
            }
            round &+= 1
            if round & 3 == 0 {
                let now = MonotonicDeadline.nanosecondsNow()
                if now > until { return false }
                if now - started > SpinPolicy.runNanoseconds { run = 1 }
            }
            SpinPolicy.pause(round)
        }
        return false
    }

    /// For a task get of a queue without a lane (LIFO, priority): looks again with the lock
    /// while that pays off, with the same growing pauses, and not once somebody waits.
    @inlinable func spinGetLocked(started: Int) -> Element? {
        let budget = shared.getSpin.pointee.load(ordering: .relaxed)
        guard !usesLane, budget > 0, SpinPolicy.enter() else { return nil }
        defer { SpinPolicy.leave() }
        var round = 0
        while shared.flags.pointee.load(ordering: .relaxed) & QueueFlags.getters == 0 {
            SpinPolicy.pause(round)
            round &+= 1
            var wakeups = Wakeups<Element>()
            lock.lock()
            let outcome = state.pointee.get(&wakeups)
            unlock()
            wakeups.run(stamping: shared)
            switch outcome {
            case .item(let item):
                SpinPolicy.caught(shared.getSpin)
                return item
            case .shutDown: return nil  // the slow path reports it
            case .empty: break
            }
            if round & 3 == 0 && MonotonicDeadline.nanosecondsNow() - started > budget { return nil }
        }
        return nil
    }

    /// After a wait that slept: tells the policy when its hand-off came (`servedAt`, stamped by
    /// the waker), or that it never did.
    @inlinable func learnFromSleep(_ side: WaitSide, started: Int, served: Bool) {
        let handOff = served ? shared.servedAt(side).pointee.load(ordering: .relaxed) - started : nil
        SpinPolicy.slept(handOffAfter: handOff.map { Swift.max(0, $0) }, shared.spinBudget(side))
    }
}
