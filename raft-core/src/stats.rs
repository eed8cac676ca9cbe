//! Counters of what a node dropped or refused. Peer input never panics a node; it lands here.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Messages addressed to another node or sent by a non-member.
    pub dropped_misaddressed: u64,
    /// Messages from an older term that needed no answer.
    pub dropped_stale_term: u64,
    /// Vote requests ignored or refused because a leader was heard from within the
    /// election timeout (the lease this node granted it).
    pub dropped_in_lease: u64,
    /// Messages whose contents cannot be valid (gaps, decreasing terms, commit overwrites,
    /// terms or indexes beyond the limits of `bounds`, a term too far ahead).
    pub dropped_malformed: u64,
    /// Messages that make no sense in the current role (e.g. a vote response to a leader).
    pub dropped_unexpected: u64,
    /// Snapshot chunks of a snapshot larger than `Config::snapshot_bytes_max`.
    pub dropped_snapshot_too_large: u64,
    pub elections_started: u64,
    /// Campaigns not started because the term reached `TERM_MAX` or the log came within
    /// `INDEX_HEADROOM` of `INDEX_MAX`.
    pub campaigns_refused_at_term_max: u64,
    pub transfers_started: u64,
    /// Transfers given up after an election timeout without `TimeoutNow` being sent.
    pub transfers_abandoned: u64,
    /// Reads answered from the leader's lease without a heartbeat round.
    pub reads_served_by_lease: u64,
    /// Snapshots received from a leader and handed to the application to install.
    pub snapshots_installed: u64,
    /// Snapshot chunks sent (as leader).
    pub snapshot_chunks_sent: u64,
    pub leaderships_lost_check_quorum: u64,
    /// Leaderships ended because a configuration without this node committed.
    pub leaderships_ended_by_removal: u64,
    /// Configurations adopted (from committed entries or installed snapshots).
    pub membership_changes_applied: u64,
}
