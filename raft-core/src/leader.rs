//! The leader: proposals, replication with pipelining and fast backtracking, heartbeats,
//! check-quorum, and commit by counting current-term replicas.

use crate::bounds::INDEX_MAX;
use crate::error::StepError;
use crate::message::{Message, MessageBody};
use crate::node::{Node, Role};
use crate::progress::{Progress, ProgressState};
use crate::quorum;
use crate::types::{Entry, EntryKind, Index, LogPosition, Term, ENTRY_OVERHEAD_BYTES};

impl Node {
    pub(crate) fn become_leader(&mut self) {
        assert_eq!(
            self.role,
            Role::Candidate,
            "only a candidate becomes leader"
        );
        self.role = Role::Leader;
        self.leader = Some(self.cfg.id);
        self.heartbeat_elapsed = 0;
        self.lease_revoked = false;
        self.reset_election_timer();
        assert!(self.progress.is_empty(), "a candidate tracks no progress");
        self.sync_progress();
        self.uncommitted_bytes = 0;
        // A configuration entry may be uncommitted in the inherited log: no change is
        // accepted until everything this leader starts with has committed.
        self.pending_conf_index = self.log.last_index();
        // The opening entry lets entries of earlier terms commit as soon as this term's
        // entry does. While the bootstrap configuration is in force it is that
        // configuration, so it is in the log (and in every snapshot) for nodes that join
        // with an empty one; otherwise a no-op.
        if self.membership_index == 0 {
            let bootstrap = self.membership.clone();
            self.append_conf_entry(&bootstrap);
        } else {
            self.append_entry(EntryKind::Empty, Vec::new());
        }
    }

    /// Appends a batch of commands as consecutive entries and replicates them together.
    /// All or none: the whole batch is refused if any check fails. Returns the position
    /// of the last entry.
    pub(crate) fn propose(&mut self, batch: Vec<Vec<u8>>) -> Result<LogPosition, StepError> {
        self.check_proposal(&batch)?;
        Ok(self.append_proposals(batch))
    }

    /// [`Node::propose`] of one command, without a vector around it.
    pub(crate) fn propose_one(&mut self, data: Vec<u8>) -> Result<LogPosition, StepError> {
        self.check_proposal(std::slice::from_ref(&data))?;
        Ok(self.append_proposals([data]))
    }

    fn append_proposals(&mut self, batch: impl IntoIterator<Item = Vec<u8>>) -> LogPosition {
        let mut last = None;
        for data in batch {
            last = Some(self.append_local(EntryKind::Normal, data));
        }
        self.broadcast_append();
        last.expect("check_proposal refuses an empty batch")
    }

    /// Proposals of any kind need a leader that is not handing over leadership.
    pub(crate) fn check_leader_accepts(&self) -> Result<(), StepError> {
        if self.role != Role::Leader {
            return Err(StepError::NotLeader {
                leader: self.leader,
            });
        }
        if let Some(t) = self.transfer {
            return Err(StepError::TransferInProgress { to: t.to });
        }
        Ok(())
    }

    fn check_proposal(&self, batch: &[Vec<u8>]) -> Result<(), StepError> {
        self.check_leader_accepts()?;
        if batch.is_empty() {
            return Err(StepError::EmptyProposal);
        }
        let last_index = self.log.last_index();
        if batch.len() as Index > INDEX_MAX - last_index {
            return Err(StepError::LogFull {
                last_index,
                max: INDEX_MAX,
            });
        }
        let max_bytes = self.cfg.entry_bytes_max;
        if let Some(big) = batch.iter().find(|d| d.len() > max_bytes) {
            let size_bytes = big.len();
            return Err(StepError::ProposalTooLarge {
                size_bytes,
                max_bytes,
            });
        }
        let bytes: usize = batch.iter().map(|d| d.len() + ENTRY_OVERHEAD_BYTES).sum();
        let limit = self.cfg.uncommitted_bytes_max;
        // An idle leader always accepts one batch, so a single large one cannot wedge.
        if self.uncommitted_bytes > 0 && self.uncommitted_bytes + bytes > limit {
            return Err(StepError::UncommittedLimit {
                uncommitted_bytes: self.uncommitted_bytes,
                limit_bytes: limit,
            });
        }
        Ok(())
    }

    fn append_local(&mut self, kind: EntryKind, data: Vec<u8>) -> LogPosition {
        let pos = LogPosition {
            term: self.term,
            index: self.log.last_index() + 1,
        };
        let entry = Entry {
            term: pos.term,
            index: pos.index,
            kind,
            data: data.into(),
        };
        self.uncommitted_bytes += entry.size_bytes();
        self.log.append(entry);
        pos
    }

    pub(crate) fn append_entry(&mut self, kind: EntryKind, data: Vec<u8>) -> LogPosition {
        let pos = self.append_local(kind, data);
        self.broadcast_append();
        pos
    }

    fn broadcast_append(&mut self) {
        let mut i = 0;
        while let Some(peer) = self.peer(i) {
            while self.send_append(peer, false) {}
            i += 1;
        }
    }

    /// Sends the next append to `peer` unless its progress is paused. An empty append is
    /// sent only when `allow_empty` (to carry commit or to probe). Returns whether it sent.
    pub(crate) fn send_append(&mut self, peer: u64, allow_empty: bool) -> bool {
        let pr = &self.progress[&peer];
        if pr.state == ProgressState::Snapshot || self.log.term(pr.next_index - 1).is_none() {
            // The entries this follower needs were compacted away.
            return self.send_snapshot_chunk(peer);
        }
        if pr.is_paused() {
            return false;
        }
        let prev_index = pr.next_index - 1;
        let prev_term = self
            .log
            .term(prev_index)
            .expect("checked above: next_index - 1 is held");
        let entries = self
            .log
            .slice_bytes(pr.next_index, self.cfg.append_bytes_max);
        if entries.is_empty() && !allow_empty {
            return false;
        }
        let last = entries.last().map(|e| e.index);
        let bytes = entries.iter().map(Entry::size_bytes).sum();
        let commit = self.log.committed();
        let pr = self.progress.get_mut(&peer).expect("peer progress");
        pr.sent(last, bytes);
        // The follower commits up to what this append ends with; remembering it keeps
        // `maybe_send_commit` from sending the same commit again in an empty append.
        pr.commit_sent = pr.commit_sent.max(commit.min(last.unwrap_or(prev_index)));
        self.send(
            peer,
            self.term,
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            },
        );
        true
    }

    pub(crate) fn tick_leader(&mut self) {
        self.heartbeat_elapsed += 1;
        self.election_elapsed += 1;
        self.tick_transfer();
        if self.election_elapsed >= self.cfg.election_ticks {
            self.election_elapsed = 0;
            if self.cfg.check_quorum && !self.check_quorum_active() {
                self.stats.leaderships_lost_check_quorum += 1;
                self.become_follower(self.term, None);
                return;
            }
        }
        if self.heartbeat_elapsed >= self.cfg.heartbeat_ticks {
            self.heartbeat_elapsed = 0;
            self.broadcast_heartbeat();
        }
    }

    /// Whether a quorum (counting self) was heard from since the last check; resets flags.
    fn check_quorum_active(&mut self) -> bool {
        let me = self.cfg.id;
        let m = &self.membership;
        let result = quorum::joint_vote_result(&m.voters, &m.voters_outgoing, |v| {
            Some(v == me || self.progress[&v].recent_active)
        });
        self.progress
            .values_mut()
            .for_each(|p| p.recent_active = false);
        result == quorum::VoteResult::Won
    }

    /// Sends one heartbeat round; returns its number (see `read_only`).
    pub(crate) fn broadcast_heartbeat(&mut self) -> u64 {
        let round = self.reads.new_round(self.ticks);
        let committed = self.log.committed();
        let mut i = 0;
        while let Some(peer) = self.peer(i) {
            i += 1;
            let pr = self.progress.get_mut(&peer).expect("peer progress");
            let commit = pr.match_index.min(committed);
            pr.commit_sent = pr.commit_sent.max(commit);
            self.send(peer, self.term, MessageBody::Heartbeat { commit, round });
        }
        round
    }

    pub(crate) fn step_leader(&mut self, m: Message) {
        let Some(pr) = self.progress.get_mut(&m.from) else {
            self.stats.dropped_misaddressed += 1;
            return;
        };
        pr.recent_active = true;
        match m.body {
            MessageBody::AppendResponse {
                reject: false,
                index,
                ..
            } => self.on_append_accepted(m.from, index),
            MessageBody::AppendResponse {
                reject: true,
                index,
                conflict_term,
                conflict_index,
            } => self.on_append_rejected(m.from, index, conflict_term, conflict_index),
            MessageBody::SnapshotResponse {
                index,
                received_bytes,
            } => {
                if pr.on_snapshot_progress(index, received_bytes) {
                    self.send_append(m.from, true);
                }
            }
            MessageBody::HeartbeatResponse { round } => {
                pr.on_heartbeat_response();
                pr.acked_round = pr.acked_round.max(round.min(self.reads.last_round()));
                if pr.match_index < self.log.last_index() {
                    self.send_append(m.from, true);
                }
                self.release_reads();
            }
            _ => self.stats.dropped_unexpected += 1,
        }
    }

    fn on_append_accepted(&mut self, peer: u64, index: Index) {
        if index > self.log.last_index() {
            self.stats.dropped_malformed += 1;
            return;
        }
        let pr = self.progress.get_mut(&peer).expect("peer progress");
        if !pr.maybe_update(index) {
            return;
        }
        if pr.state == ProgressState::Snapshot && pr.match_index >= pr.pending_snapshot {
            pr.become_probe();
        }
        if pr.state == ProgressState::Probe {
            pr.become_replicate();
        }
        self.maybe_commit_and_notify();
        if !self.progress.contains_key(&peer) {
            // The commit removed this peer, or removed this leader (which stepped down).
            return;
        }
        while self.send_append(peer, false) {}
        self.maybe_send_commit(peer);
        if self.transfer.is_some_and(|t| t.to == peer) {
            self.maybe_send_timeout_now();
        }
    }

    fn on_append_rejected(
        &mut self,
        peer: u64,
        rejected: Index,
        conflict_term: Option<Term>,
        conflict_index: Index,
    ) {
        let last_index = self.log.last_index();
        if rejected > last_index {
            // We never sent an append after an index we do not hold.
            self.stats.dropped_malformed += 1;
            return;
        }
        // Skip the follower's whole conflicting term: if we hold that term, resume after our
        // last entry of it; otherwise at the first index the follower has of it.
        let hint = match conflict_term.and_then(|t| self.log.last_index_of_term(t)) {
            Some(last_of_term) => last_of_term + 1,
            None => conflict_index.clamp(1, last_index + 1),
        };
        let pr = self.progress.get_mut(&peer).expect("peer progress");
        if pr.maybe_decrease(rejected, hint) {
            self.send_append(peer, true);
        }
    }

    /// Advances commit if a quorum holds an entry of this term, then tells followers.
    pub(crate) fn maybe_commit_and_notify(&mut self) {
        let in_force = self.membership_index;
        if self.maybe_commit() {
            if self.membership_index != in_force {
                // A member new to this leader hears from it now (a probe), not at the
                // next heartbeat: its catch-up starts one round trip sooner.
                for peer in self.sync_progress() {
                    self.send_append(peer, true);
                }
            }
            let mut i = 0;
            while let Some(peer) = self.peer(i) {
                self.maybe_send_commit(peer);
                i += 1;
            }
            self.on_commit_for_reads();
            self.after_leader_commit();
        }
    }

    /// A follower that holds the whole log but not the latest commit gets an empty append,
    /// rather than waiting for the next heartbeat. Followers still receiving entries learn
    /// commit from those, so a burst of acknowledgements does not cost a burst of carriers.
    fn maybe_send_commit(&mut self, peer: u64) {
        let pr = &self.progress[&peer];
        let caught_up = pr.match_index == self.log.last_index();
        if caught_up && pr.commit_sent < self.log.committed().min(pr.match_index) {
            self.send_append(peer, true);
        }
    }

    /// The largest value a quorum of voters has reached, given this leader's own value
    /// and how to read each follower's from its progress (match index, acked round ...).
    pub(crate) fn quorum_value(&self, own: u64, of_peer: impl Fn(&Progress) -> u64) -> u64 {
        let me = self.cfg.id;
        let m = &self.membership;
        quorum::joint_committed_index(&m.voters, &m.voters_outgoing, |v| {
            if v == me {
                own
            } else {
                of_peer(&self.progress[&v])
            }
        })
    }

    fn maybe_commit(&mut self) -> bool {
        let index = self.quorum_value(self.log.persisted(), |p| p.match_index);
        let own_term = self.log.term(index) == Some(self.term) || self.injected_commit_old_term();
        let old = self.log.committed();
        if index > old && own_term {
            self.commit_to(index);
            let term = self.term;
            let freed: usize = self
                .log
                .entries(old + 1, index)
                .iter()
                .filter(|e| e.term == term)
                .map(Entry::size_bytes)
                .sum();
            assert!(freed <= self.uncommitted_bytes, "uncommitted accounting");
            self.uncommitted_bytes -= freed;
            return true;
        }
        false
    }

    #[cfg(feature = "bug-injection")]
    fn injected_commit_old_term(&self) -> bool {
        self.cfg.has_bug(crate::config::InjectedBug::CommitOldTerm)
    }

    #[cfg(not(feature = "bug-injection"))]
    fn injected_commit_old_term(&self) -> bool {
        false
    }
}
