import Foundation
import Glibc

// Clocks, plain threads and output: the plumbing every peer's scenarios share.

/// Monotonic wall time in seconds.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// CPU time of the whole process so far (every thread, user + system), in seconds.
func processCPUTime() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ tv: timeval) -> Double { Double(tv.tv_sec) + Double(tv.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Sleeps the calling thread with nanosleep, as the slow-producer scenarios require.
func sleepMicroseconds(_ microseconds: Int) {
    var request = timespec(tv_sec: microseconds / 1_000_000, tv_nsec: (microseconds % 1_000_000) * 1000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of nothing")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Sum of 1...count, what every receiver must have added up.
func expectedSum(_ count: Int) -> Int { count * (count + 1) / 2 }

/// Exits non-zero when a receiver got the wrong items: a broken channel must not look fast.
func check(_ sum: Int, _ count: Int, _ what: String) {
    guard sum != expectedSum(count) else { return }
    fail("\(what): wrong sum \(sum), expected \(expectedSum(count))")
}

/// Says why on stderr and exits non-zero.
func fail(_ why: String) -> Never {
    diagnose(why)
    exit(1)
}

/// One figure on stdout, written straight to the descriptor so that it is flushed at once.
func emit(_ line: String) { writeAll(1, line + "\n") }

/// Diagnostics go to stderr (Glibc's `stderr` global cannot be used in Swift 6 mode).
func diagnose(_ line: String) { writeAll(2, line + "\n") }

private func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        bytes = bytes.dropFirst(written)
    }
}

/// Runs `body` on a new plain OS thread (not one of the concurrency pool's) and returns its
/// result once it is done, without blocking a pool thread on pthread_join.
///
/// Nonisolated on purpose: the C start routine below must not be inferred main-actor isolated,
/// since the new thread is not the main actor's and would trap.
func onNewThread<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
        startDetachedThread {
            continuation.resume(returning: body())
        }
    }
}

private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

private func startDetachedThread(_ run: @escaping @Sendable () -> Void) {
    let context = Unmanaged.passRetained(ThreadBody(run)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, context)
    guard status == 0 else { fail("pthread_create failed: \(status)") }
    pthread_detach(thread)
}
