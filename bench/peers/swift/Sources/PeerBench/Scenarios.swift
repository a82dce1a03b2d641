// The scenarios, written once against two small protocols so that every peer is measured by the
// same code. Each call builds nothing: the peer hands in a fresh channel for every round.
// Generic (not closures or existentials), so that release builds specialize them per peer and
// no indirect call sits in the per-item path.

/// A peer's sending end as a plain thread uses it. `send` may block the thread: that is how a
/// bounded channel pushes back on a thread.
protocol ThreadSender: Sendable {
    func send(_ item: Int)
    func finish()
}

/// A peer's sending end as a task uses it. `send` may suspend the task.
protocol TaskSender: Sendable {
    func send(_ item: Int) async
    func finish()
}

/// Receives `count` items in the current task. Returns their sum and when the last one came.
func receive<Items: AsyncSequence<Int, Never> & Sendable>(
    _ items: Items, count: Int
) async -> (sum: Int, end: Double) {
    var sum = 0
    var got = 0
    for await item in items {
        sum += item
        got += 1
        // Stop at the count rather than at the end of the sequence: the figure is "until the
        // receiver has all N", not until the sender's finish() has reached it too.
        if got == count { break }
    }
    return (sum, now())
}

/// `t2a_*`: one plain thread sends 1...count one at a time, one task receives them all.
/// Items per second from the start of sending until the receiver has all of them.
func threadToTask<Sender: ThreadSender, Items: AsyncSequence<Int, Never> & Sendable>(
    _ name: String, count: Int, sender: Sender, items: Items
) async -> Double {
    let start = now()
    let receiver = Task.detached { await receive(items, count: count) }
    await onNewThread {
        for item in 1...count { sender.send(item) }
        sender.finish()
    }
    let (sum, end) = await receiver.value
    check(sum, count, name)
    return Double(count) / (end - start)
}

/// `a2a_*`: one task sends 1...count, another receives them; both on the global executor.
func taskToTask<Sender: TaskSender, Items: AsyncSequence<Int, Never> & Sendable>(
    _ name: String, count: Int, sender: Sender, items: Items
) async -> Double {
    let start = now()
    let receiver = Task.detached { await receive(items, count: count) }
    let producer = Task.detached {
        for item in 1...count { await sender.send(item) }
        sender.finish()
    }
    let (sum, end) = await receiver.value
    await producer.value
    check(sum, count, name)
    return Double(count) / (end - start)
}

/// `rtt_t_a_t`: a thread sends an item to a task through the peer, the task sends it back, the
/// thread waits for it; `trips` times, one item in flight. Returns the median round trip in µs.
///
/// The way back is a one-slot mailbox guarded by a mutex and condition variable (`Guarded`):
/// neither AsyncStream nor NIOAsyncSequenceProducer can be read by a thread that blocks, so a
/// user who needs the answer on a thread ends up with exactly this hand-off. The figure therefore
/// is the peer's thread→task hop plus one condvar wake-up of the thread.
func roundTrips<Sender: ThreadSender, Items: AsyncSequence<Int, Never> & Sendable>(
    _ name: String, trips: Int, sender: Sender, items: Items
) async -> Double {
    let back = Guarded<Int?>(nil)
    let echo = Task.detached {
        var got = 0
        for await item in items {
            back.update { $0 = item }
            got += 1
            if got == trips { break }
        }
    }
    let (times, sum) = await onNewThread { () -> ([Double], Int) in
        var times: [Double] = []
        times.reserveCapacity(trips)
        var sum = 0
        for item in 1...trips {
            let start = now()
            sender.send(item)
            let answer = back.waitFor { slot -> Int? in
                guard let answer = slot else { return nil }
                slot = nil
                return answer
            }
            times.append(now() - start)
            sum += answer
        }
        return (times, sum)
    }
    await echo.value
    sender.finish()
    check(sum, trips, name)
    return median(times) * 1e6
}

/// `slow*`: a thread sends one item, sleeps `pause` µs, and so on for `count` items; one task
/// receives. Returns [process CPU µs per item, wall µs per item], both over the whole scenario
/// (until the thread's last sleep is over and the receiver has everything): what it costs to keep
/// a mostly idle channel running, wake-ups included.
func slowSender<Sender: ThreadSender, Items: AsyncSequence<Int, Never> & Sendable>(
    _ name: String, count: Int, pause: Int, sender: Sender, items: Items
) async -> [Double] {
    let cpuStart = processCPUTime()
    let start = now()
    let receiver = Task.detached { await receive(items, count: count) }
    await onNewThread {
        for item in 1...count {
            sender.send(item)
            sleepMicroseconds(pause)
        }
        sender.finish()
    }
    let (sum, _) = await receiver.value
    let wall = now() - start
    let cpu = processCPUTime() - cpuStart
    check(sum, count, name)
    return [cpu / Double(count) * 1e6, wall / Double(count) * 1e6]
}
