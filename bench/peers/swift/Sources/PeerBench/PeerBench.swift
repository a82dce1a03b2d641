import Foundation

/// Baselines for janus: the channels a Swift user would reach for instead of it, run through
/// the scenarios of janus's own benchmark. Usage: PeerBench [N] [RUNS].
/// Prints `<prefix><scenario> <value> <unit>`, one line per figure, each the median over rounds.
/// Env: SLOW_ITEMS_SCALE scales the item counts of the slow scenarios (0.1 for a quick run);
/// PEERS_ONLY=text runs only the figures whose names contain it.
@main
struct PeerBench {
    static func main() async {
        let config = Config(CommandLine.arguments, ProcessInfo.processInfo.environment)
        diagnose("peers: N=\(config.count) RUNS=\(config.runs) slow items \(config.slow50usItems)/\(config.slow1msItems)")
        await benchAsyncStream(config)
        await benchAsyncChannel(config)
        await benchNIOProducer(config)
    }
}

struct Config: Sendable {
    /// Items per throughput round (argument 1).
    let count: Int
    /// Rounds per figure (argument 2).
    let runs: Int
    let roundTrips = 20_000
    let slow50usItems: Int
    let slow1msItems: Int
    /// The slow scenarios take seconds a round; three rounds give a stable median.
    var slowRuns: Int { min(runs, 3) }
    let only: String?

    init(_ arguments: [String], _ environment: [String: String]) {
        count = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
        runs = max(1, arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5)
        let scale = environment["SLOW_ITEMS_SCALE"].flatMap(Double.init) ?? 1
        slow50usItems = max(1, Int((20_000 * scale).rounded()))
        slow1msItems = max(1, Int((2_000 * scale).rounded()))
        only = environment["PEERS_ONLY"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Runs `round` `rounds` times; prints, for each (name, unit), the median of that position of
/// the figures the rounds returned.
func report(
    _ config: Config, _ figures: [(name: String, unit: String)], rounds: Int,
    _ round: () async -> [Double]
) async {
    if let only = config.only, !figures.contains(where: { $0.name.contains(only) }) { return }
    var results: [[Double]] = []
    let started = now()
    for _ in 0..<rounds { results.append(await round()) }
    for (index, figure) in figures.enumerated() {
        let value = median(results.map { $0[index] })
        emit("\(figure.name) \(String(format: "%.2f", value)) \(figure.unit)")
    }
    diagnose("  (\(figures[0].name): \(rounds) rounds in \(String(format: "%.1f", now() - started)) s)")
}

/// The usual case: one figure per round.
func report(_ config: Config, _ name: String, _ unit: String, rounds: Int, _ round: () async -> Double) async {
    await report(config, [(name, unit)], rounds: rounds) { [await round()] }
}
