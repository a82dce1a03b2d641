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
}
