import JanusCore
import Testing

/// Several threads and several tasks putting and getting at once (SPEC §4.1, §4.3): every item
/// arrives exactly once, and one consumer sees each producer's items in the order they were put.
@Suite("Stress", .heavy)
struct StressTests {
    struct Stamp: Sendable, Hashable, Comparable {
        var producer: Int
        var seq: Int

        static func < (a: Stamp, b: Stamp) -> Bool { (a.producer, a.seq) < (b.producer, b.seq) }
    }

    struct Config: Sendable, CustomTestStringConvertible {
        var kind: Kind = .fifo
        var maxsize: Int
        var threadProducers = 2
        var taskProducers = 2
        var threadConsumers = 2
        var taskConsumers = 2
        var perProducer = 1000
        /// Producers use putMany and consumers getMany, in small batches.
        var batches = false

        var testDescription: String {
            "\(kind) maxsize \(maxsize), \(threadProducers)+\(taskProducers) producers, "
                + "\(threadConsumers)+\(taskConsumers) consumers\(batches ? ", batches" : "")"
        }

        var producers: Int { threadProducers + taskProducers }
        var total: Int { producers * perProducer }
    }

    static let configs: [Config] = [
        Config(maxsize: 8),
        Config(maxsize: 0),
        Config(maxsize: 1, perProducer: 400),
        Config(maxsize: 16, batches: true),
        Config(maxsize: 0, threadProducers: 1, taskProducers: 0, threadConsumers: 0, taskConsumers: 3),
        Config(maxsize: 4, threadProducers: 0, taskProducers: 3, threadConsumers: 3, taskConsumers: 0),
    ]

    @Test("FIFO: exactly once, and in each producer's order per consumer", arguments: configs)
    func fifo(config: Config) async throws {
        let perConsumer = try await Self.run(config)
        for got in perConsumer {
            var last: [Int: Int] = [:]
            for stamp in got {
                #expect(stamp.seq > last[stamp.producer, default: -1], "producer \(stamp.producer) out of order")
                last[stamp.producer] = stamp.seq
            }
        }
    }

    @Test("LIFO and priority: exactly once", arguments: [Kind.lifo, .priority])
    func otherOrderings(kind: Kind) async throws {
        _ = try await Self.run(Config(kind: kind, maxsize: 8, perProducer: 800))
        _ = try await Self.run(Config(kind: kind, maxsize: 0, perProducer: 800, batches: true))
    }

    /// Runs producers and consumers, shuts the queue down after the last put, and checks that
    /// every item arrived exactly once and every taskDone balanced. Returns what each consumer got.
    static func run(_ config: Config) async throws -> [[Stamp]] {
        let queue: JanusQueue<Stamp> =
            switch config.kind {
            case .fifo: JanusQueue(.fifo, maxsize: config.maxsize)
            case .lifo: JanusQueue(.lifo, maxsize: config.maxsize)
            case .priority: JanusQueue(.priority, maxsize: config.maxsize)
            }
        let perProducer = config.perProducer
        let batches = config.batches

        var consumers: [Worker<Result<[Stamp], QueueError>>] = []
        for _ in 0..<config.threadConsumers {
            consumers.append(spawnThread { consumeOnThread(queue, batches: batches) })
        }
        for _ in 0..<config.taskConsumers {
            consumers.append(spawnTask { await consumeInTask(queue, batches: batches) })
        }
        var producers: [Worker<Bool>] = []
        for producer in 0..<config.threadProducers {
            producers.append(spawnThread { produceOnThread(queue, producer, perProducer, batches: batches) })
        }
        for producer in config.threadProducers..<config.producers {
            producers.append(spawnTask { await produceInTask(queue, producer, perProducer, batches: batches) })
        }
        for producer in producers { #expect(try await producer.value("producer finishes")) }
        queue.shutdown()

        var perConsumer: [[Stamp]] = []
        for consumer in consumers {
            let got = try await consumer.value("consumer finishes")
            #expect(got.isSuccess, "consumer failed: \(String(describing: got.failure))")
            perConsumer.append((try? got.get()) ?? [])
        }
        let all = perConsumer.flatMap { $0 }
        #expect(all.count == config.total, "items lost or duplicated")
        let expected = (0..<config.producers).flatMap { p in (0..<perProducer).map { Stamp(producer: p, seq: $0) } }
        #expect(all.sorted() == expected)
        #expect(queue.unfinishedTasks == 0)
        #expect(queue.isClosed)
        #expect(queue.waiting == WaitingCounts())
        return perConsumer
    }

    static func stamps(_ producer: Int, _ range: Range<Int>) -> [Stamp] {
        range.map { Stamp(producer: producer, seq: $0) }
    }

    static func produceOnThread(_ queue: JanusQueue<Stamp>, _ producer: Int, _ count: Int, batches: Bool) -> Bool {
        var seq = 0
        while seq < count {
            if batches {
                let end = Swift.min(count, seq + 1 + seq % 7)
                do { try queue.sync.putMany(stamps(producer, seq..<end)) } catch { return false }
                seq = end
            } else {
                do { try queue.sync.put(Stamp(producer: producer, seq: seq)) } catch { return false }
                seq += 1
            }
        }
        return true
    }

    static func produceInTask(_ queue: JanusQueue<Stamp>, _ producer: Int, _ count: Int, batches: Bool) async -> Bool {
        var seq = 0
        while seq < count {
            if batches {
                let end = Swift.min(count, seq + 1 + seq % 5)
                do { try await queue.async.putMany(stamps(producer, seq..<end)) } catch { return false }
                seq = end
            } else {
                do { try await queue.async.put(Stamp(producer: producer, seq: seq)) } catch { return false }
                seq += 1
            }
        }
        return true
    }

    static func consumeOnThread(_ queue: JanusQueue<Stamp>, batches: Bool) -> Result<[Stamp], QueueError> {
        var got: [Stamp] = []
        while true {
            do throws(QueueError) {
                let items = batches ? try queue.sync.getMany(max: 1 + got.count % 9) : [try queue.sync.get()]
                got += items
                for _ in items { try queue.sync.taskDone() }
            } catch .shutDown {
                return .success(got)
            } catch {
                return .failure(error)
            }
        }
    }

    static func consumeInTask(_ queue: JanusQueue<Stamp>, batches: Bool) async -> Result<[Stamp], QueueError> {
        var got: [Stamp] = []
        do throws(QueueError) {
            if batches {
                while true {
                    do throws(QueueError) {
                        let items = try await queue.async.getMany(max: 1 + got.count % 6)
                        got += items
                        for _ in items { try queue.async.taskDone() }
                    } catch .shutDown {
                        return .success(got)
                    }
                }
            } else {
                for try await item in queue.async {
                    got.append(item)
                    try queue.async.taskDone()
                }
            }
        } catch {
            return .failure(error)
        }
        return .success(got)
    }

    @Test("an immediate shutdown in the middle of traffic: every item put is got or discarded, exactly once")
    func shutdownUnderLoad() async throws {
        let discarded = Locked<[Stamp]>([])
        let queue = JanusQueue<Stamp>(
            .fifo, maxsize: 8, onDiscard: { stamp in discarded.withLock { $0.append(stamp) } })
        let producers = 4
        let moved = Locked(0)
        let limit = 2000
        // Each producer puts until refused (or `limit` items, so that a slow machine does not
        // spin forever) and returns how many of its puts succeeded.
        var putters: [Worker<Int>] = []
        for producer in 0..<producers {
            if producer % 2 == 0 {
                putters.append(
                    spawnThread {
                        var seq = 0
                        while seq < limit, (try? queue.sync.put(Stamp(producer: producer, seq: seq))) != nil {
                            seq += 1
                            moved.withLock { $0 += 1 }
                        }
                        return seq
                    })
            } else {
                putters.append(
                    spawnTask {
                        var seq = 0
                        while seq < limit, (try? await queue.async.put(Stamp(producer: producer, seq: seq))) != nil {
                            seq += 1
                            moved.withLock { $0 += 1 }
                        }
                        return seq
                    })
            }
        }
        let consumers = [
            spawnThread { Self.consumeOnThread(queue, batches: false) },
            spawnTask { await Self.consumeInTask(queue, batches: false) },
            spawnThread { Self.consumeOnThread(queue, batches: true) },
        ]
        // Let some traffic through, then cut it off in the middle.
        try await waitUntil("a few thousand items moved") { moved.current >= 1500 }
        queue.shutdown(immediate: true)
        var put: [Stamp] = []
        for (producer, putter) in putters.enumerated() {
            put += Self.stamps(producer, 0..<(try await putter.value()))
        }
        var got: [Stamp] = []
        for consumer in consumers {
            let result = try await consumer.value()
            #expect(result.isSuccess)
            got += (try? result.get()) ?? []
        }
        let gone = discarded.current
        #expect((got + gone).sorted() == put.sorted(), "got \(got.count) + discarded \(gone.count) != put \(put.count)")
        #expect(queue.count == 0 && queue.unfinishedTasks == 0)
    }
}
