import CJanusShims
import Glibc
import Testing

@testable import JanusCore

/// A Swift program that forks: the child's first thread carries its parent's cached thread id
/// into the Swift runtime's locks (fork.c). Here the runtime is the dynamic libswiftCore.so,
/// so this checks the repair finds it there too (Tests/fork checks the shipped library).
@Suite struct ForkTests {
    /// Children race their first calls into a fresh queue: the main (forking) thread puts into
    /// a small bounded queue, two new threads get. None may hang; every item arrives once.
    @Test(.disabled(if: shim_under_tsan() != 0, "ThreadSanitizer stops a forked child that starts threads"))
    func childrenOfASwiftProgramUseFreshQueues() throws {
        let parentQueue = JanusQueue<Int>(maxsize: 4)
        try parentQueue.sync.putNowait(1)
        var hung = 0
        var failed = 0
        for child in 0..<60 {
            let pid = fork()
            if pid == 0 { _exit(forkedChild(child, parentQueue: parentQueue)) }
            #expect(pid > 0)
            var status: Int32 = 0
            var done: pid_t = 0
            let start = MonotonicDeadline.nanosecondsNow()
            // A generous bound: a healthy child takes milliseconds.
            while done == 0, MonotonicDeadline.nanosecondsNow() - start < 20_000_000_000 {
                done = waitpid(pid, &status, WNOHANG)
                if done == 0 { usleep(500) }
            }
            if done == 0 {
                hung += 1
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            } else if status != 0 {
                failed += 1
            }
        }
        #expect(hung == 0, "children hung")
        #expect(failed == 0, "children failed their checks")
    }
}

extension ForkTests {
    /// The repair itself: the forking thread's cached id is cleared in the child, so the
    /// runtime's next lock reads the child's real id. Without it the child's copy still holds
    /// the parent's id (this is what the hang needs), which this test catches every time.
    @Test(.disabled(if: shim_under_tsan() != 0, "ThreadSanitizer stops a forked child that starts threads"))
    func theForkingThreadsCachedIdIsClearedInTheChild() {
        _ = lazyGlobalForForkTests  // a once on this thread: the runtime caches this thread's id
        let before = shim_runtime_cached_tid()
        #expect(before > 0, "fork.c finds the runtime's cached id of this thread (-1: not found)")
        let pid = fork()
        if pid == 0 { _exit(shim_runtime_cached_tid() == 0 ? 0 : 1) }
        var status: Int32 = -1
        waitpid(pid, &status, 0)
        #expect(status == 0, "the child's copy of the cached id was cleared")
    }
}

/// A global with an initializer that runs through the runtime's once on first use.
let lazyGlobalForForkTests = Int(getpid())

/// Pthreads for the child (no Swift concurrency there: the parent's pool did not come along).
private final class ChildThread: @unchecked Sendable {
    // @unchecked Sendable: `body` is immutable and run by the one thread made for it.
    let body: @Sendable () -> Void
    var thread = pthread_t()
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() -> Bool {
        pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<ChildThread>.fromOpaque(raw!).takeUnretainedValue().body()
                return nil
            }, Unmanaged.passUnretained(self).toOpaque()) == 0
    }

    func join() { pthread_join(thread, nil) }
}

/// The child's work; its exit status (0 = every check passed).
private func forkedChild(_ child: Int, parentQueue: JanusQueue<Int>) -> Int32 {
    if parentQueue.madeInThisProcess { return 3 }  // the parent's queue must say it is the parent's
    let queue = JanusQueue<Int>(maxsize: 64)
    let count = 20_000
    let sums = UnsafeMutablePointer<Int>.allocate(capacity: 4)
    sums.initialize(repeating: 0, count: 4)
    let box = UnsafeSendable(sums)
    let getters = (0..<2).map { who in
        ChildThread {
            // Stagger the first get by 0-60 us across children, so that the main thread's first
            // full-queue wait comes before the getters' first calls in some of them.
            let until = MonotonicDeadline.nanosecondsNow() + (child % 61) * 1000
            while MonotonicDeadline.nanosecondsNow() < until {}
            while case .success(let item) = Result(catching: { try queue.sync.get() }) {
                box.pointer[who] += item
                box.pointer[who + 2] += 1
            }
        }
    }
    for getter in getters where !getter.start() { return 2 }
    for item in 1...count where (try? queue.sync.put(item)) == nil { return 2 }
    queue.shutdown()
    for getter in getters { getter.join() }
    return sums[0] + sums[1] == count * (count + 1) / 2 && sums[2] + sums[3] == count ? 0 : 1
}

/// A pointer the child's two getter threads write distinct elements of, read after both joined.
private struct UnsafeSendable: @unchecked Sendable {
    // @unchecked Sendable: each getter writes only its own two elements, and the main thread
    // reads them after pthread_join, which orders the writes before the reads.
    let pointer: UnsafeMutablePointer<Int>
    init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
}
