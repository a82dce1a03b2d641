import CJanus
public import JanusCore

/// An item of a queue made by the C library: the caller's `void *`, carried as is.
///
/// @unchecked Sendable: the queue never dereferences the pointer; it only moves it from the
/// thread or task that put it to the one that gets it, handing over ownership as SPEC §5 says.
/// Whatever the pointer points to is the C program's to synchronize, exactly as with any C queue.
public struct CItem: @unchecked Sendable, Equatable {
    /// The C program's pointer; NULL is a valid item.
    public var raw: UnsafeMutableRawPointer?

    /// Wraps a C item.
    public init(_ raw: UnsafeMutableRawPointer?) { self.raw = raw }
}

/// The Swift queue behind a `janus_queue *`.
public typealias CQueue = JanusQueue<CItem>

extension JanusQueue where Element == CItem {
    /// The queue behind a `janus_queue *` made by C, for Swift code that serves it with the async
    /// face (for example C threads put, a Swift library awaits). One queue object, no copies.
    /// The handle must stay valid (not freed) while the returned reference is used to start
    /// calls; the reference keeps the object itself alive.
    public static func fromCHandle(_ handle: OpaquePointer) -> CQueue {
        Unmanaged<CQueue>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}

/// Turns a C handle into the queue it stands for, for the length of one call.
///
/// The C caller's handle reference keeps the queue alive for every call that starts before
/// `janus_queue_free` (the contract of janus.h), and a thread that blocks inside takes its own
/// reference while it waits (see `JanusQueue` parking), so no retain is needed here.
///
/// A queue made before this process was forked from its parent is the parent's (janus.h, "fork"):
/// no call touches it; this one answers `fallback` (the snapshots' 0 / false).
@inline(__always)
func withQueue<R>(_ handle: OpaquePointer?, orElse fallback: R, _ body: (CQueue) -> R) -> R {
    guard let handle else { return fallback }
    return Unmanaged<CQueue>.fromOpaque(UnsafeRawPointer(handle))._withUnsafeGuaranteedRef { queue in
        queue.madeInThisProcess ? body(queue) : fallback
    }
}

/// `withQueue` for the calls that answer a status: `fallback` for a NULL handle, `JANUS_EFORK`
/// for a queue of the parent's.
@inline(__always)
func withQueue(_ handle: OpaquePointer?, orElse fallback: janus_status, _ body: (CQueue) -> janus_status)
    -> janus_status
{
    guard let handle else { return fallback }
    return Unmanaged<CQueue>.fromOpaque(UnsafeRawPointer(handle))._withUnsafeGuaranteedRef { queue in
        queue.madeInThisProcess ? body(queue) : JANUS_EFORK
    }
}

/// The callbacks of `janus_options`, kept for the queue's lifetime.
///
/// @unchecked Sendable: C function pointers are immutable, and `ctx` is the C program's pointer,
/// which janus.h requires to be usable from any thread (destroy and compare run on the threads
/// that call into the queue).
struct CCallbacks: @unchecked Sendable {
    var destroy: janus_destroy_fn?
    var compare: janus_compare_fn?
    var ctx: UnsafeMutableRawPointer?

    func ordering(_ kind: janus_kind) -> QueueOrdering<CItem>? {
        switch kind {
        case JANUS_FIFO: return .fifo
        case JANUS_LIFO: return .lifo
        case JANUS_PRIORITY:
            if let compare {
                return .priority(by: { a, b in compare(a.raw, b.raw, self.ctx) < 0 })
            }
            return .priority(by: { a, b in Int(bitPattern: a.raw) < Int(bitPattern: b.raw) })
        default: return nil
        }
    }

    var discard: (@Sendable (CItem) -> Void)? {
        guard let destroy else { return nil }
        return { item in destroy(item.raw, self.ctx) }
    }
}
