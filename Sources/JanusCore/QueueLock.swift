import Glibc

/// The queue's one lock: a pthread mutex at a stable heap address.
///
/// Not `Synchronization.Mutex`: ThreadSanitizer does not see that lock on Linux and reports
/// races in correctly locked code (PLATFORM-NOTES), while it understands pthread mutexes.
/// Adaptive: under contention it spins briefly before sleeping, since every critical section
/// here is a few dozen instructions.
@usableFromInline
struct QueueLock {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    @inlinable init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        let status = pthread_mutex_init(mutex, &attributes)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        pthread_mutexattr_destroy(&attributes)
    }

    /// Only the owner calls this, once, when no thread can touch the lock any more.
    @inlinable func destroy() {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
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
