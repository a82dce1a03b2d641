import CJanus
import Glibc
import JanusCore

/// The Swift task behind a `janus_producer *`: it asks the C callback for items and awaits the
/// async put of each, so a full queue holds it back.
final class Producer: Sendable {
    let queue: CQueue
    let callback: ProduceCallback
    /// Set by `cancel`: an atomic load per item, where `Task.isCancelled` is a runtime call.
    let stopping = StopFlag()
    /// One unfinished task while the producer runs: `join` on it is `janus_producer_wait`.
    let finished = JanusQueue<UInt8>()
    /// Written once in `start`, before the handle reaches C.
    nonisolated(unsafe) private var task: Task<Void, Never>?
    // nonisolated(unsafe): assigned only in `start`, before any other thread can see the
    // producer; afterwards only read by cancel.

    init(queue: CQueue, callback: ProduceCallback) {
        self.queue = queue
        self.callback = callback
    }

    func start() {
        try? finished.sync.putNowait(0)
        task = Task.detached { [self] in
            await run()
            try? finished.sync.taskDone()
        }
    }

    private func run() async {
        let queue = self.queue
        while !stopping.isSet {
            guard let item = callback.next() else { return }
            // While there is room and nobody waits: a plain call, no await (an async call costs
            // an executor check per item).
            if queue.fastPut(item) { continue }
            if case .failure = await queue.taskPut(item, .until(nil)) {
                // Not inserted (shut down or cancelled): the item is still ours to dispose of.
                queue.onDiscard?(item)
                return
            }
        }
    }

    /// Stops the loop before its next item; a put it is waiting in ends with `.cancelled`.
    func cancel() {
        stopping.set()
        task?.cancel()
    }
}

/// The C callback and its context.
///
/// @unchecked Sendable: a C function pointer is immutable; janus.h requires `ctx` to be usable
/// from the producer's task, which runs on Swift concurrency threads.
struct ProduceCallback: @unchecked Sendable {
    let fn: janus_produce_fn
    let ctx: UnsafeMutableRawPointer?

    /// The next item, or nil when the callback says stop.
    func next() -> CItem? {
        var item: UnsafeMutableRawPointer?
        return fn(&item, ctx) == JANUS_OK ? CItem(item) : nil
    }
}

/// `janus_produce_async` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_produce_async")
public func janus_produce_async(
    _ q: OpaquePointer?, _ fn: janus_produce_fn?, _ ctx: UnsafeMutableRawPointer?
) -> OpaquePointer? {
    guard let q, let fn else {
        errno = EINVAL
        return nil
    }
    let queue = CQueue.fromCHandle(q)
    guard tasksMayStart(on: queue) else { return nil }
    let producer = Producer(queue: queue, callback: ProduceCallback(fn: fn, ctx: ctx))
    producer.start()
    return OpaquePointer(Unmanaged.passRetained(producer).toOpaque())
}

/// `janus_producer_wait` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_producer_wait")
public func janus_producer_wait(_ p: OpaquePointer?, _ timeout_ms: Int64) -> janus_status {
    guard let p else { return JANUS_EINVAL }
    let producer = Unmanaged<Producer>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    guard producer.finished.madeInThisProcess else { return JANUS_EFORK }  // the parent's task
    guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
    return janus_status(producer.finished.threadJoin(wait))
}

/// `janus_producer_cancel` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_producer_cancel")
public func janus_producer_cancel(_ p: OpaquePointer?) {
    guard let p else { return }
    let producer = Unmanaged<Producer>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    if producer.finished.madeInThisProcess { producer.cancel() }
}

/// `janus_producer_free` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_producer_free")
public func janus_producer_free(_ p: OpaquePointer?) {
    guard let p else { return }
    // The parent's producer in a forked child: its task is not here to stop or wait for.
    guard Unmanaged<Producer>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue().finished.madeInThisProcess
    else { return }
    let producer = Unmanaged<Producer>.fromOpaque(UnsafeRawPointer(p)).takeRetainedValue()
    producer.cancel()
    _ = producer.finished.threadJoin(.until(nil))
}
