/// The lock-free storage of a FIFO queue: a ring for bounded queues, a list of blocks for
/// unbounded ones. Both offer the same operations; the queue switches on the case, a branch that
/// is the same for every call on one queue and so predicted for free.
@usableFromInline
enum Lane<Element> {
    case bounded(BoundedLane<Element>)
    case unbounded(UnboundedLane<Element>)

    /// Queues above this bound use the locked buffer instead: a ring preallocates its slots, and
    /// `maxsize` is a limit, not a preallocation (SPEC §5). 4096 slots of a pointer are 64 KiB.
    @inlinable static var boundedLimit: Int { 4096 }

    /// The lane for a FIFO queue of `maxsize` (0: unbounded), or nil for the locked buffer.
    @inlinable static func make(maxsize: Int) -> Lane? {
        if maxsize <= 0 { return .unbounded(UnboundedLane()) }
        if maxsize <= boundedLimit { return .bounded(BoundedLane(capacity: maxsize)) }
        return nil
    }

    @inline(__always)
    @inlinable func push(_ item: Element) -> LanePush {
        switch self {
        case .bounded(let lane): lane.push(item)
        case .unbounded(let lane): lane.push(item)
        }
    }

    @inline(__always)
    @inlinable func pop() -> Element? {
        switch self {
        case .bounded(let lane): lane.pop()
        case .unbounded(let lane): lane.pop()
        }
    }

    /// Puts a prefix of `items`; returns its length (short: full or closed).
    @inlinable func push(contentsOf items: UnsafeBufferPointer<Element>) -> Int {
        switch self {
        case .bounded(let lane): lane.push(contentsOf: items)
        case .unbounded(let lane): lane.push(contentsOf: items)
        }
    }

    /// Takes up to `buffer.count` items into the front of `buffer`; returns how many.
    @inlinable func pop(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        switch self {
        case .bounded(let lane): lane.pop(into: buffer)
        case .unbounded(let lane): lane.pop(into: buffer)
        }
    }

    /// Hints for spinning waiters (see the lanes): poll these, then try the real operation.
    @inline(__always)
    @inlinable var mayPop: Bool {
        switch self {
        case .bounded(let lane): lane.mayPop
        case .unbounded: true
        }
    }

    @inline(__always)
    @inlinable var mayPush: Bool {
        switch self {
        case .bounded(let lane): lane.mayPush
        case .unbounded: true
        }
    }

    /// About `run` items queued (`JanusQueue.spinGet`).
    @inline(__always)
    @inlinable func mayPop(run: Int) -> Bool {
        switch self {
        case .bounded(let lane): run > 1 ? lane.mayPop(run: run) : lane.mayPop
        case .unbounded(let lane): run > 1 ? lane.mayPop(run: run) : true
        }
    }

    /// How many items a get that streams behind its put waits for (`JanusQueue.spinGet`): as
    /// many as a put waits room for, or a block's worth.
    @inlinable var popRun: Int {
        switch self {
        case .bounded(let lane): lane.pushRun
        case .unbounded: UnboundedLane<Element>.itemsPerBlock
        }
    }

    /// Room for about `run` items (`BoundedLane.pushRun`).
    @inline(__always)
    @inlinable func mayPush(run: Int) -> Bool {
        switch self {
        case .bounded(let lane): run > 1 ? lane.mayPush(run: run) : lane.mayPush
        case .unbounded: true
        }
    }

    @inlinable var pushRun: Int {
        switch self {
        case .bounded(let lane): lane.pushRun
        case .unbounded: 1
        }
    }

    @inlinable var count: Int {
        switch self {
        case .bounded(let lane): lane.count
        case .unbounded(let lane): lane.count
        }
    }

    @inlinable var pushCount: Int {
        switch self {
        case .bounded(let lane): lane.pushCount
        case .unbounded(let lane): lane.pushCount
        }
    }

    /// Slots allocated for items: a snapshot.
    @inlinable var storageSlots: Int {
        switch self {
        case .bounded(let lane): lane.capacity
        case .unbounded(let lane): lane.storageSlots
        }
    }

    @inlinable func close() {
        switch self {
        case .bounded(let lane): lane.close()
        case .unbounded(let lane): lane.close()
        }
    }

    /// Takes every item out, in order, at once (see the lanes' `drainAfterClose`), waiting for
    /// puts in flight, and gives back the memory kept for reuse. Call after `close`: no put
    /// comes after, and no get can take an item from the middle of it.
    @inlinable func drain() -> [Element] {
        switch self {
        case .bounded(let lane):
            return lane.drainAfterClose()
        case .unbounded(let lane):
            let items = lane.drainAfterClose()
            lane.freeSpares()
            return items
        }
    }

    /// Reopens a closed and drained lane (`BoundedLane.reopen`); false, and nothing done, for
    /// the unbounded lane. That one's drain stores `headBlock` after it moves `head` (safe only
    /// while the tail stays closed), and frees blocks and spares: a get that loaded the new
    /// `head` but the old `headBlock` would use a retired block once puts came back. So an
    /// unbounded queue that left its lane stays off it.
    @inlinable func reopen() -> Bool {
        switch self {
        case .bounded(let lane):
            lane.reopen()
            return true
        case .unbounded:
            return false
        }
    }

    @inlinable func deallocate() {
        switch self {
        case .bounded(let lane): lane.deallocate()
        case .unbounded(let lane): lane.deallocate()
        }
    }
}
