import NIOCore

// swift-nio's NIOAsyncSequenceProducer: `source.yield` is synchronous and may be called from any
// thread; a high/low watermark strategy answers `.stopProducing` once the buffer is full, and
// later calls the delegate's `produceMore()` from the consuming task when it has drained to the
// low watermark. The peer leaves the waiting to its user, so the senders below do it:
// a thread blocks on a condition variable, a task suspends on a continuation, until
// produceMore() comes. Bounded 1024 = low 512 / high 1024; unbounded = watermarks never reached.

typealias Watermarks = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark

enum Bound {
    case unbounded
    case capacity1024

    var strategy: Watermarks {
        switch self {
        case .unbounded: Watermarks(lowWatermark: .max, highWatermark: .max)
        case .capacity1024: Watermarks(lowWatermark: 512, highWatermark: 1024)
        }
    }
}

/// Wakes a blocked sending thread. produceMore() may come before the thread has started to wait
/// (or, once, before anything was yielded): the permits are counted, so none is lost, and a
/// stray one only lets one extra item past the high watermark.
struct WakeThread: NIOAsyncSequenceProducerDelegate {
    let permits: ThreadPermits
    func produceMore() { permits.give() }
    func didTerminate() {}
}

/// Wakes a suspended sending task; same counting as `WakeThread`.
struct WakeTask: NIOAsyncSequenceProducerDelegate {
    let permits: TaskPermits
    func produceMore() { permits.give() }
    func didTerminate() {}
}

struct NIOThreadSender: ThreadSender {
    let source: NIOAsyncSequenceProducer<Int, Watermarks, WakeThread>.Source
    let permits: ThreadPermits

    func send(_ item: Int) {
        switch source.yield(item) {
        case .produceMore: return
        // The item is in; the buffer is full, so hold off the next one until there is room.
        case .stopProducing: permits.take()
        case .dropped: fail("nio_producer: yield dropped an item (sequence terminated early)")
        }
    }

    func finish() { source.finish() }
}

struct NIOTaskSender: TaskSender {
    let source: NIOAsyncSequenceProducer<Int, Watermarks, WakeTask>.Source
    let permits: TaskPermits

    func send(_ item: Int) async {
        switch source.yield(item) {
        case .produceMore: return
        case .stopProducing: await permits.take()
        case .dropped: fail("nio_producer: yield dropped an item (sequence terminated early)")
        }
    }

    func finish() { source.finish() }
}

private func threadProducer(_ bound: Bound) -> (NIOThreadSender, NIOAsyncSequenceProducer<Int, Watermarks, WakeThread>) {
    let permits = ThreadPermits()
    // finishOnDeinit: false, as NIO recommends: every scenario finishes the source itself.
    let made = NIOAsyncSequenceProducer.makeSequence(
        elementType: Int.self, backPressureStrategy: bound.strategy, finishOnDeinit: false,
        delegate: WakeThread(permits: permits))
    return (NIOThreadSender(source: made.source, permits: permits), made.sequence)
}

private func taskProducer(_ bound: Bound) -> (NIOTaskSender, NIOAsyncSequenceProducer<Int, Watermarks, WakeTask>) {
    let permits = TaskPermits()
    let made = NIOAsyncSequenceProducer.makeSequence(
        elementType: Int.self, backPressureStrategy: bound.strategy, finishOnDeinit: false,
        delegate: WakeTask(permits: permits))
    return (NIOTaskSender(source: made.source, permits: permits), made.sequence)
}

func benchNIOProducer(_ config: Config) async {
    let p = "nio_producer_"
    for (suffix, bound) in [("unbounded", Bound.unbounded), ("1024", .capacity1024)] {
        let name = p + "t2a_" + suffix
        await report(config, name, "items/s", rounds: config.runs) {
            let (sender, items) = threadProducer(bound)
            return await threadToTask(name, count: config.count, sender: sender, items: items)
        }
    }
    for (suffix, bound) in [("unbounded", Bound.unbounded), ("1024", .capacity1024)] {
        let name = p + "a2a_" + suffix
        await report(config, name, "items/s", rounds: config.runs) {
            let (sender, items) = taskProducer(bound)
            return await taskToTask(name, count: config.count, sender: sender, items: items)
        }
    }
    // One item in flight: the bound never comes into play; the 1024 queue is the one a user
    // would set up.
    await report(config, p + "rtt_t_a_t", "us", rounds: config.runs) {
        let (sender, items) = threadProducer(.capacity1024)
        return await roundTrips(p + "rtt_t_a_t", trips: config.roundTrips, sender: sender, items: items)
    }
    for (scenario, pause, count) in [("slow50us", 50, config.slow50usItems), ("slow1ms", 1000, config.slow1msItems)] {
        let figures = [(p + scenario + "_cpu", "us_cpu"), (p + scenario + "_wall", "us")]
        await report(config, figures, rounds: config.slowRuns) {
            let (sender, items) = threadProducer(.capacity1024)
            return await slowSender(p + scenario, count: count, pause: pause, sender: sender, items: items)
        }
    }
}
