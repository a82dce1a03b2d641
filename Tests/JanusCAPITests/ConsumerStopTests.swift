import CJanus
import Glibc
import JanusCore
import Synchronization
import Testing

@testable import JanusCAPI

/// janus.h "Stopping": once the stop mark is set, at most tasks - 1 calls of fn begin, and every
/// item taken goes to fn or destroy exactly once; whatever the scheduler does between fn
/// returning and the mark. The test stretches that moment on purpose (as a preempted thread
/// would) and watches the mark through the consumer's test hook.
@Suite("janus_consume_async stopping")
struct ConsumerStopTests {
    @Test(
        "after the stop mark at most tasks - 1 calls of fn begin; every item reaches fn or destroy",
        arguments: [2, 3, 4], [0, 5_000])
    func stopContract(tasks: Int, stretchMicroseconds: Int) async throws {
        let total = 20_000
        let probe = StopProbe(stopAt: 200)
        let queue = CQueue(.fifo, maxsize: 0, onDiscard: { _ in probe.destroyed.wrappingAdd(1, ordering: .relaxed) })
        for i in 1...total { try queue.sync.putNowait(CItem(UnsafeMutableRawPointer(bitPattern: i))) }
        let consumer = Consumer(
            queue: queue,
            callback: ConsumeCallback(fn: probeCallback, ctx: Unmanaged.passUnretained(probe).toOpaque()),
            stopHook: { marked in
                if marked {
                    probe.marked.store(true, ordering: .releasing)
                } else if stretchMicroseconds > 0 {
                    usleep(UInt32(stretchMicroseconds))  // the stopping thread "preempted"
                }
            })
        consumer.start(tasks: tasks)
        let ended = await blockingOnThread { () -> Bool in
            guard let wait = try? ThreadWait(milliseconds: 30_000) else { return false }
            if case .success = consumer.finished.threadJoin(wait) { return true }
            return false
        }
        #expect(ended, "the consumer did not end")
        consumer.cancel()
        let calls = probe.calls.load(ordering: .acquiring)
        let late = probe.lateCalls.load(ordering: .acquiring)
        let marked = probe.marked.load(ordering: .acquiring)
        #expect(marked)
        #expect(late <= tasks - 1, "\(late) calls of fn began after the stop mark (\(tasks) tasks)")
        let destroyed = probe.destroyed.load(ordering: .acquiring)
        #expect(calls + destroyed + queue.count == total, "calls \(calls), destroyed \(destroyed), left \(queue.count)")
        #expect(queue.unfinishedTasks == queue.count, "every item taken was marked done")
    }
}

/// What the consumer's fn and hooks saw; shared by the consumer's tasks.
final class StopProbe: Sendable {
    let stopAt: Int
    let calls = Atomic<Int>(0)
    let lateCalls = Atomic<Int>(0)
    let marked = Atomic<Bool>(false)
    let destroyed = Atomic<Int>(0)
    init(stopAt: Int) { self.stopAt = stopAt }
}

/// The consumer's fn: counts calls, and calls that began after the stop mark; says stop once.
private let probeCallback: janus_consume_fn = { _, ctx in
    let probe = Unmanaged<StopProbe>.fromOpaque(ctx!).takeUnretainedValue()
    if probe.marked.load(ordering: .acquiring) { probe.lateCalls.wrappingAdd(1, ordering: .relaxed) }
    let call = probe.calls.wrappingAdd(1, ordering: .relaxed).newValue
    return call == probe.stopAt ? 1 : 0
}

/// Runs a blocking call on a thread of its own and awaits its answer, so that no Swift
/// concurrency thread is blocked (the consumer's tasks need them).
func blockingOnThread(_ body: @escaping @Sendable () -> Bool) async -> Bool {
    await withUnsafeContinuation { continuation in
        let job = Unmanaged.passRetained(Job(body: body, continuation: continuation)).toOpaque()
        var thread = pthread_t()
        precondition(pthread_create(&thread, nil, runJob, job) == 0)
        pthread_detach(thread)
    }
}

private let runJob: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
    Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().run()
    return nil
}

private final class Job: Sendable {
    let body: @Sendable () -> Bool
    let continuation: UnsafeContinuation<Bool, Never>
    init(body: @escaping @Sendable () -> Bool, continuation: UnsafeContinuation<Bool, Never>) {
        self.body = body
        self.continuation = continuation
    }
    func run() { continuation.resume(returning: body()) }
}
