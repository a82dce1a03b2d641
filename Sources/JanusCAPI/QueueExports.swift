import CJanus
import JanusCore

// The queue functions of janus.h. Each converts handles, timeouts and statuses and calls the
// core; no queue logic lives here.

/// `janus_queue_new` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_new")
public func janus_queue_new(_ kind: janus_kind, _ maxsize: Int) -> OpaquePointer? {
    var options = janus_options()
    options.kind = kind
    options.maxsize = maxsize
    return janus_queue_new_with(&options)
}

/// `janus_queue_new_with` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_new_with")
public func janus_queue_new_with(_ options: UnsafePointer<janus_options>?) -> OpaquePointer? {
    guard let options = options?.pointee else { return nil }
    let callbacks = CCallbacks(destroy: options.destroy, compare: options.compare, ctx: options.ctx)
    guard let ordering = callbacks.ordering(options.kind) else { return nil }
    // size_t arrives as Int: a limit above Int.max arrives negative and works as unbounded (no
    // queue holds 2^63 items); janus_queue_maxsize still reports it as given.
    let queue = CQueue(ordering, maxsize: options.maxsize, onDiscard: callbacks.discard)
    return OpaquePointer(Unmanaged.passRetained(queue).toOpaque())
}

/// `janus_queue_free` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_free")
public func janus_queue_free(_ q: OpaquePointer?) {
    guard let q else { return }
    // The parent's queue in a forked child: released by nobody here (its lock and its waiters
    // belong to the parent), the same as all the parent's memory the child does not use.
    guard Unmanaged<CQueue>.fromOpaque(UnsafeRawPointer(q)).takeUnretainedValue().madeInThisProcess else { return }
    let queue = Unmanaged<CQueue>.fromOpaque(UnsafeRawPointer(q)).takeRetainedValue()
    // Blocked callers (joins too) wake with JANUS_SHUTDOWN and items left go to destroy; the
    // object itself goes when the last caller, consumer or producer still holding it lets go.
    queue.abandon()
}

/// `janus_queue_put` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_put")
public func janus_queue_put(_ q: OpaquePointer?, _ item: UnsafeMutableRawPointer?, _ timeout_ms: Int64)
    -> janus_status
{
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        // The lock-free put first, before the timeout is converted (most puts need no wait);
        // only the validity check comes before it, so a bad timeout still changes nothing.
        guard timeout_ms >= JANUS_WAIT_FOREVER else { return JANUS_EINVAL }
        if queue.fastPut(CItem(item)) { return JANUS_OK }
        guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
        return janus_status(queue.threadPutSlow(CItem(item), wait))
    }
}

/// `janus_queue_get` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_get")
public func janus_queue_get(
    _ q: OpaquePointer?, _ item_out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ timeout_ms: Int64
) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        guard let item_out, timeout_ms >= JANUS_WAIT_FOREVER else { return JANUS_EINVAL }
        // The lock-free get first, as in janus_queue_put.
        if let item = queue.fastGet() {
            item_out.pointee = item.raw
            return JANUS_OK
        }
        guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
        switch queue.threadGetSlow(wait) {
        case .success(let item):
            item_out.pointee = item.raw
            return JANUS_OK
        case .failure(let error):
            return janus_status(error)
        }
    }
}

/// `janus_queue_put_many` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_put_many")
public func janus_queue_put_many(
    _ q: OpaquePointer?, _ items: UnsafePointer<UnsafeMutableRawPointer?>?, _ count: Int,
    _ put_count_out: UnsafeMutablePointer<Int>?, _ timeout_ms: Int64
) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        guard let put_count_out, items != nil || count == 0, count >= 0 else { return JANUS_EINVAL }
        guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
        put_count_out.pointee = 0
        guard let items, count > 0 else { return JANUS_OK }
        // CItem is a single pointer with the layout of `void *`.
        let buffer = UnsafeBufferPointer(
            start: UnsafeRawPointer(items).assumingMemoryBound(to: CItem.self), count: count)
        let (inserted, error) = queue.threadPutMany(buffer, wait)
        put_count_out.pointee = inserted
        return error.map(janus_status.init) ?? JANUS_OK
    }
}

/// `janus_queue_get_many` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_get_many")
public func janus_queue_get_many(
    _ q: OpaquePointer?, _ items_out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ max_count: Int,
    _ got_count_out: UnsafeMutablePointer<Int>?, _ timeout_ms: Int64
) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        guard let items_out, let got_count_out, max_count > 0 else { return JANUS_EINVAL }
        guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
        got_count_out.pointee = 0
        let buffer = UnsafeMutableBufferPointer(
            start: UnsafeMutableRawPointer(items_out).bindMemory(to: CItem.self, capacity: max_count),
            count: max_count)
        defer { UnsafeMutableRawPointer(items_out).bindMemory(to: UnsafeMutableRawPointer?.self, capacity: max_count) }
        switch queue.threadGetMany(into: buffer, wait) {
        case .success(let taken):
            got_count_out.pointee = taken
            return JANUS_OK
        case .failure(let error):
            return janus_status(error)
        }
    }
}

/// `janus_queue_task_done` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_task_done")
public func janus_queue_task_done(_ q: OpaquePointer?) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { janus_status($0.markTaskDone()) }
}

/// `janus_queue_join` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_join")
public func janus_queue_join(_ q: OpaquePointer?, _ timeout_ms: Int64) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
        return janus_status(queue.threadJoin(wait))
    }
}

/// `janus_queue_qsize` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_qsize")
public func janus_queue_qsize(_ q: OpaquePointer?) -> Int {
    withQueue(q, orElse: 0) { $0.count }
}

/// `janus_queue_empty` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_empty")
public func janus_queue_empty(_ q: OpaquePointer?) -> Bool {
    withQueue(q, orElse: false) { $0.isEmpty }
}

/// `janus_queue_full` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_full")
public func janus_queue_full(_ q: OpaquePointer?) -> Bool {
    withQueue(q, orElse: false) { $0.isFull }
}

/// `janus_queue_maxsize` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_maxsize")
public func janus_queue_maxsize(_ q: OpaquePointer?) -> Int {
    withQueue(q, orElse: 0) { $0.requestedMaxsize }
}

/// `janus_queue_unfinished_tasks` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_unfinished_tasks")
public func janus_queue_unfinished_tasks(_ q: OpaquePointer?) -> Int {
    withQueue(q, orElse: 0) { $0.unfinishedTasks }
}

/// `janus_queue_shutdown` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_shutdown")
public func janus_queue_shutdown(_ q: OpaquePointer?, _ immediate: Bool) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        queue.shutdown(immediate: immediate)
        return JANUS_OK
    }
}

/// `janus_queue_close` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_close")
public func janus_queue_close(_ q: OpaquePointer?) {
    withQueue(q, orElse: ()) { $0.close() }
}

/// `janus_queue_is_shutdown` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_is_shutdown")
public func janus_queue_is_shutdown(_ q: OpaquePointer?) -> Bool {
    withQueue(q, orElse: false) { $0.isShutdown }
}

/// `janus_queue_wait_closed` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_wait_closed")
public func janus_queue_wait_closed(_ q: OpaquePointer?, _ timeout_ms: Int64) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
        return janus_status(queue.threadWaitClosed(wait))
    }
}

/// `janus_queue_getters` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_getters")
public func janus_queue_getters(_ q: OpaquePointer?) -> Int {
    withQueue(q, orElse: 0) { $0.waitingGetters }
}

/// `janus_queue_putters` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_putters")
public func janus_queue_putters(_ q: OpaquePointer?) -> Int {
    withQueue(q, orElse: 0) { $0.waitingPutters }
}

/// `janus_queue_peek` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_peek")
public func janus_queue_peek(
    _ q: OpaquePointer?, _ item_out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ timeout_ms: Int64
) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        guard let item_out else { return JANUS_EINVAL }
        guard let wait = try? ThreadWait(milliseconds: timeout_ms) else { return JANUS_EINVAL }
        switch queue.threadPeek(wait) {
        case .success(let item):
            item_out.pointee = item.raw
            return JANUS_OK
        case .failure(let error):
            return janus_status(error)
        }
    }
}

/// `janus_queue_clear` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_clear")
public func janus_queue_clear(_ q: OpaquePointer?, _ cleared_out: UnsafeMutablePointer<Int>?) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        let cleared = queue.clear()
        cleared_out?.pointee = cleared
        return JANUS_OK
    }
}

/// `janus_queue_set_maxsize` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_set_maxsize")
public func janus_queue_set_maxsize(_ q: OpaquePointer?, _ maxsize: Int) -> janus_status {
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        // size_t arrives as Int: a limit above Int.max arrives negative, which is unbounded.
        queue.maxsize = maxsize
        return JANUS_OK
    }
}

/// `janus_queue_fd` of include/janus.h, where it is documented; callable from Swift too.
@_cdecl("janus_queue_fd")
public func janus_queue_fd(_ q: OpaquePointer?, _ what: janus_ready, _ fd_out: UnsafeMutablePointer<Int32>?)
    -> janus_status
{
    withQueue(q, orElse: JANUS_EINVAL) { queue in
        guard let fd_out else { return JANUS_EINVAL }
        let readiness: Readiness
        switch what {
        case JANUS_READABLE: readiness = .readable
        case JANUS_WRITABLE: readiness = .writable
        default: return JANUS_EINVAL
        }
        do throws(QueueError) {
            fd_out.pointee = try queue.descriptor(for: readiness)
            return JANUS_OK
        } catch {
            return janus_status(error)
        }
    }
}
