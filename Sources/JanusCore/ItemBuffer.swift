/// The queued items, in the queue's ordering.
///
/// FIFO and LIFO share one ring (taking from the front or the back); priority is a binary
/// min-heap whose entries carry an insertion number, so equal items leave in insertion order.
@usableFromInline
struct ItemBuffer<Element> {
    @usableFromInline let kind: QueueOrdering<Element>.Kind
    @usableFromInline let areInIncreasingOrder: ((Element, Element) -> Bool)?
    @usableFromInline var ring = Ring<Element>()
    @usableFromInline var heap = ContiguousArray<HeapEntry>()
    @usableFromInline var nextSequence: UInt64 = 0

    @usableFromInline
    struct HeapEntry {
        @usableFromInline var sequence: UInt64
        @usableFromInline var element: Element

        @inlinable init(sequence: UInt64, element: Element) {
            self.sequence = sequence
            self.element = element
        }
    }

    @inlinable init(_ ordering: QueueOrdering<Element>) {
        kind = ordering.kind
        areInIncreasingOrder = ordering.areInIncreasingOrder
    }

    @inlinable var count: Int { kind == .priority ? heap.count : ring.count }
    /// Slots allocated for items, in the ring and the heap.
    @inlinable var storageSlots: Int { ring.capacity + heap.capacity }
    @inlinable var isEmpty: Bool { count == 0 }

    /// - Complexity: amortized O(1); O(log n) for priority.
    @inlinable mutating func insert(_ element: consuming Element) {
        switch kind {
        case .fifo, .lifo:
            ring.append(element)
        case .priority:
            heap.append(HeapEntry(sequence: nextSequence, element: element))
            nextSequence &+= 1
            siftUp(heap.count - 1)
        }
    }

    /// Takes the next item in the queue's ordering. The buffer must not be empty.
    /// - Complexity: amortized O(1); O(log n) for priority.
    @inlinable mutating func remove() -> Element {
        switch kind {
        case .fifo:
            return ring.removeFirst()
        case .lifo:
            return ring.removeLast()
        case .priority:
            let last = heap.removeLast()
            guard !heap.isEmpty else {
                shrinkHeapIfSparse()
                return last.element
            }
            let top = heap[0]
            heap[0] = last
            siftDown(0)
            shrinkHeapIfSparse()
            return top.element
        }
    }

    /// The next item in the queue's ordering, left in place; nil when empty.
    /// - Complexity: O(1).
    @inlinable func peek() -> Element? {
        switch kind {
        case .fifo: ring.isEmpty ? nil : ring[0]
        case .lifo: ring.isEmpty ? nil : ring[ring.count - 1]
        case .priority: heap.first?.element
        }
    }

    /// Moves every item out in the queue's ordering (for an immediate shutdown), leaving the
    /// buffer empty with its memory given back.
    @inlinable mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(count)
        while !isEmpty { all.append(remove()) }
        ring.release()
        heap = []
        return all
    }

    /// Frees the storage; only the queue's deinit calls this.
    @inlinable mutating func release() {
        ring.release()
        heap = []
    }

    // MARK: Heap

    @inlinable func before(_ a: HeapEntry, _ b: HeapEntry) -> Bool {
        let compare = areInIncreasingOrder.unsafelyUnwrapped
        if compare(a.element, b.element) { return true }
        if compare(b.element, a.element) { return false }
        return a.sequence < b.sequence
    }

    @inlinable mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    @inlinable mutating func siftDown(_ start: Int) {
        var parent = start
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var best = left
            let right = left + 1
            if right < count && before(heap[right], heap[left]) { best = right }
            guard before(heap[best], heap[parent]) else { return }
            heap.swapAt(best, parent)
            parent = best
        }
    }

    @inlinable mutating func shrinkHeapIfSparse() {
        // Give memory back after a burst, like the ring does.
        let capacity = heap.capacity
        if capacity > 64 && heap.count <= capacity / 4 {
            var smaller = ContiguousArray<HeapEntry>()
            smaller.reserveCapacity(capacity / 2)
            smaller.append(contentsOf: heap)
            heap = smaller
        }
    }
}
