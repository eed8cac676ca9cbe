//! The node: state shared by every role, the entry point [`Node::step`], role transitions
//! and the term rules that apply before any role sees a message. Role logic lives in
//! `election.rs`, `leader.rs` and `follower.rs`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bounds::{message_in_bounds, INDEX_MAX, TERM_MAX};
use crate::conf_change::decode_membership;
use crate::config::Config;
use crate::error::{RestoreError, StepError};
use crate::log::RaftLog;
use crate::membership::Membership;
use crate::message::{Message, MessageBody};
use crate::progress::Progress;
use crate::read_only::{ReadMode, ReadQueue, ReadState};
use crate::ready::{Input, Ready, SnapshotWrite};
use crate::rng::Prng;
use crate::snapshot::IncomingSnapshot;
use crate::stats::Stats;
use crate::transfer::PendingTransfer;
use crate::types::{
    Entry, EntryKind, HardState, Index, LogPosition, NodeId, Snapshot, SnapshotMeta, Term,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

/// What a node finds on its disk when it starts: the last hard state, the latest snapshot
/// and the log entries after it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoredState {
    pub hard_state: HardState,
    pub snapshot: Option<Snapshot>,
    pub entries: Vec<Entry>,
}

/// One Raft peer as a deterministic state machine.
pub struct Node {
    pub(crate) cfg: Config,
    pub(crate) term: Term,
    pub(crate) vote: Option<NodeId>,
    pub(crate) leader: Option<NodeId>,
    pub(crate) role: Role,
    pub(crate) log: RaftLog,
    /// Per-peer replication state; filled only while leading.
    pub(crate) progress: BTreeMap<NodeId, Progress>,
    /// Answers to this node's current (pre-)campaign.
    pub(crate) votes: BTreeMap<NodeId, bool>,
    pub(crate) election_elapsed: u32,
    pub(crate) heartbeat_elapsed: u32,
    pub(crate) election_timeout: u32,
    pub(crate) rng: Prng,
    pub(crate) stats: Stats,
    /// The latest snapshot's description (taken here or received); its bytes are on the
    /// driver's disk.
    pub(crate) snapshot: Option<SnapshotMeta>,
    /// Its bytes, held only while a leader sends them to a follower (see `snapshot.rs`).
    pub(crate) snapshot_bytes: Option<Vec<u8>>,
    /// A follower needs the snapshot's bytes and they are not held: the application is
    /// asked for a fresh snapshot (`Node::snapshot_wanted`).
    pub(crate) snapshot_wanted: bool,
    /// A snapshot arriving from the leader chunk by chunk (followers only).
    pub(crate) incoming_snapshot: Option<IncomingSnapshot>,
    /// A snapshot for the next `Ready` to store, and whether the application installs it.
    pub(crate) snapshot_to_write: Option<SnapshotWrite>,
    /// Ticks since this node started: the leader's clock for leases.
    pub(crate) ticks: u64,
    /// Reads awaiting confirmation (leader only).
    pub(crate) reads: ReadQueue,
    pub(crate) ready_reads: Vec<ReadState>,
    pub(crate) ready_reads_aborted: Vec<u64>,
    /// The tick (of `ticks`) at which this node last heard from a leader of its term:
    /// while it is less than an election timeout old, the node refuses votes (the lease
    /// it granted that leader; see `read_only`). Kept whatever later clears `leader`.
    /// With lease reads a booting node counts as having heard from one at tick 0: it may
    /// have acknowledged a leader's heartbeat just before it crashed.
    pub(crate) leader_contact_tick: Option<u64>,
    /// Bytes of this leader's own entries not yet committed (bounded by
    /// `uncommitted_bytes_max`).
    pub(crate) uncommitted_bytes: usize,
    /// A leadership transfer this leader is carrying out.
    pub(crate) transfer: Option<PendingTransfer>,
    /// This leader sent `TimeoutNow` in its term: its lease can no longer be trusted.
    pub(crate) lease_revoked: bool,
    /// The current campaign was started by `TimeoutNow`.
    pub(crate) campaign_for_transfer: bool,
    /// The term and vote this node campaigned with are known durable: a vote response
    /// arrived (vote requests leave only after the write), or an entry of the term was
    /// reported persisted. Until then a leader's appends wait for the write too: a sole
    /// voter wins in the step it campaigns, and if it crashed before the write it could
    /// win the same term again and write other entries under it.
    pub(crate) own_term_durable: bool,
    /// The configuration in force: that of the last committed configuration entry, or
    /// of the snapshot, or the bootstrap voters.
    pub(crate) membership: Membership,
    /// Where `membership` came from (entry or snapshot index; 0 for the bootstrap).
    pub(crate) membership_index: Index,
    /// The next `Ready` reports `membership`.
    pub(crate) membership_changed: bool,
    /// (Leader) the last configuration entry it appended, or its last index at election:
    /// no new change is accepted until commit reaches it.
    pub(crate) pending_conf_index: Index,
    /// Every other member of `membership`, ascending: whom a leader replicates to.
    /// Recomputed whenever `membership` changes (`set_membership`, `restore_membership`)
    /// instead of on every use, which was a sixth of the in-process benchmark's time at one
    /// entry per proposal.
    pub(crate) peer_ids: Vec<NodeId>,
    msgs: Vec<Message>,
    msgs_after_persist: Vec<Message>,
    handed_hard_state: HardState,
}

impl Node {
    /// Starts a node from what its disk holds (`RestoredState::default()` on first boot).
    pub fn new(cfg: Config, restored: RestoredState) -> Result<Self, RestoreError> {
        cfg.validate()?;
        validate_restored(&restored)?;
        let hs = restored.hard_state;
        let snapshot_position = restored
            .snapshot
            .as_ref()
            .map_or(LogPosition::default(), |s| s.meta.position());
        let mut node = Node {
            rng: Prng::new(cfg.seed, cfg.id),
            cfg,
            term: hs.term,
            vote: hs.vote,
            leader: None,
            role: Role::Follower,
            log: RaftLog::restored(snapshot_position, restored.entries, hs.commit),
            progress: BTreeMap::new(),
            votes: BTreeMap::new(),
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            election_timeout: 0,
            stats: Stats::default(),
            // The bytes stay with the caller (the application restores from them); a
            // follower that needs them later gets a fresh snapshot.
            snapshot: restored.snapshot.map(|s| s.meta),
            snapshot_bytes: None,
            snapshot_wanted: false,
            incoming_snapshot: None,
            snapshot_to_write: None,
            ticks: 0,
            reads: ReadQueue::default(),
            ready_reads: Vec::new(),
            ready_reads_aborted: Vec::new(),
            leader_contact_tick: None,
            uncommitted_bytes: 0,
            transfer: None,
            lease_revoked: false,
            campaign_for_transfer: false,
            own_term_durable: true,
            membership: Membership::default(),
            membership_index: 0,
            membership_changed: false,
            pending_conf_index: 0,
            peer_ids: Vec::new(),
            msgs: Vec::new(),
            msgs_after_persist: Vec::new(),
            handed_hard_state: hs,
        };
        if node.cfg.read_mode == ReadMode::Lease {
            node.leader_contact_tick = Some(0);
        }
        node.restore_membership(snapshot_position.index);
        node.reset_election_timer();
        Ok(node)
    }

    /// Feeds one input and returns what the driver must do (see [`Ready`] for the order).
    /// Only a local proposal can fail; peer messages never do.
    pub fn step(&mut self, input: Input) -> Result<Ready, StepError> {
        let mut ready = Ready::default();
        self.step_to(input, &mut ready)?;
        Ok(ready)
    }

    /// [`Node::step`] into `ready`, which must be empty (and is left so on an error):
    /// the pipeline keeps one `Ready` and empties it field by field, rather than move a
    /// whole one (several hundred bytes) through every step.
    pub(crate) fn step_to(&mut self, input: Input, ready: &mut Ready) -> Result<(), StepError> {
        let mut proposed = None;
        match input {
            Input::Tick => self.tick(),
            Input::Campaign => self.campaign_now(),
            Input::Message(m) => self.step_message(m),
            Input::Propose { data } => proposed = Some(self.propose_one(data)?),
            Input::ProposeBatch { batch } => proposed = Some(self.propose(batch)?),
            Input::Persisted(pos) => self.on_persisted(pos),
            Input::Snapshot { index, data } => self.take_snapshot(index, data)?,
            Input::Read { id } => self.read(&[id])?,
            Input::ReadBatch { ids } => self.read(&ids)?,
            Input::Ticks { count } => self.tick_many(count)?,
            Input::TransferLeadership { to } => self.transfer_leadership(to)?,
            Input::ChangeMembership { changes } => {
                proposed = Some(self.propose_conf_change(&changes)?)
            }
        }
        self.keep_snapshot_bytes_while_sending();
        self.assert_invariants();
        self.take_ready(proposed, ready);
        Ok(())
    }

    pub fn id(&self) -> NodeId {
        self.cfg.id
    }
    pub fn term(&self) -> Term {
        self.term
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    pub fn log(&self) -> &RaftLog {
        &self.log
    }
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    /// The latest snapshot this node took or received: what it covers. Its bytes are the
    /// driver's to store; the node holds them only while sending them.
    pub fn snapshot_meta(&self) -> Option<&SnapshotMeta> {
        self.snapshot.as_ref()
    }
    /// A follower needs entries this leader compacted away, and the snapshot's bytes were
    /// let go: the application should hand in `Input::Snapshot` of the state it has
    /// applied, at its applied index (which may equal the latest snapshot's). Until it
    /// does, that follower waits.
    pub fn snapshot_wanted(&self) -> bool {
        self.snapshot_wanted
    }
    /// The configuration in force on this node.
    pub fn membership(&self) -> &Membership {
        &self.membership
    }
    pub fn progress(&self, peer: NodeId) -> Option<&Progress> {
        self.progress.get(&peer)
    }
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.log.committed(),
        }
    }

    fn take_ready(&mut self, proposed: Option<LogPosition>, ready: &mut Ready) {
        let hs = self.hard_state();
        let prev = self.handed_hard_state;
        let hard_state = (hs != prev).then_some(hs);
        self.handed_hard_state = hs;
        let entries = self.log.take_unhanded();
        // A commit-only change may be lost in a crash: the commit index is learned again
        // from the leader. Term, vote, entries and snapshots are promises, so they sync.
        let must_sync = self.snapshot_to_write.is_some()
            || !entries.is_empty()
            || hard_state.is_some_and(|h| (h.term, h.vote) != (prev.term, prev.vote));
        let r = ready;
        debug_assert!(r.is_empty(), "a step fills an empty Ready");
        r.hard_state = hard_state;
        r.must_sync = must_sync;
        r.entries = entries;
        r.messages = std::mem::take(&mut self.msgs);
        r.messages_after_persist = std::mem::take(&mut self.msgs_after_persist);
        r.committed = self.log.take_committed();
        r.reads = std::mem::take(&mut self.ready_reads);
        r.reads_aborted = std::mem::take(&mut self.ready_reads_aborted);
        r.proposed = proposed;
        // The large, rare fields are written only when present (`r`'s are empty): moving
        // an absent one still copies all its bytes, on every step.
        if self.snapshot_to_write.is_some() {
            r.snapshot = self.snapshot_to_write.take();
        }
        if std::mem::take(&mut self.membership_changed) {
            r.membership = Some(self.membership.clone());
        }
    }

    /// Queues a message; the body decides whether it must wait for durability.
    pub(crate) fn send(&mut self, to: NodeId, term: Term, body: MessageBody) {
        debug_assert_ne!(to, self.cfg.id, "a node never messages itself");
        let m = Message {
            from: self.cfg.id,
            to,
            term,
            body,
        };
        let term_at_risk = self.role == Role::Leader && !self.own_term_durable;
        if m.may_precede_persist() && !term_at_risk {
            self.msgs.push(m);
        } else {
            self.msgs_after_persist.push(m);
        }
    }

    /// Every other member, voter or learner: whom a leader replicates to.
    pub(crate) fn peers(&self) -> &[NodeId] {
        &self.peer_ids
    }

    /// The `i`th of [`Node::peers`]. Loops that send to every peer index with this rather
    /// than borrow the list, since sending needs `&mut self` (and never changes the
    /// membership).
    pub(crate) fn peer(&self, i: usize) -> Option<NodeId> {
        self.peer_ids.get(i).copied()
    }

    /// Recomputes [`Node::peers`] after `membership` changed.
    pub(crate) fn refresh_peers(&mut self) {
        let me = self.cfg.id;
        self.peer_ids.clear();
        let members = self.membership.members();
        self.peer_ids
            .extend(members.into_iter().filter(|&v| v != me));
    }

    /// Every other voter of either half: whom a candidate asks for votes.
    pub(crate) fn voting_peers(&self) -> Vec<NodeId> {
        let me = self.cfg.id;
        let voters = self.membership.all_voters();
        voters.into_iter().filter(|&v| v != me).collect()
    }

    /// Whether this node may campaign: only voters of the configuration in force.
    pub(crate) fn promotable(&self) -> bool {
        self.membership.is_voter(self.cfg.id)
    }

    /// The configuration on restart: the snapshot's (or the bootstrap one), then every
    /// configuration entry up to the persisted commit (checked in `validate_restored`).
    fn restore_membership(&mut self, snapshot_index: Index) {
        let committed = self.log.committed();
        (self.membership, self.membership_index) = match self.last_conf_entry(committed) {
            Some(found) => found,
            None => (self.base_membership(), snapshot_index),
        };
        self.refresh_peers();
    }

    fn on_persisted(&mut self, pos: LogPosition) {
        // Writes are durable in order: an entry of this term on disk means the term is.
        self.own_term_durable |= pos.term == self.term;
        if self.log.persisted_to(pos) && self.role == Role::Leader {
            self.maybe_commit_and_notify();
        }
    }

    /// Term rules common to every role, then the role's own step function.
    fn step_message(&mut self, m: Message) {
        // Senders are not checked against the configuration: a new member hears from the
        // leader before it learns the configuration that includes it.
        if m.to != self.cfg.id || m.from == self.cfg.id || m.from == 0 {
            self.stats.dropped_misaddressed += 1;
            return;
        }
        if !message_in_bounds(&m, self.term) {
            self.stats.dropped_malformed += 1;
            return;
        }
        if m.term > self.term && !self.on_higher_term(&m) {
            return;
        }
        if m.term < self.term {
            self.on_lower_term(&m);
            return;
        }
        match m.body {
            MessageBody::PreVote {
                last_index,
                last_term,
            } => self.handle_vote_request(&m, true, last_index, last_term),
            MessageBody::Vote {
                last_index,
                last_term,
                ..
            } => self.handle_vote_request(&m, false, last_index, last_term),
            _ => match self.role {
                Role::Leader => self.step_leader(m),
                Role::Candidate | Role::PreCandidate => self.step_candidate(m),
                Role::Follower => self.step_follower(m),
            },
        }
    }

    /// Returns whether the message should still be processed.
    fn on_higher_term(&mut self, m: &Message) -> bool {
        match m.body {
            MessageBody::Vote { transfer: true, .. } => {
                self.become_follower(m.term, None);
                true
            }
            MessageBody::PreVote { .. } | MessageBody::Vote { .. } if self.in_lease() => {
                self.stats.dropped_in_lease += 1;
                false
            }
            // Neither side adopts a pre-vote's proposed term.
            MessageBody::PreVote { .. } | MessageBody::PreVoteResponse { reject: false } => true,
            MessageBody::Append { .. }
            | MessageBody::Heartbeat { .. }
            | MessageBody::InstallSnapshot { .. } => {
                self.become_follower(m.term, Some(m.from));
                true
            }
            _ => {
                self.become_follower(m.term, None);
                true
            }
        }
    }

    fn on_lower_term(&mut self, m: &Message) {
        let is_leader_msg = matches!(
            m.body,
            MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. }
        );
        if is_leader_msg && (self.cfg.check_quorum || self.cfg.pre_vote) {
            // A stale leader (or we advanced our term while cut off): tell it our term so
            // it steps down and a fresh election can include us.
            let body = MessageBody::AppendResponse {
                reject: true,
                index: 0,
                conflict_term: None,
                conflict_index: 0,
            };
            self.send(m.from, self.term, body);
        } else if matches!(m.body, MessageBody::PreVote { .. }) {
            self.send(
                m.from,
                self.term,
                MessageBody::PreVoteResponse { reject: true },
            );
        } else {
            self.stats.dropped_stale_term += 1;
        }
    }

    /// With CheckQuorum, a node that heard from a live leader within an election timeout
    /// (of its own clock) refuses to help depose it, and a leader refuses while it leads.
    /// This depends only on when leader traffic last arrived, never on `leader`, which
    /// other messages clear (a higher-term rejection, for one): lease reads rely on it.
    pub(crate) fn in_lease(&self) -> bool {
        if !self.cfg.check_quorum {
            return false;
        }
        if self.injected_lease_follows_leader() {
            let booting = self.leader_contact_tick == Some(0);
            return (self.leader.is_some() || booting)
                && self.election_elapsed < self.cfg.election_ticks;
        }
        let election_ticks = u64::from(self.cfg.election_ticks);
        self.role == Role::Leader
            || self
                .leader_contact_tick
                .is_some_and(|at| self.ticks - at < election_ticks)
    }

    #[cfg(feature = "bug-injection")]
    pub(crate) fn injected_lease_follows_leader(&self) -> bool {
        self.cfg
            .has_bug(crate::config::InjectedBug::LeaseFollowsLeader)
    }

    #[cfg(not(feature = "bug-injection"))]
    pub(crate) fn injected_lease_follows_leader(&self) -> bool {
        false
    }

    /// Leader traffic of this node's term arrived: the lease it grants starts now.
    pub(crate) fn heard_from_leader(&mut self, leader: NodeId) {
        self.election_elapsed = 0;
        self.leader = Some(leader);
        self.leader_contact_tick = Some(self.ticks);
    }

    pub(crate) fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        let base = self.cfg.election_ticks;
        self.election_timeout = base + self.rng.below(u64::from(base)) as u32;
    }

    pub(crate) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        assert!(term >= self.term, "terms never go back");
        if self.role == Role::Leader {
            self.abort_reads();
        }
        self.transfer = None;
        self.campaign_for_transfer = false;
        if term > self.term {
            self.term = term;
            self.vote = None;
            // A half-received snapshot belongs to the old term's leader.
            self.incoming_snapshot = None;
        }
        self.role = Role::Follower;
        self.leader = leader;
        self.progress.clear();
        self.votes.clear();
        self.reset_election_timer();
    }

    fn assert_invariants(&self) {
        assert!(self.log.last_term() <= self.term, "log holds a future term");
        assert_eq!(self.role == Role::Leader, self.leader == Some(self.cfg.id));
        if self.role == Role::Leader {
            assert!(self.promotable(), "a leader is a voter");
            assert!(
                self.progress.keys().eq(self.peer_ids.iter()),
                "a leader tracks exactly the other members"
            );
            assert!(self.pending_conf_index <= self.log.last_index());
            let next_max = self.log.last_index() + 1;
            assert!(
                self.progress.values().all(|p| p.next_index <= next_max),
                "a leader sends only entries it holds"
            );
        } else {
            assert!(self.progress.is_empty(), "only a leader tracks progress");
        }
        assert!(
            self.membership_index <= self.log.committed(),
            "configurations in force are committed"
        );
        if self.snapshot_bytes.is_some() || self.snapshot_wanted {
            assert!(self.snapshot.is_some(), "bytes belong to a snapshot");
            assert!(
                self.sending_snapshot(),
                "snapshot bytes are held (or wanted) only while a leader sends them"
            );
        }
        // The peer list is recomputed wherever the membership changes; checking it
        // against the membership costs set lookups per member, so on every step only
        // where debug assertions are on (the tests and simulators).
        debug_assert!(
            self.peer_ids.len() == others_in(&self.membership, self.cfg.id)
                && self
                    .peer_ids
                    .iter()
                    .all(|&p| p != self.cfg.id && self.membership.contains(p)),
            "the cached peers are the other members"
        );
        if self.role == Role::Candidate {
            assert_eq!(self.vote, Some(self.cfg.id), "a candidate votes for itself");
        }
        assert!(self.transfer.is_none() || self.role == Role::Leader);
        assert!(
            self.reads.len() == 0 || self.role == Role::Leader,
            "reads wait only at a leader"
        );
    }
}

/// How many members other than `me` there are, counting each once across roles.
fn others_in(m: &Membership, me: NodeId) -> usize {
    let voters = m.voters.iter().filter(|&&v| v != me).count();
    let outgoing = m
        .voters_outgoing
        .iter()
        .filter(|&&v| v != me && !m.voters.contains(&v));
    let learners = m.learners.iter().filter(|&&v| v != me && !m.is_voter(v));
    let next = m
        .learners_next
        .iter()
        .filter(|&&v| v != me && !m.is_voter(v) && !m.learners.contains(&v));
    voters + outgoing.count() + learners.count() + next.count()
}

fn validate_restored(r: &RestoredState) -> Result<(), RestoreError> {
    let base = r
        .snapshot
        .as_ref()
        .map_or(LogPosition::default(), |s| s.meta.position());
    validate_restored_bounds(r, base)?;
    if base.term > r.hard_state.term {
        return Err(RestoreError::SnapshotBeyondHardState {
            term: base.term,
            hard_term: r.hard_state.term,
        });
    }
    let mut previous = base.term;
    for (position, e) in r.entries.iter().enumerate() {
        let expected = base.index + position as Index + 1;
        if e.index != expected {
            return Err(RestoreError::NonContiguous {
                position,
                found: e.index,
                expected,
            });
        }
        if e.term < previous {
            return Err(RestoreError::TermDecreases {
                index: e.index,
                term: e.term,
                previous,
            });
        }
        if e.term > r.hard_state.term {
            let hard_term = r.hard_state.term;
            return Err(RestoreError::TermBeyondHardState {
                index: e.index,
                term: e.term,
                hard_term,
            });
        }
        previous = e.term;
    }
    let last_index = base.index + r.entries.len() as Index;
    if r.hard_state.commit > last_index {
        return Err(RestoreError::CommitBeyondLog {
            commit: r.hard_state.commit,
            last_index,
        });
    }
    validate_restored_memberships(r)
}

/// Terms and indexes a real run can reach (see `bounds`); past them arithmetic overflows.
fn validate_restored_bounds(r: &RestoredState, base: LogPosition) -> Result<(), RestoreError> {
    if r.hard_state.term > TERM_MAX {
        let term = r.hard_state.term;
        return Err(RestoreError::TermTooLarge {
            term,
            max: TERM_MAX,
        });
    }
    let last_index = base.index.checked_add(r.entries.len() as Index);
    match last_index {
        Some(last) if last <= INDEX_MAX => Ok(()),
        _ => Err(RestoreError::IndexTooLarge {
            index: last_index.unwrap_or(u64::MAX),
            max: INDEX_MAX,
        }),
    }
}

fn validate_restored_memberships(r: &RestoredState) -> Result<(), RestoreError> {
    if let Some(s) = &r.snapshot {
        s.meta
            .membership
            .validate()
            .map_err(|source| RestoreError::BadMembership {
                index: s.meta.index,
                source,
            })?;
    }
    for e in r.entries.iter().filter(|e| e.kind == EntryKind::Membership) {
        decode_membership(&e.data).map_err(|source| RestoreError::BadMembership {
            index: e.index,
            source,
        })?;
    }
    Ok(())
}
