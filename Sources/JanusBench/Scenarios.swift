import Glibc
import JanusCore

// The scenarios of `make bench` through the Swift API, named like the peers' (bench/peers):
// t2a = a thread puts with the blocking face, a task gets with the async face; a2t the other way;
// a2a task to task; t2t thread to thread; mpmc4 = 4 senders and 4 receivers. Each moves `count`
// integers and returns items per second, and checks the sum so that a broken queue cannot look
// fast.

func expectSum(_ sum: Int, _ count: Int, _ name: String) {
    precondition(sum == count * (count + 1) / 2, "\(name): wrong sum \(sum)")
}

func threadToTask(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let start = now()
    let producer = startThread { putRange(queue, 1...count) }
    var sum = 0
    for _ in 1...count { sum += try! await queue.async.get() }
    let elapsed = now() - start
    joinThread(producer)
    expectSum(sum, count, "t2a")
    return Double(count) / elapsed
}

func taskToThread(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let sums = SumBox()
    let start = now()
    let consumer = startThread { sums.add(getCount(queue, count)) }
    let producer = Task.detached {
        for i in 1...count { try! await queue.async.put(i) }
    }
    await producer.value
    joinThread(consumer)  // the last items are on their way: a short wait
    let elapsed = now() - start
    expectSum(sums.total, count, "a2t")
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
    expectSum(sum, count, "a2a")
    return Double(count) / elapsed
}

func threadToThread(count: Int, maxsize: Int) -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let start = now()
    let producer = startThread { putRange(queue, 1...count) }
    let sum = getCount(queue, count)
    let elapsed = now() - start
    joinThread(producer)
    expectSum(sum, count, "t2t")
    return Double(count) / elapsed
}

/// One thread, no contention: a put and then a get, `count` times; nanoseconds per pair. What
/// one operation costs by itself (`janus_c_pair_1024` is the same through the C ABI).
func putGetPairNanoseconds(count: Int, maxsize: Int) -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    var sum = 0
    let start = now()
    for i in 1...count {
        try! queue.sync.put(i)
        sum &+= try! queue.sync.get()
    }
    let elapsed = now() - start
    expectSum(sum, count, "pair")
    return elapsed * 1e9 / Double(count)
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
    expectSum(sum, count, "t2a batched")
    return Double(count) / elapsed
}

/// 4 threads put, 4 tasks get (each until the queue is shut down and drained).
func mpmcThreadsToTasks(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let share = count / 4
    let start = now()
    let consumers = (0..<4).map { _ in
        Task.detached {
            var sum = 0
            while let item = try? await queue.async.get() { sum += item }
            return sum
        }
    }
    let producers = (0..<4).map { p in startThread { putRange(queue, (p * share + 1)...((p + 1) * share)) } }
    producers.forEach(joinThread)
    queue.shutdown()
    var sum = 0
    for consumer in consumers { sum += await consumer.value }
    let elapsed = now() - start
    expectSum(sum, share * 4, "mpmc4 t2a")
    return Double(share * 4) / elapsed
}

/// 4 tasks put, 4 threads get.
func mpmcTasksToThreads(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let share = count / 4
    let sums = SumBox()
    let start = now()
    let consumers = (0..<4).map { _ in startThread { sums.add(getUntilShutdown(queue)) } }
    let producers = (0..<4).map { p in
        Task.detached { for i in (p * share + 1)...((p + 1) * share) { try! await queue.async.put(i) } }
    }
    for producer in producers { await producer.value }
    queue.shutdown()
    consumers.forEach(joinThread)
    let elapsed = now() - start
    expectSum(sums.total, share * 4, "mpmc4 a2t")
    return Double(share * 4) / elapsed
}

/// 2 threads and 2 tasks put, 2 threads and 2 tasks get, all on one queue.
func mixed4x4(count: Int, maxsize: Int) async -> Double {
    let queue = JanusQueue<Int>(maxsize: maxsize)
    let share = count / 4
    let sums = SumBox()
    let start = now()
    let threadConsumers = (0..<2).map { _ in startThread { sums.add(getUntilShutdown(queue)) } }
    let taskConsumers = (0..<2).map { _ in
        Task.detached {
            var sum = 0
            while let item = try? await queue.async.get() { sum += item }
            sums.add(sum)
        }
    }
    let threadProducers = (0..<2).map { p in startThread { putRange(queue, (p * share + 1)...((p + 1) * share)) } }
    let taskProducers = (2..<4).map { p in
        Task.detached { for i in (p * share + 1)...((p + 1) * share) { try! await queue.async.put(i) } }
    }
    threadProducers.forEach(joinThread)
    for task in taskProducers { await task.value }
    queue.shutdown()
    threadConsumers.forEach(joinThread)
    for task in taskConsumers { await task.value }
    let elapsed = now() - start
    expectSum(sums.total, share * 4, "4x4")
    return Double(share * 4) / elapsed
}

/// Round trip thread -> task -> thread, median microseconds.
func roundTrip(rounds: Int) async -> Double {
    let ping = JanusQueue<Int>()
    let pong = JanusQueue<Int>()
    let echo = Task.detached {
        while let item = try? await ping.async.get() { try! pong.async.putNowait(item) }
    }
    let times = Times()
    let driver = startThread { times.set(timeRoundTrips(ping, pong, rounds)) }
    joinThread(driver)
    ping.shutdown()
    await echo.value
    return median(times.values)
}

final class Times: @unchecked Sendable {
    // @unchecked Sendable: written once by the driver thread before `joinThread` returns, read
    // after it; pthread_join orders the two.
    private(set) var values: [Double] = []
    func set(_ values: [Double]) { self.values = values }
}

/// A thread puts one item, sleeps `gap`, again; a task gets them. CPU and wall microseconds per
/// item for the whole process.
func slowStream(gapMicroseconds: Int, items: Int) async -> (cpu: Double, wall: Double) {
    let queue = JanusQueue<Int>()
    let cpu0 = cpuSeconds()
    let start = now()
    let producer = startThread {
        var gap = timespec(tv_sec: 0, tv_nsec: gapMicroseconds * 1000)
        for i in 1...items {
            try! queue.sync.put(i)
            clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, nil)
        }
    }
    var sum = 0
    for _ in 1...items { sum += try! await queue.async.get() }
    joinThread(producer)
    let cpu = cpuSeconds() - cpu0
    let wall = now() - start
    expectSum(sum, items, "slow")
    return (cpu / Double(items) * 1e6, wall / Double(items) * 1e6)
}

// MARK: the blocking parts, outside async code

@available(*, noasync)
func putRange(_ queue: JanusQueue<Int>, _ range: ClosedRange<Int>) {
    for i in range { try! queue.sync.put(i) }
}

@available(*, noasync)
func getCount(_ queue: JanusQueue<Int>, _ count: Int) -> Int {
    var sum = 0
    for _ in 1...count { sum += try! queue.sync.get() }
    return sum
}

@available(*, noasync)
func getUntilShutdown(_ queue: JanusQueue<Int>) -> Int {
    var sum = 0
    while let item = try? queue.sync.get() { sum += item }
    return sum
}

@available(*, noasync)
func timeRoundTrips(_ ping: JanusQueue<Int>, _ pong: JanusQueue<Int>, _ rounds: Int) -> [Double] {
    var times: [Double] = []
    times.reserveCapacity(rounds)
    for i in 0..<rounds {
        let t0 = now()
        try! ping.sync.put(i)
        precondition(try! pong.sync.get() == i)
        times.append((now() - t0) * 1e6)
    }
    return times
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
