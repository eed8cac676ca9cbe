//! Limits on terms and indexes, so no arithmetic on them can overflow.
//!
//! A term grows by one per election and an index by one per entry: a real cluster never
//! gets near 2^63 of either. So values above [`TERM_MAX`] or [`INDEX_MAX`] can only come
//! from a corrupt or hostile peer, or a corrupt disk, and are refused: messages carrying
//! them are dropped as malformed and `Node::new` refuses such a restored state. Below the
//! limits, `term + 1` and `index + 1` (and `index + entries.len()`) always fit.
//!
//! One message with a huge but legal term could still end a cluster: every node would
//! adopt it and no campaign could go past the ceiling. So a node also ignores a message
//! whose term is more than [`TERM_JUMP_MAX`] (2^32) ahead of its own. Ignoring a message
//! is always safe (the network may lose any message); it costs liveness only to a node
//! that fell more than 2^32 elections behind, which takes centuries of elections at any
//! real timeout. A peer sending such terms on purpose must send 2^31 messages, each
//! accepted, to exhaust the term space: this rule stops bit flips and bugs, not a
//! Byzantine peer (Raft trusts its peers in any case). A node at [`TERM_MAX`] never
//! campaigns.
//!
//! Indexes have the same trap: a leader appends (its no-op, configuration entries,
//! proposals), so a node restored with a log at the ceiling must not lead. A node whose
//! log has passed `INDEX_MAX - INDEX_HEADROOM` does not campaign, and a leader refuses a
//! proposal that would pass [`INDEX_MAX`] (`StepError::LogFull`). The headroom (2^32
//! entries) is far more than the few entries a leader appends on its own.

use crate::message::{Message, MessageBody};
use crate::types::{Index, Term};

/// Largest term a node adopts, restores or campaigns up to.
pub const TERM_MAX: Term = u64::MAX >> 1;
/// Largest log index a node accepts from a peer or a disk.
pub const INDEX_MAX: Index = u64::MAX >> 1;
/// Entries a node needs left below [`INDEX_MAX`] to campaign.
pub const INDEX_HEADROOM: Index = 1 << 32;
/// How far ahead of its own term a message's term may be for a node to consider it.
pub const TERM_JUMP_MAX: Term = 1 << 32;

/// Whether a message's term and indexes are within the limits, relative to the term of
/// the node receiving it. Role rules check the rest (contiguity, commit, sizes).
pub(crate) fn message_in_bounds(m: &Message, own_term: Term) -> bool {
    m.term <= TERM_MAX && m.term <= own_term.saturating_add(TERM_JUMP_MAX) && body_in_bounds(m)
}

fn body_in_bounds(m: &Message) -> bool {
    match &m.body {
        MessageBody::PreVote {
            last_index,
            last_term,
        }
        | MessageBody::Vote {
            last_index,
            last_term,
            ..
        } => *last_index <= INDEX_MAX && *last_term <= m.term,
        MessageBody::Append {
            prev_index,
            prev_term,
            entries,
            ..
        } => {
            let last = prev_index.checked_add(entries.len() as Index);
            *prev_term <= m.term && last.is_some_and(|last| last <= INDEX_MAX)
        }
        MessageBody::AppendResponse {
            index,
            conflict_term,
            ..
        } => *index <= INDEX_MAX && conflict_term.is_none_or(|t| t <= m.term),
        MessageBody::InstallSnapshot { meta, .. } => meta.index <= INDEX_MAX && meta.term <= m.term,
        MessageBody::SnapshotResponse { index, .. } => *index <= INDEX_MAX,
        MessageBody::PreVoteResponse { .. }
        | MessageBody::VoteResponse { .. }
        | MessageBody::Heartbeat { .. }
        | MessageBody::HeartbeatResponse { .. }
        | MessageBody::TimeoutNow => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat(term: Term) -> Message {
        Message {
            from: 2,
            to: 1,
            term,
            body: MessageBody::Heartbeat {
                commit: u64::MAX,
                round: u64::MAX,
            },
        }
    }

    #[test]
    fn term_limits_table() {
        let cases = [
            (0, 5, true),
            (5, 5, true),
            (5 + TERM_JUMP_MAX, 5, true),
            (6 + TERM_JUMP_MAX, 5, false),
            (TERM_MAX, TERM_MAX - 1, true),
            (TERM_MAX + 1, TERM_MAX, false),
            (u64::MAX, TERM_MAX, false),
        ];
        for (term, own, want) in cases {
            assert_eq!(
                message_in_bounds(&heartbeat(term), own),
                want,
                "{term} vs {own}"
            );
        }
    }

    #[test]
    fn indexes_past_the_limit_are_out_of_bounds() {
        let append = |prev_index, n: usize| Message {
            body: MessageBody::Append {
                prev_index,
                prev_term: 1,
                entries: (0..n as u64)
                    .map(|i| crate::types::Entry {
                        term: 1,
                        index: prev_index.wrapping_add(i + 1),
                        kind: crate::types::EntryKind::Normal,
                        data: Default::default(),
                    })
                    .collect(),
                commit: 0,
            },
            ..heartbeat(1)
        };
        assert!(message_in_bounds(&append(INDEX_MAX - 1, 1), 1));
        assert!(!message_in_bounds(&append(INDEX_MAX, 1), 1));
        assert!(!message_in_bounds(&append(u64::MAX, 1), 1));
        let vote = |last_index, last_term| Message {
            body: MessageBody::Vote {
                last_index,
                last_term,
                transfer: false,
            },
            ..heartbeat(3)
        };
        assert!(message_in_bounds(&vote(INDEX_MAX, 3), 3));
        assert!(!message_in_bounds(&vote(INDEX_MAX + 1, 3), 3));
        assert!(
            !message_in_bounds(&vote(1, 4), 3),
            "last term beyond the term"
        );
    }
}
