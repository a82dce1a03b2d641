/// A growable ring of elements in one allocation, used for both the items and the waiter lists.
///
/// Capacity is a power of two so that index wrapping is a mask. It grows by doubling. Up to
/// `retainedCapacity` slots it never shrinks, so a queue whose length swings (a producer ahead,
/// then a consumer catching up) allocates nothing in steady state; above that it halves once
/// three quarters are unused, so the memory of a burst is given back as it drains (SPEC §4.5)
/// at an amortized cost of O(1/n) allocations per item.
///
/// The ring owns its buffer but is a plain struct: exactly one owner must call `release()`
/// (the queue does so in `deinit`). Copies are never used after a move.
@usableFromInline
struct Ring<Element> {
    @usableFromInline var base: UnsafeMutablePointer<Element>?
    @usableFromInline var capacity = 0
    @usableFromInline var head = 0
    @usableFromInline var count = 0

    /// The first allocation.
    @inlinable static var minimumCapacity: Int { 16 }
    /// Capacity kept whatever the load (32 KiB of pointers): below it shrinking costs more in
    /// reallocations than it gives back.
    @inlinable static var retainedCapacity: Int { 4096 }

    @inlinable init() {}

    @inlinable var isEmpty: Bool { count == 0 }

    @inline(__always)
    @inlinable func slot(_ logical: Int) -> UnsafeMutablePointer<Element> {
        base.unsafelyUnwrapped + ((head &+ logical) & (capacity &- 1))
    }

    /// - Complexity: amortized O(1).
    @inlinable mutating func append(_ element: consuming Element) {
        if count == capacity { resize(to: Swift.max(Self.minimumCapacity, capacity &* 2)) }
        slot(count).initialize(to: element)
        count &+= 1
    }

    /// - Complexity: amortized O(1).
    @inlinable mutating func removeFirst() -> Element {
        assert(count > 0, "removeFirst on an empty ring")
        let element = slot(0).move()
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        shrinkIfSparse()
        return element
    }

    /// - Complexity: amortized O(1).
    @inlinable mutating func removeLast() -> Element {
        assert(count > 0, "removeLast on an empty ring")
        count &-= 1
        let element = slot(count).move()
        shrinkIfSparse()
        return element
    }

    @inlinable subscript(logical: Int) -> Element {
        get {
            assert(logical >= 0 && logical < count)
            return slot(logical).pointee
        }
        _modify {
            assert(logical >= 0 && logical < count)
            yield &slot(logical).pointee
        }
    }

    /// The position of the first element matching `predicate`.
    /// - Complexity: O(n); used only on cancellation and timeout.
    @inlinable func firstIndex(where predicate: (Element) -> Bool) -> Int? {
        var index = 0
        while index < count {
            if predicate(slot(index).pointee) { return index }
            index &+= 1
        }
        return nil
    }

    /// Removes the element at `logical`, keeping the others in order.
    /// - Complexity: O(n); used only on cancellation and timeout.
    @inlinable mutating func remove(at logical: Int) -> Element {
        assert(logical >= 0 && logical < count)
        let element = slot(logical).move()
        var index = logical
        while index &+ 1 < count {
            slot(index).moveInitialize(from: slot(index &+ 1), count: 1)
            index &+= 1
        }
        count &-= 1
        shrinkIfSparse()
        return element
    }

    /// Destroys the elements and frees the buffer. The ring is empty afterwards.
    @inlinable mutating func release() {
        while count > 0 { _ = removeLast() }
        base?.deallocate()
        self = Ring()
    }

    @inlinable mutating func shrinkIfSparse() {
        if capacity > Self.retainedCapacity && count <= capacity / 4 {
            resize(to: capacity / 2)
        } else if count == 0 {
            head = 0
        }
    }

    @inlinable mutating func resize(to newCapacity: Int) {
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let base {
            // Move the (possibly wrapped) contents into order at the start of the new buffer.
            let firstRun = Swift.min(count, capacity &- head)
            (newBase).moveInitialize(from: base + head, count: firstRun)
            (newBase + firstRun).moveInitialize(from: base, count: count &- firstRun)
            base.deallocate()
        }
        base = newBase
        capacity = newCapacity
        head = 0
    }
}
