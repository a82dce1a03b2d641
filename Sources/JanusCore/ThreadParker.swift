import Glibc

/// Where one blocked thread sleeps: a private mutex, a monotonic condition variable and a flag,
/// placed in memory owned by the waiting thread for the length of one wait.
///
/// The queue decides under its own lock who is woken and writes the outcome there; the wakeup
/// itself (`unpark`) happens after the queue lock is released. A waiter never leaves while a
/// wakeup for it may still be on its way: once it has been chosen (its outcome is written), it
/// waits for `unpark` even if its own deadline has passed. That is what makes the memory safe
/// to live on the waiting thread's stack.
struct ThreadParker: Equatable {
    private let raw: UnsafeMutableRawPointer

    private static var condOffset: Int {
        let size = MemoryLayout<pthread_mutex_t>.stride
        let align = MemoryLayout<pthread_cond_t>.alignment
        return (size + align - 1) / align * align
    }
    private static var flagOffset: Int { condOffset + MemoryLayout<pthread_cond_t>.stride }
    static var byteCount: Int { flagOffset + MemoryLayout<Bool>.stride }
    static var alignment: Int {
        Swift.max(MemoryLayout<pthread_mutex_t>.alignment, MemoryLayout<pthread_cond_t>.alignment)
    }

    private var mutex: UnsafeMutablePointer<pthread_mutex_t> {
        raw.assumingMemoryBound(to: pthread_mutex_t.self)
    }
    private var cond: UnsafeMutablePointer<pthread_cond_t> {
        (raw + Self.condOffset).assumingMemoryBound(to: pthread_cond_t.self)
    }
    private var flag: UnsafeMutablePointer<Bool> {
        (raw + Self.flagOffset).assumingMemoryBound(to: Bool.self)
    }

    /// Runs `body` with a parker living on this thread's stack.
    static func withParker<R, E: Error>(_ body: (ThreadParker) throws(E) -> R) throws(E) -> R {
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

    private func initialize() {
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: Self.byteCount)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
        flag.initialize(to: false)
    }

    private func deinitialize() {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
    }

    /// Sleeps until `unpark` or the deadline. Returns false only when the deadline passed first.
    func park(until deadline: MonotonicDeadline?) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !flag.pointee {
            if let deadline {
                var spec = deadline.timespec
                if pthread_cond_timedwait(cond, mutex, &spec) == ETIMEDOUT && !flag.pointee {
                    return false
                }
            } else {
                pthread_cond_wait(cond, mutex)
            }
        }
        return true
    }

    /// Wakes the parked thread. Called with no queue lock held, exactly once per chosen waiter.
    func unpark() {
        pthread_mutex_lock(mutex)
        flag.pointee = true
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }
}

/// A point on CLOCK_MONOTONIC, for timed waits of threads.
package struct MonotonicDeadline {
    var timespec: timespec

    /// Deadlines further away than this are treated as no deadline: a wait of centuries is a
    /// wait forever, and this keeps huge timeouts (SPEC: up to INT64_MAX ms) from overflowing.
    static var forever: Duration { .seconds(100 * 365 * 24 * 3600) }

    /// nil for "wait forever".
    static func after(_ duration: Duration) -> MonotonicDeadline? {
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
