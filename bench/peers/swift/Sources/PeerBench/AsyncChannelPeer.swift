import AsyncAlgorithms

// swift-async-algorithms' AsyncChannel: task to task only, since `send` is async; and it has no
// buffer at all (each send waits for the receiver's next), so its one figure is a rendezvous one.

struct ChannelSender: TaskSender {
    let channel: AsyncChannel<Int>

    func send(_ item: Int) async { await channel.send(item) }
    func finish() { channel.finish() }
}

func benchAsyncChannel(_ config: Config) async {
    let name = "asyncchannel_a2a_rendezvous"
    await report(config, name, "items/s", rounds: config.runs) {
        let channel = AsyncChannel<Int>()
        return await taskToTask(name, count: config.count, sender: ChannelSender(channel: channel), items: channel)
    }
}
