//! Ordered acknowledgements. A QoS 1 message is acked only once it is fully
//! handled: its readings passed detection (and their tickets are committed),
//! or it was stored as a dead letter. Acks leave in arrival order.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct PendingAck<M> {
    pub seq: u64,
    /// The message went to detection and waits for `Done(seq)`; otherwise it
    /// was already handled (dead letter) when queued.
    pub needs_engine: bool,
    pub message: M,
}

#[derive(Debug)]
pub struct AckQueue<M> {
    queue: VecDeque<PendingAck<M>>,
    engine_done: u64,
}

impl<M> Default for AckQueue<M> {
    fn default() -> Self {
        AckQueue { queue: VecDeque::new(), engine_done: 0 }
    }
}

impl<M> AckQueue<M> {
    pub fn push(&mut self, p: PendingAck<M>) {
        self.queue.push_back(p);
    }

    /// Every engine batch with `seq <= done` has been handled.
    pub fn engine_done(&mut self, done: u64) {
        self.engine_done = self.engine_done.max(done);
    }

    /// The oldest message, if it and everything before it is handled.
    pub fn pop_ready(&mut self) -> Option<M> {
        let front = self.queue.front()?;
        if front.needs_engine && front.seq > self.engine_done {
            return None;
        }
        self.queue.pop_front().map(|p| p.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut AckQueue<u64>) -> Vec<u64> {
        std::iter::from_fn(|| q.pop_ready()).collect()
    }

    fn pending(seq: u64, needs_engine: bool) -> PendingAck<u64> {
        PendingAck { seq, needs_engine, message: seq }
    }

    #[test]
    fn nothing_is_acked_before_detection_is_done() {
        let mut q = AckQueue::default();
        q.push(pending(1, true));
        assert!(drain(&mut q).is_empty());
        q.engine_done(1);
        assert_eq!(drain(&mut q), [1]);
    }

    #[test]
    fn a_dead_letter_waits_behind_an_earlier_message_in_detection() {
        let mut q = AckQueue::default();
        q.push(pending(1, true));
        q.push(pending(2, false));
        q.push(pending(3, true));
        assert!(drain(&mut q).is_empty());
        q.engine_done(1);
        assert_eq!(drain(&mut q), [1, 2]);
        q.engine_done(3);
        assert_eq!(drain(&mut q), [3]);
    }

    #[test]
    fn done_may_arrive_before_the_entry_is_queued() {
        let mut q = AckQueue::default();
        q.engine_done(5);
        q.push(pending(4, true));
        assert_eq!(drain(&mut q), [4]);
    }

    #[test]
    fn done_never_moves_backwards() {
        let mut q = AckQueue::default();
        q.engine_done(7);
        q.engine_done(3);
        q.push(pending(6, true));
        assert_eq!(drain(&mut q), [6]);
    }
}
