import CJanusShims
import Glibc
import Synchronization

// The spinner count and the core count are C statics (CJanusShims, fork.c), not Swift globals:
// a Swift global is initialized through a once lock of the runtime, which a forked child can
// hang on (fork.c says how).

/// How long a get or put that must wait spins first, looking for an item or room with the
/// lock-free path, before it registers as a waiter and sleeps or suspends.
///
/// A sleep and its wakeup cost microseconds of CPU on both sides; a spin costs the spinner's CPU
/// for as long as it lasts. Spinning pays when the hand-off comes within about that cost, as in
/// ping-pong or a producer a little slower than its consumer, and is pure waste on a slow stream.
/// So each queue learns, per direction, whether recent hand-offs came within `maximum`, the way
/// adaptive mutexes learn whether spinning on the lock pays:
/// - a spin that caught its hand-off pulls the budget towards `maximum` (a spin ends when it
///   catches, so a generous budget costs only the waits that do not come);
/// - a wait that slept pulls it towards `maximum` if the hand-off came within `maximum` of the
///   wait's start (a full spin would have caught it), else towards zero.
/// Each step moves an eighth of the way (an exponential average); a budget below `minimumUseful`
/// is zero, so a slow stream stops spinning after a few waits and each of its waits costs
/// one sleep, and a budget of zero comes back as soon as a sleep shows that a spin would have
/// paid. The time a hand-off came is stamped by whoever served the sleeper, in `servedAt`.
@usableFromInline
enum SpinPolicy {
    @inlinable static var maximum: Int { 20_000 }
    @inlinable static var initialNanoseconds: Int { 10_000 }
    @inlinable static var minimumUseful: Int { 5_000 }

    /// Takes a spinning place; false when as many waiters as cores spin already (more would
    /// starve the very threads that would end their wait).
    @inlinable static func enter() -> Bool {
        if shim_spinners_add(1) <= shim_online_cores() { return true }
        _ = shim_spinners_add(-1)
        return false
    }

    @inlinable static func leave() { _ = shim_spinners_add(-1) }

    /// How long a waiter spinning on its own parker spins before it counts as a spinner.
    @inlinable static var uncountedNanoseconds: Int { 2_000 }

    /// Looks before the measured spin: 1 + 2 + 4 + 8 pause hints between them, a few hundred
    /// nanoseconds in all.
    @inlinable static var quickRounds: Int { 4 }

    /// The pause between two looks of a spin: doubling from one CPU pause hint to 64. The first
    /// looks come quickly, for a hand-off that is about to happen; later ones leave the other
    /// side alone on the cache lines it is writing, so that it gets some items (or some room)
    /// ahead and the next look finds a run of them instead of fighting over one slot.
    @inline(__always)
    @inlinable static func pause(_ round: Int) {
        for _ in 0..<(1 << Swift.min(round, 6)) { janus_cpu_relax() }
    }

    /// How long a spinning put waits for a run of free slots (`BoundedLane.pushRun`) before it
    /// takes any: the time a busy get takes for a run, well under a sleep.
    @inlinable static var runNanoseconds: Int { 4_000 }

    // Tried and dropped: letting a side that has just woken the other spin past its budget
    // while that wakeup is on its way (twice the wake latency measured in the process, up to
    // 500 us). On a quiet machine it changed little (the slow mode was not sleeping: see
    // `BoundedLane.pushRun`); on a loaded one it was ruinous: with one core taken by another
    // process, a spinner kept the core from the very thread it had woken, the measured
    // latency grew with it, and a bounded stream fell from 15 to 2 M items/s.

    /// A spin caught its hand-off.
    @inlinable static func caught(_ budget: UnsafeMutablePointer<Atomic<Int>>) {
        learn(towards: maximum, budget)
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
        var new = (7 * old + target) / 8
        if new < minimumUseful { new = target >= minimumUseful ? minimumUseful : 0 }
        if new != old { budget.pointee.store(new, ordering: .relaxed) }
    }
}
