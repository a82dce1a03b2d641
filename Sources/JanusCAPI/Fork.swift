import CJanusShims
import Glibc
import JanusCore

// What the C library does in a process forked from one that used janus (janus.h, "fork").

/// Whether Swift tasks may start for `queue` here; sets errno to ECHILD when not.
///
/// Not when `queue` is the parent's, and not when this process, or one it was forked from, may
/// have started Swift concurrency's threads before a fork: the child has the thread pool's
/// bookkeeping but none of its threads, and a task started there may never run. Otherwise the
/// process is marked as one that starts tasks, before the first one starts, so that its own
/// children know.
func tasksMayStart(on queue: CQueue) -> Bool {
    guard queue.madeInThisProcess, shim_tasks_inherited() == 0 else {
        errno = ECHILD
        return false
    }
    shim_note_tasks_started()
    return true
}
