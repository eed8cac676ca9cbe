//! Linearizable reads without log writes.
//!
//! **ReadIndex** (the default): the leader notes its commit index when a read arrives,
//! then confirms it still leads with a heartbeat round sent *after* the read arrived; once
//! a quorum acknowledged that round, the read may be served as soon as the application
//! has applied up to the noted index. A new leader first waits until an entry of its own
//! term commits (its commit index may lag the true one until then), then confirms with
//! a round started after that commit.
//!
//! **Lease** (opt-in, needs CheckQuorum): the leader serves reads locally, without a
//! round, until `lease_until_tick`. Exactly what that relies on:
//!
//! 1. *The promise.* A node that accepted an append, heartbeat or snapshot chunk from the
//!    leader of its term grants no vote, in any term, for `election_ticks` of its own
//!    ticks after that (`Node::in_lease`, keyed on the tick that traffic arrived, never
//!    on `leader`, which a higher-term rejection of an old pre-vote clears). The one
//!    exception is a vote flagged as a leadership transfer: only a `TimeoutNow` from the
//!    leader starts such a campaign, every other campaign clears the flag, and a leader
//!    that sent `TimeoutNow` serves no more lease reads in its term. A restarted node
//!    refuses votes for `election_ticks` after booting, since it forgot whom it heard.
//! 2. *Quorum intersection.* Any election needs a vote from every quorum of the
//!    configuration (both halves of a joint one), so from some node that acknowledged
//!    the round; consecutive configurations share quorums.
//! 3. *Clocks.* Once a quorum (counting the leader) acknowledged a heartbeat round the
//!    leader sent at its tick `t`, no other leader exists before `t + election_ticks` of
//!    any acknowledging node's clock. No node's ticks may run faster than the leader's
//!    by more than `lease_clock_drift_ppm`; the lease is shortened by that factor and by
//!    two ticks for tick phase (`lease_ticks`). Faster drift voids the guarantee.
//! 4. *Fresh acknowledgements.* A round counts only if it was sent after the read's
//!    conditions held; rounds are numbered by this queue alone and only grow.
//!
//! The simulator checks (1) on every step (its lease watch) and every confirmed read
//! against all earlier commits.
//!
//! Heartbeat rounds carry a sequence number; the leader keeps the send tick of recent
//! rounds (bounded) to date acknowledgements.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::types::Index;

/// A confirmed read: serve it once the application has applied `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadState {
    pub id: u64,
    pub index: Index,
}

/// Which read path [`crate::Input::Read`] takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadMode {
    /// ReadIndex: one heartbeat round per read, or per batch of reads (`Input::ReadBatch`).
    #[default]
    Safe,
    /// Serve locally while the leader's lease holds; fall back to ReadIndex otherwise.
    Lease,
}

#[derive(Clone, Copy, Debug)]
struct PendingRead {
    id: u64,
    /// Commit index when the read was accepted; `None` until the leader has committed an
    /// entry of its own term.
    index: Option<Index>,
    /// The heartbeat round that must be acknowledged by a quorum.
    round: u64,
}

/// How many heartbeat rounds' send ticks are remembered for dating lease acknowledgements.
const ROUNDS_KEPT: usize = 256;

#[derive(Clone, Debug, Default)]
pub(crate) struct ReadQueue {
    pending: VecDeque<PendingRead>,
    /// `(round, tick sent)`, oldest first.
    rounds: VecDeque<(u64, u64)>,
    last_round: u64,
}

impl ReadQueue {
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Starts a heartbeat round at `tick`; returns its number.
    pub fn new_round(&mut self, tick: u64) -> u64 {
        self.last_round += 1;
        if self.rounds.len() == ROUNDS_KEPT {
            self.rounds.pop_front();
        }
        self.rounds.push_back((self.last_round, tick));
        self.last_round
    }

    pub fn last_round(&self) -> u64 {
        self.last_round
    }

    /// The tick round `round` was sent at, if still remembered.
    pub fn sent_tick(&self, round: u64) -> Option<u64> {
        let at = self.rounds.binary_search_by_key(&round, |&(r, _)| r).ok()?;
        Some(self.rounds[at].1)
    }

    pub fn push(&mut self, id: u64, index: Option<Index>, round: u64) {
        assert!(
            index.is_some() || round == 0,
            "a read waiting for commit has no round"
        );
        self.pending.push_back(PendingRead { id, index, round });
    }

    /// Whether some read still waits for the leader's first commit in its term.
    pub fn has_unindexed(&self) -> bool {
        self.pending.iter().any(|r| r.index.is_none())
    }

    /// The leader committed an entry of its term at `index` and started heartbeat round
    /// `round` after that: waiting reads get the index and must be confirmed by that
    /// round, which must be the newest (older acknowledgements prove nothing about them).
    pub fn on_own_term_commit(&mut self, index: Index, round: u64) {
        assert_eq!(round, self.last_round, "confirmed by a round started now");
        for r in self.pending.iter_mut().filter(|r| r.index.is_none()) {
            r.index = Some(index);
            r.round = round;
        }
    }

    /// Releases, in arrival order, every read whose round a quorum acknowledged.
    pub fn release(&mut self, quorum_round: u64, out: &mut Vec<ReadState>) {
        while let Some(r) = self.pending.front() {
            let Some(index) = r.index.filter(|_| r.round <= quorum_round) else {
                break;
            };
            out.push(ReadState { id: r.id, index });
            self.pending.pop_front();
        }
    }

    /// Leadership ended: every pending read fails. Round history is kept (it is only
    /// consulted while leading, and rounds keep increasing across terms).
    pub fn abort_all(&mut self, out: &mut Vec<u64>) {
        out.extend(self.pending.drain(..).map(|r| r.id));
    }
}

/// Ticks a lease lasts from the send tick of the quorum-acknowledged heartbeat: a
/// follower's `election_ticks` as measured by a leader whose clock may be slower by up
/// to `drift_ppm`, minus one tick for the follower's tick phase.
pub fn lease_ticks(election_ticks: u32, drift_ppm: u32) -> u64 {
    let scaled = u64::from(election_ticks) * 1_000_000 / (1_000_000 + u64::from(drift_ppm));
    scaled.saturating_sub(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_release_in_order_once_their_round_is_confirmed() {
        let mut q = ReadQueue::default();
        let r1 = q.new_round(10);
        q.push(1, Some(5), r1);
        let r2 = q.new_round(11);
        q.push(2, Some(6), r2);
        let mut out = Vec::new();
        q.release(r1, &mut out);
        assert_eq!(out, vec![ReadState { id: 1, index: 5 }]);
        q.release(r2, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(q.len(), 0);
        assert_eq!(q.sent_tick(r2), Some(11));
    }

    #[test]
    fn reads_wait_for_own_term_commit() {
        let mut q = ReadQueue::default();
        q.push(7, None, 0);
        let mut out = Vec::new();
        q.release(u64::MAX, &mut out);
        assert!(out.is_empty(), "no index yet: cannot release");
        assert!(q.has_unindexed());
        let round = q.new_round(3);
        q.on_own_term_commit(9, round);
        assert!(!q.has_unindexed());
        q.release(round - 1, &mut out);
        assert!(out.is_empty(), "an older round confirms nothing");
        q.release(round, &mut out);
        assert_eq!(out, vec![ReadState { id: 7, index: 9 }]);
    }

    #[test]
    fn lease_is_shorter_than_the_election_timeout_by_the_drift() {
        assert_eq!(lease_ticks(100, 0), 98);
        assert_eq!(lease_ticks(100, 50_000), 93);
        assert_eq!(lease_ticks(1, 0), 0);
    }

    #[test]
    fn round_history_is_bounded() {
        let mut q = ReadQueue::default();
        for t in 0..1000 {
            q.new_round(t);
        }
        assert_eq!(q.sent_tick(1), None);
        assert_eq!(q.sent_tick(1000), Some(999));
        assert!(q.rounds.len() <= ROUNDS_KEPT);
    }
}

mod node_reads {
    use super::{lease_ticks, ReadMode};
    use crate::error::StepError;
    use crate::node::{Node, Role};

    impl Node {
        /// `Input::Read` and `Input::ReadBatch`: confirm leadership for reads (see the
        /// module docs). One heartbeat round confirms every read of a batch: a round
        /// started after each of them arrived proves what each needs.
        pub(crate) fn read(&mut self, ids: &[u64]) -> Result<(), StepError> {
            if self.role != Role::Leader {
                return Err(StepError::NotLeader {
                    leader: self.leader,
                });
            }
            if self.reads.len() + ids.len() > self.cfg.reads_pending_max {
                let max = self.cfg.reads_pending_max;
                return Err(StepError::TooManyReads { max });
            }
            if ids.is_empty() {
                return Ok(());
            }
            let committed = self.log.committed();
            if self.log.term(committed) != Some(self.term) {
                ids.iter().for_each(|&id| self.reads.push(id, None, 0));
                return Ok(());
            }
            let lease = self.cfg.read_mode == ReadMode::Lease
                && !self.lease_revoked
                && self.ticks < self.lease_until_tick();
            if lease || self.injected_local_reads() {
                self.stats.reads_served_by_lease += ids.len() as u64;
                let served = ids.iter().map(|&id| super::ReadState {
                    id,
                    index: committed,
                });
                self.ready_reads.extend(served);
                return Ok(());
            }
            let round = self.broadcast_heartbeat();
            ids.iter()
                .for_each(|&id| self.reads.push(id, Some(committed), round));
            self.release_reads();
            Ok(())
        }

        /// The leader's commit reached an entry of its own term: reads waiting for that
        /// get its index and a confirming round.
        pub(crate) fn on_commit_for_reads(&mut self) {
            let committed = self.log.committed();
            if self.log.term(committed) != Some(self.term) || !self.reads.has_unindexed() {
                return;
            }
            // The round must come from this queue: one numbered elsewhere (an earlier
            // version took the queue out first, so rounds restarted at 1) is already
            // "acknowledged" by older heartbeats, and the read was served stale.
            let round = self.broadcast_heartbeat();
            self.reads.on_own_term_commit(committed, round);
            self.release_reads();
        }

        /// Releases reads whose heartbeat round a quorum (counting this leader) acknowledged.
        pub(crate) fn release_reads(&mut self) {
            let quorum_round = self.quorum_value(self.reads.last_round(), |p| p.acked_round);
            self.reads.release(quorum_round, &mut self.ready_reads);
        }

        /// The tick until which no other leader can exist (0 if no quorum acknowledgement
        /// is recent enough to date).
        pub(crate) fn lease_until_tick(&self) -> u64 {
            let start = self.quorum_value(self.ticks, |p| {
                self.reads.sent_tick(p.acked_round).unwrap_or(0)
            });
            if start == 0 {
                return 0;
            }
            let lease = lease_ticks(self.cfg.election_ticks, self.cfg.lease_clock_drift_ppm);
            start + lease
        }

        #[cfg(feature = "bug-injection")]
        fn injected_local_reads(&self) -> bool {
            self.cfg.has_bug(crate::config::InjectedBug::LocalReads)
        }

        #[cfg(not(feature = "bug-injection"))]
        fn injected_local_reads(&self) -> bool {
            false
        }

        /// Leadership ended: pending reads fail so the application can answer them.
        pub(crate) fn abort_reads(&mut self) {
            self.reads.abort_all(&mut self.ready_reads_aborted);
        }
    }
}
