//! Snapshots: compacting the log once the application has serialized its state, sending
//! the leader's snapshot to a follower that needs compacted entries, and receiving and
//! installing one.
//!
//! A snapshot travels in chunks of at most `snapshot_chunk_bytes`, one in flight per
//! follower. The follower answers each chunk with how many bytes it holds, so a lost
//! chunk is resent from there (a heartbeat response also resumes a stalled transfer), and
//! a follower that lost its partial copy (a crash) answers 0 and the transfer restarts.
//! A leader that compacts again mid-transfer restarts with its newer snapshot.
//!
//! The bytes of a snapshot are held only while a leader is sending them. Once it is
//! stored, the driver's disk has them and the application has the state they encode, so
//! a third copy in memory (as large as the service's data) would buy nothing but a
//! faster start for a follower that falls far behind. When one does and the bytes are
//! gone, the node asks the application for a fresh snapshot (`Node::snapshot_wanted`),
//! holds it until no follower needs it, and lets it go again.

use crate::error::StepError;
use crate::message::MessageBody;
use crate::node::{Node, Role};
use crate::progress::ProgressState;
use crate::ready::SnapshotWrite;
use crate::types::{Index, NodeId, Snapshot, SnapshotMeta, Term};

/// A snapshot being received: the bytes so far of one leader's snapshot in one term.
#[derive(Clone, Debug)]
pub(crate) struct IncomingSnapshot {
    from: NodeId,
    term: Term,
    meta: SnapshotMeta,
    total_bytes: u64,
    data: Vec<u8>,
}

/// One chunk as it arrived.
pub(crate) struct Chunk {
    pub meta: SnapshotMeta,
    pub total_bytes: u64,
    pub offset: u64,
    pub data: Vec<u8>,
}

impl Node {
    /// `Input::Snapshot`: the application's state through `index` replaces the log prefix.
    /// At the latest snapshot's own index, it hands in that snapshot's bytes again (asked
    /// for by `snapshot_wanted`): nothing is compacted or written.
    pub(crate) fn take_snapshot(&mut self, index: Index, data: Vec<u8>) -> Result<(), StepError> {
        let max_bytes = self.cfg.snapshot_bytes_max;
        if data.len() > max_bytes {
            let size_bytes = data.len();
            return Err(StepError::SnapshotTooLarge {
                size_bytes,
                max_bytes,
            });
        }
        let (first, applied) = (self.log.first_index(), self.log.applied());
        if self.snapshot.as_ref().is_some_and(|m| m.index == index) {
            assert!(
                index < first && index <= applied,
                "the log starts after its snapshot"
            );
            // Bytes already held stay: a transfer in progress must not switch to another
            // encoding of the same state (one from a map with random order, say).
            if self.snapshot_bytes.is_none() {
                self.hold_snapshot_bytes(data);
            }
            return Ok(());
        }
        if index < first || index > applied {
            return Err(StepError::SnapshotOutOfRange {
                index,
                first,
                applied,
            });
        }
        assert!(
            self.snapshot_to_write.is_none(),
            "one snapshot write per Ready"
        );
        let term = self
            .log
            .term(index)
            .expect("an applied, uncompacted index is held");
        // Read the configuration at `index` while the entries up to it are still held.
        let membership = self.membership_at(index);
        self.log.compact(index);
        let meta = SnapshotMeta {
            index,
            term,
            membership,
        };
        self.snapshot = Some(meta.clone());
        self.snapshot_bytes = None;
        if self.snapshot_wanted || self.sending_snapshot() {
            self.hold_snapshot_bytes(data.clone());
        }
        self.snapshot_to_write = Some(SnapshotWrite::Taken(Snapshot { meta, data }));
        Ok(())
    }

    /// Holds the latest snapshot's bytes and resumes every transfer waiting for them (a
    /// transfer of an older snapshot restarts with this one).
    fn hold_snapshot_bytes(&mut self, data: Vec<u8>) {
        self.snapshot_bytes = Some(data);
        self.snapshot_wanted = false;
        if self.role != Role::Leader {
            return;
        }
        let mut i = 0;
        while let Some(peer) = self.peer(i) {
            if self.progress[&peer].state == ProgressState::Snapshot {
                self.send_snapshot_chunk(peer);
            }
            i += 1;
        }
    }

    /// Whether this node leads and some follower is receiving (or waiting for) a snapshot.
    pub(crate) fn sending_snapshot(&self) -> bool {
        self.role == Role::Leader
            && self
                .progress
                .values()
                .any(|p| p.state == ProgressState::Snapshot)
    }

    /// After every step: the bytes (and the wish for them) last only while a transfer
    /// needs them.
    pub(crate) fn keep_snapshot_bytes_while_sending(&mut self) {
        if (self.snapshot_bytes.is_some() || self.snapshot_wanted) && !self.sending_snapshot() {
            self.snapshot_bytes = None;
            self.snapshot_wanted = false;
        }
    }

    /// Sends `peer` the next chunk of this leader's snapshot (starting the transfer, or
    /// restarting it if the snapshot changed). Returns whether a chunk went out.
    /// Without the bytes, it asks the application for them and sends nothing.
    pub(crate) fn send_snapshot_chunk(&mut self, peer: NodeId) -> bool {
        let meta = self
            .snapshot
            .clone()
            .expect("a follower needs compacted entries, so a snapshot exists");
        let pr = self.progress.get_mut(&peer).expect("peer progress");
        if pr.state != ProgressState::Snapshot || pr.pending_snapshot != meta.index {
            pr.become_snapshot(meta.index);
        }
        let Some(bytes) = &self.snapshot_bytes else {
            self.snapshot_wanted = true;
            return false;
        };
        let total_bytes = bytes.len() as u64;
        if pr.is_paused() {
            return false;
        }
        let offset = pr.snapshot_offset_bytes.min(total_bytes);
        let chunk_bytes = self.cfg.snapshot_chunk_bytes as u64;
        let end = offset.saturating_add(chunk_bytes).min(total_bytes);
        let data = bytes[offset as usize..end as usize].to_vec();
        pr.sent(None, data.len());
        self.stats.snapshot_chunks_sent += 1;
        let body = MessageBody::InstallSnapshot {
            meta: Box::new(meta),
            total_bytes,
            offset,
            data,
        };
        self.send(peer, self.term, body);
        true
    }

    /// A follower received one chunk of the leader's snapshot.
    pub(crate) fn on_snapshot_chunk(&mut self, leader: NodeId, chunk: Chunk) {
        let committed = self.log.committed();
        if chunk.meta.index <= committed {
            // Everything the snapshot covers is already committed here.
            self.incoming_snapshot = None;
            self.reply_append(leader, false, committed, None, 0);
            return;
        }
        if !chunk_well_formed(&chunk, self.term) {
            self.stats.dropped_malformed += 1;
            return;
        }
        if chunk.total_bytes > self.cfg.snapshot_bytes_max as u64 {
            // Refused before a byte is buffered; the leader keeps probing, and the
            // operator sees the counter (raising the limit is the fix).
            self.incoming_snapshot = None;
            self.stats.dropped_snapshot_too_large += 1;
            return;
        }
        let index = chunk.meta.index;
        match self.accept_chunk(leader, chunk) {
            Ok(snapshot) => self.install_snapshot(leader, snapshot),
            Err(received_bytes) => self.send(
                leader,
                self.term,
                MessageBody::SnapshotResponse {
                    index,
                    received_bytes,
                },
            ),
        }
    }

    /// Adds the chunk if it is the next one expected. Returns the completed snapshot, or
    /// how many bytes are held (the offset the leader should send next).
    fn accept_chunk(&mut self, leader: NodeId, chunk: Chunk) -> Result<Snapshot, u64> {
        let term = self.term;
        let continues = self.incoming_snapshot.as_ref().is_some_and(|s| {
            (s.from, s.term, &s.meta, s.total_bytes)
                == (leader, term, &chunk.meta, chunk.total_bytes)
        });
        if !continues {
            if chunk.offset != 0 {
                return Err(0);
            }
            self.incoming_snapshot = Some(IncomingSnapshot {
                from: leader,
                term,
                meta: chunk.meta.clone(),
                total_bytes: chunk.total_bytes,
                data: Vec::new(),
            });
        }
        let incoming = self.incoming_snapshot.as_mut().expect("just ensured");
        let held = incoming.data.len() as u64;
        if chunk.offset != held {
            return Err(held);
        }
        incoming.data.extend_from_slice(&chunk.data);
        let held = incoming.data.len() as u64;
        assert!(
            held <= incoming.total_bytes,
            "chunks never overrun the total"
        );
        assert!(
            held <= self.cfg.snapshot_bytes_max as u64,
            "the total was checked against the limit"
        );
        if held < incoming.total_bytes {
            return Err(held);
        }
        let done = self.incoming_snapshot.take().expect("complete");
        Ok(Snapshot {
            meta: done.meta,
            data: done.data,
        })
    }

    /// A complete snapshot from the leader: if our log already holds its last entry the
    /// prefix is ours too and only commit moves; otherwise it replaces log and state.
    fn install_snapshot(&mut self, leader: NodeId, snapshot: Snapshot) {
        let meta = snapshot.meta.clone();
        assert!(meta.index > self.log.committed(), "checked by the caller");
        if self.log.matches(meta.index, meta.term) {
            self.commit_to(meta.index);
        } else {
            self.log.restore(&meta);
            self.set_membership(meta.membership.clone(), meta.index);
            self.stats.snapshots_installed += 1;
            self.snapshot = Some(meta.clone());
            self.snapshot_bytes = None;
            self.snapshot_to_write = Some(SnapshotWrite::Received(snapshot));
        }
        // An acknowledgement: it leaves only once the snapshot is durable.
        self.reply_append(leader, false, meta.index, None, 0);
    }
}

/// A chunk must lie within its snapshot, and the snapshot must not claim a future term.
fn chunk_well_formed(chunk: &Chunk, term: Term) -> bool {
    let end = chunk.offset.checked_add(chunk.data.len() as u64);
    let within = end.is_some_and(|end| end <= chunk.total_bytes);
    let progresses = !chunk.data.is_empty() || chunk.total_bytes == 0;
    let valid_membership = chunk.meta.membership.validate().is_ok();
    within && progresses && chunk.meta.term <= term && chunk.meta.index > 0 && valid_membership
}
