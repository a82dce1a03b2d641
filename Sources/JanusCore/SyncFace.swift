/// The blocking face of a ``JanusQueue`` (janus `sync_q`): for OS threads.
///
/// Waiting calls block the calling thread and are unavailable from async code: a blocked
/// Swift concurrency thread would starve the tasks that could wake it. Use ``JanusQueue/async``
/// there. Every call is safe from any thread at any time.
///
/// Timeouts: `nil` waits forever, `.zero` does not wait (like the `Nowait` forms), a positive
/// duration waits at most that long on a monotonic clock, a negative one throws
/// `.invalidArgument`.
public struct SyncFace<Element: Sendable>: Sendable {
    /// The queue this face belongs to.
    public let queue: JanusQueue<Element>

    @inlinable init(queue: JanusQueue<Element>) { self.queue = queue }

    /// Puts `item`, waiting while the queue is full.
    /// - Throws: `.full` if no room came in time; `.shutDown` if the queue is (or gets) shut
    ///   down, even if there is room: the item is then not inserted.
    @available(*, noasync, message: "blocks the thread; use queue.async.put from async code")
    @inlinable public func put(_ item: Element, timeout: Duration? = nil) throws(QueueError) {
        try queue.threadPut(item, ThreadWait(timeout)).get()
    }

    /// Puts `item` if there is room now. - Throws: `.full`, `.shutDown`.
    @inlinable public func putNowait(_ item: Element) throws(QueueError) {
        try queue.threadPut(item, .noWait).get()
    }

    /// Removes and returns the next item, waiting while the queue is empty.
    /// - Throws: `.empty` if no item came in time; `.shutDown` once the queue is shut down and
    ///   has no items left (after an immediate shutdown, at once).
    @available(*, noasync, message: "blocks the thread; use queue.async.get from async code")
    @inlinable public func get(timeout: Duration? = nil) throws(QueueError) -> Element {
        try queue.threadGet(ThreadWait(timeout)).get()
    }

    /// Returns the next item if there is one now. - Throws: `.empty`, `.shutDown`.
    @inlinable public func getNowait() throws(QueueError) -> Element {
        try queue.threadGet(.noWait).get()
    }

    /// The next item, left in the queue (culsans `peek`), waiting while the queue is empty. A
    /// snapshot: a get on another thread may take that item at once.
    /// - Throws: `.empty` if no item came in time; `.shutDown` once shut down with nothing left.
    /// A FIFO queue that is peeked at leaves its lock-free path for good (LIFO-like speed).
    @available(*, noasync, message: "blocks the thread; use queue.async.peek from async code")
    @inlinable public func peek(timeout: Duration? = nil) throws(QueueError) -> Element {
        try queue.threadPeek(ThreadWait(timeout)).get()
    }

    /// The next item if there is one now, left in the queue. - Throws: `.empty`, `.shutDown`.
    @inlinable public func peekNowait() throws(QueueError) -> Element {
        try queue.threadPeek(.noWait).get()
    }

    /// Puts the items in order, sharing one timeout, and stops at the first that cannot go in.
    /// - Throws: ``PutManyError`` saying why and how many went in (a prefix of `items`).
    @available(*, noasync, message: "blocks the thread; use queue.async.putMany from async code")
    @inlinable public func putMany(_ items: [Element], timeout: Duration? = nil) throws(PutManyError) {
        let wait: ThreadWait
        do { wait = try ThreadWait(timeout) } catch { throw PutManyError(reason: error, inserted: 0) }
        let (inserted, error) = items.withUnsafeBufferPointer { queue.threadPutMany($0, wait) }
        if let error { throw PutManyError(reason: error, inserted: inserted) }
    }

    /// Waits (up to `timeout`) for at least one item, then takes up to `max` without waiting
    /// more. All items are taken under as few lock acquisitions as possible.
    /// - Throws: `.empty`, `.shutDown`, as ``get(timeout:)``; `.invalidArgument` if `max < 1`.
    @available(*, noasync, message: "blocks the thread; use queue.async.getMany from async code")
    @inlinable public func getMany(max: Int, timeout: Duration? = nil) throws(QueueError) -> [Element] {
        guard max > 0 else { throw .invalidArgument }
        let wait = try ThreadWait(timeout)
        var failure: QueueError?
        // The first chunk in one lock acquisition; more, if there is more, in further chunks.
        let firstChunk = Swift.min(max, 256)
        var items = [Element](unsafeUninitializedCapacity: firstChunk) { buffer, initialized in
            switch queue.threadGetMany(into: buffer, wait) {
            case .success(let count): initialized = count
            case .failure(let error):
                initialized = 0
                failure = error
            }
        }
        if let failure { throw failure }
        if items.count == firstChunk { queue.takeAvailable(into: &items, upTo: max) }
        return items
    }

    /// Marks one item as processed (janus `task_done`).
    /// - Throws: `.invalidArgument` if called more times than items were put; nothing changes.
    @inlinable public func taskDone() throws(QueueError) {
        try queue.markTaskDone().get()
    }

    /// Waits until every item put has been marked done (returns at once when none is pending).
    /// - Throws: `.timedOut` if that did not happen in time.
    @available(*, noasync, message: "blocks the thread; use queue.async.join from async code")
    @inlinable public func join(timeout: Duration? = nil) throws(QueueError) {
        try queue.threadJoin(ThreadWait(timeout)).get()
    }

    /// Waits until the queue is shut down and no caller is still inside a waiting call.
    /// - Throws: `.misuse` if the queue is not shut down; `.timedOut`.
    @available(*, noasync, message: "blocks the thread; use queue.async.waitClosed from async code")
    @inlinable public func waitClosed(timeout: Duration? = nil) throws(QueueError) {
        try queue.threadWaitClosed(ThreadWait(timeout)).get()
    }

    /// The number of queued items (janus `qsize`).
    @inlinable public var count: Int { queue.count }
    /// True when no item is queued.
    @inlinable public var isEmpty: Bool { queue.isEmpty }
    /// True when `0 < maxsize <= count`.
    @inlinable public var isFull: Bool { queue.isFull }
    /// The most items the queue holds; 0 means unbounded.
    @inlinable public var maxsize: Int { queue.maxsize }
    /// Items put and not yet marked done.
    @inlinable public var unfinishedTasks: Int { queue.unfinishedTasks }
}
