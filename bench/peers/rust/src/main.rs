//! Baselines for janus's benchmark: the same scenarios, run against peer Rust channel
//! libraries (async-channel, flume, tokio::sync::mpsc, crossbeam-channel) on the same machine
//! in the same run, so the figures can be compared side by side.
//!
//! Usage: janus-peer-bench [N] [RUNS]          (defaults: 2000000 items, 5 rounds)
//! Output: one `<prefix><scenario> <value> <unit>` line per figure on stdout (the median of the
//! rounds); progress goes to stderr. Exits non-zero if a receiver saw a wrong sum or count.
//! Environment:
//!   SLOW_ITEMS_SCALE  scales the item counts of the slow-producer scenarios (e.g. 0.1)
//!   PEERS             comma-separated peers to run (async_channel,flume,tokio_mpsc,crossbeam)
//!
//! Vocabulary: a "thread" is a plain OS thread using the library's blocking API; a "task" is
//! an async task on one tokio multi-thread runtime with 2 workers (the machine has 2 cores,
//! and janus's Swift side also runs on a 2-thread cooperative pool), built once and reused.
//!
//! The scenarios are written once, generically (this file); each peer module only maps the
//! four channel operations (send/receive, blocking/async) onto its library.

mod peer_async_channel;
mod peer_crossbeam;
mod peer_flume;
mod peer_tokio_mpsc;

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::thread;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

/// A boxed task loop. Debian 12's Rust (1.63) has no async fn in traits, so each peer hands out
/// whole task loops boxed once per task: one allocation per task is nothing next to millions of
/// channel operations, and the loop inside calls the library directly, without dynamic dispatch.
pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What one receiver saw, checked against the items sent.
#[derive(Clone, Copy)]
pub struct Tally {
    pub sum: u64,
    pub count: u64,
    /// When the receiver saw the channel closed, i.e. had received everything.
    pub done: Instant,
}

impl Tally {
    pub fn new() -> Self {
        Tally { sum: 0, count: 0, done: Instant::now() }
    }
    #[inline]
    pub fn add(&mut self, v: u64) {
        self.sum += v;
        self.count += 1;
    }
    pub fn finish(mut self) -> Self {
        self.done = Instant::now();
        self
    }
}

/// One channel flavour (library + capacity) and its blocking, thread-side operations.
pub trait ThreadApi: Sync {
    type Tx: Send + 'static;
    type Rx: Send + 'static;
    /// A fresh channel of this flavour.
    fn channel(&self) -> (Self::Tx, Self::Rx);
    /// Blocking send. The receivers outlive the senders in every scenario, so failure is a bug.
    fn send_thread(tx: &Self::Tx, v: u64);
    /// Blocking receive; `None` once all senders are dropped and the channel is drained.
    fn recv_thread(rx: &mut Self::Rx) -> Option<u64>;
}

/// The async, task-side operations, as whole task loops (see `BoxFut`).
pub trait TaskApi: ThreadApi {
    /// Sends lo+1..=hi, then drops the sender.
    fn feed_task(tx: Self::Tx, lo: u64, hi: u64) -> BoxFut<()>;
    /// Receives until the channel is closed.
    fn drain_task(rx: Self::Rx) -> BoxFut<Tally>;
    /// Sends every item received on `rx` back on `tx`, until `rx` is closed.
    fn echo_task(rx: Self::Rx, tx: Self::Tx) -> BoxFut<()>;
}

fn feed_thread<C: ThreadApi>(tx: C::Tx, lo: u64, hi: u64) {
    for v in lo + 1..=hi {
        C::send_thread(&tx, v);
    }
}

fn drain_thread<C: ThreadApi>(mut rx: C::Rx) -> Tally {
    let mut t = Tally::new();
    while let Some(v) = C::recv_thread(&mut rx) {
        t.add(v);
    }
    t.finish()
}

fn echo_thread<C: ThreadApi>(mut rx: C::Rx, tx: C::Tx) {
    while let Some(v) = C::recv_thread(&mut rx) {
        C::send_thread(&tx, v);
    }
}

/// Where a scenario's producer or consumer runs.
#[derive(Clone, Copy)]
pub enum Side {
    Thread,
    Task,
}

/// A running producer/consumer, on either side.
enum Waiter<T> {
    Thread(thread::JoinHandle<T>),
    Task(tokio::task::JoinHandle<T>),
}

impl<T> Waiter<T> {
    fn wait(self, rt: &Runtime) -> T {
        match self {
            Waiter::Thread(h) => h.join().unwrap_or_else(|_| fail("a benchmark thread panicked")),
            Waiter::Task(h) => rt.block_on(h).unwrap_or_else(|_| fail("a benchmark task panicked")),
        }
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("janus-peer-bench: {msg}");
    std::process::exit(1)
}

/// Exits non-zero unless the receivers together got exactly the items 1..=n.
fn check(what: &str, tallies: &[Tally], n: u64) {
    let sum: u64 = tallies.iter().map(|t| t.sum).sum();
    let count: u64 = tallies.iter().map(|t| t.count).sum();
    if sum != n * (n + 1) / 2 || count != n {
        fail(&format!("{what}: received {count} items summing to {sum}, expected {n} items summing to {}", n * (n + 1) / 2));
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let m = v.len() / 2;
    if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 }
}

/// user + sys CPU time of the whole process (every thread), in seconds.
fn process_cpu_seconds() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes into the struct we pass.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        fail("getrusage failed");
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn report(prefix: &str, id: &str, value: f64, unit: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) is not worth a panic.
    let _ = writeln!(out, "{prefix}{id} {value:.2} {unit}");
    let _ = out.flush();
}

/// Round trips per rtt round.
const ROUND_TRIPS: u64 = 20_000;
/// The slow-producer scenarios: pause between sends, and items per round before scaling.
const SLOW: [(&str, Duration, u64); 2] =
    [("slow50us", Duration::from_micros(50), 20_000), ("slow1ms", Duration::from_millis(1), 2_000)];

pub struct Bench {
    rt: Runtime,
    n: u64,
    runs: usize,
    slow_scale: f64,
}

impl Bench {
    fn feeder<C: TaskApi>(&self, side: Side) -> impl Fn(C::Tx, u64, u64) -> Waiter<()> + '_ {
        move |tx, lo, hi| match side {
            Side::Thread => Waiter::Thread(thread::spawn(move || feed_thread::<C>(tx, lo, hi))),
            Side::Task => Waiter::Task(self.rt.spawn(C::feed_task(tx, lo, hi))),
        }
    }

    fn drainer<C: TaskApi>(&self, side: Side) -> impl Fn(C::Rx) -> Waiter<Tally> + '_ {
        move |rx| match side {
            Side::Thread => Waiter::Thread(thread::spawn(move || drain_thread::<C>(rx))),
            Side::Task => Waiter::Task(self.rt.spawn(C::drain_task(rx))),
        }
    }

    /// Moves the items 1..=n from the producers (each sends its own contiguous share) to the
    /// consumers and returns the time from the start of sending until every consumer is done.
    /// The consumers are started first, so they are waiting when the first item comes.
    fn transfer<Tx, Rx>(
        &self,
        what: &str,
        txs: Vec<Tx>,
        rxs: Vec<Rx>,
        feed: impl Fn(Tx, u64, u64) -> Waiter<()>,
        drain: impl Fn(Rx) -> Waiter<Tally>,
    ) -> Duration {
        let consumers: Vec<_> = rxs.into_iter().map(drain).collect();
        let start = Instant::now();
        let (n, k) = (self.n, txs.len() as u64);
        let producers: Vec<_> =
            txs.into_iter().zip(0..).map(|(tx, i)| feed(tx, i * n / k, (i + 1) * n / k)).collect();
        for p in producers {
            p.wait(&self.rt);
        }
        let tallies: Vec<Tally> = consumers.into_iter().map(|c| c.wait(&self.rt)).collect();
        check(what, &tallies, n);
        tallies.iter().map(|t| t.done).max().unwrap() - start
    }

    /// Prints the median items/s over `runs` rounds of `round`.
    fn rate(&self, prefix: &str, id: &str, mut round: impl FnMut(&str) -> Duration) {
        eprintln!("  {prefix}{id}");
        let what = format!("{prefix}{id}");
        let rates = (0..self.runs).map(|_| self.n as f64 / round(&what).as_secs_f64()).collect();
        report(prefix, id, median(rates), "items/s");
    }

    /// t2a, a2t, a2a (and t2t if asked), unbounded then bounded(1024).
    pub fn one_to_one_suite<U: TaskApi, B: TaskApi>(&self, prefix: &str, unbounded: &U, bounded: &B, t2t: bool) {
        use Side::*;
        let mut shapes = vec![("t2a", Thread, Task), ("a2t", Task, Thread), ("a2a", Task, Task)];
        if t2t {
            shapes.push(("t2t", Thread, Thread));
        }
        for (shape, from, to) in shapes {
            self.rate(prefix, &format!("{shape}_unbounded"), |what| {
                let (tx, rx) = unbounded.channel();
                self.transfer(what, vec![tx], vec![rx], self.feeder::<U>(from), self.drainer::<U>(to))
            });
            self.rate(prefix, &format!("{shape}_1024"), |what| {
                let (tx, rx) = bounded.channel();
                self.transfer(what, vec![tx], vec![rx], self.feeder::<B>(from), self.drainer::<B>(to))
            });
        }
    }

    /// mpmc4_t2a_1024 and mpmc4_a2t_1024: 4 producers, 4 consumers on one channel.
    pub fn mpmc_suite<B: TaskApi>(&self, prefix: &str, bounded: &B)
    where
        B::Tx: Clone,
        B::Rx: Clone,
    {
        use Side::*;
        for (id, from, to) in [("mpmc4_t2a_1024", Thread, Task), ("mpmc4_a2t_1024", Task, Thread)] {
            self.rate(prefix, id, |what| {
                let (tx, rx) = bounded.channel();
                self.transfer(what, vec![tx; 4], vec![rx; 4], self.feeder::<B>(from), self.drainer::<B>(to))
            });
        }
    }

    /// rtt_t_a_t and the slow-producer scenarios, with async tasks on the far side.
    pub fn latency_suite<U: TaskApi>(&self, prefix: &str, unbounded: &U) {
        self.rtt(prefix, "rtt_t_a_t", unbounded, |rx, tx| Waiter::Task(self.rt.spawn(U::echo_task(rx, tx))));
        self.slow(prefix, unbounded, |rx| Waiter::Task(self.rt.spawn(U::drain_task(rx))));
    }

    /// The thread-only scenarios (crossbeam-channel).
    pub fn thread_suite<C: ThreadApi>(&self, prefix: &str, unbounded: &C, bounded: &C)
    where
        C::Tx: Clone,
        C::Rx: Clone,
    {
        let feed = |tx, lo, hi| Waiter::Thread(thread::spawn(move || feed_thread::<C>(tx, lo, hi)));
        let drain = |rx| Waiter::Thread(thread::spawn(move || drain_thread::<C>(rx)));
        for (id, flavour) in [("t2t_unbounded", unbounded), ("t2t_1024", bounded)] {
            self.rate(prefix, id, |what| {
                let (tx, rx) = flavour.channel();
                self.transfer(what, vec![tx], vec![rx], feed, drain)
            });
        }
        self.rate(prefix, "mpmc4_t2t_1024", |what| {
            let (tx, rx) = bounded.channel();
            self.transfer(what, vec![tx; 4], vec![rx; 4], feed, drain)
        });
        self.rtt(prefix, "rtt_t_t_t", unbounded, |rx, tx| Waiter::Thread(thread::spawn(move || echo_thread::<C>(rx, tx))));
        self.slow(prefix, unbounded, drain);
    }

    /// Median round trip in microseconds: a thread sends on channel A, the echo (started by
    /// `echo`) sends the item back on channel B, the thread receives it; one at a time.
    fn rtt<C: ThreadApi>(&self, prefix: &str, id: &str, flavour: &C, echo: impl Fn(C::Rx, C::Tx) -> Waiter<()>) {
        eprintln!("  {prefix}{id}");
        let what = format!("{prefix}{id}");
        let mut medians = Vec::new();
        for _ in 0..self.runs {
            let (tx_a, rx_a) = flavour.channel();
            let (tx_b, mut rx_b) = flavour.channel();
            let echoer = echo(rx_a, tx_b);
            let what = what.clone();
            let pinger = thread::spawn(move || {
                let mut samples = Vec::with_capacity(ROUND_TRIPS as usize);
                for v in 1..=ROUND_TRIPS {
                    let t = Instant::now();
                    C::send_thread(&tx_a, v);
                    let back = C::recv_thread(&mut rx_b);
                    samples.push(t.elapsed().as_secs_f64() * 1e6);
                    if back != Some(v) {
                        fail(&format!("{what}: sent {v}, got back {back:?}"));
                    }
                }
                median(samples)
            });
            medians.push(pinger.wait_thread());
            echoer.wait(&self.rt); // the pinger dropped tx_a, so the echo has ended
        }
        report(prefix, id, median(medians), "us");
    }

    /// A thread sends one item, sleeps `pause`, repeats; the consumer started by `drain`
    /// receives. Reports the process's CPU time per item (what waking the consumer costs when
    /// items trickle in) and the wall time per item (to show that the pacing happened).
    fn slow<C: ThreadApi>(&self, prefix: &str, unbounded: &C, drain: impl Fn(C::Rx) -> Waiter<Tally>) {
        for (name, pause, items) in SLOW {
            let k = ((items as f64 * self.slow_scale).round() as u64).max(1);
            eprintln!("  {prefix}{name} ({k} items)");
            let what = format!("{prefix}{name}");
            let (mut cpu, mut wall) = (Vec::new(), Vec::new());
            for _ in 0..self.runs.min(3) {
                let (cpu0, t0) = (process_cpu_seconds(), Instant::now());
                let (tx, rx) = unbounded.channel();
                let consumer = drain(rx);
                let producer = thread::spawn(move || {
                    for v in 1..=k {
                        C::send_thread(&tx, v);
                        thread::sleep(pause); // nanosleep: a relative sleep, no deadline pacing
                    }
                });
                producer.wait_thread();
                let tally = consumer.wait(&self.rt);
                let (wall_s, cpu_s) = (t0.elapsed().as_secs_f64(), process_cpu_seconds() - cpu0);
                check(&what, &[tally], k);
                cpu.push(cpu_s * 1e6 / k as f64);
                wall.push(wall_s * 1e6 / k as f64);
            }
            report(prefix, &format!("{name}_cpu"), median(cpu), "us_cpu");
            report(prefix, &format!("{name}_wall"), median(wall), "us");
        }
    }
}

/// `join` for the benchmark's own helper threads.
trait WaitThread<T> {
    fn wait_thread(self) -> T;
}

impl<T> WaitThread<T> for thread::JoinHandle<T> {
    fn wait_thread(self) -> T {
        self.join().unwrap_or_else(|_| fail("a benchmark thread panicked"))
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut arg = |name: &str, default: u64| match args.next() {
        None => default,
        Some(s) => s.parse().ok().filter(|&v| v > 0).unwrap_or_else(|| fail(&format!("bad {name}: {s}"))),
    };
    let n = arg("N", 2_000_000);
    let runs = arg("RUNS", 5) as usize;
    let slow_scale = match std::env::var("SLOW_ITEMS_SCALE") {
        Err(_) => 1.0,
        Ok(s) => s.parse().ok().filter(|&v: &f64| v > 0.0).unwrap_or_else(|| fail(&format!("bad SLOW_ITEMS_SCALE: {s}"))),
    };
    let only = std::env::var("PEERS").ok();
    let wanted = |peer: &str| only.as_deref().map_or(true, |list| list.split(',').any(|p| p.trim() == peer));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap_or_else(|e| fail(&format!("cannot start the tokio runtime: {e}")));
    let bench = Bench { rt, n, runs, slow_scale };
    eprintln!("janus-peer-bench: {n} items, median of {runs} rounds");

    let peers: [(&str, fn(&Bench)); 4] = [
        ("async_channel", peer_async_channel::run),
        ("flume", peer_flume::run),
        ("tokio_mpsc", peer_tokio_mpsc::run),
        ("crossbeam", peer_crossbeam::run),
    ];
    for (name, run) in peers {
        if wanted(name) {
            eprintln!("{name}:");
            run(&bench);
        }
    }
}
