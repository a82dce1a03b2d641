/// The order in which a queue hands out its items.
public struct QueueOrdering<Element>: Sendable {
    @usableFromInline
    enum Kind: Sendable {
        case fifo
        case lifo
        case priority
    }

    @usableFromInline let kind: Kind
    /// For `.priority`: true when the first argument must come out before the second.
    @usableFromInline let areInIncreasingOrder: (@Sendable (Element, Element) -> Bool)?

    @inlinable init(kind: Kind, areInIncreasingOrder: (@Sendable (Element, Element) -> Bool)?) {
        self.kind = kind
        self.areInIncreasingOrder = areInIncreasingOrder
    }

    /// First in, first out (janus `Queue`).
    @inlinable public static var fifo: Self { Self(kind: .fifo, areInIncreasingOrder: nil) }

    /// Last in, first out (janus `LifoQueue`).
    @inlinable public static var lifo: Self { Self(kind: .lifo, areInIncreasingOrder: nil) }

    /// Lowest first by `areInIncreasingOrder` (janus `PriorityQueue`). Unlike janus the order is
    /// stable: items that compare equal come out in the order they were put.
    ///
    /// The closure runs under the queue's lock: it must be quick and must not call the queue.
    /// An inconsistent closure can only misorder items, never lose them.
    @inlinable public static func priority(by areInIncreasingOrder: @escaping @Sendable (Element, Element) -> Bool)
        -> Self
    {
        Self(kind: .priority, areInIncreasingOrder: areInIncreasingOrder)
    }
}

extension QueueOrdering where Element: Comparable & Sendable {
    /// Lowest first by `<`, stable for equal items.
    @inlinable public static var priority: Self { .priority(by: { $0 < $1 }) }
}
