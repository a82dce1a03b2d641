import Glibc

import Synchronization

/// The queue's one lock: a pthread mutex at a stable heap address, and in the same cache line a
/// word that only lock holders write (`companion`, the state machine's `lockedPuts`).
///
/// Not `Synchronization.Mutex`: ThreadSanitizer does not see that lock on Linux and reports
/// races in correctly locked code (PLATFORM-NOTES), while it understands pthread mutexes.
/// Adaptive: under contention it spins briefly before sleeping, since every critical section
/// here is a few dozen instructions. The companion word shares the mutex's line because that
/// line travels to each lock holder anyway; on a line of its own it would be a second miss in
/// every critical section of a contended queue.
@usableFromInline
struct QueueLock {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    @inlinable static var companionOffset: Int {
        (MemoryLayout<pthread_mutex_t>.size + 7) / 8 * 8
    }
    @inlinable static var byteCount: Int { Swift.max(64, companionOffset + 8) }

    @inlinable var companion: UnsafeMutablePointer<Atomic<Int>> {
        (UnsafeMutableRawPointer(mutex) + Self.companionOffset).assumingMemoryBound(to: Atomic<Int>.self)
    }

    @inlinable init() {
        mutex = UnsafeMutableRawPointer.allocate(byteCount: Self.byteCount, alignment: 64)
            .bindMemory(to: pthread_mutex_t.self, capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        let status = pthread_mutex_init(mutex, &attributes)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        pthread_mutexattr_destroy(&attributes)
        companion.initialize(to: Atomic(0))
    }

    /// Only the owner calls this, once, when no thread can touch the lock any more.
    @inlinable func destroy() {
        companion.deinitialize(count: 1)
        pthread_mutex_destroy(mutex)
        UnsafeMutableRawPointer(mutex).deallocate()
    }

    @inline(__always)
    @inlinable func lock() { pthread_mutex_lock(mutex) }

    @inline(__always)
    @inlinable func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    @inlinable func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        lock()
        defer { unlock() }
        return try body()
    }
}
