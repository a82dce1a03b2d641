//! crossbeam-channel 0.5: threads only (it has no async API), so only the thread-to-thread
//! scenarios, with an echo thread for the round trip and a receiving thread for slow*.

use crossbeam_channel::{Receiver, Sender};

use crate::{Bench, ThreadApi};

const PREFIX: &str = "crossbeam_";

/// `None`: unbounded; `Some(cap)`: bounded.
pub struct Flavour(Option<usize>);

impl ThreadApi for Flavour {
    type Tx = Sender<u64>;
    type Rx = Receiver<u64>;
    fn channel(&self) -> (Self::Tx, Self::Rx) {
        match self.0 {
            None => crossbeam_channel::unbounded(),
            Some(cap) => crossbeam_channel::bounded(cap),
        }
    }
    fn send_thread(tx: &Self::Tx, v: u64) {
        tx.send(v).expect("receivers gone");
    }
    fn recv_thread(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

pub fn run(b: &Bench) {
    b.thread_suite(PREFIX, &Flavour(None), &Flavour(Some(1024)));
    for queues in [2usize, 8] {
        let id = format!("select{queues}_t2t_1024");
        b.rate(PREFIX, &id, |what| select_round(b.n, queues, what));
    }
}

/// One thread sends 1..=n round-robin into `queues` channels of 1024; another receives them
/// with a `Select` over all of them.
fn select_round(n: u64, queues: usize, what: &str) -> std::time::Duration {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..queues).map(|_| crossbeam_channel::bounded::<u64>(1024)).unzip();
    let begin = std::time::Instant::now();
    let feeder = std::thread::spawn(move || {
        for v in 1..=n {
            txs[(v % queues as u64) as usize].send(v).expect("receiver gone");
        }
    });
    let mut tally = crate::Tally::new();
    let mut sel = crossbeam_channel::Select::new();
    for rx in &rxs {
        sel.recv(rx);
    }
    let mut got = 0;
    while got < n {
        let oper = sel.select();
        let index = oper.index();
        match oper.recv(&rxs[index]) {
            Ok(v) => {
                tally.add(v);
                got += 1;
            }
            // The feeder is done and this channel drained: ready for ever, so leave it out.
            Err(_) => sel.remove(index),
        }
    }
    let elapsed = begin.elapsed();
    feeder.join().expect("feeder panicked");
    crate::check(what, &[tally.finish()], n);
    elapsed
}
