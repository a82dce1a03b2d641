/// How long a thread may wait, from the public `Duration?` convention: nil = forever,
/// zero = do not wait, positive = at most that long, negative = invalid (SPEC §2).
@usableFromInline
package enum ThreadWait {
    case noWait
    case until(MonotonicDeadline?)  // nil: forever

    @inlinable package init(_ timeout: Duration?) throws(QueueError) {
        guard let timeout else {
            self = .until(nil)
            return
        }
        if timeout < .zero { throw .invalidArgument }
        self = timeout == .zero ? .noWait : .until(MonotonicDeadline.after(timeout))
    }
}

/// The same convention for tasks: nil = no timeout.
@usableFromInline
package enum TaskWait {
    case noWait
    case until(Duration?)

    @inlinable package init(_ timeout: Duration?) throws(QueueError) {
        guard let timeout else {
            self = .until(nil)
            return
        }
        if timeout < .zero { throw .invalidArgument }
        if timeout == .zero {
            self = .noWait
        } else {
            // A timeout of centuries is no timeout, and must not overflow the sleep.
            self = .until(timeout >= MonotonicDeadline.forever ? nil : timeout)
        }
    }
}

extension ThreadWait {
    /// The C convention: `JANUS_NO_WAIT` (0), `JANUS_WAIT_FOREVER` (-1), or positive
    /// milliseconds; other negatives are invalid.
    @inlinable package init(milliseconds: Int64) throws(QueueError) {
        switch milliseconds {
        case -1: self = .until(nil)
        case 0: self = .noWait
        case 1...: self = .until(MonotonicDeadline.after(.milliseconds(milliseconds)))
        default: throw .invalidArgument
        }
    }
}
