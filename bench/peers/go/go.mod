module janus/bench/peers/go

go 1.19
