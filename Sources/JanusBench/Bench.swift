import Glibc

/// The Swift side of `make bench`: janus through its Swift API, against `AsyncStream` fed from
/// a thread, measured in the same run. One line per figure: `<name> <value> <unit>`, each the
/// median of several runs. Arguments: items per run, runs.
@main
struct Bench {
    static func main() async {
        let arguments = CommandLine.arguments
        let count = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
        let runs = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
        let only = getenv("BENCH_ONLY").map { String(cString: $0) }

        func figure(_ name: String, _ tag: String, _ run: () async -> Double) async {
            if let only, !only.contains(tag) { return }
            var values: [Double] = []
            for _ in 0..<runs { values.append(await run()) }
            let padded = name + String(repeating: " ", count: max(0, 44 - name.count))
            print(padded, String(format: median(values)), "items/s")
        }

        await figure("baseline_swift_asyncstream_from_thread", "base") {
            await asyncStreamFromThread(count: min(count, 500_000))
        }
        await figure("swift_thread_to_task_unbounded", "swift") { await threadToTask(count: count, maxsize: 0) }
        await figure("swift_thread_to_task_1024", "swift") { await threadToTask(count: count, maxsize: 1024) }
        await figure("swift_thread_to_task_batched_unbounded", "swift") {
            await threadToTaskBatched(count: count, maxsize: 0)
        }
        await figure("swift_task_to_task_unbounded", "swift") { await taskToTask(count: count, maxsize: 0) }
        await figure("swift_task_to_task_1024", "swift") { await taskToTask(count: count, maxsize: 1024) }
        await figure("swift_thread_to_thread_unbounded", "swift") { threadToThread(count: count, maxsize: 0) }
        await figure("swift_mixed_4x4_unbounded", "mixed") { await mixed4x4(count: count, maxsize: 0) }
        await figure("swift_mixed_4x4_1024", "mixed") { await mixed4x4(count: count, maxsize: 1024) }
    }
}

private func String(format value: Double) -> String {
    // Two decimals without Foundation.
    let scaled = (value * 100).rounded()
    let whole = Int(scaled / 100)
    let frac = Int(scaled) % 100
    let text = "\(whole).\(frac < 10 ? "0" : "")\(frac)"
    return String(repeating: " ", count: max(0, 14 - text.count)) + text
}
