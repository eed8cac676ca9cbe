//! Node configuration. Ticks are the unit of time: the driver decides how long one is.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::read_only::ReadMode;
use crate::types::NodeId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub id: NodeId,
    /// The bootstrap configuration: every voter, including `id`, when the cluster is
    /// created. Empty for a node joining an existing cluster: it learns the configuration
    /// from the leader's log or snapshot. Ignored once a snapshot or configuration entry
    /// says otherwise.
    pub voters: Vec<NodeId>,
    /// Base election timeout; each wait is drawn from `[election_ticks, 2 * election_ticks)`.
    pub election_ticks: u32,
    pub heartbeat_ticks: u32,
    /// Campaign only after a pre-vote round shows a quorum would vote, so a partitioned
    /// node rejoining does not disrupt a healthy leader with its inflated term.
    pub pre_vote: bool,
    /// A leader steps down when it has not heard from a quorum within an election timeout,
    /// and nodes that heard from a leader within one ignore vote requests.
    pub check_quorum: bool,
    /// Appends in flight to one follower in replicate state before it is paused.
    pub inflight_msgs_max: usize,
    /// Bytes of entries in flight to one follower before it is paused (one append is
    /// always allowed below the limit, so the window may exceed it by one append).
    pub inflight_bytes_max: usize,
    /// Bytes of this leader's proposals awaiting commit before new ones are refused.
    pub uncommitted_bytes_max: usize,
    /// Bytes of entries in one Append (at least one entry is always sent).
    pub append_bytes_max: usize,
    /// Largest proposal accepted.
    pub entry_bytes_max: usize,
    /// Bytes of snapshot data in one InstallSnapshot chunk.
    pub snapshot_chunk_bytes: usize,
    /// Largest snapshot accepted: handed in by the application (`Input::Snapshot` is
    /// refused beyond it) or announced by a leader (its chunks are dropped and counted in
    /// `Stats::dropped_snapshot_too_large`), so a hostile or corrupt leader cannot make a
    /// follower buffer without bound.
    pub snapshot_bytes_max: usize,
    /// How `Input::Read` is confirmed. `Lease` requires `check_quorum` and must be set on
    /// every node (followers then also refuse votes for an election timeout after boot).
    pub read_mode: ReadMode,
    /// Lease reads assume no node's clock (tick rate) runs faster than the leader's by
    /// more than this many parts per million; the lease is shortened accordingly. If
    /// clocks drift more, a lease read can be stale.
    pub lease_clock_drift_ppm: u32,
    /// Reads awaiting confirmation before new ones are refused.
    pub reads_pending_max: usize,
    /// Seed of the PRNG drawing election timeouts; mixed with `id`.
    pub seed: u64,
    /// Test-only: a deliberate bug, so checkers can be shown to catch it. Serialized
    /// (in builds with the feature), so a trace of a run with a bug replays the bug.
    #[cfg(feature = "bug-injection")]
    pub bug: Option<InjectedBug>,
}

/// Deliberate protocol violations, compiled in only with the `bug-injection` feature.
#[cfg(feature = "bug-injection")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InjectedBug {
    /// Grant every vote request whose log is up to date, even after voting in this term.
    VoteTwice,
    /// Commit by counting replicas even when the entry is from an earlier term (Figure 8).
    CommitOldTerm,
    /// Confirm every read at once from the leader's commit index, without a quorum round
    /// or a lease: a deposed leader serves stale reads.
    LocalReads,
    /// The lease a follower grants ends as soon as something clears its idea of the
    /// leader (a higher-term rejection, for one), as it did before issue 11: a stale
    /// lease read after a delayed higher-term response.
    LeaseFollowsLeader,
    /// A change that moves two or more voters enters the new configuration directly
    /// instead of through a joint one: the old and the new majorities need not
    /// intersect, so two leaders can be elected in one term.
    SkipJoint,
}

/// Election timeouts are drawn below `2 * election_ticks`, which must fit a `u32`.
const ELECTION_TICKS_MAX: usize = 1 << 30;
/// Each follower's progress preallocates its in-flight window.
const INFLIGHT_MSGS_MAX: usize = 1 << 16;

impl Config {
    /// "No limit" for any of the byte limits (`*_bytes_max`, `entry_bytes_max`,
    /// `snapshot_bytes_max`) and `reads_pending_max`: nothing is preallocated from them
    /// and no arithmetic on them can overflow. Count limits that size buffers
    /// (`inflight_msgs_max`, `election_ticks`) have ceilings instead.
    pub const UNLIMITED: usize = usize::MAX;

    /// Defaults chosen for a 10 ms tick (etcd's defaults): 100 ms heartbeats, 1–2 s election
    /// timeouts. Long timeouts keep elections live when replies can take seconds.
    pub fn new(id: NodeId, voters: Vec<NodeId>) -> Self {
        Config {
            id,
            voters,
            election_ticks: 100,
            heartbeat_ticks: 10,
            pre_vote: true,
            check_quorum: true,
            inflight_msgs_max: 64,
            inflight_bytes_max: 16 << 20,
            uncommitted_bytes_max: 64 << 20,
            append_bytes_max: 1 << 20,
            entry_bytes_max: 1 << 20,
            snapshot_chunk_bytes: 256 << 10,
            snapshot_bytes_max: 1 << 30,
            read_mode: ReadMode::Safe,
            lease_clock_drift_ppm: 50_000,
            reads_pending_max: 4096,
            seed: 0,
            #[cfg(feature = "bug-injection")]
            bug: None,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.id == 0 || self.voters.contains(&0) {
            return Err(ConfigError::ZeroId);
        }
        if !self.voters.is_empty() && !self.voters.contains(&self.id) {
            return Err(ConfigError::NotAVoter {
                id: self.id,
                voters: self.voters.clone(),
            });
        }
        let mut sorted = self.voters.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(ConfigError::DuplicateVoter(w[0]));
        }
        if self.heartbeat_ticks == 0 || self.heartbeat_ticks >= self.election_ticks {
            return Err(ConfigError::BadTicks {
                heartbeat: self.heartbeat_ticks,
                election: self.election_ticks,
            });
        }
        let ceilings = [
            (
                "election_ticks",
                self.election_ticks as usize,
                ELECTION_TICKS_MAX,
            ),
            (
                "inflight_msgs_max",
                self.inflight_msgs_max,
                INFLIGHT_MSGS_MAX,
            ),
        ];
        if let Some(&(name, value, max)) = ceilings.iter().find(|(_, v, max)| v > max) {
            return Err(ConfigError::TooLarge { name, value, max });
        }
        let limits = [
            ("inflight_msgs_max", self.inflight_msgs_max),
            ("append_bytes_max", self.append_bytes_max),
            ("inflight_bytes_max", self.inflight_bytes_max),
            ("uncommitted_bytes_max", self.uncommitted_bytes_max),
            ("entry_bytes_max", self.entry_bytes_max),
            ("snapshot_chunk_bytes", self.snapshot_chunk_bytes),
            ("snapshot_bytes_max", self.snapshot_bytes_max),
            ("reads_pending_max", self.reads_pending_max),
        ];
        if self.read_mode == ReadMode::Lease && !self.check_quorum {
            return Err(ConfigError::LeaseWithoutCheckQuorum);
        }
        match limits.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(ConfigError::ZeroLimit { name }),
            None => Ok(()),
        }
    }

    #[cfg(feature = "bug-injection")]
    pub(crate) fn has_bug(&self, bug: InjectedBug) -> bool {
        self.bug == Some(bug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_table() {
        let ok = Config::new(1, vec![1, 2, 3]);
        assert_eq!(ok.validate(), Ok(()));
        let cases: Vec<(Config, ConfigError)> = vec![
            (Config::new(0, vec![0, 1]), ConfigError::ZeroId),
            (
                Config::new(4, vec![1, 2]),
                ConfigError::NotAVoter {
                    id: 4,
                    voters: vec![1, 2],
                },
            ),
            (
                Config::new(1, vec![1, 2, 2]),
                ConfigError::DuplicateVoter(2),
            ),
            (
                Config {
                    heartbeat_ticks: 100,
                    ..ok.clone()
                },
                ConfigError::BadTicks {
                    heartbeat: 100,
                    election: 100,
                },
            ),
            (
                Config {
                    inflight_msgs_max: 0,
                    ..ok.clone()
                },
                ConfigError::ZeroLimit {
                    name: "inflight_msgs_max",
                },
            ),
            (
                Config {
                    election_ticks: u32::MAX,
                    ..ok.clone()
                },
                ConfigError::TooLarge {
                    name: "election_ticks",
                    value: u32::MAX as usize,
                    max: ELECTION_TICKS_MAX,
                },
            ),
            (
                Config {
                    inflight_msgs_max: usize::MAX,
                    ..ok.clone()
                },
                ConfigError::TooLarge {
                    name: "inflight_msgs_max",
                    value: usize::MAX,
                    max: INFLIGHT_MSGS_MAX,
                },
            ),
        ];
        for (cfg, want) in cases {
            assert_eq!(cfg.validate(), Err(want));
        }
    }
}
