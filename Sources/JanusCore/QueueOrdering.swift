/// The order in which a queue hands out its items.
public struct QueueOrdering<Element>: Sendable {
    enum Kind {
        case fifo
        case lifo
        case priority
    }

    let kind: Kind
    /// For `.priority`: true when the first argument must come out before the second.
    let areInIncreasingOrder: (@Sendable (Element, Element) -> Bool)?

    /// First in, first out (janus `Queue`).
    public static var fifo: Self { Self(kind: .fifo, areInIncreasingOrder: nil) }

    /// Last in, first out (janus `LifoQueue`).
    public static var lifo: Self { Self(kind: .lifo, areInIncreasingOrder: nil) }

    /// Lowest first by `areInIncreasingOrder` (janus `PriorityQueue`). Unlike janus the order is
    /// stable: items that compare equal come out in the order they were put.
    ///
    /// The closure runs under the queue's lock: it must be quick and must not call the queue.
    /// An inconsistent closure can only misorder items, never lose them.
    public static func priority(by areInIncreasingOrder: @escaping @Sendable (Element, Element) -> Bool)
        -> Self
    {
        Self(kind: .priority, areInIncreasingOrder: areInIncreasingOrder)
    }
}

extension QueueOrdering where Element: Comparable & Sendable {
    /// Lowest first by `<`, stable for equal items.
    public static var priority: Self { .priority(by: { $0 < $1 }) }
}
