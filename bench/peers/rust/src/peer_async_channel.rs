//! async-channel 1.8: `send_blocking`/`recv_blocking` on threads, `send().await`/`recv().await`
//! in tasks. Multi-producer multi-consumer, so it runs every mixed scenario.

use async_channel::{Receiver, Sender};

use crate::{Bench, BoxFut, Tally, TaskApi, ThreadApi};

const PREFIX: &str = "async_channel_";

/// `None`: unbounded; `Some(cap)`: bounded.
pub struct Flavour(Option<usize>);

impl ThreadApi for Flavour {
    type Tx = Sender<u64>;
    type Rx = Receiver<u64>;
    fn channel(&self) -> (Self::Tx, Self::Rx) {
        match self.0 {
            None => async_channel::unbounded(),
            Some(cap) => async_channel::bounded(cap),
        }
    }
    fn send_thread(tx: &Self::Tx, v: u64) {
        tx.send_blocking(v).expect("receivers gone");
    }
    fn recv_thread(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_blocking().ok()
    }
}

impl TaskApi for Flavour {
    fn feed_task(tx: Self::Tx, lo: u64, hi: u64) -> BoxFut<()> {
        Box::pin(async move {
            for v in lo + 1..=hi {
                tx.send(v).await.expect("receivers gone");
            }
        })
    }
    fn drain_task(rx: Self::Rx) -> BoxFut<Tally> {
        Box::pin(async move {
            let mut t = Tally::new();
            while let Ok(v) = rx.recv().await {
                t.add(v);
            }
            t.finish()
        })
    }
    fn echo_task(rx: Self::Rx, tx: Self::Tx) -> BoxFut<()> {
        Box::pin(async move {
            while let Ok(v) = rx.recv().await {
                tx.send(v).await.expect("receiver gone");
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
