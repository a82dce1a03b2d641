import Foundation
import Synchronization

// The two waits the peers do not provide themselves: a plain thread blocking until a task (or a
// peer's callback) lets it go on, and a task suspending until a callback lets it go on. They are
// what a user of AsyncStream or NIOAsyncSequenceProducer would write around them.

/// A value guarded by a mutex and a condition variable, so that a plain thread can block until
/// another thread or task changes it.
final class Guarded<State: Sendable>: @unchecked Sendable {
    // Why @unchecked is safe: `state` is private and only touched inside `update` and `waitFor`,
    // both of which hold `condition`'s mutex for the whole access; the closures they run are
    // non-escaping, so no reference to `state` outlives the lock. `State: Sendable` because values
    // put in by one thread are taken out by another.
    private let condition = NSCondition()
    private var state: State

    init(_ state: State) { self.state = state }

    /// Changes the state and wakes the waiting thread.
    func update(_ change: (inout State) -> Void) {
        condition.lock()
        change(&state)
        condition.signal()
        condition.unlock()
    }

    /// Blocks the calling thread until `take` returns a value (it may change the state as it does).
    /// Only for plain threads: a concurrency pool thread must never block here.
    func waitFor<Value>(_ take: (inout State) -> Value?) -> Value {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let value = take(&state) { return value }
            condition.wait()
        }
    }
}

/// Counted wake-ups for a plain thread: `give` adds one, `take` blocks until there is one and
/// uses it. Counting (not a flag) means a wake-up that comes before the thread waits is not lost.
struct ThreadPermits: Sendable {
    private let count = Guarded(0)

    func give() { count.update { $0 += 1 } }

    func take() {
        count.waitFor { available -> Void? in
            guard available > 0 else { return nil }
            available -= 1
            return ()
        }
    }
}

/// Counted wake-ups for a task: the same contract as `ThreadPermits`, but `take` suspends the
/// task instead of blocking its thread. At most one task takes at a time.
final class TaskPermits: Sendable {
    private struct State {
        var available = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func give() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.available += 1
            return nil
        }
        // Resumed outside the lock so the woken task never contends with us for it.
        waiter?.resume()
    }

    func take() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                precondition(state.waiter == nil, "TaskPermits: two tasks waiting")
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
