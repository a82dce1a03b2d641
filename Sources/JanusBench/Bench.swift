import Glibc

/// The Swift side of `make bench`: janus through its Swift API. One line per figure,
/// `janus_swift_<scenario> <value> <unit>`, each the median of several runs; the scenarios are
/// the peers' (bench/peers), so bench/run.sh can put them side by side.
/// Arguments: items per run, runs. BENCH_ONLY=a,b runs the figures whose names contain a or b;
/// SLOW_ITEMS_SCALE scales the slow-stream scenarios.
@main
struct Bench {
    static func main() async {
        let arguments = CommandLine.arguments
        let count = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
        let runs = max(1, arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5)
        let only = getenv("BENCH_ONLY").map { String(cString: $0).split(separator: ",").map(String.init) }
        let slowScale = getenv("SLOW_ITEMS_SCALE").flatMap { Double(String(cString: $0)) } ?? 1

        func wanted(_ name: String) -> Bool { only?.contains { name.contains($0) } ?? true }

        func figure(_ scenario: String, _ unit: String = "items/s", _ run: () async -> Double) async {
            let name = "janus_swift_" + scenario
            guard wanted(name) else { return }
            var values: [Double] = []
            for _ in 0..<runs { values.append(await run()) }
            print(name, format(median(values)), unit)
        }

        func slow(_ scenario: String, gap: Int, items: Int) async {
            let name = "janus_swift_" + scenario
            guard wanted(name) else { return }
            var cpu: [Double] = []
            var wall: [Double] = []
            for _ in 0..<min(runs, 3) {
                let (c, w) = await slowStream(gapMicroseconds: gap, items: max(1, Int(Double(items) * slowScale)))
                cpu.append(c)
                wall.append(w)
            }
            print(name + "_cpu", format(median(cpu)), "us_cpu")
            print(name + "_wall", format(median(wall)), "us")
        }

        await figure("t2a_unbounded") { await threadToTask(count: count, maxsize: 0) }
        await figure("t2a_1024") { await threadToTask(count: count, maxsize: 1024) }
        await figure("a2t_unbounded") { await taskToThread(count: count, maxsize: 0) }
        await figure("a2t_1024") { await taskToThread(count: count, maxsize: 1024) }
        await figure("a2a_unbounded") { await taskToTask(count: count, maxsize: 0) }
        await figure("a2a_1024") { await taskToTask(count: count, maxsize: 1024) }
        await figure("t2t_unbounded") { threadToThread(count: count, maxsize: 0) }
        await figure("t2t_1024") { threadToThread(count: count, maxsize: 1024) }
        await figure("mpmc4_t2a_1024") { await mpmcThreadsToTasks(count: count, maxsize: 1024) }
        await figure("mpmc4_a2t_1024") { await mpmcTasksToThreads(count: count, maxsize: 1024) }
        await figure("mixed4x4_1024") { await mixed4x4(count: count, maxsize: 1024) }
        await figure("rtt_t_a_t", "us") { await roundTrip(rounds: 20_000) }
        await slow("slow50us", gap: 50, items: 20_000)
        await slow("slow1ms", gap: 1000, items: 2_000)
        await figure("batch256_t2a_unbounded") { await threadToTaskBatched(count: count, maxsize: 0) }
        await figure("pair_1024", "ns") { putGetPairNanoseconds(count: count, maxsize: 1024) }
    }
}

/// Two decimals without Foundation.
private func format(_ value: Double) -> String {
    let scaled = (value * 100).rounded()
    let whole = Int(scaled / 100)
    let frac = Int(scaled) % 100
    return "\(whole).\(frac < 10 ? "0" : "")\(frac)"
}
