//! The leader's view of one follower: how much of the log it matches, what to send next,
//! and how many appends are in flight to it.
//!
//! In `Probe` the leader sends one append and waits for the answer (it does not yet know
//! where the logs diverge). In `Replicate` it streams appends optimistically, bounded by a
//! window of `inflight_msgs_max` messages and `inflight_bytes_max` bytes. In `Snapshot` the follower needs entries the
//! leader has compacted away, so it receives the leader's snapshot one chunk at a time:
//! one chunk in flight, the next sent when the follower says how much it holds.

use std::collections::VecDeque;

use crate::types::Index;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressState {
    Probe,
    Replicate,
    Snapshot,
}

/// One append in flight: the last index it carries and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Inflight {
    last: Index,
    bytes: usize,
}

#[derive(Clone, Debug)]
pub struct Progress {
    pub match_index: Index,
    pub next_index: Index,
    pub state: ProgressState,
    /// In `Probe`: an append is outstanding; in `Snapshot`: a chunk is. Wait for an answer
    /// or a heartbeat response.
    pub probe_sent: bool,
    /// In `Snapshot`: the index of the snapshot being sent, and how many of its bytes the
    /// follower confirmed holding (the next chunk starts there).
    pub pending_snapshot: Index,
    pub snapshot_offset_bytes: u64,
    /// In `Probe`: the last index and size of the outstanding probe's entries. When an
    /// older acknowledgement ends probing first, that append is still on its way and
    /// counts as in flight, rather than being sent again (networks reorder).
    probe_carries: Option<Inflight>,
    /// Heard from since the last check-quorum round.
    pub recent_active: bool,
    /// Highest commit index sent to this follower (in an append or heartbeat).
    pub commit_sent: Index,
    /// Highest heartbeat round this follower acknowledged (reads and leases).
    pub acked_round: u64,
    /// Last index and size of each append in flight, oldest first; never longer than
    /// `inflight_max`.
    inflight: VecDeque<Inflight>,
    inflight_max: usize,
    /// Sum of the sizes in `inflight`; a new append waits once it reaches the limit.
    inflight_bytes: usize,
    inflight_bytes_max: usize,
}

impl Progress {
    pub fn new(next_index: Index, inflight_max: usize, inflight_bytes_max: usize) -> Self {
        assert!(next_index >= 1 && inflight_max >= 1 && inflight_bytes_max >= 1);
        Progress {
            match_index: 0,
            next_index,
            state: ProgressState::Probe,
            probe_sent: false,
            probe_carries: None,
            pending_snapshot: 0,
            snapshot_offset_bytes: 0,
            recent_active: false,
            commit_sent: 0,
            acked_round: 0,
            inflight: VecDeque::with_capacity(inflight_max),
            inflight_max,
            inflight_bytes: 0,
            inflight_bytes_max,
        }
    }

    pub fn inflight_count(&self) -> usize {
        self.inflight.len()
    }

    pub fn inflight_bytes(&self) -> usize {
        self.inflight_bytes
    }

    fn clear_inflight(&mut self) {
        self.inflight.clear();
        self.inflight_bytes = 0;
    }

    fn pop_inflight(&mut self) {
        if let Some(f) = self.inflight.pop_front() {
            self.inflight_bytes -= f.bytes;
        }
    }

    pub fn is_paused(&self) -> bool {
        match self.state {
            ProgressState::Probe | ProgressState::Snapshot => self.probe_sent,
            ProgressState::Replicate => {
                self.inflight.len() >= self.inflight_max
                    || self.inflight_bytes >= self.inflight_bytes_max
            }
        }
    }

    /// Back to probing. After a completed snapshot the follower holds everything up to it.
    pub fn become_probe(&mut self) {
        if self.state == ProgressState::Snapshot {
            self.next_index = self.next_index.max(self.pending_snapshot + 1);
            self.pending_snapshot = 0;
        }
        self.state = ProgressState::Probe;
        self.probe_sent = false;
        self.probe_carries = None;
        self.clear_inflight();
        self.next_index = self.next_index.max(self.match_index + 1);
    }

    /// Streams from the match on; a probe still carrying entries past it stays in flight.
    pub fn become_replicate(&mut self) {
        let carried = self.probe_carries.take();
        self.state = ProgressState::Replicate;
        self.probe_sent = false;
        self.clear_inflight();
        self.next_index = self.match_index + 1;
        if let Some(f) = carried.filter(|f| f.last > self.match_index) {
            self.next_index = f.last + 1;
            self.inflight.push_back(f);
            self.inflight_bytes = f.bytes;
        }
    }

    /// Starts (or restarts, for a newer snapshot) sending the snapshot ending at `index`.
    pub fn become_snapshot(&mut self, index: Index) {
        assert!(
            index >= self.match_index,
            "a snapshot behind match is useless"
        );
        self.state = ProgressState::Snapshot;
        self.probe_sent = false;
        self.probe_carries = None;
        self.clear_inflight();
        self.pending_snapshot = index;
        self.snapshot_offset_bytes = 0;
    }

    /// The follower holds `received_bytes` of snapshot `index`. Returns false if stale.
    pub fn on_snapshot_progress(&mut self, index: Index, received_bytes: u64) -> bool {
        if self.state != ProgressState::Snapshot || index != self.pending_snapshot {
            return false;
        }
        self.snapshot_offset_bytes = received_bytes;
        self.probe_sent = false;
        true
    }

    /// An append carrying entries up to `last`, `bytes` in all, went out.
    pub fn sent(&mut self, last: Option<Index>, bytes: usize) {
        match (self.state, last) {
            (ProgressState::Replicate, Some(last)) => {
                assert!(!self.is_paused(), "sent while paused");
                assert!(last >= self.next_index, "sent entries must advance next");
                self.next_index = last + 1;
                self.inflight.push_back(Inflight { last, bytes });
                self.inflight_bytes += bytes;
            }
            (ProgressState::Replicate, None) => {}
            (ProgressState::Probe, last) => {
                self.probe_sent = true;
                self.probe_carries = last.map(|last| Inflight { last, bytes });
            }
            (ProgressState::Snapshot, _) => self.probe_sent = true,
        }
    }

    /// The follower acknowledged `index`. Returns whether its match advanced.
    pub fn maybe_update(&mut self, index: Index) -> bool {
        let advanced = index > self.match_index;
        if advanced {
            self.match_index = index;
            self.probe_sent = false;
        }
        self.next_index = self.next_index.max(index + 1);
        while self.inflight.front().is_some_and(|f| f.last <= index) {
            self.pop_inflight();
        }
        advanced
    }

    /// The follower rejected an append after `rejected`; `hint` is where the leader thinks
    /// the logs may agree from. Returns false if the rejection is stale.
    pub fn maybe_decrease(&mut self, rejected: Index, hint: Index) -> bool {
        let stale = match self.state {
            ProgressState::Replicate => rejected <= self.match_index,
            ProgressState::Probe => rejected + 1 != self.next_index,
            // Rejections of appends sent before the snapshot say nothing new.
            ProgressState::Snapshot => true,
        };
        if stale {
            return false;
        }
        self.next_index = hint.min(rejected).max(self.match_index + 1);
        self.become_probe();
        true
    }

    /// A heartbeat response proves the follower is reachable: resume a paused probe, and
    /// free one window slot in case an append was lost, so the stream can restart.
    pub fn on_heartbeat_response(&mut self) {
        self.probe_sent = false;
        if self.state == ProgressState::Replicate && self.is_paused() {
            self.pop_inflight();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quickcheck::quickcheck;

    #[test]
    fn probe_sends_one_then_waits() {
        let mut p = Progress::new(5, 4, usize::MAX);
        assert!(!p.is_paused());
        p.sent(Some(7), 10);
        assert!(p.is_paused());
        assert_eq!(
            p.next_index, 5,
            "probe does not advance next optimistically"
        );
        assert!(p.maybe_update(7));
        assert!(!p.is_paused());
        p.become_replicate();
        assert_eq!(p.next_index, 8);
    }

    #[test]
    fn an_older_ack_ending_the_probe_keeps_the_probe_in_flight() {
        let mut p = Progress::new(4, 4, usize::MAX);
        p.sent(Some(13), 100); // probe: entries 4..=13
        assert!(p.maybe_update(3), "an acknowledgement of an earlier append");
        p.become_replicate();
        assert_eq!(p.next_index, 14, "4..=13 are on their way: not sent again");
        assert_eq!((p.inflight_count(), p.inflight_bytes()), (1, 100));
        assert!(p.maybe_update(13));
        assert_eq!(p.inflight_count(), 0);
        // The probe's own acknowledgement leaves nothing carried.
        let mut q = Progress::new(4, 4, usize::MAX);
        q.sent(Some(13), 100);
        q.maybe_update(13);
        q.become_replicate();
        assert_eq!((q.next_index, q.inflight_count()), (14, 0));
    }

    #[test]
    fn stale_rejections_are_ignored() {
        let mut p = Progress::new(10, 4, usize::MAX);
        assert!(!p.maybe_decrease(5, 1), "probe expects rejection of next-1");
        assert!(p.maybe_decrease(9, 3));
        assert_eq!(p.next_index, 3);
        p.maybe_update(4);
        p.become_replicate();
        assert!(
            !p.maybe_decrease(4, 1),
            "at or below match is stale in replicate"
        );
    }

    #[derive(Clone, Debug)]
    enum Op {
        Send(u8),
        Ack(u8),
        Reject(u8, u8),
        Heartbeat,
        Replicate,
        Snapshot(u8),
        SnapshotProgress(u8),
    }

    impl quickcheck::Arbitrary for Op {
        fn arbitrary(g: &mut quickcheck::Gen) -> Self {
            match u8::arbitrary(g) % 7 {
                0 => Op::Send(u8::arbitrary(g) % 8),
                1 => Op::Ack(u8::arbitrary(g)),
                2 => Op::Reject(u8::arbitrary(g), u8::arbitrary(g)),
                3 => Op::Heartbeat,
                4 => Op::Snapshot(u8::arbitrary(g)),
                5 => Op::SnapshotProgress(u8::arbitrary(g)),
                _ => Op::Replicate,
            }
        }
    }

    quickcheck! {
        /// Whatever happens, the window never exceeds its bound and next > match.
        fn accounting_stays_in_bounds(ops: Vec<Op>, window: u8, bytes_max: u8) -> bool {
            let window = usize::from(window % 6) + 1;
            let bytes_max = usize::from(bytes_max % 64) + 1;
            let mut p = Progress::new(1, window, bytes_max);
            let entry_bytes = 10;
            for op in ops {
                match op {
                    Op::Send(n) if !p.is_paused() => {
                        let last = p.next_index + Index::from(n);
                        p.sent(Some(last), (usize::from(n) + 1) * entry_bytes);
                    }
                    Op::Send(_) => {}
                    Op::Ack(i) => { p.maybe_update(Index::from(i)); }
                    Op::Reject(r, h) => { p.maybe_decrease(Index::from(r), Index::from(h)); }
                    Op::Heartbeat => p.on_heartbeat_response(),
                    Op::Replicate => p.become_replicate(),
                    Op::Snapshot(i) => {
                        let index = p.match_index + Index::from(i);
                        p.become_snapshot(index);
                    }
                    Op::SnapshotProgress(b) => {
                        let index = p.pending_snapshot;
                        p.on_snapshot_progress(index, u64::from(b));
                    }
                }
                // The last append may overshoot the byte limit (one is always allowed when
                // below it), but nothing more is sent once the limit is reached.
                let append_bytes_max = 8 * entry_bytes;
                let sum: usize = p.inflight.iter().map(|f| f.bytes).sum();
                if p.inflight_count() > window || p.next_index <= p.match_index { return false; }
                if sum != p.inflight_bytes || p.inflight_bytes >= bytes_max + append_bytes_max {
                    return false;
                }
            }
            true
        }
    }
}
