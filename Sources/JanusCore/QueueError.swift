/// Why a queue operation did not do what was asked. Each case maps to one C status of SPEC §5.
public enum QueueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A get found no item: the queue is empty and the caller would not wait, or its timeout
    /// passed (janus raises `Empty` in both cases). C: `JANUS_EMPTY`.
    case empty
    /// A put found no room: the queue is full and the caller would not wait, or its timeout
    /// passed. The item was not inserted. C: `JANUS_FULL`.
    case full
    /// A `join` or `waitClosed` did not finish before its timeout. C: `JANUS_TIMEOUT`.
    case timedOut
    /// The queue was shut down (SPEC §3); takes precedence over `empty` and `full`.
    /// C: `JANUS_SHUTDOWN`.
    case shutDown
    /// A bad argument (a negative timeout, more `taskDone` calls than items); nothing changed.
    /// C: `JANUS_EINVAL`.
    case invalidArgument
    /// A call that makes no sense in the queue's state (`waitClosed` before shutdown).
    /// C: `JANUS_EMISUSE`.
    case misuse
    /// The waiting task was cancelled. A cancelled get took no item and a cancelled put
    /// inserted nothing. (C callers never see this; their consumers simply stop.)
    case cancelled
    /// The operating system refused a resource the call needed, with this `errno` (a readiness
    /// descriptor when the process is out of them: `EMFILE`). Nothing changed. C: `JANUS_ESYS`,
    /// with `errno` set.
    case systemError(Int32)

    /// A short English phrase, like the C library's `janus_strerror`.
    @inlinable public var description: String {
        switch self {
        case .empty: "queue is empty"
        case .full: "queue is full"
        case .timedOut: "timed out"
        case .shutDown: "queue is shut down"
        case .invalidArgument: "invalid argument"
        case .misuse: "misuse of the queue"
        case .cancelled: "task was cancelled"
        case .systemError(let code): "the system refused a resource (errno \(code))"
        }
    }
}

/// The error of a batch put that stopped early: `inserted` items (a prefix) went in.
public struct PutManyError: Error, Sendable, Equatable {
    /// Why the batch stopped: `.full`, `.shutDown`, `.cancelled` or `.invalidArgument`.
    public var reason: QueueError
    /// How many items from the front of the batch were put.
    public var inserted: Int

    /// Creates the error of a batch put that stopped after `inserted` items for `reason`.
    @inlinable public init(reason: QueueError, inserted: Int) {
        self.reason = reason
        self.inserted = inserted
    }
}
