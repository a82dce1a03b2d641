// AsyncStream (stdlib), fed through its continuation. Only unbounded: its bounded buffering
// policies drop items instead of holding the sender back, so there is no real 1024 queue to
// compare with.

/// The continuation as a sender, for a thread or a task alike: `yield` never blocks or suspends.
struct StreamSender: ThreadSender, TaskSender {
    let continuation: AsyncStream<Int>.Continuation

    func send(_ item: Int) { continuation.yield(item) }
    func finish() { continuation.finish() }
}

private func unboundedStream() -> (StreamSender, AsyncStream<Int>) {
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .unbounded)
    return (StreamSender(continuation: continuation), stream)
}

func benchAsyncStream(_ config: Config) async {
    let p = "asyncstream_"
    await report(config, p + "t2a_unbounded", "items/s", rounds: config.runs) {
        let (sender, items) = unboundedStream()
        return await threadToTask(p + "t2a_unbounded", count: config.count, sender: sender, items: items)
    }
    await report(config, p + "a2a_unbounded", "items/s", rounds: config.runs) {
        let (sender, items) = unboundedStream()
        return await taskToTask(p + "a2a_unbounded", count: config.count, sender: sender, items: items)
    }
    await report(config, p + "rtt_t_a_t", "us", rounds: config.runs) {
        let (sender, items) = unboundedStream()
        return await roundTrips(p + "rtt_t_a_t", trips: config.roundTrips, sender: sender, items: items)
    }
    for (scenario, pause, count) in [("slow50us", 50, config.slow50usItems), ("slow1ms", 1000, config.slow1msItems)] {
        let figures = [(p + scenario + "_cpu", "us_cpu"), (p + scenario + "_wall", "us")]
        await report(config, figures, rounds: config.slowRuns) {
            let (sender, items) = unboundedStream()
            return await slowSender(p + scenario, count: count, pause: pause, sender: sender, items: items)
        }
    }
}
