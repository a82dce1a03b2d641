import JanusCore

@main
struct Consumer {
    static func main() async throws {
        let queue = JanusQueue<Int>(.priority, maxsize: 8)
        let producer = Task.detached {
            for i in (1...100).reversed() { try await queue.async.put(i) }
            queue.shutdown()
        }
        var sum = 0
        for try await item in queue.async { sum += item }
        try await producer.value
        print(sum == 5050 ? "swiftpm consumer: OK" : "swiftpm consumer: wrong sum \(sum)")
        if sum != 5050 { fatalError("wrong sum") }
    }
}
