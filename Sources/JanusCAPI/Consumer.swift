import CJanus
import Glibc
import JanusCore
import Synchronization

/// The Swift tasks behind a `janus_consumer *`: each awaits items on the queue's async face,
/// passes them to the C callback and marks them done.
final class Consumer: Sendable {
    let queue: CQueue
    let callback: ConsumeCallback
    /// Set once the consumer is to take no further item (fn said stop, or cancel).
    let stopping = StopFlag()
    /// One unfinished task while the consumer runs: `join` on it is `janus_consumer_wait`,
    /// reusing the queue's own waiting machinery for C threads.
    let finished = JanusQueue<UInt8>()
    /// The parent of the consumer's tasks. Written once in `start`, before the handle is returned
    /// to C; read only by `cancel` calls that C makes with that handle.
    nonisolated(unsafe) private var parent: Task<Void, Never>?
    // nonisolated(unsafe): the one write happens before `janus_consume_async` returns the handle,
    // and every read is a C call made with that handle afterwards, ordered after the write by
    // whatever the C program used to pass the handle on. The tasks themselves never read it: a
    // task that says stop goes through its task group instead.

    /// Tests only: called just before (false) and just after (true) the stop mark is set, so a
    /// test can stretch the moment between `fn` returning and the mark (as a preempted thread
    /// would) and see when the mark was set.
    let stopHook: (@Sendable (_ marked: Bool) -> Void)?

    init(queue: CQueue, callback: ConsumeCallback, stopHook: (@Sendable (Bool) -> Void)? = nil) {
        self.queue = queue
        self.callback = callback
        self.stopHook = stopHook
    }

    func start(tasks count: Int) {
        try? finished.sync.putNowait(0)
        parent = Task.detached { [self] in
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<count { group.addTask { await self.run() } }
                // A task that said stop has already raised the flag; cancelling the others
                // ends the waits they are in.
                for await saidStop in group where saidStop { group.cancelAll() }
            }
            try? finished.sync.taskDone()
        }
    }

    /// One consumer task. Returns true when `fn` said stop.
    ///
    /// The stop contract of janus.h ("Stopping"): the task whose `fn` said stop raises
    /// `stopping` as its first step; every task looks at `stopping` after taking an item and
    /// before calling `fn`, so once it is raised each other task calls `fn` at most once more
    /// (for an item whose look came first), and an item taken after it goes to `destroy`.
    private func run() async -> Bool {
        let queue = self.queue
        while !stopping.isSet {
            let item: CItem
            if let taken = queue.fastGet() {
                item = taken  // the common case while items are queued: no await at all
            } else {
                switch await queue.taskGet(.until(nil)) {
                case .success(let taken): item = taken
                case .failure: return false  // shut down and drained, or cancelled: nothing taken
                }
            }
            if stopping.isSet {
                // Taken just as a task said stop: never nowhere (janus.h), and never to fn after
                // a stop.
                queue.onDiscard?(item)
                queue.markTasksDone(1)
                return false
            }
            let verdict = callback.call(item)
            if verdict != 0 {
                stopHook?(false)
                stopping.set()  // the first step: from here no sibling hands a new item to fn
                stopHook?(true)
                queue.markTasksDone(1)
                return true
            }
            queue.markTasksDone(1)
        }
        return false
    }

    func cancel() {
        stopping.set()
        parent?.cancel()
    }
}

/// The C callback and its context.
///
/// @unchecked Sendable: a C function pointer is immutable, and janus.h requires `fn` and `ctx`
/// to be safe to use from several threads at once (they run on Swift concurrency threads).
struct ConsumeCallback: @unchecked Sendable {
    let fn: janus_consume_fn
    let ctx: UnsafeMutableRawPointer?

    func call(_ item: CItem) -> Int32 { fn(item.raw, ctx) }
}

/// A flag that goes from false to true once.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// `janus_consume_async` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_consume_async")
public func janus_consume_async(
    _ q: OpaquePointer?, _ fn: janus_consume_fn?, _ ctx: UnsafeMutableRawPointer?, _ tasks: Int
) -> OpaquePointer? {
    guard let q, let fn, tasks > 0 else {
        errno = EINVAL
        return nil
    }
    let queue = CQueue.fromCHandle(q)
    guard tasksMayStart(on: queue) else { return nil }
    let consumer = Consumer(queue: queue, callback: ConsumeCallback(fn: fn, ctx: ctx))
    consumer.start(tasks: tasks)
    return OpaquePointer(Unmanaged.passRetained(consumer).toOpaque())
}

/// `janus_consumer_wait` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_consumer_wait")
public func janus_consumer_wait(_ c: OpaquePointer?, _ timeout_ms: Int64) -> janus_status {
    guard let c else { return JANUS_EINVAL }
    let consumer = Unmanaged<Consumer>.fromOpaque(UnsafeRawPointer(c)).takeUnretainedValue()
    guard consumer.finished.madeInThisProcess else { return JANUS_EFORK }  // the parent's tasks
    guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
    return janus_status(consumer.finished.threadJoin(wait))
}

/// `janus_consumer_cancel` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_consumer_cancel")
public func janus_consumer_cancel(_ c: OpaquePointer?) {
    guard let c else { return }
    let consumer = Unmanaged<Consumer>.fromOpaque(UnsafeRawPointer(c)).takeUnretainedValue()
    if consumer.finished.madeInThisProcess { consumer.cancel() }
}

/// `janus_consumer_free` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_consumer_free")
public func janus_consumer_free(_ c: OpaquePointer?) {
    guard let c else { return }
    // The parent's consumer in a forked child: its tasks are not here to stop or wait for.
    guard Unmanaged<Consumer>.fromOpaque(UnsafeRawPointer(c)).takeUnretainedValue().finished.madeInThisProcess
    else { return }
    let consumer = Unmanaged<Consumer>.fromOpaque(UnsafeRawPointer(c)).takeRetainedValue()
    consumer.cancel()
    _ = consumer.finished.threadJoin(.until(nil))
}
