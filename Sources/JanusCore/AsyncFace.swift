/// The async face of a ``JanusQueue`` (janus `async_q`): for Swift concurrency tasks.
///
/// Waiting calls suspend the task and never block a thread. Cancellation is clean: a cancelled
/// get takes no item, a cancelled put inserts nothing (both throw `.cancelled`); a waiter that
/// an item reached just before it was cancelled returns that item. Tasks on any executor and
/// threads on the blocking face share one first-come-first-served order.
///
/// Timeouts (janus has none): `nil` waits until served or cancelled, `.zero` does not wait, a
/// positive duration waits at most that long, a negative one throws `.invalidArgument`.
public struct AsyncFace<Element: Sendable>: Sendable {
    /// The queue this face belongs to.
    public let queue: JanusQueue<Element>

    @inlinable init(queue: JanusQueue<Element>) { self.queue = queue }

    /// Puts `item`, suspending while the queue is full.
    /// - Throws: `.full` (timeout), `.shutDown`, `.cancelled`. On any error the item was not
    ///   inserted.
    @inlinable
    nonisolated(nonsending)
        public func put(_ item: Element, timeout: Duration? = nil) async throws(QueueError)
    {
        // Nonsending, so that a put that finds room is a plain call on the caller's executor;
        // one that must wait hops to the generic executor in `taskPut`, as before.
        if timeout.map({ $0 >= .zero }) ?? true, queue.fastPut(item) { return }
        try await queue.taskPut(item, TaskWait(timeout)).get()
    }

    /// Puts `item` if there is room now. - Throws: `.full`, `.shutDown`.
    @inlinable public func putNowait(_ item: Element) throws(QueueError) {
        try queue.threadPut(item, .noWait).get()
    }

    /// Removes and returns the next item, suspending while the queue is empty.
    /// - Throws: `.empty` (timeout), `.shutDown` once shut down with no items left,
    ///   `.cancelled` (no item was taken).
    @inlinable
    nonisolated(nonsending)
        public func get(timeout: Duration? = nil) async throws(QueueError) -> Element
    {
        // As `put`: an item that is there is taken with a plain call.
        if timeout.map({ $0 >= .zero }) ?? true, let item = queue.fastGet() { return item }
        return try await queue.taskGet(TaskWait(timeout)).get()
    }

    /// Returns the next item if there is one now. - Throws: `.empty`, `.shutDown`.
    @inlinable public func getNowait() throws(QueueError) -> Element {
        try queue.threadGet(.noWait).get()
    }

    /// The next item, left in the queue (culsans `peek`), suspending while the queue is empty. A
    /// snapshot: another caller may take that item at once.
    /// - Throws: `.empty` (timeout), `.shutDown` once shut down with nothing left, `.cancelled`.
    /// A FIFO queue that is peeked at leaves its lock-free path for good (LIFO-like speed).
    @inlinable public func peek(timeout: Duration? = nil) async throws(QueueError) -> Element {
        try await queue.taskPeek(TaskWait(timeout)).get()
    }

    /// The next item if there is one now, left in the queue. - Throws: `.empty`, `.shutDown`.
    @inlinable public func peekNowait() throws(QueueError) -> Element {
        try queue.threadPeek(.noWait).get()
    }

    /// Puts the items in order, sharing one timeout; stops at the first that cannot go in.
    /// - Throws: ``PutManyError`` with the reason and how many items (a prefix) went in.
    @inlinable public func putMany(_ items: some Sequence<Element>, timeout: Duration? = nil) async throws(PutManyError)
    {
        let wait: TaskWait
        do { wait = try TaskWait(timeout) } catch { throw PutManyError(reason: error, inserted: 0) }
        let (inserted, error) = await queue.taskPutMany(items, wait)
        if let error { throw PutManyError(reason: error, inserted: inserted) }
    }

    /// Waits for at least one item, then takes up to `max` without waiting more.
    /// - Throws: as ``get(timeout:)``; `.invalidArgument` if `max < 1`.
    @inlinable public func getMany(max: Int, timeout: Duration? = nil) async throws(QueueError) -> [Element] {
        guard max > 0 else { throw .invalidArgument }
        return try await queue.taskGetMany(max: max, TaskWait(timeout)).get()
    }

    /// Marks one item as processed. - Throws: `.invalidArgument` when nothing is unfinished.
    @inlinable public func taskDone() throws(QueueError) {
        try queue.markTaskDone().get()
    }

    /// Waits until every item put has been marked done.
    /// - Throws: `.timedOut`, `.cancelled`.
    @inlinable public func join(timeout: Duration? = nil) async throws(QueueError) {
        try await queue.taskJoin(TaskWait(timeout)).get()
    }

    /// Waits until the queue is shut down and no caller is still inside a waiting call.
    /// - Throws: `.misuse` if the queue is not shut down; `.timedOut`; `.cancelled`.
    @inlinable public func waitClosed(timeout: Duration? = nil) async throws(QueueError) {
        try await queue.taskWaitClosed(TaskWait(timeout)).get()
    }

    /// `close()` and then `waitClosed()` (janus `aclose`).
    @inlinable public func aclose() async throws(QueueError) {
        queue.close()
        try await waitClosed()
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

extension AsyncFace: AsyncSequence {
    /// Iteration throws only ``QueueError/cancelled``.
    public typealias Failure = QueueError

    /// Iterates over the items as they come: each step is a ``AsyncFace/get(timeout:)``. The
    /// sequence ends when the queue is shut down and drained, and throws `.cancelled` if the
    /// iterating task is cancelled while it waits. It does not call `taskDone` for you.
    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        @usableFromInline let queue: JanusQueue<Element>

        @inlinable init(queue: JanusQueue<Element>) { self.queue = queue }

        /// The next item, waiting for one; nil once the queue is shut down and drained.
        /// - Throws: `.cancelled` if the task is cancelled while it waits (no item is taken).
        @inlinable public mutating func next() async throws(QueueError) -> Element? {
            if let item = queue.fastGet() { return item }
            switch await queue.taskGet(.until(nil)) {
            case .success(let item): return item
            case .failure(.shutDown): return nil
            case .failure(let error): throw error
            }
        }

        /// As ``next()``; the queue does not depend on the caller's isolation.
        @inlinable public mutating func next(isolation actor: isolated (any Actor)?) async throws(QueueError)
            -> Element?
        {
            let queue = self.queue
            if let item = queue.fastGet() { return item }  // on the caller's executor: no hop
            switch await queue.taskGet(.until(nil)) {
            case .success(let item): return item
            case .failure(.shutDown): return nil
            case .failure(let error): throw error
            }
        }
    }

    /// An iterator that gets items from this queue.
    @inlinable public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: queue) }
}

extension JanusQueue {
    /// `close()` and then wait until no caller is inside (janus `aclose`).
    @inlinable public func aclose() async throws(QueueError) { try await async.aclose() }

    /// Waits until the queue is shut down and no caller is inside (janus `wait_closed`).
    /// - Throws: `.misuse` if not shut down.
    @inlinable public func waitClosed() async throws(QueueError) { try await async.waitClosed() }
}
