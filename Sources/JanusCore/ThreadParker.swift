import CJanusShims
import Glibc
import Synchronization

/// Where one blocked thread waits: asleep on a private mutex and monotonic condition variable,
/// in memory owned by the waiting thread for one wait.
///
/// The queue decides under its own lock who is woken and writes the outcome there; the wakeup
/// itself (`unpark`) happens after the queue lock is released. A waiter never leaves while a
/// wakeup for it may still be on its way: once it has been chosen (its outcome is written), it
/// waits for `unpark` even if its own deadline has passed. That is what makes the memory safe
/// to live on the waiting thread's stack.
///
/// States (one atomic word): `idle` → `notified` (woken before it slept: one atomic store, no
/// syscall, and that store is the waker's last touch), or `idle` → `sleeping` (set under the
/// mutex) → `notified` (set under the mutex with a signal; the waiter sees it only under the
/// mutex, so the waker's unlock is its last touch). Once `sleeping`, the state is only ever read
/// under the mutex, even after a timeout.
@usableFromInline
struct ThreadParker: Equatable {
    @usableFromInline let raw: UnsafeMutableRawPointer

    @inlinable init(raw: UnsafeMutableRawPointer) { self.raw = raw }

    @inlinable static var idle: Int { 0 }
    @inlinable static var sleeping: Int { 1 }
    @inlinable static var notified: Int { 2 }

    @inlinable static var condOffset: Int {
        roundUp(MemoryLayout<pthread_mutex_t>.stride, MemoryLayout<pthread_cond_t>.alignment)
    }
    @inlinable static var stateOffset: Int {
        roundUp(condOffset + MemoryLayout<pthread_cond_t>.stride, MemoryLayout<Atomic<Int>>.alignment)
    }
    /// Whether the mutex and condition variable exist yet: they are made only when the waiter
    /// is about to sleep, so a wait that ends before it costs no pthread set-up at all.
    /// Read and written by the waiting thread alone.
    @inlinable static var preparedOffset: Int { stateOffset + MemoryLayout<Atomic<Int>>.stride }
    @inlinable static var byteCount: Int { preparedOffset + MemoryLayout<Bool>.stride }
    @inlinable static var alignment: Int {
        Swift.max(
            MemoryLayout<pthread_mutex_t>.alignment, MemoryLayout<pthread_cond_t>.alignment,
            MemoryLayout<Atomic<Int>>.alignment)
    }

    @inlinable static func roundUp(_ value: Int, _ alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }

    @inlinable var mutex: UnsafeMutablePointer<pthread_mutex_t> {
        raw.assumingMemoryBound(to: pthread_mutex_t.self)
    }
    @inlinable var cond: UnsafeMutablePointer<pthread_cond_t> {
        (raw + Self.condOffset).assumingMemoryBound(to: pthread_cond_t.self)
    }
    @inlinable var state: UnsafeMutablePointer<Atomic<Int>> {
        (raw + Self.stateOffset).assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inlinable var prepared: UnsafeMutablePointer<Bool> {
        (raw + Self.preparedOffset).assumingMemoryBound(to: Bool.self)
    }

    /// Runs `body` with a parker living on this thread's stack.
    @inlinable static func withParker<R, E: Error>(_ body: (ThreadParker) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = withUnsafeTemporaryAllocation(
            byteCount: byteCount, alignment: alignment
        ) { buffer in
            let parker = ThreadParker(raw: buffer.baseAddress!)
            parker.initialize()
            defer { parker.deinitialize() }
            do throws(E) {
                return .success(try body(parker))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    @inlinable func initialize() {
        state.initialize(to: Atomic(Self.idle))
        prepared.initialize(to: false)
    }

    /// Makes the mutex and condition variable before the first sleep. The waker touches them
    /// only after it has seen `sleeping`, which is set after this, under the mutex.
    @inlinable func prepareToSleep() {
        if prepared.pointee { return }
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
        prepared.pointee = true
    }

    @inlinable func deinitialize() {
        state.deinitialize(count: 1)
        if prepared.pointee {
            pthread_cond_destroy(cond)
            pthread_mutex_destroy(mutex)
        }
    }

    /// Waits until `unpark` or the deadline. Returns false only when the deadline passed first.
    /// (Spinning, where it pays, happens before the thread registers: see `SpinPolicy`.)
    @inlinable func park(until deadline: MonotonicDeadline?) -> Bool {
        // Woken before it got here (served while registering): no pthread set-up at all.
        if state.pointee.load(ordering: .acquiring) == Self.notified { return true }
        prepareToSleep()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        // From here on the state is read under the mutex only (see the type's comment).
        _ = state.pointee.compareExchange(
            expected: Self.idle, desired: Self.sleeping, ordering: .acquiringAndReleasing)
        while state.pointee.load(ordering: .acquiring) != Self.notified {
            if let deadline {
                var spec = deadline.timespec
                if pthread_cond_timedwait(cond, mutex, &spec) == ETIMEDOUT
                    && state.pointee.load(ordering: .acquiring) != Self.notified
                {
                    return false
                }
            } else {
                pthread_cond_wait(cond, mutex)
            }
        }
        return true
    }

    /// Spins up to `nanoseconds` while not yet woken; true if woken meanwhile. For queues without
    /// a lock-free path (LIFO, priority), whose waiters register first and then spin here, where
    /// the waker's hand-off is one store; FIFO waiters spin before they register instead.
    @inlinable func spin(for nanoseconds: Int) -> Bool {
        let started = MonotonicDeadline.nanosecondsNow()
        var round = 0
        while true {
            switch state.pointee.load(ordering: .acquiring) {
            case Self.notified: return true
            case Self.idle: break
            default: return false  // slept before (a second park after a timeout): use the mutex
            }
            round &+= 1
            if round & 15 == 0 && MonotonicDeadline.nanosecondsNow() - started > nanoseconds { return false }
            janus_cpu_relax()
        }
    }

    /// Wakes the parked thread. Called with no queue lock held, exactly once per chosen waiter.
    @inlinable func unpark() {
        // Not asleep yet: one store wakes it, and nothing touches the parker after.
        if state.pointee.compareExchange(
            expected: Self.idle, desired: Self.notified, ordering: .acquiringAndReleasing
        ).exchanged {
            return
        }
        // Asleep: it reads the state under the mutex, so it cannot leave before this unlock.
        pthread_mutex_lock(mutex)
        state.pointee.store(Self.notified, ordering: .releasing)
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }
}

/// A point on CLOCK_MONOTONIC, for timed waits of threads.
@usableFromInline
package struct MonotonicDeadline {
    @usableFromInline var timespec: timespec

    @inlinable init(timespec: timespec) { self.timespec = timespec }

    /// Deadlines further away than this are treated as no deadline: a wait of centuries is a
    /// wait forever, and this keeps huge timeouts (SPEC: up to INT64_MAX ms) from overflowing.
    @inlinable static var forever: Duration { .seconds(100 * 365 * 24 * 3600) }

    @inlinable static func nanosecondsNow() -> Int {
        var now = Glibc.timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec &* 1_000_000_000 &+ now.tv_nsec
    }

    /// nil for "wait forever".
    @inlinable static func after(_ duration: Duration) -> MonotonicDeadline? {
        if duration >= forever { return nil }
        var now = Glibc.timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = duration.components
        var sec = now.tv_sec + Int(seconds)
        var nsec = now.tv_nsec + Int(attoseconds / 1_000_000_000)
        if nsec >= 1_000_000_000 {
            sec += 1
            nsec -= 1_000_000_000
        }
        return MonotonicDeadline(timespec: Glibc.timespec(tv_sec: sec, tv_nsec: nsec))
    }
}
