import Synchronization

/// One caller of a select (`Select.swift`) waiting on several queues at once: listed in the
/// getter or putter line of each queue it has an operation on, claimed by whichever serves it
/// first.
///
/// The protocol (crossbeam-channel's `Context::try_select`: one atomic "selected" word per
/// waiting caller). `selected` starts at `waiting` (0) and is changed exactly once, by one
/// compare-and-swap, to either `index + 1` (operation `index` happens) or `gaveUp` (the deadline
/// passed or the task was cancelled: nothing happens):
///
/// | who                          | holds        | does                                                  |
/// |------------------------------|--------------|-------------------------------------------------------|
/// | a queue serving the entry    | its lock     | `claim(index)`; won: removes the entry, performs the operation (takes the item / inserts it), writes `outcome`, wakes after unlocking; lost: drops the entry and serves the next waiter |
/// | the selector registering     | that queue's | operation possible now: `claim(index)` and perform it itself; else lists the entry |
/// | the selector at its deadline | no lock      | `giveUp()`; lost: a queue won, its wakeup is on the way: wait for it |
/// | the cancellation handler     | no lock      | `giveUp()`, then `arrive()` (the rendezvous below)   |
/// | the selector afterwards      | each lock in turn | withdraws its entries from every queue it listed in |
///
/// Why exactly one operation happens: an operation is performed only by the winner of the one
/// compare-and-swap on `selected`, and only after winning it, under the lock of that queue, in
/// the same event that checked the operation could happen (an item is there, room is there, or
/// the queue is shut down); nothing can undo that check before the lock is released. A queue
/// whose claim fails has performed nothing (it takes the item only after the claim), drops the
/// dead entry and goes on with the next waiter, so no item or room is held back for a selector
/// that will not use it. Why none is lost: a listed entry stays in its line until it is claimed
/// or withdrawn; withdrawal happens only after `selected` left `waiting`, so a queue that could
/// serve the selector either claims it (and serves it) or finds it already decided.
///
/// Orderings. The claim is `acquiringAndReleasing` so that the claims of different queues (each
/// under its own lock, which does not order them) are totally ordered on this one word; only
/// the winner writes `outcome`, and the selector reads it only after the winner's wakeup
/// (`ThreadParker.unpark`'s store/mutex, or a continuation resume), which carries it. A claim
/// made by the selector itself, while registering, is read by the same thread. `Tests/model/
/// select.pml` checks every interleaving for two queues, two servers and a deadline or a
/// cancellation, and that a claim without the atomic, or a withdrawal that comes after the
/// entry was served, breaks it.
///
/// Tasks: the continuation is stored before the first entry is listed. Its resume waits for
/// two parties, the body that registers (it may still be listing the waiter on later queues
/// when an earlier one claims it) and the decider (the claiming queue, or the cancellation
/// handler that gave the waiter up): each calls `arrive()` once, and the second resumes. A
/// waiter that the body claimed itself is resumed by the body, with no rendezvous.
@usableFromInline
final class SelectWaiter<Element>: @unchecked Sendable {
    // @unchecked Sendable: `selected` and `rendezvous` are atomics. `outcome` is written by the
    // one winner of `selected` (under the lock of its queue, or by the selector itself) and read
    // by the selector after the winner's wakeup, which orders the two (see the type's comment).
    // `continuation` is written by the selector before the first entry is listed and read by a
    // claiming queue under a lock taken after that listing, or by the cancellation handler after
    // the `rendezvous` exchange that follows the write. `parker` is immutable.
    @usableFromInline let selected = Atomic<Int>(0)
    @usableFromInline let rendezvous = Atomic<Int>(0)
    @usableFromInline var outcome: Result<Element?, QueueError>?
    @usableFromInline let parker: ThreadParker?
    @usableFromInline var continuation: SignalContinuation?

    @inlinable static var waiting: Int { 0 }
    @inlinable static var gaveUp: Int { -1 }

    @inlinable init(parker: ThreadParker?) { self.parker = parker }

    /// Operation `index` happens: true for the one caller that decides first.
    @inlinable func claim(_ index: Int) -> Bool {
        selected.compareExchange(expected: Self.waiting, desired: index + 1, ordering: .acquiringAndReleasing)
            .exchanged
    }

    /// Nothing happens (deadline, cancellation): true unless a queue claimed the waiter first.
    @inlinable func giveUp() -> Bool {
        selected.compareExchange(expected: Self.waiting, desired: Self.gaveUp, ordering: .acquiringAndReleasing)
            .exchanged
    }

    /// Still undecided: a hint only (it may change at once), for stopping a registration early.
    @inlinable var isWaiting: Bool { selected.load(ordering: .acquiring) == Self.waiting }

    /// The operation that happened, or nil when the waiter gave up (or is still waiting).
    @inlinable var winner: Int? {
        let value = selected.load(ordering: .acquiring)
        return value > 0 ? value - 1 : nil
    }

    /// The task's body and its cancellation handler each call this once they are done; true
    /// for the second, which then resumes the continuation.
    @inlinable func arrive() -> Bool {
        rendezvous.exchange(1, ordering: .acquiringAndReleasing) == 1
    }

    /// The winning queue (under its lock) performed the operation: records what it did and
    /// arranges the wakeup for after unlocking.
    @inlinable func complete(_ result: Result<Element?, QueueError>, _ wakeups: inout Wakeups<Element>) {
        outcome = result
        if let parker {
            wakeups.append(.unpark(parker))
        } else if arrive() {
            // The task's body is done registering (it arrived first): resume it after unlocking.
            // Otherwise the body resumes it when it arrives.
            wakeups.append(.resume(continuation.unsafelyUnwrapped, .success(())))
        }
    }
}

/// A select waiter's place in one queue's line: the waiter and which of its operations this is.
@usableFromInline
struct SelectEntry<Element> {
    @usableFromInline let waiter: SelectWaiter<Element>
    @usableFromInline let index: Int

    @inlinable init(waiter: SelectWaiter<Element>, index: Int) {
        self.waiter = waiter
        self.index = index
    }

    @inlinable func matches(_ other: SelectWaiter<Element>, _ index: Int) -> Bool {
        waiter === other && self.index == index
    }
}
