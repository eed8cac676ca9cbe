//! The follower: accept the leader's appends (truncating a conflicting suffix), learn
//! commit from appends and heartbeats.

use crate::conf_change::conf_entries_valid;
use crate::message::{Message, MessageBody};
use crate::node::Node;
use crate::snapshot::Chunk;
use crate::types::{Entry, Index, Term};

impl Node {
    pub(crate) fn step_follower(&mut self, m: Message) {
        match m.body {
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            } => {
                self.heard_from_leader(m.from);
                self.handle_append(m.from, prev_index, prev_term, entries, commit);
            }
            MessageBody::Heartbeat { commit, round } => {
                self.heard_from_leader(m.from);
                // The leader sends min(our match, its commit), so this never exceeds our log;
                // the clamp only guards against a misbehaving peer.
                self.commit_to(commit.min(self.log.last_index()));
                self.send(m.from, self.term, MessageBody::HeartbeatResponse { round });
            }
            MessageBody::InstallSnapshot {
                meta,
                total_bytes,
                offset,
                data,
            } => {
                self.heard_from_leader(m.from);
                let chunk = Chunk {
                    meta: *meta,
                    total_bytes,
                    offset,
                    data,
                };
                self.on_snapshot_chunk(m.from, chunk);
            }
            MessageBody::TimeoutNow if self.leader == Some(m.from) => self.on_timeout_now(),
            _ => self.stats.dropped_unexpected += 1,
        }
    }

    fn handle_append(
        &mut self,
        leader: u64,
        prev_index: Index,
        prev_term: Term,
        mut entries: Vec<Entry>,
        commit: Index,
    ) {
        if !well_formed(prev_index, prev_term, &entries, self.term) || !conf_entries_valid(&entries)
        {
            self.stats.dropped_malformed += 1;
            return;
        }
        let committed = self.log.committed();
        if prev_index < committed {
            // Already have (and committed) this prefix; tell the leader where we are.
            self.reply_append(leader, false, committed, None, 0);
            return;
        }
        if !self.log.matches(prev_index, prev_term) {
            let (conflict_term, conflict_index) = match self.log.term(prev_index) {
                Some(t) => (Some(t), self.log.first_index_of_term_at(prev_index)),
                None => (None, self.log.last_index() + 1),
            };
            self.reply_append(leader, true, prev_index, conflict_term, conflict_index);
            return;
        }
        let last_new = prev_index + entries.len() as Index;
        if let Some(conflict) = self.log.find_conflict(&entries) {
            if conflict <= committed {
                // Only a broken leader asks to overwrite a committed entry.
                self.stats.dropped_malformed += 1;
                return;
            }
            let skip = (conflict - prev_index - 1) as usize;
            // The message is ours: its entries move into the log rather than being copied.
            entries.drain(..skip);
            self.log.truncate_and_append(entries);
        }
        self.commit_to(commit.min(last_new));
        self.reply_append(leader, false, last_new, None, 0);
    }

    pub(crate) fn reply_append(
        &mut self,
        to: u64,
        reject: bool,
        index: Index,
        conflict_term: Option<Term>,
        conflict_index: Index,
    ) {
        let body = MessageBody::AppendResponse {
            reject,
            index,
            conflict_term,
            conflict_index,
        };
        self.send(to, self.term, body);
    }
}

/// Entries must follow `prev_index` contiguously with terms that never decrease, from
/// `prev_term` up to the leader's term: anything else would make the log's terms go down.
fn well_formed(prev_index: Index, prev_term: Term, entries: &[Entry], term: Term) -> bool {
    let contiguous = entries
        .iter()
        .enumerate()
        .all(|(i, e)| Some(e.index) == prev_index.checked_add(i as Index + 1));
    let sorted = entries.windows(2).all(|w| w[0].term <= w[1].term);
    let from_prev = entries.first().is_none_or(|e| e.term >= prev_term);
    contiguous
        && sorted
        && from_prev
        && prev_term <= term
        && entries.last().is_none_or(|e| e.term <= term)
}
