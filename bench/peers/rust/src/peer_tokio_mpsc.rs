//! tokio::sync::mpsc (tokio 1.24): `blocking_send`/`blocking_recv` on threads,
//! `send().await`/`recv().await` in tasks. Single consumer, so no mpmc4 scenarios; the brief
//! asks for no t2t either (tokio's channels are meant to have a task at least at one end).
//!
//! The unbounded and bounded channels are different types, hence two flavours. An unbounded
//! send never waits, so it is the same plain `send` on both sides.

use tokio::sync::mpsc::{self, Receiver, Sender, UnboundedReceiver, UnboundedSender};

use crate::{Bench, BoxFut, Tally, TaskApi, ThreadApi};

const PREFIX: &str = "tokio_mpsc_";

pub struct Unbounded;

impl ThreadApi for Unbounded {
    type Tx = UnboundedSender<u64>;
    type Rx = UnboundedReceiver<u64>;
    fn channel(&self) -> (Self::Tx, Self::Rx) {
        mpsc::unbounded_channel()
    }
    fn send_thread(tx: &Self::Tx, v: u64) {
        tx.send(v).expect("receiver gone");
    }
    fn recv_thread(rx: &mut Self::Rx) -> Option<u64> {
        rx.blocking_recv()
    }
}

impl TaskApi for Unbounded {
    fn feed_task(tx: Self::Tx, lo: u64, hi: u64) -> BoxFut<()> {
        Box::pin(async move {
            for v in lo + 1..=hi {
                tx.send(v).expect("receiver gone");
            }
        })
    }
    fn drain_task(mut rx: Self::Rx) -> BoxFut<Tally> {
        Box::pin(async move {
            let mut t = Tally::new();
            while let Some(v) = rx.recv().await {
                t.add(v);
            }
            t.finish()
        })
    }
    fn echo_task(mut rx: Self::Rx, tx: Self::Tx) -> BoxFut<()> {
        Box::pin(async move {
            while let Some(v) = rx.recv().await {
                tx.send(v).expect("receiver gone");
            }
        })
    }
}

pub struct Bounded(usize);

impl ThreadApi for Bounded {
    type Tx = Sender<u64>;
    type Rx = Receiver<u64>;
    fn channel(&self) -> (Self::Tx, Self::Rx) {
        mpsc::channel(self.0)
    }
    fn send_thread(tx: &Self::Tx, v: u64) {
        tx.blocking_send(v).expect("receiver gone");
    }
    fn recv_thread(rx: &mut Self::Rx) -> Option<u64> {
        rx.blocking_recv()
    }
}

impl TaskApi for Bounded {
    fn feed_task(tx: Self::Tx, lo: u64, hi: u64) -> BoxFut<()> {
        Box::pin(async move {
            for v in lo + 1..=hi {
                tx.send(v).await.expect("receiver gone");
            }
        })
    }
    fn drain_task(mut rx: Self::Rx) -> BoxFut<Tally> {
        Box::pin(async move {
            let mut t = Tally::new();
            while let Some(v) = rx.recv().await {
                t.add(v);
            }
            t.finish()
        })
    }
    fn echo_task(mut rx: Self::Rx, tx: Self::Tx) -> BoxFut<()> {
        Box::pin(async move {
            while let Some(v) = rx.recv().await {
                tx.send(v).await.expect("receiver gone");
            }
        })
    }
}

pub fn run(b: &Bench) {
    b.one_to_one_suite(PREFIX, &Unbounded, &Bounded(1024), false);
    b.latency_suite(PREFIX, &Unbounded);
}
