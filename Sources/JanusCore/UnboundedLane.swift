import Synchronization

/// The items of an unbounded FIFO queue, moved by any number of threads and tasks without a lock:
/// a linked list of blocks of `itemsPerBlock` slots.
///
/// Positions count up from 0 and are stored shifted left by one, leaving bit 0 for a mark: on the
/// tail, `closedBit` (set once at shutdown: no put reserves a slot after it); on the head,
/// `notLastBit` (the head's block has a successor, so a get need not read the tail to know the
/// slot it claims was reserved). Each block spans `positionsPerBlock` positions; the last one is
/// never a slot but the moment the block is full and the next one is being linked in.
///
/// | step                    | put                                          | get                                   |
/// |-------------------------|----------------------------------------------|---------------------------------------|
/// | pick                    | `tail`; at the last position, wait           | `head`; at the last position, wait    |
/// | check                   | closed? then refuse                          | `tail` (unless `notLastBit`): equal means empty |
/// | take the position (CAS) | `tail + 1`                                   | `head + 1`                            |
/// | last slot of the block  | link the next block: `tailBlock`, `tail` past the gap, `next` | move `headBlock`, `head` past the gap |
/// | the slot                | write the item, then its state `written` (releasing) | wait for `written` (acquiring), move the item out, state `read` (releasing) |
/// | after                   |                                              | the get of the last slot waits until every slot is `read`, then frees the block |
///
/// A get that finds `head == tail` reports empty; once `tail` is past it, the slot is reserved
/// and the get claims it and waits (`Backoff`) for the put's two stores, so a put that has
/// returned is never missed.
///
/// Memory orderings (argued for weakly ordered CPUs too):
/// - A slot's state goes `empty` → `written` (stored releasing after the item is written, loaded
///   acquiring before it is moved out: the item is visible to the get) → `read` (stored releasing
///   after the move). The get of the block's last slot frees the block (or keeps it for reuse)
///   after loading every state as `read` (acquiring), so every other get's move happens before
///   the block is reset; plain stores, no read-modify-write per item. No thread dereferences a
///   block before a successful compare-and-swap on an index that proves one of its slots is
///   still unread.
/// - `tailBlock` is stored releasing before `tail` is moved past the gap (releasing); a put that
///   loads `tail` acquiring and then `tailBlock` sees that block. The same for the head.
/// - The compare-and-swaps on `tail` and `head` and the get's load of `tail` are sequentially
///   consistent: one half of the handshake with waiters (`FastPath.swift`).
///
/// Blocks are reused: a drained block is kept in one of `spareSlots` spare places and the next
/// block a put needs is taken from there, so a stream whose backlog swings within that working
/// set (about 2,000 items) allocates nothing; a burst's blocks beyond it are freed as they
/// drain, and the spares themselves when the lane is closed and drained.
///
/// A plain struct over one allocation; the queue owns it and calls `deallocate` in its deinit.
@usableFromInline
struct UnboundedLane<Element> {
    @usableFromInline let base: UnsafeMutableRawPointer

    /// log2 of the positions per block.
    @inlinable static var blockShift: Int { 6 }
    @inlinable static var positionsPerBlock: Int { 1 << blockShift }
    @inlinable static var itemsPerBlock: Int { positionsPerBlock - 1 }
    @inlinable static var closedBit: Int { 1 }
    @inlinable static var notLastBit: Int { 1 }
    /// One position in the shifted index words.
    @inlinable static var step: Int { 2 }

    @inlinable static var lineSize: Int { 128 }

    @inlinable init() {
        base = .allocate(byteCount: 4 * Self.lineSize, alignment: Self.lineSize)
        liveBlocks.initialize(to: Atomic(0))
        for index in 0..<Self.spareSlots { spare(index).initialize(to: Atomic(nil)) }
        let first = allocateBlock()
        tailWord.initialize(to: Atomic(0))
        tailBlock.initialize(to: Atomic(first.raw))
        headWord.initialize(to: Atomic(0))
        headBlock.initialize(to: Atomic(first.raw))
    }

    /// Frees every block. Items still queued must have been taken out first (`drain`).
    @inlinable func deallocate() {
        // After a drain, head and tail are in the same block (the one holding the gap, or the
        // first); blocks before it are freed, and the spare.
        let block = LaneBlock<Element>(raw: headBlock.pointee.load(ordering: .acquiring)!)
        freeBlock(block)
        freeSpares()
        for index in 0..<Self.spareSlots { spare(index).deinitialize(count: 1) }
        liveBlocks.deinitialize(count: 1)
        tailWord.deinitialize(count: 1)
        tailBlock.deinitialize(count: 1)
        headWord.deinitialize(count: 1)
        headBlock.deinitialize(count: 1)
        base.deallocate()
    }

    @inlinable var tailWord: UnsafeMutablePointer<Atomic<Int>> {
        base.assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inlinable var tailBlock: UnsafeMutablePointer<Atomic<UnsafeMutableRawPointer?>> {
        (base + 8).assumingMemoryBound(to: Atomic<UnsafeMutableRawPointer?>.self)
    }
    @inlinable var headWord: UnsafeMutablePointer<Atomic<Int>> {
        (base + Self.lineSize).assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inlinable var headBlock: UnsafeMutablePointer<Atomic<UnsafeMutableRawPointer?>> {
        (base + Self.lineSize + 8).assumingMemoryBound(to: Atomic<UnsafeMutableRawPointer?>.self)
    }
    /// Places for drained blocks kept for reuse: two cache lines, touched once per block.
    @inlinable static var spareSlots: Int { 31 }
    @inlinable func spare(_ index: Int) -> UnsafeMutablePointer<Atomic<UnsafeMutableRawPointer?>> {
        (base + 2 * Self.lineSize + 8 * index).assumingMemoryBound(to: Atomic<UnsafeMutableRawPointer?>.self)
    }
    /// Blocks allocated and not yet freed, the spares included (for `storageSlots`).
    @inlinable var liveBlocks: UnsafeMutablePointer<Atomic<Int>> {
        (base + 2 * Self.lineSize + 8 * Self.spareSlots).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// Slots allocated for items: a snapshot.
    @inlinable var storageSlots: Int { liveBlocks.pointee.load(ordering: .relaxed) * Self.itemsPerBlock }

    @inlinable func allocateBlock() -> LaneBlock<Element> {
        liveBlocks.pointee.wrappingAdd(1, ordering: .relaxed)
        return LaneBlock.allocate()
    }

    @inlinable func freeBlock(_ block: LaneBlock<Element>) {
        liveBlocks.pointee.wrappingSubtract(1, ordering: .relaxed)
        block.deallocate()
    }

    /// The slot of a position within its block.
    @inline(__always)
    @inlinable static func offset(_ word: Int) -> Int { (word >> 1) & (positionsPerBlock - 1) }
    /// The block number of a position.
    @inline(__always)
    @inlinable static func blockNumber(_ word: Int) -> Int { (word >> 1) >> blockShift }
    /// How many items were put at positions before `word` (each block has one gap).
    @inline(__always)
    @inlinable static func ordinal(_ word: Int) -> Int {
        let position = word >> 1
        return position &- (position >> blockShift)
    }

    /// A block for a put that is about to fill the current one: a spare if there is one.
    /// Exchanging a place with nil cannot take a block twice (no ABA: a place holds a block or nil).
    @inlinable func obtainBlock() -> LaneBlock<Element> {
        for index in 0..<Self.spareSlots {
            let place = spare(index)
            if place.pointee.load(ordering: .relaxed) != nil,
                let raw = place.pointee.exchange(nil, ordering: .acquiring)
            {
                return LaneBlock(raw: raw)
            }
        }
        return allocateBlock()
    }

    /// The get that took a block's last slot retires the block once every get that claimed one
    /// of its slots has moved its item out. They all claimed theirs before this one (slots are
    /// claimed in order), so the wait is for gets in the middle of two instructions.
    @inlinable func retireWhenRead(_ block: LaneBlock<Element>) {
        for slot in 0..<(Self.itemsPerBlock - 1) { block.waitForRead(slot) }
        retire(block)
    }

    /// A block nobody touches any more: kept in a free spare place, else freed. Releasing, so
    /// that the put that obtains it (acquiring) sees it reset.
    @inlinable func retire(_ block: LaneBlock<Element>) {
        block.reset()
        for index in 0..<Self.spareSlots {
            let place = spare(index)
            if place.pointee.load(ordering: .relaxed) == nil {
                let (kept, _) = place.pointee.compareExchange(
                    expected: nil, desired: block.raw, successOrdering: .releasing, failureOrdering: .relaxed)
                if kept { return }
            }
        }
        freeBlock(block)
    }

    /// Frees the kept blocks: after a drain at shutdown, and at deinit.
    @inlinable func freeSpares() {
        for index in 0..<Self.spareSlots {
            if let raw = spare(index).pointee.exchange(nil, ordering: .acquiring) { freeBlock(LaneBlock(raw: raw)) }
        }
    }

    /// Puts `item` at the tail: `.pushed`, or `.closed` after shutdown.
    @inlinable func push(_ item: Element) -> LanePush {
        var backoff = Backoff()
        var tail = tailWord.pointee.load(ordering: .acquiring)
        var block = tailBlock.pointee.load(ordering: .acquiring)
        var next: LaneBlock<Element>? = nil
        defer { if let next { retire(next) } }  // obtained for a link another put made first
        while true {
            if tail & Self.closedBit != 0 { return .closed }
            let offset = Self.offset(tail)
            if offset == Self.itemsPerBlock {
                // Another put filled the block and is linking the next one.
                backoff.snooze()
                tail = tailWord.pointee.load(ordering: .acquiring)
                block = tailBlock.pointee.load(ordering: .acquiring)
                continue
            }
            // Whoever takes the last slot links the next block: have it ready before the
            // compare-and-swap, so that other puts wait for as short a time as possible.
            if offset + 1 == Self.itemsPerBlock && next == nil { next = obtainBlock() }
            let (reserved, current) = tailWord.pointee.weakCompareExchange(
                expected: tail, desired: tail &+ Self.step,
                successOrdering: .sequentiallyConsistent, failureOrdering: .acquiring)
            if reserved {
                let slotBlock = LaneBlock<Element>(raw: block.unsafelyUnwrapped)
                if offset + 1 == Self.itemsPerBlock {
                    let linked = next.unsafelyUnwrapped
                    next = nil
                    tailBlock.pointee.store(linked.raw, ordering: .releasing)
                    tailWord.pointee.wrappingAdd(Self.step, ordering: .releasing)
                    slotBlock.next.pointee.store(linked.raw, ordering: .releasing)
                }
                slotBlock.item(offset).initialize(to: item)
                slotBlock.written(offset).pointee.store(1, ordering: .releasing)
                return .pushed
            }
            tail = current
            block = tailBlock.pointee.load(ordering: .acquiring)
        }
    }

    /// Takes the item at the head, or nil when the lane is empty. May wait (`Backoff`) for a put
    /// that has reserved the head slot and is writing it.
    @inlinable func pop() -> Element? {
        var backoff = Backoff()
        var head = headWord.pointee.load(ordering: .acquiring)
        var block = headBlock.pointee.load(ordering: .acquiring)
        while true {
            let offset = Self.offset(head)
            if offset == Self.itemsPerBlock {
                // Another get took the block's last slot and is moving the head on.
                backoff.snooze()
                head = headWord.pointee.load(ordering: .acquiring)
                block = headBlock.pointee.load(ordering: .acquiring)
                continue
            }
            var newHead = head &+ Self.step
            if head & Self.notLastBit == 0 {
                let tail = tailWord.pointee.load(ordering: .sequentiallyConsistent)
                if head >> 1 == tail >> 1 { return nil }
                if Self.blockNumber(head) != Self.blockNumber(tail) { newHead |= Self.notLastBit }
            }
            let (claimed, current) = headWord.pointee.weakCompareExchange(
                expected: head, desired: newHead,
                successOrdering: .sequentiallyConsistent, failureOrdering: .acquiring)
            if claimed {
                let slotBlock = LaneBlock<Element>(raw: block.unsafelyUnwrapped)
                if offset + 1 == Self.itemsPerBlock {
                    // The put of this slot linked the next block right after reserving it.
                    let next = slotBlock.waitForNext()
                    var nextHead = (newHead & ~Self.notLastBit) &+ Self.step
                    if next.next.pointee.load(ordering: .relaxed) != nil { nextHead |= Self.notLastBit }
                    headBlock.pointee.store(next.raw, ordering: .releasing)
                    headWord.pointee.store(nextHead, ordering: .releasing)
                }
                slotBlock.waitForWrite(offset)
                let item = slotBlock.item(offset).move()
                slotBlock.markRead(offset)
                if offset + 1 == Self.itemsPerBlock { retireWhenRead(slotBlock) }
                return item
            }
            head = current
            block = headBlock.pointee.load(ordering: .acquiring)
        }
    }

    /// Puts all of `items` at the tail, reserving each block's share with one compare-and-swap.
    /// Returns how many went in: fewer than `items.count` only when the lane was closed.
    @inlinable func push(contentsOf items: UnsafeBufferPointer<Element>) -> Int {
        var backoff = Backoff()
        var done = 0
        var tail = tailWord.pointee.load(ordering: .acquiring)
        var block = tailBlock.pointee.load(ordering: .acquiring)
        var next: LaneBlock<Element>? = nil
        defer { if let next { retire(next) } }
        while done < items.count {
            if tail & Self.closedBit != 0 { return done }
            let offset = Self.offset(tail)
            if offset == Self.itemsPerBlock {
                backoff.snooze()
                tail = tailWord.pointee.load(ordering: .acquiring)
                block = tailBlock.pointee.load(ordering: .acquiring)
                continue
            }
            let run = Swift.min(items.count - done, Self.itemsPerBlock - offset)
            let fills = offset + run == Self.itemsPerBlock
            if fills && next == nil { next = obtainBlock() }
            let (reserved, current) = tailWord.pointee.weakCompareExchange(
                expected: tail, desired: tail &+ run &* Self.step,
                successOrdering: .sequentiallyConsistent, failureOrdering: .acquiring)
            if reserved {
                let slotBlock = LaneBlock<Element>(raw: block.unsafelyUnwrapped)
                if fills {
                    let linked = next.unsafelyUnwrapped
                    next = nil
                    tailBlock.pointee.store(linked.raw, ordering: .releasing)
                    tailWord.pointee.wrappingAdd(Self.step, ordering: .releasing)
                    slotBlock.next.pointee.store(linked.raw, ordering: .releasing)
                }
                for index in 0..<run {
                    slotBlock.item(offset &+ index).initialize(to: items[done &+ index])
                    slotBlock.written(offset &+ index).pointee.store(1, ordering: .releasing)
                }
                done &+= run
                tail = tailWord.pointee.load(ordering: .acquiring)
            } else {
                tail = current
            }
            block = tailBlock.pointee.load(ordering: .acquiring)
        }
        return done
    }

    /// Takes up to `buffer.count` items from the head into the front of `buffer`, claiming each
    /// block's share with one compare-and-swap. Returns how many (0: empty).
    @inlinable func pop(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        var backoff = Backoff()
        var done = 0
        var head = headWord.pointee.load(ordering: .acquiring)
        var block = headBlock.pointee.load(ordering: .acquiring)
        while done < buffer.count {
            let offset = Self.offset(head)
            if offset == Self.itemsPerBlock {
                backoff.snooze()
                head = headWord.pointee.load(ordering: .acquiring)
                block = headBlock.pointee.load(ordering: .acquiring)
                continue
            }
            var run = Swift.min(buffer.count - done, Self.itemsPerBlock - offset)
            var mark = head & Self.notLastBit
            if mark == 0 {
                let tail = tailWord.pointee.load(ordering: .sequentiallyConsistent)
                let reserved = (tail >> 1) &- (head >> 1)
                if reserved <= 0 { return done }
                run = Swift.min(run, reserved)
                if Self.blockNumber(head) != Self.blockNumber(tail) { mark = Self.notLastBit }
            }
            let newHead = ((head & ~Self.notLastBit) &+ run &* Self.step) | mark
            let (claimed, current) = headWord.pointee.weakCompareExchange(
                expected: head, desired: newHead,
                successOrdering: .sequentiallyConsistent, failureOrdering: .acquiring)
            if claimed {
                let slotBlock = LaneBlock<Element>(raw: block.unsafelyUnwrapped)
                if offset + run == Self.itemsPerBlock {
                    let next = slotBlock.waitForNext()
                    var nextHead = (newHead & ~Self.notLastBit) &+ Self.step
                    if next.next.pointee.load(ordering: .relaxed) != nil { nextHead |= Self.notLastBit }
                    headBlock.pointee.store(next.raw, ordering: .releasing)
                    headWord.pointee.store(nextHead, ordering: .releasing)
                }
                let out = buffer.baseAddress.unsafelyUnwrapped + done
                for index in 0..<run {
                    slotBlock.waitForWrite(offset &+ index)
                    (out + index).initialize(to: slotBlock.item(offset &+ index).move())
                    slotBlock.markRead(offset &+ index)
                }
                if offset + run == Self.itemsPerBlock { retireWhenRead(slotBlock) }
                done &+= run
                head = headWord.pointee.load(ordering: .acquiring)
            } else {
                head = current
            }
            block = headBlock.pointee.load(ordering: .acquiring)
        }
        return done
    }

    /// True when an item may be there: what a spinning get polls. A hint only.
    @inlinable var mayPop: Bool {
        headWord.pointee.load(ordering: .relaxed) >> 1 != tailWord.pointee.load(ordering: .relaxed) >> 1
    }

    /// Items queued or being put right now; a snapshot.
    @inlinable var count: Int {
        while true {
            let tail = tailWord.pointee.load(ordering: .sequentiallyConsistent)
            let head = headWord.pointee.load(ordering: .sequentiallyConsistent)
            if tailWord.pointee.load(ordering: .sequentiallyConsistent) == tail {
                return Swift.max(0, Self.ordinal(tail) &- Self.ordinal(head))
            }
        }
    }

    /// True when about `run` items are queued: a hint for a spinning get, from the two indexes
    /// alone (a block is only ever read after a compare-and-swap that proves it live).
    @inlinable func mayPop(run: Int) -> Bool {
        let tail = tailWord.pointee.load(ordering: .relaxed)
        let head = headWord.pointee.load(ordering: .relaxed)
        return Self.ordinal(tail) &- Self.ordinal(head) >= run
    }

    /// Every put that ever reserved a slot (the put side of `unfinishedTasks`).
    @inlinable var pushCount: Int {
        Self.ordinal(tailWord.pointee.load(ordering: .sequentiallyConsistent))
    }

    /// No put reserves a slot after this; puts already in flight complete.
    @inlinable func close() {
        tailWord.pointee.bitwiseOr(Self.closedBit, ordering: .sequentiallyConsistent)
    }

    @inlinable var isClosed: Bool { tailWord.pointee.load(ordering: .relaxed) & Self.closedBit != 0 }

    /// Takes every item out, in order, after `close`, claiming them all with one
    /// compare-and-swap of `head` to the (closed, so final) tail, for the reason given at
    /// `BoundedLane.drainAfterClose`: no get that started earlier can take an item from the
    /// middle. A get that loads the new `head` finds it equal to `tail` and reports empty before
    /// it looks at `headBlock`, which this drain moves on afterwards. Waits (`Backoff`) for a
    /// put that is linking a block or writing a slot it reserved before the close, and for a get
    /// that is moving `head` past a block's gap.
    @inlinable func drainAfterClose() -> [Element] {
        var backoff = Backoff()
        var tail = tailWord.pointee.load(ordering: .sequentiallyConsistent)
        while Self.offset(tail) == Self.itemsPerBlock {
            backoff.snooze()
            tail = tailWord.pointee.load(ordering: .sequentiallyConsistent)
        }
        let end = tail & ~Self.closedBit
        var head = headWord.pointee.load(ordering: .acquiring)
        while true {
            if head >> 1 == end >> 1 { return [] }
            if Self.offset(head) == Self.itemsPerBlock {
                backoff.snooze()
                head = headWord.pointee.load(ordering: .acquiring)
                continue
            }
            let (claimed, current) = headWord.pointee.weakCompareExchange(
                expected: head, desired: end,
                successOrdering: .sequentiallyConsistent, failureOrdering: .acquiring)
            if claimed { break }
            head = current
        }
        // `headBlock` is the block of `head`: stored (releasing) before the store of `head`
        // that moved into it, which the compare-and-swap above read.
        var block = LaneBlock<Element>(raw: headBlock.pointee.load(ordering: .acquiring).unsafelyUnwrapped)
        var items: [Element] = []
        items.reserveCapacity(Self.ordinal(end) &- Self.ordinal(head))
        var position = head >> 1
        let last = end >> 1
        while position != last {
            let offset = position & (Self.positionsPerBlock - 1)
            if offset == Self.itemsPerBlock {
                // Past the block's last slot: on to the next, once every get of this one is done.
                let next = block.waitForNext()
                retireWhenRead(block)
                block = next
            } else {
                block.waitForWrite(offset)
                items.append(block.item(offset).move())
                block.markRead(offset)
            }
            position &+= 1
        }
        headBlock.pointee.store(block.raw, ordering: .releasing)
        return items
    }
}

/// One block of an `UnboundedLane`: a line with the link, then rows of one cache line (or more,
/// for large elements), each holding `rowItems` items and, after them, their state bytes
/// (`empty`, `written`, `read`). A slot's state shares the line of its item, so a put and a get
/// a few slots apart work on different lines: with all the states in one line, every put would
/// take that line away from the get reading the state next to it. For pointers: 7 items per
/// 64-byte row, 9 rows, 640 bytes for 63 items.
@usableFromInline
struct LaneBlock<Element> {
    @usableFromInline let raw: UnsafeMutableRawPointer

    @inlinable init(raw: UnsafeMutableRawPointer) { self.raw = raw }

    @inlinable static var slots: Int { UnboundedLane<Element>.itemsPerBlock }
    @inlinable static var lineSize: Int { 64 }
    /// Items per row: as many as fit in a line with a state byte each (at least one).
    @inlinable static var rowItems: Int {
        Swift.max(1, (lineSize - MemoryLayout<Element>.alignment) / Swift.max(1, MemoryLayout<Element>.stride))
    }
    @inlinable static var statesOffset: Int {
        BoundedLane<Element>.roundUp(rowItems * MemoryLayout<Element>.stride, 1)
    }
    @inlinable static var rowBytes: Int {
        BoundedLane<Element>.roundUp(statesOffset + rowItems, Swift.max(lineSize, MemoryLayout<Element>.alignment))
    }
    @inlinable static var rows: Int { (slots + rowItems - 1) / rowItems }
    @inlinable static var rowsOffset: Int { Swift.max(lineSize, MemoryLayout<Element>.alignment) }
    @inlinable static var byteCount: Int { rowsOffset + rows * rowBytes }
    @inlinable static var alignment: Int { Swift.max(lineSize, MemoryLayout<Element>.alignment) }

    @inlinable static func allocate() -> LaneBlock {
        let block = LaneBlock(raw: .allocate(byteCount: byteCount, alignment: alignment))
        block.next.initialize(to: Atomic(nil))
        for slot in 0..<slots { block.written(slot).initialize(to: Atomic(0)) }
        return block
    }

    /// Back to a new block's state, for reuse. Only the thread that retires it calls this.
    @inlinable func reset() {
        next.pointee.store(nil, ordering: .relaxed)
        for slot in 0..<Self.slots { written(slot).pointee.store(0, ordering: .relaxed) }
    }

    @inlinable func deallocate() {
        next.deinitialize(count: 1)
        for slot in 0..<Self.slots { written(slot).deinitialize(count: 1) }
        raw.deallocate()
    }

    @inlinable var next: UnsafeMutablePointer<Atomic<UnsafeMutableRawPointer?>> {
        raw.assumingMemoryBound(to: Atomic<UnsafeMutableRawPointer?>.self)
    }
    @inline(__always)
    @inlinable func row(_ slot: Int) -> UnsafeMutableRawPointer {
        raw + Self.rowsOffset + (slot / Self.rowItems) &* Self.rowBytes
    }
    /// The state byte of `slot`: 0 empty, 1 written, 2 read.
    @inline(__always)
    @inlinable func written(_ slot: Int) -> UnsafeMutablePointer<Atomic<UInt8>> {
        (row(slot) + Self.statesOffset + slot % Self.rowItems).assumingMemoryBound(to: Atomic<UInt8>.self)
    }
    @inline(__always)
    @inlinable func item(_ slot: Int) -> UnsafeMutablePointer<Element> {
        (row(slot) + (slot % Self.rowItems) &* MemoryLayout<Element>.stride).assumingMemoryBound(to: Element.self)
    }

    @inlinable func waitForNext() -> LaneBlock {
        var backoff = Backoff()
        while true {
            if let raw = next.pointee.load(ordering: .acquiring) { return LaneBlock(raw: raw) }
            backoff.snooze()
        }
    }

    @inlinable func waitForWrite(_ slot: Int) {
        var backoff = Backoff()
        while written(slot).pointee.load(ordering: .acquiring) == 0 { backoff.snooze() }
    }

    @inline(__always)
    @inlinable func markRead(_ slot: Int) { written(slot).pointee.store(2, ordering: .releasing) }

    @inlinable func waitForRead(_ slot: Int) {
        var backoff = Backoff()
        while written(slot).pointee.load(ordering: .acquiring) != 2 { backoff.snooze() }
    }
}
