import Glibc
import Synchronization

/// Spinners in the whole process: no more than there are cores, or they starve the very threads
/// that would end their wait.
@usableFromInline
let spinningWaiters = Atomic<Int>(0)

/// The cores this process may run on, read once.
@usableFromInline
let onlineCores: Int = Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

/// How long a get or put that must wait spins first, looking for an item or room with the
/// lock-free path, before it registers as a waiter and sleeps or suspends.
///
/// A sleep and its wakeup cost microseconds of CPU on both sides; a spin costs the spinner's CPU
/// for as long as it lasts. Spinning pays when the hand-off comes within about that cost, as in
/// ping-pong or a producer a little slower than its consumer, and is pure waste on a slow stream.
/// So each queue learns, per direction, how soon recent hand-offs came, the way adaptive mutexes
/// learn how long the lock was held:
/// - a spin that caught its hand-off after `t` pulls the budget towards `2t` (a margin above what
///   it took), at least `minimumUseful`;
/// - a wait that slept pulls it towards `maximum` if the hand-off came within `maximum` of the
///   wait's start (a full spin would have caught it), else towards zero.
/// Each step moves a quarter of the way (an exponential average); a budget below `minimumUseful`
/// is zero, so a slow stream soon stops spinning altogether and its waits cost a sleep each.
/// The time a hand-off came is stamped by whoever served the sleeper, in `servedAt`.
@usableFromInline
enum SpinPolicy {
    @inlinable static var maximum: Int { 20_000 }
    @inlinable static var initialNanoseconds: Int { 5_000 }
    @inlinable static var minimumUseful: Int { 1_000 }

    /// Takes a spinning place; false when as many waiters as cores spin already.
    @inlinable static func enter() -> Bool {
        if spinningWaiters.wrappingAdd(1, ordering: .relaxed).newValue <= onlineCores { return true }
        spinningWaiters.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    @inlinable static func leave() { spinningWaiters.wrappingSubtract(1, ordering: .relaxed) }

    /// A spin caught its hand-off `nanoseconds` after the wait began.
    @inlinable static func caught(after nanoseconds: Int, _ budget: UnsafeMutablePointer<Atomic<Int>>) {
        learn(towards: Swift.min(maximum, Swift.max(2 * nanoseconds, minimumUseful)), budget)
    }

    /// A wait slept; its hand-off came `nanoseconds` after the wait began (nil: it never came, the
    /// wait timed out, was cancelled or ended by shutdown).
    @inlinable static func slept(handOffAfter nanoseconds: Int?, _ budget: UnsafeMutablePointer<Atomic<Int>>) {
        if let nanoseconds, nanoseconds <= maximum {
            learn(towards: maximum, budget)
        } else {
            learn(towards: 0, budget)
        }
    }

    @inlinable static func learn(towards target: Int, _ budget: UnsafeMutablePointer<Atomic<Int>>) {
        // Racy read-modify-write on purpose: concurrent waiters may lose each other's step, and
        // the average only needs to be about right.
        let old = budget.pointee.load(ordering: .relaxed)
        var new = (3 * old + target) / 4
        if new < minimumUseful { new = target >= minimumUseful ? minimumUseful : 0 }
        if new != old { budget.pointee.store(new, ordering: .relaxed) }
    }
}
