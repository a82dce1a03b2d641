import Glibc
import JanusCore

/// Bridges a blocking C-style callback thread into `for await`.
///
/// The sensor's thread calls back for each reading; the callback puts it on the queue's
/// blocking face, which holds that thread back while the queue is full (back-pressure instead
/// of unbounded buffering). An async loop takes the readings from the async face and ends
/// when the sensor is done and the queue drained.
@main
struct Example {
    static func main() async throws {
        let queue = JanusQueue<Int32>(maxsize: 16)
        let thread = startSensor(feeding: queue, readings: 1_000)

        var count = 0
        var sum = 0
        for try await reading in queue.async {
            count += 1
            sum += Int(reading)
            try queue.async.taskDone()
        }
        pthread_join(thread, nil)

        let expected = 999 * 1_000 / 2
        print("received \(count) readings from a C callback thread, sum \(sum): \(sum == expected ? "OK" : "WRONG")")
        if sum != expected { exit(1) }
    }
}

/// Hands the queue to the C callback as its context pointer. Kept out of `main` so that the
/// C callbacks are not inferred to be main-actor isolated (they run on the sensor's thread).
func startSensor(feeding queue: JanusQueue<Int32>, readings: Int32) -> pthread_t {
    let context = Unmanaged.passRetained(queue).toOpaque()
    return FakeSensor.start(
        count: readings,
        callback: { reading, context in
            let queue = Unmanaged<JanusQueue<Int32>>.fromOpaque(context!).takeUnretainedValue()
            putFromCallback(queue, reading)
        },
        done: { context in
            // No more readings: the async loop drains what is queued, then ends.
            Unmanaged<JanusQueue<Int32>>.fromOpaque(context!).takeRetainedValue().shutdown()
        },
        context: context)
}

/// Runs on the sensor's own thread, where blocking is allowed.
@available(*, noasync)
func putFromCallback(_ queue: JanusQueue<Int32>, _ reading: Int32) {
    do {
        try queue.sync.put(reading)
    } catch {
        // Shut down early: drop the reading, as the C library would if nobody listens.
    }
}
