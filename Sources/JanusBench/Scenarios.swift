import Glibc
import JanusCore

/// Each scenario moves `count` integers and returns items per second. Every one checks the sum
/// so that a broken queue cannot look fast.
func expectSum(_ sum: Int, _ count: Int, _ name: String) {
    precondition(sum == count * (count + 1) / 2, "\(name): wrong sum \(sum)")
}

func threadToTask(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let start = now()
    let producer = startThread {
        for i in 1...count { try! queue.sync.put(i) }
    }
    var sum = 0
    for _ in 1...count { sum += try! await queue.async.get() }
    let elapsed = now() - start
    joinThread(producer)
    expectSum(sum, count, "thread->task")
    return Double(count) / elapsed
}

func threadToTaskBatched(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let start = now()
    let producer = startThread {
        var next = 1
        while next <= count {
            let batch = Array(next...min(count, next + 255))
            try! queue.sync.putMany(batch)
            next += batch.count
        }
    }
    var sum = 0
    var got = 0
    while got < count {
        let items = try! await queue.async.getMany(max: 256)
        for item in items { sum += item }
        got += items.count
    }
    let elapsed = now() - start
    joinThread(producer)
    expectSum(sum, count, "thread->task batched")
    return Double(count) / elapsed
}

func taskToTask(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let start = now()
    let producer = Task.detached {
        for i in 1...count { try! await queue.async.put(i) }
    }
    var sum = 0
    for _ in 1...count { sum += try! await queue.async.get() }
    let elapsed = now() - start
    await producer.value
    expectSum(sum, count, "task->task")
    return Double(count) / elapsed
}

func threadToThread(count: Int, maxsize: Int) -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let start = now()
    let producer = startThread {
        for i in 1...count { try! queue.sync.put(i) }
    }
    let sum = drainOnThisThread(queue, count)
    let elapsed = now() - start
    joinThread(producer)
    expectSum(sum, count, "thread->thread")
    return Double(count) / elapsed
}

@available(*, noasync)
private func drainOnThisThread(_ queue: JanusQueue<Int>, _ count: Int) -> Int {
    var sum = 0
    for _ in 1...count { sum += try! queue.sync.get() }
    return sum
}

/// 2 threads and 2 tasks produce, 2 threads and 2 tasks consume, all on one queue.
func mixed4x4(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let share = count / 4
    let start = now()
    let threadProducers = (0..<2).map { p in
        startThread { for i in 1...share { try! queue.sync.put(p * share + i) } }
    }
    let taskProducers = (2..<4).map { p in
        Task.detached { for i in 1...share { try! await queue.async.put(p * share + i) } }
    }
    let sums = SumBox()
    let threadConsumers = (0..<2).map { _ in
        startThread {
            var sum = 0
            while let item = try? queue.sync.get() { sum += item }
            sums.add(sum)
        }
    }
    let taskConsumers = (0..<2).map { _ in
        Task.detached {
            var sum = 0
            while let item = try? await queue.async.get() { sum += item }
            sums.add(sum)
        }
    }
    threadProducers.forEach(joinThread)
    for task in taskProducers { await task.value }
    queue.shutdown()  // consumers drain what is left, then stop
    threadConsumers.forEach(joinThread)
    for task in taskConsumers { await task.value }
    let elapsed = now() - start
    expectSum(sums.total, share * 4, "4x4")
    return Double(share * 4) / elapsed
}

/// Baseline: Swift's AsyncStream fed by `yield` from a thread.
func asyncStreamFromThread(count: Int) async -> Double {
    let (stream, continuation) = AsyncStream<Int>.makeStream(bufferingPolicy: .unbounded)
    let start = now()
    let producer = startThread {
        for i in 1...count { continuation.yield(i) }
        continuation.finish()
    }
    var sum = 0
    for await item in stream { sum += item }
    let elapsed = now() - start
    joinThread(producer)
    expectSum(sum, count, "AsyncStream")
    return Double(count) / elapsed
}

final class SumBox: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched with `lock` held, a pthread mutex at a stable
    // heap address.
    private var value = 0
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)
    init() { pthread_mutex_init(lock, nil) }
    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }
    func add(_ x: Int) {
        pthread_mutex_lock(lock)
        value += x
        pthread_mutex_unlock(lock)
    }
    var total: Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return value
    }
}
