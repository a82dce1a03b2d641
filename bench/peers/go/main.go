// Baselines for janus's benchmark: the same scenarios as bench/peers/rust, run against Go's
// built-in channels (standard library only, Go 1.19), on the same machine in the same run.
//
// Usage: peerbench [N] [RUNS]          (defaults: 2000000 items, 5 rounds)
// Output: one `go_chan_<scenario> <value> <unit>` line per figure on stdout (the median of the
// rounds); progress goes to stderr. Exits non-zero if a receiver saw a wrong sum or count.
// Environment: SLOW_ITEMS_SCALE scales the item counts of the slow-producer scenarios (e.g. 0.1).
//
// Vocabulary: a "thread" is a goroutine wired to its own OS thread with runtime.LockOSThread,
// so that blocking on a channel parks a real OS thread as a janus thread would; a "task" is a
// plain goroutine, multiplexed by the Go scheduler (GOMAXPROCS left at its default, the number
// of cores). Go channels are always bounded, so only the _1024 scenarios exist here.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	prefix     = "go_chan_"
	capacity   = 1024
	roundTrips = 20000
)

type side int

const (
	thread side = iota
	task
)

// start runs f on a new goroutine, on its own locked OS thread if s is thread.
func start(s side, f func()) {
	go func() {
		if s == thread {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		f()
	}()
}

// tally is what one receiver saw.
type tally struct {
	sum, count uint64
	done       time.Time // when the receiver saw the channel closed
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "peerbench: "+format+"\n", args...)
	os.Exit(1)
}

// check exits non-zero unless the receivers together got exactly the items 1..=n.
func check(what string, tallies []tally, n uint64) {
	var sum, count uint64
	for _, t := range tallies {
		sum += t.sum
		count += t.count
	}
	if want := n * (n + 1) / 2; sum != want || count != n {
		fail("%s: received %d items summing to %d, expected %d items summing to %d", what, count, sum, n, want)
	}
}

func median(v []float64) float64 {
	sort.Float64s(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

func report(id string, value float64, unit string) {
	// os.Stdout is unbuffered: each line is written (flushed) at once.
	fmt.Printf("%s%s %.2f %s\n", prefix, id, value, unit)
}

// processCPUSeconds is the user + sys CPU time of the whole process (every thread).
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)*1e-6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

type bench struct {
	n         uint64
	runs      int
	slowScale float64
}

// transfer moves the items 1..=n through one channel of capacity 1024 from `producers`
// senders (each sends its own contiguous share) to `consumers` receivers, and returns the time
// from the start of sending until every receiver is done. The receivers are started (and
// wired to their threads) first, so they are waiting when the first item comes.
func (b *bench) transfer(what string, producers int, from side, consumers int, to side) time.Duration {
	ch := make(chan uint64, capacity)
	results := make(chan tally, consumers)
	var ready sync.WaitGroup
	ready.Add(consumers)
	for i := 0; i < consumers; i++ {
		start(to, func() {
			ready.Done()
			var t tally
			for v := range ch {
				t.sum += v
				t.count++
			}
			t.done = time.Now()
			results <- t
		})
	}
	ready.Wait()

	begin := time.Now()
	left := int32(producers) // the last producer to finish closes the channel
	k := uint64(producers)
	for i := uint64(0); i < k; i++ {
		lo, hi := i*b.n/k, (i+1)*b.n/k
		start(from, func() {
			for v := lo + 1; v <= hi; v++ {
				ch <- v
			}
			if atomic.AddInt32(&left, -1) == 0 {
				close(ch)
			}
		})
	}

	tallies := make([]tally, consumers)
	end := begin
	for i := range tallies {
		tallies[i] = <-results
		if tallies[i].done.After(end) {
			end = tallies[i].done
		}
	}
	check(what, tallies, b.n)
	return end.Sub(begin)
}

// rate prints the median items/s over the rounds.
func (b *bench) rate(id string, producers int, from side, consumers int, to side) {
	fmt.Fprintf(os.Stderr, "  %s%s\n", prefix, id)
	rates := make([]float64, b.runs)
	for r := range rates {
		rates[r] = float64(b.n) / b.transfer(prefix+id, producers, from, consumers, to).Seconds()
	}
	report(id, median(rates), "items/s")
}

// rtt prints the median round trip in microseconds: a thread sends on channel A, a task
// sends the item back on channel B, the thread receives it; one at a time.
func (b *bench) rtt() {
	id := "rtt_t_a_t"
	fmt.Fprintf(os.Stderr, "  %s%s\n", prefix, id)
	medians := make([]float64, b.runs)
	for r := range medians {
		a, back := make(chan uint64, capacity), make(chan uint64, capacity)
		start(task, func() {
			for v := range a {
				back <- v
			}
		})
		result := make(chan float64)
		start(thread, func() {
			samples := make([]float64, roundTrips)
			for v := uint64(1); v <= roundTrips; v++ {
				t := time.Now()
				a <- v
				got := <-back
				samples[v-1] = float64(time.Since(t).Nanoseconds()) / 1e3
				if got != v {
					fail("%s%s: sent %d, got back %d", prefix, id, v, got)
				}
			}
			close(a) // ends the echo task
			result <- median(samples)
		})
		medians[r] = <-result
	}
	report(id, median(medians), "us")
}

// slow: a thread sends one item, sleeps, repeats; a task receives. Prints the process's CPU
// time per item (what waking the receiver costs when items trickle in) and the wall time per
// item (to show that the pacing happened).
func (b *bench) slow(name string, pause time.Duration, items int) {
	k := uint64(float64(items)*b.slowScale + 0.5)
	if k < 1 {
		k = 1
	}
	fmt.Fprintf(os.Stderr, "  %s%s (%d items)\n", prefix, name, k)
	rounds := b.runs
	if rounds > 3 {
		rounds = 3
	}
	cpu, wall := make([]float64, rounds), make([]float64, rounds)
	pauseSpec := syscall.NsecToTimespec(pause.Nanoseconds())
	for r := 0; r < rounds; r++ {
		cpu0, t0 := processCPUSeconds(), time.Now()
		ch := make(chan uint64, capacity)
		results := make(chan tally, 1)
		start(task, func() {
			var t tally
			for v := range ch {
				t.sum += v
				t.count++
			}
			results <- t
		})
		start(thread, func() {
			for v := uint64(1); v <= k; v++ {
				ch <- v
				// A plain nanosleep system call on the locked thread, as the C, Swift and
				// Rust producers sleep. Not time.Sleep: that parks the goroutine on the
				// runtime's timers, which Go 1.19 fires at millisecond resolution on Linux
				// (a 50 µs time.Sleep lasts about 1 ms here).
				rest := pauseSpec
				for syscall.Nanosleep(&rest, &rest) == syscall.EINTR {
				}
			}
			close(ch)
		})
		t := <-results
		wallS, cpuS := time.Since(t0).Seconds(), processCPUSeconds()-cpu0
		check(prefix+name, []tally{t}, k)
		cpu[r] = cpuS * 1e6 / float64(k)
		wall[r] = wallS * 1e6 / float64(k)
	}
	report(name+"_cpu", median(cpu), "us_cpu")
	report(name+"_wall", median(wall), "us")
}

func main() {
	arg := func(i int, name string, def uint64) uint64 {
		if len(os.Args) <= i {
			return def
		}
		v, err := strconv.ParseUint(os.Args[i], 10, 64)
		if err != nil || v == 0 {
			fail("bad %s: %s", name, os.Args[i])
		}
		return v
	}
	b := &bench{n: arg(1, "N", 2000000), runs: int(arg(2, "RUNS", 5)), slowScale: 1}
	if s, ok := os.LookupEnv("SLOW_ITEMS_SCALE"); ok {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			fail("bad SLOW_ITEMS_SCALE: %s", s)
		}
		b.slowScale = v
	}
	fmt.Fprintf(os.Stderr, "peerbench (%s, GOMAXPROCS=%d): %d items, median of %d rounds\n",
		runtime.Version(), runtime.GOMAXPROCS(0), b.n, b.runs)

	b.rate("t2a_1024", 1, thread, 1, task)
	b.rate("a2t_1024", 1, task, 1, thread)
	b.rate("a2a_1024", 1, task, 1, task)
	b.rate("t2t_1024", 1, thread, 1, thread)
	b.rate("mpmc4_t2a_1024", 4, thread, 4, task)
	b.rate("mpmc4_a2t_1024", 4, task, 4, thread)
	b.rate("mpmc4_t2t_1024", 4, thread, 4, thread)
	b.rtt()
	b.slow("slow50us", 50*time.Microsecond, 20000)
	b.slow("slow1ms", time.Millisecond, 2000)
	b.selectRate("select2_t2t_1024", 2)
	b.selectRate("select8_t2t_1024", 8)
}

// selectTransfer: one thread sends 1..=n round-robin into `queues` channels of 1024, another
// receives them with a select over all of them (the select statement, written out).
func (b *bench) selectTransfer(queues int) time.Duration {
	chs := make([]chan uint64, 8)
	for i := range chs {
		chs[i] = make(chan uint64, capacity)
	}
	done := make(chan tally, 1)
	start(thread, func() {
		var t tally
		for t.count < b.n {
			var v uint64
			if queues == 2 {
				select {
				case v = <-chs[0]:
				case v = <-chs[1]:
				}
			} else {
				select {
				case v = <-chs[0]:
				case v = <-chs[1]:
				case v = <-chs[2]:
				case v = <-chs[3]:
				case v = <-chs[4]:
				case v = <-chs[5]:
				case v = <-chs[6]:
				case v = <-chs[7]:
				}
			}
			t.sum += v
			t.count++
		}
		t.done = time.Now()
		done <- t
	})
	begin := time.Now()
	k := uint64(queues)
	start(thread, func() {
		for v := uint64(1); v <= b.n; v++ {
			chs[v%k] <- v
		}
	})
	t := <-done
	check("select", []tally{t}, b.n)
	return t.done.Sub(begin)
}

func (b *bench) selectRate(id string, queues int) {
	fmt.Fprintf(os.Stderr, "  %s%s\n", prefix, id)
	rates := make([]float64, b.runs)
	for r := range rates {
		rates[r] = float64(b.n) / b.selectTransfer(queues).Seconds()
	}
	report(id, median(rates), "items/s")
}
