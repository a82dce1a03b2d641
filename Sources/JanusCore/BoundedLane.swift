import CJanusShims
import Synchronization

/// What a lane's push did.
@usableFromInline
enum LanePush: Equatable {
    case pushed
    /// No room: the item is still the caller's.
    case full
    /// The lane was closed at shutdown: the item is still the caller's.
    case closed
}

/// The items of a FIFO queue with `1 ... boundedLaneLimit` slots, moved by any number of
/// threads and tasks without a lock: a ring of slots, each with a stamp that says whose turn it is.
///
/// A position is a lap number and an index: `lap * oneLap + index`, where `oneLap` is a power of
/// two above `capacity`, so that the step from the last index to the next lap is an addition and
/// never a division. `tail` is the next position to put at, `head` the next to take from; the
/// tail also carries `closedBit`, set once at shutdown, after which no put reserves a slot.
///
/// A slot's stamp, for the position `p` that maps to it:
///
/// | stamp        | meaning                                   | who moves it on          |
/// |--------------|-------------------------------------------|--------------------------|
/// | `p`          | free for the put at `p`                   | that put: `p + 1`        |
/// | `p + 1`      | holds the item put at `p`                 | the get at `p`: `p + oneLap` (free for the next lap) |
///
/// A put reserves position `p` by moving `tail` from `p` to `p + 1` (compare-and-swap) only when
/// the stamp says free; it then writes the item and publishes the stamp. A get claims `p` by
/// moving `head` the same way only when the stamp says full; it then moves the item out and
/// frees the stamp for the next lap. Between the reservation and the publication (two stores) the
/// slot is "in flight": a get that finds it so, with `tail` already past it, waits for those
/// stores with `Backoff` instead of reporting empty — a put that has returned is never missed.
///
/// Memory orderings (argued for weakly ordered CPUs too):
/// - Stamp loads are acquiring and stamp stores releasing: the put's write of the item happens
///   before the get that read the stamp `p + 1` moves it out, and the get's move happens before
///   the put of the next lap, which read `p + oneLap`, writes the slot again.
/// - The reserving and claiming compare-and-swaps are sequentially consistent, and so are the
///   loads of the opposite index that decide "empty" or "full". They are one half of the
///   handshake with waiters (`FastPath.swift`): a waiter stores its flag, then looks at this lane
///   with these loads; a put or get does its compare-and-swap, then loads the flags. In the single
///   order of sequentially consistent operations one of the two comes first, so either the waiter
///   sees the reservation or the operation sees the waiter.
/// - Failed compare-and-swaps and the first index loads are relaxed: they only pick a candidate
///   position that the stamp (acquiring) and the compare-and-swap then check.
///
/// A plain struct over one allocation; the queue owns it and calls `deallocate` in its deinit.
@usableFromInline
struct BoundedLane<Element> {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    /// A power of two above `capacity`: the tail's closed mark, and one above the largest index.
    @usableFromInline let closedBit: Int
    /// The position step from one lap to the next (`2 * closedBit`), a power of two.
    @usableFromInline let oneLap: Int
    @usableFromInline let lapShift: Int

    /// `tail` and `head` on cache lines of their own (128 bytes: adjacent-line prefetchers pull
    /// pairs of 64-byte lines), so that puts and gets do not invalidate each other's index.
    @inlinable static var lineSize: Int { 128 }
    @inlinable static var elementOffset: Int {
        roundUp(MemoryLayout<Atomic<Int>>.size, MemoryLayout<Element>.alignment)
    }
    @inlinable static var slotAlignment: Int {
        Swift.max(MemoryLayout<Atomic<Int>>.alignment, MemoryLayout<Element>.alignment)
    }
    @inlinable static var slotStride: Int {
        roundUp(elementOffset + MemoryLayout<Element>.size, slotAlignment)
    }
    @inlinable static func roundUp(_ value: Int, _ alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }

    @inlinable init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
        var bit = 1
        while bit <= capacity { bit <<= 1 }
        closedBit = bit
        oneLap = bit << 1
        lapShift = (bit << 1).trailingZeroBitCount
        let slotBytes = capacity * Self.slotStride
        base = .allocate(
            byteCount: 2 * Self.lineSize + slotBytes,
            alignment: Swift.max(Self.lineSize, Self.slotAlignment))
        tailWord.initialize(to: Atomic(0))
        headWord.initialize(to: Atomic(0))
        for index in 0..<capacity { stamp(index).initialize(to: Atomic(index)) }
    }

    /// Frees the ring. Items still queued must have been taken out first (`drain`).
    @inlinable func deallocate() {
        tailWord.deinitialize(count: 1)
        headWord.deinitialize(count: 1)
        for index in 0..<capacity { stamp(index).deinitialize(count: 1) }
        base.deallocate()
    }

    @inlinable var tailWord: UnsafeMutablePointer<Atomic<Int>> {
        base.assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inlinable var headWord: UnsafeMutablePointer<Atomic<Int>> {
        (base + Self.lineSize).assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inline(__always)
    @inlinable func slotBase(_ index: Int) -> UnsafeMutableRawPointer {
        base + 2 * Self.lineSize + index &* Self.slotStride
    }
    @inline(__always)
    @inlinable func stamp(_ index: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        slotBase(index).assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inline(__always)
    @inlinable func element(_ index: Int) -> UnsafeMutablePointer<Element> {
        (slotBase(index) + Self.elementOffset).assumingMemoryBound(to: Element.self)
    }

    /// The position after `position`: the next index, or index 0 of the next lap.
    @inline(__always)
    @inlinable func successor(of position: Int) -> Int {
        let index = position & (closedBit &- 1)
        return index &+ 1 < capacity ? position &+ 1 : (position & ~(oneLap &- 1)) &+ oneLap
    }

    /// How many items were ever put at positions before `position` (`lap * capacity + index`).
    @inline(__always)
    @inlinable func ordinal(_ position: Int) -> Int {
        (position >> lapShift) &* capacity &+ (position & (closedBit &- 1))
    }

    /// Warms the slot two cache lines ahead of `index` for the puts to come. The gets left that
    /// slot a lap ago, so fetching it for writing now takes it from nobody who is using it, and
    /// the put that reaches it does not wait for the line.
    @inline(__always)
    @inlinable func prefetchAhead(of index: Int) {
        let ahead = index &+ Self.prefetchDistance(capacity)
        guard ahead != index else { return }
        janus_prefetch_for_write(slotBase(ahead < capacity ? ahead : ahead &- capacity))
    }

    /// Slots ahead to warm: two cache lines' worth, less in a small ring (0: none).
    @inlinable static func prefetchDistance(_ capacity: Int) -> Int {
        let twoLines = Swift.max(1, 128 / slotStride)
        return capacity > 4 * twoLines ? twoLines : 0
    }

    /// Puts `item` at the tail if there is room. Never waits for room; may wait (`Backoff`) for a
    /// get that is in the middle of freeing the slot.
    @inlinable func push(_ item: Element) -> LanePush {
        var backoff = Backoff()
        var tail = tailWord.pointee.load(ordering: .relaxed)
        while true {
            if tail & closedBit != 0 { return .closed }
            let index = tail & (closedBit &- 1)
            let seen = stamp(index).pointee.load(ordering: .acquiring)
            if seen == tail {
                let (reserved, current) = tailWord.pointee.weakCompareExchange(
                    expected: tail, desired: successor(of: tail),
                    successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed)
                if reserved {
                    element(index).initialize(to: item)
                    stamp(index).pointee.store(tail &+ 1, ordering: .releasing)
                    prefetchAhead(of: index)
                    return .pushed
                }
                tail = current
            } else if seen &+ oneLap == tail &+ 1 {
                // The slot still holds last lap's item. Full, unless a get has claimed it already
                // and is about to free it.
                let head = headWord.pointee.load(ordering: .sequentiallyConsistent)
                if head &+ oneLap == tail { return .full }
                backoff.snooze()
                tail = tailWord.pointee.load(ordering: .relaxed)
            } else {
                // Another put reserved this position since `tail` was read.
                backoff.snooze()
                tail = tailWord.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// Takes the item at the head, or nil when the lane is empty. May wait (`Backoff`) for a put
    /// that has reserved the head slot and is writing it.
    @inlinable func pop() -> Element? {
        var backoff = Backoff()
        var head = headWord.pointee.load(ordering: .relaxed)
        while true {
            let index = head & (closedBit &- 1)
            let seen = stamp(index).pointee.load(ordering: .acquiring)
            if seen == head &+ 1 {
                let (claimed, current) = headWord.pointee.weakCompareExchange(
                    expected: head, desired: successor(of: head),
                    successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed)
                if claimed {
                    let item = element(index).move()
                    stamp(index).pointee.store(head &+ oneLap, ordering: .releasing)
                    return item
                }
                head = current
            } else if seen == head {
                // Free for this lap: empty, unless a put has reserved it and is writing it.
                let tail = tailWord.pointee.load(ordering: .sequentiallyConsistent)
                if tail & ~closedBit == head { return nil }
                backoff.snooze()
                head = headWord.pointee.load(ordering: .relaxed)
            } else {
                // Another get claimed this position since `head` was read.
                backoff.snooze()
                head = headWord.pointee.load(ordering: .relaxed)
            }
        }
    }

    /// Puts a prefix of `items` at the tail, as many as there is room for, with one reservation
    /// per run of consecutive free slots (a batch costs one compare-and-swap per lap, not per
    /// item). Returns how many went in: fewer than `items.count` means the lane was full (or
    /// closed, `isClosed`).
    @inlinable func push(contentsOf items: UnsafeBufferPointer<Element>) -> Int {
        var done = 0
        var tail = tailWord.pointee.load(ordering: .relaxed)
        while done < items.count {
            if tail & closedBit != 0 { return done }
            let index = tail & (closedBit &- 1)
            let want = Swift.min(items.count - done, capacity - index)
            var free = 0
            while free < want && stamp(index &+ free).pointee.load(ordering: .acquiring) == tail &+ free {
                free &+= 1
            }
            if free == 0 {
                // Full, or a get is freeing the slot: the single-item path knows which.
                guard push(items[done]) == .pushed else { return done }
                done &+= 1
                tail = tailWord.pointee.load(ordering: .relaxed)
                continue
            }
            let next = index &+ free < capacity ? tail &+ free : (tail & ~(oneLap &- 1)) &+ oneLap
            let (reserved, current) = tailWord.pointee.weakCompareExchange(
                expected: tail, desired: next,
                successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed)
            guard reserved else {
                tail = current
                continue
            }
            for offset in 0..<free {
                element(index &+ offset).initialize(to: items[done &+ offset])
                stamp(index &+ offset).pointee.store(tail &+ offset &+ 1, ordering: .releasing)
            }
            done &+= free
            tail = next
        }
        return done
    }

    /// Takes up to `buffer.count` items from the head into the front of `buffer`, with one claim
    /// per run of consecutive full slots. Returns how many (0: empty).
    @inlinable func pop(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        var done = 0
        var head = headWord.pointee.load(ordering: .relaxed)
        while done < buffer.count {
            let index = head & (closedBit &- 1)
            let want = Swift.min(buffer.count - done, capacity - index)
            var full = 0
            while full < want && stamp(index &+ full).pointee.load(ordering: .acquiring) == head &+ full &+ 1 {
                full &+= 1
            }
            if full == 0 {
                // Empty, or a put is writing the head slot: the single-item path knows which.
                guard let item = pop() else { return done }
                (buffer.baseAddress.unsafelyUnwrapped + done).initialize(to: item)
                done &+= 1
                head = headWord.pointee.load(ordering: .relaxed)
                continue
            }
            let next = index &+ full < capacity ? head &+ full : (head & ~(oneLap &- 1)) &+ oneLap
            let (claimed, current) = headWord.pointee.weakCompareExchange(
                expected: head, desired: next,
                successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed)
            guard claimed else {
                head = current
                continue
            }
            for offset in 0..<full {
                let out = buffer.baseAddress.unsafelyUnwrapped + (done &+ offset)
                out.initialize(to: element(index &+ offset).move())
                stamp(index &+ offset).pointee.store(head &+ offset &+ oneLap, ordering: .releasing)
            }
            done &+= full
            head = next
        }
        return done
    }

    /// True when the head slot holds an item: what a spinning get polls. It reads the slot's
    /// stamp, a line the put writes anyway, and never `tail`, whose line the put's
    /// compare-and-swap would then have to fetch back on every poll. A hint only.
    @inlinable var mayPop: Bool {
        let head = headWord.pointee.load(ordering: .relaxed)
        return stamp(head & (closedBit &- 1)).pointee.load(ordering: .relaxed) == head &+ 1
    }

    /// True when the tail slot is free (or the lane closed): what a spinning put polls, for the
    /// same reason never reading `head`. A hint only.
    @inlinable var mayPush: Bool {
        let tail = tailWord.pointee.load(ordering: .relaxed)
        return tail & closedBit != 0 || stamp(tail & (closedBit &- 1)).pointee.load(ordering: .relaxed) == tail
    }

    /// True when the slot `run - 1` places after the tail is free too (or the lane closed):
    /// gets free slots in order, so then about `run` slots are free. A hint only, like `mayPush`.
    @inlinable func mayPush(run: Int) -> Bool {
        let tail = tailWord.pointee.load(ordering: .relaxed)
        if tail & closedBit != 0 { return true }
        let position = advanced(tail, by: run &- 1)
        return stamp(position & (closedBit &- 1)).pointee.load(ordering: .relaxed) == position
    }

    /// True when the slot `run - 1` places after the head holds an item too: about `run` items
    /// are queued. A hint only, like `mayPop`.
    @inlinable func mayPop(run: Int) -> Bool {
        let head = headWord.pointee.load(ordering: .relaxed)
        let position = advanced(head, by: run &- 1)
        return stamp(position & (closedBit &- 1)).pointee.load(ordering: .relaxed) == position &+ 1
    }

    /// The position `distance` (< capacity) places after `position`.
    @inline(__always)
    @inlinable func advanced(_ position: Int, by distance: Int) -> Int {
        let index = position & (closedBit &- 1)
        if index &+ distance < capacity { return position &+ distance }
        return (position & ~(oneLap &- 1)) &+ oneLap &+ (index &+ distance &- capacity)
    }

    /// How many free slots a put that found the ring full waits for before it goes on, while it
    /// spins (`SpinPolicy.runNanoseconds`): an eighth of the ring, at most 128, none in a ring
    /// of under 64 slots.
    ///
    /// Why wait for more room than one slot: a put that takes each slot the moment a get frees
    /// it writes the very cache line the get reads next, so the line crosses between the two
    /// cores for every item or two, and both sides run at the speed of that transfer (~20 M
    /// items/s on a VM, a third of what the ring moves when the two work lines apart). Waiting
    /// until a run of slots is free puts the two sides that many lines apart, where each line
    /// crosses once per lap; the next full ring comes a lap later.
    @inlinable var pushRun: Int { capacity >= 64 ? Swift.min(128, capacity / 8) : 1 }

    /// Items queued or being put right now; a snapshot.
    @inlinable var count: Int {
        while true {
            let tail = tailWord.pointee.load(ordering: .sequentiallyConsistent)
            let head = headWord.pointee.load(ordering: .sequentiallyConsistent)
            // A consistent pair: the tail did not move while the head was read.
            if tailWord.pointee.load(ordering: .sequentiallyConsistent) == tail {
                return Swift.max(0, Swift.min(capacity, ordinal(tail & ~closedBit) &- ordinal(head)))
            }
        }
    }

    /// Every put that ever reserved a slot (the put side of `unfinishedTasks`).
    @inlinable var pushCount: Int {
        ordinal(tailWord.pointee.load(ordering: .sequentiallyConsistent) & ~closedBit)
    }

    /// No put reserves a slot after this; puts already in flight complete.
    @inlinable func close() {
        tailWord.pointee.bitwiseOr(closedBit, ordering: .sequentiallyConsistent)
    }

    @inlinable var isClosed: Bool { tailWord.pointee.load(ordering: .relaxed) & closedBit != 0 }

    /// Opens the lane again after `close` and `drainAfterClose` (a FIFO queue that left its lane
    /// only for a select rejoins it, `QueueStateMachine.rejoinLaneIfIdle`): clears the closed bit
    /// and nothing else. Call under the queue lock, with the drain done and no put or get
    /// possible under the lock meanwhile.
    ///
    /// Why that is all, and why every lock-free put or get still running is safe (one that read
    /// the flags before the queue left the lane and was preempted across the leave and this):
    /// - The drain moved `head` to the final tail and freed every drained slot for its next lap,
    ///   so `head == tail` and each slot's stamp is the next position that maps to it: exactly an
    ///   empty ring at that position. Positions never repeat (they only grow), so no stamp of an
    ///   old lap can be mistaken for a new one.
    /// - A put that read `tail` before the close compares it against the reopened tail. If the
    ///   value is equal (the close and this restored the same word: an ABA), no put reserved
    ///   that position in between — `tail` only ever grows, and nothing else moves it — and the
    ///   stamp it read is still "free for this position": its reservation is an ordinary put on
    ///   the reopened lane, which it is from then on (the state machine holds no item in the
    ///   locked buffer, the condition of the rejoin, so it queues behind nothing). Otherwise its
    ///   compare-and-swap fails and it looks again. A put that saw the closed bit went to the lock.
    /// - A get that read `head` before the drain fails its compare-and-swap (the drain's claim
    ///   moved `head` past every position that held an item, and `head` only grows), so it can
    ///   never take a position the drain claimed; from the reopened lane it takes only items put
    ///   after this. A get that claimed a slot before the drain and is still moving its item out
    ///   holds that slot's stamp at "full": the put of the next lap at that slot waits for it,
    ///   as for any slow get.
    /// - `pushCount` counts positions, which the drain did not move: the drained items stay
    ///   counted once (the locked buffer took them without `lockedPuts`), and puts after this
    ///   add to it.
    /// Sequentially consistent, like `close`: one of the lane's index operations (`FastPath.swift`).
    @inlinable func reopen() {
        assert(tailWord.pointee.load(ordering: .relaxed) & ~closedBit == headWord.pointee.load(ordering: .relaxed))
        tailWord.pointee.bitwiseAnd(~closedBit, ordering: .sequentiallyConsistent)
    }

    /// Takes every item out, in order, after `close`: one compare-and-swap moves `head` to the
    /// (closed, so final) tail and claims every position in between at once. A get that read
    /// `head` before it fails its own compare-and-swap and then finds the lane empty; a get that
    /// claimed a position before it took an item ahead of all of these. So nothing can be taken
    /// from the middle of the drain — taking the items one by one here would let a get that
    /// started before the queue left its lane take a later item while this one moves earlier
    /// items to the locked buffer, and its caller would see them out of order.
    /// Waits (`Backoff`) for puts that reserved a position before the close and are writing it.
    @inlinable func drainAfterClose() -> [Element] {
        let tail = tailWord.pointee.load(ordering: .sequentiallyConsistent) & ~closedBit
        var head = headWord.pointee.load(ordering: .relaxed)
        while true {
            if head == tail { return [] }
            let (claimed, current) = headWord.pointee.weakCompareExchange(
                expected: head, desired: tail,
                successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed)
            if claimed { break }
            head = current
        }
        var items: [Element] = []
        items.reserveCapacity(ordinal(tail) &- ordinal(head))
        var position = head
        while position != tail {
            let index = position & (closedBit &- 1)
            var backoff = Backoff()
            while stamp(index).pointee.load(ordering: .acquiring) != position &+ 1 { backoff.snooze() }
            items.append(element(index).move())
            stamp(index).pointee.store(position &+ oneLap, ordering: .releasing)
            position = successor(of: position)
        }
        return items
    }
}
