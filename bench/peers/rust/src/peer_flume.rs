//! flume 0.10: `send`/`recv` on threads, `send_async`/`recv_async` in tasks.
//! Multi-producer multi-consumer, so it runs every mixed scenario.

use flume::{Receiver, Sender};

use crate::{Bench, BoxFut, Tally, TaskApi, ThreadApi};

const PREFIX: &str = "flume_";

/// `None`: unbounded; `Some(cap)`: bounded.
pub struct Flavour(Option<usize>);

impl ThreadApi for Flavour {
    type Tx = Sender<u64>;
    type Rx = Receiver<u64>;
    fn channel(&self) -> (Self::Tx, Self::Rx) {
        match self.0 {
            None => flume::unbounded(),
            Some(cap) => flume::bounded(cap),
        }
    }
    fn send_thread(tx: &Self::Tx, v: u64) {
        tx.send(v).expect("receivers gone");
    }
    fn recv_thread(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl TaskApi for Flavour {
    fn feed_task(tx: Self::Tx, lo: u64, hi: u64) -> BoxFut<()> {
        Box::pin(async move {
            for v in lo + 1..=hi {
                tx.send_async(v).await.expect("receivers gone");
            }
        })
    }
    fn drain_task(rx: Self::Rx) -> BoxFut<Tally> {
        Box::pin(async move {
            let mut t = Tally::new();
            while let Ok(v) = rx.recv_async().await {
                t.add(v);
            }
            t.finish()
        })
    }
    fn echo_task(rx: Self::Rx, tx: Self::Tx) -> BoxFut<()> {
        Box::pin(async move {
            while let Ok(v) = rx.recv_async().await {
                tx.send_async(v).await.expect("receiver gone");
            }
        })
    }
}

pub fn run(b: &Bench) {
    let (unbounded, bounded) = (Flavour(None), Flavour(Some(1024)));
    b.one_to_one_suite(PREFIX, &unbounded, &bounded, true);
    b.mpmc_suite(PREFIX, &bounded);
    b.latency_suite(PREFIX, &unbounded);
}
