import CJanusShims
import Glibc

/// How a lock-free loop waits for another thread to finish the two or three instructions it is in
/// the middle of (a put between reserving a slot and publishing it, a get between claiming a slot
/// and freeing it): a few CPU pause hints, doubling, and then giving the core away with
/// `sched_yield`, so that a thread preempted inside that window gets to run again.
@usableFromInline
struct Backoff {
    @usableFromInline var step = 0

    @inlinable init() {}

    /// Pauses ~2^step times; after enough rounds yields the thread instead.
    @inlinable mutating func snooze() {
        if step <= 6 {
            for _ in 0..<(1 << step) { janus_cpu_relax() }
            step += 1
        } else {
            sched_yield()
        }
    }
}
