import CJanusShims
import Synchronization

/// A suspended task waiting for an item.
@usableFromInline
typealias GetContinuation<Element> = UnsafeContinuation<Result<Element, QueueError>, Never>
/// A suspended task waiting for room, for `join` or for `waitClosed`.
@usableFromInline
typealias SignalContinuation = UnsafeContinuation<Result<Void, QueueError>, Never>

/// A blocked thread's side of one wait: where it sleeps, and where the queue writes what it
/// decided for it (under the queue lock) before waking it (outside the lock).
@usableFromInline
struct ThreadSlot<Value> {
    @usableFromInline let parker: ThreadParker
    @usableFromInline let value: UnsafeMutablePointer<Value>

    @inlinable init(parker: ThreadParker, value: UnsafeMutablePointer<Value>) {
        self.parker = parker
        self.value = value
    }
}

/// What a blocked putter thread hands over: its item until it is admitted, then the outcome.
@usableFromInline
struct PendingPut<Element> {
    @usableFromInline var item: Element?
    @usableFromInline var outcome: Result<Void, QueueError>?

    @inlinable init(item: Element?, outcome: Result<Void, QueueError>?) {
        self.item = item
        self.outcome = outcome
    }
}

/// A caller waiting for an item. Threads and tasks wait in one first-come-first-served list
/// (SPEC §4.3). Tasks are told apart by an id so that cancellation can find them.
@usableFromInline
enum GetWaiter<Element> {
    case task(id: UInt64, GetContinuation<Element>)
    case thread(ThreadSlot<Result<Element, QueueError>?>)
    /// One get of a select (`SelectWaiter.swift`): served only after it is claimed.
    case select(SelectEntry<Element>)
}

/// A caller waiting for room, holding the item it wants to put.
@usableFromInline
enum PutWaiter<Element> {
    case task(id: UInt64, SignalContinuation, Element)
    case thread(ThreadSlot<PendingPut<Element>>)
    /// One put of a select, with its item (still the selector's until it is claimed).
    case select(SelectEntry<Element>, Element)
}

/// A caller waiting for an event with no value: `join` (unfinished tasks reach 0) or
/// `waitClosed` (the queue is shut down and nobody is inside).
@usableFromInline
enum SignalWaiter {
    case task(id: UInt64, SignalContinuation)
    case thread(ThreadSlot<Result<Void, QueueError>?>)
}

/// One effect decided under the lock and carried out after it is released.
@usableFromInline
enum Wakeup<Element> {
    /// A thread's outcome is already written in its slot: wake it.
    case unpark(ThreadParker)
    case resumeGetter(GetContinuation<Element>, Result<Element, QueueError>)
    case resume(SignalContinuation, Result<Void, QueueError>)
    /// An item the queue let go of (a refused task put): released without the lock, since
    /// releasing the last reference runs arbitrary deinit code.
    case release(Element)
}

/// The effects of one event. A single put or get wakes at most one waiter, so the first effect
/// is stored inline and only batches and shutdown allocate.
@usableFromInline
struct Wakeups<Element> {
    @usableFromInline var first: Wakeup<Element>?
    /// Nil until a second effect: even an empty array costs a retain and a release per event.
    @usableFromInline var rest: [Wakeup<Element>]? = nil
    /// A listed getter or putter was served: the queue notes when (`SpinPolicy`), after unlocking.
    @usableFromInline var servedGetter = false
    @usableFromInline var servedPutter = false

    @inlinable init() {}

    @inlinable var isEmpty: Bool { first == nil }

    @inlinable mutating func append(_ wakeup: Wakeup<Element>) {
        if first == nil {
            first = wakeup
        } else {
            if rest == nil { rest = [wakeup] } else { rest!.append(wakeup) }  // in place
        }
    }

}

extension Wakeups where Element: Sendable {
    /// Carries out every effect. Call with no lock held. First notes in `shared` when a listed
    /// getter or putter was served, for `SpinPolicy`.
    @inlinable consuming func run(stamping shared: SharedState) {
        if servedGetter || servedPutter { Self.noteServed(servedGetter, servedPutter, shared) }
        guard let first else { return }
        Self.perform(first, shared)
        if let rest { for wakeup in rest { Self.perform(wakeup, shared) } }
    }

    @inline(never)
    @inlinable static func noteServed(_ getter: Bool, _ putter: Bool, _ shared: SharedState) {
        let now = MonotonicDeadline.nanosecondsNow()
        if getter { shared.getServedAt.pointee.store(now, ordering: .relaxed) }
        if putter { shared.putServedAt.pointee.store(now, ordering: .relaxed) }
    }

    @inlinable static func perform(_ wakeup: Wakeup<Element>, _ shared: SharedState) {
        switch wakeup {
        case .unpark(let parker): parker.unpark()
        case .resumeGetter(let continuation, let result):
            shim_tsan_release(shared.resumeAnchor)
            continuation.resume(returning: result)
        case .resume(let continuation, let result):
            shim_tsan_release(shared.resumeAnchor)
            continuation.resume(returning: result)
        case .release: break  // dropping the payload here, with no lock held, is the point
        }
    }
}
