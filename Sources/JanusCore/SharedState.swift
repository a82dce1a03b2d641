import Synchronization

/// The words a queue's lock-free paths read and write outside the lock, each on a cache line of
/// its own so that a put, a get and a `taskDone` running on three cores do not invalidate each
/// other's lines.
///
/// - `flags`: what the state machine wants the lock-free paths to know (``QueueFlags``). Written
///   only under the lock, by `QueueStateMachine.publishFlags`; read by every lock-free operation,
///   so it stays in every core's cache while nobody waits.
/// - `done`: `taskDone` calls so far, plus the items an immediate shutdown discarded.
/// - `lockedPuts`: items that went in without the lane (a put handed straight to a waiting getter,
///   or any put into the locked buffer). `unfinishedTasks` is `lockedPuts + lane.pushCount - done`.
///   Written only under the lock, so it lives beside the mutex (`QueueLock.companion`).
/// - `getSpin`, `putSpin`: how long a waiting get or put spins before it registers, and
///   `getServedAt`, `putServedAt`: when a sleeping getter or putter was last served
///   (``SpinPolicy``).
@usableFromInline
struct SharedState {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let lockedPuts: UnsafeMutablePointer<Atomic<Int>>

    @inlinable static var lineSize: Int { 128 }
    @inlinable static var words: Int { 9 }

    @inlinable init(lockedPuts: UnsafeMutablePointer<Atomic<Int>>) {
        self.lockedPuts = lockedPuts
        base = .allocate(byteCount: Self.lineSize * Self.words, alignment: Self.lineSize)
        for index in 0..<Self.words { word(index).initialize(to: Atomic(0)) }
        getRun.pointee.store(1, ordering: .relaxed)
        getSpin.pointee.store(SpinPolicy.initialNanoseconds, ordering: .relaxed)
        putSpin.pointee.store(SpinPolicy.initialNanoseconds, ordering: .relaxed)
    }

    @inlinable func deallocate() {
        for index in 0..<Self.words { word(index).deinitialize(count: 1) }
        base.deallocate()
    }

    @inline(__always)
    @inlinable func word(_ index: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        (base + index * Self.lineSize).assumingMemoryBound(to: Atomic<Int>.self)
    }

    @inlinable var flags: UnsafeMutablePointer<Atomic<Int>> { word(0) }
    @inlinable var done: UnsafeMutablePointer<Atomic<Int>> { word(1) }
    /// Only an address: what ThreadSanitizer is told is released when a waiting task is resumed
    /// and acquired when it wakes (see `shim_tsan_release`).
    @inlinable var resumeAnchor: UnsafeMutableRawPointer { base + 2 * Self.lineSize }
    @inlinable var getSpin: UnsafeMutablePointer<Atomic<Int>> { word(3) }
    @inlinable var putSpin: UnsafeMutablePointer<Atomic<Int>> { word(4) }
    @inlinable var getServedAt: UnsafeMutablePointer<Atomic<Int>> { word(5) }
    @inlinable var putServedAt: UnsafeMutablePointer<Atomic<Int>> { word(6) }
    /// `maxsize` as last given, for readers outside the lock (the state machine's is the truth).
    @inlinable var maxsize: UnsafeMutablePointer<Atomic<Int>> { word(7) }
    /// Whether a spinning get waits a moment for a run of items (1: no; see `spinGet`).
    @inlinable var getRun: UnsafeMutablePointer<Atomic<Int>> { word(8) }
}

/// Which kind of wait a `SpinPolicy` budget is for.
@usableFromInline
enum WaitSide {
    case get
    case put
}

extension SharedState {
    @inlinable func spinBudget(_ side: WaitSide) -> UnsafeMutablePointer<Atomic<Int>> {
        side == .get ? getSpin : putSpin
    }

    @inlinable func servedAt(_ side: WaitSide) -> UnsafeMutablePointer<Atomic<Int>> {
        side == .get ? getServedAt : putServedAt
    }

    /// Every item that went in, through `lane` or not.
    @inlinable func totalPuts<Element>(_ lane: Lane<Element>?) -> Int {
        lockedPuts.pointee.load(ordering: .relaxed) &+ (lane?.pushCount ?? 0)
    }

    /// Items put and not yet marked done. `done` is read first: both counts only grow and a
    /// `taskDone` is always for an item already counted as put, so equal counts mean there was a
    /// moment, at that first read, when nothing was unfinished. The read of `done` is
    /// sequentially consistent: the joiner's half of the handshake in `FastPath.swift`.
    @inlinable func unfinishedTasks<Element>(_ lane: Lane<Element>?) -> Int {
        let done = done.pointee.load(ordering: .sequentiallyConsistent)
        return Swift.max(0, totalPuts(lane) &- done)
    }
}

/// The bits of `SharedState.flags`.
@usableFromInline
enum QueueFlags {
    /// A getter waits in the list: a lock-free get must not overtake it, and a lock-free put must
    /// come in to hand its item over.
    @inlinable static var getters: Int { 1 }
    /// A putter waits in the list: a lock-free put must not overtake it, and a lock-free get must
    /// come in to admit it.
    @inlinable static var putters: Int { 2 }
    /// A join waits: a `taskDone` that may have reached zero must come in to release it.
    @inlinable static var joiners: Int { 4 }
    /// The queue is shut down.
    @inlinable static var shutDown: Int { 8 }
    /// Somebody waits for an item to be there without taking it (a quiet readable descriptor,
    /// a waiting peek): a lock-free put must come in to tell them.
    @inlinable static var readable: Int { 16 }
    /// A quiet writable descriptor waits for room: a lock-free get must come in to tell it.
    @inlinable static var writable: Int { 32 }
    /// The queue left its lane for the locked buffer (`QueueStateMachine.leaveLane`): the
    /// lock-free paths have nothing to do. Cleared again when a bounded queue that left only for
    /// a select rejoins its lane (`rejoinLaneIfIdle`).
    @inlinable static var offLane: Int { 64 }

    /// What makes a lock-free put come in after it has put its item.
    @inlinable static var afterPut: Int { getters | readable }
    /// What makes a lock-free get come in after it has taken its item.
    @inlinable static var afterGet: Int { putters | writable }
    /// What keeps a put, or a get, off the lock-free path.
    @inlinable static var putsLocked: Int { putters | offLane }
    @inlinable static var getsLocked: Int { getters | offLane }
}
