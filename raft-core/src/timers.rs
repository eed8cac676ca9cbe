//! Logical time: a tick advances every timer; [`Node::ticks_until_due`] says how many
//! ticks may pass before one does more than count, so a driver (the simulator, or a
//! runtime hosting many idle groups) may sleep through them and hand them in at once
//! (`Input::Ticks`). The timers themselves are in `election.rs` (followers and
//! candidates), `leader.rs` (heartbeats, the quorum check) and `transfer.rs`.

use crate::error::StepError;
use crate::node::{Node, Role};

/// Most ticks one `Input::Ticks` may hand in: 65,536 (11 minutes of 10 ms ticks). Each
/// is a few counter updates, but a node cut off campaigns once per election timeout of
/// them, so the bound also bounds one step's messages.
pub const TICKS_PER_INPUT_MAX: u32 = 1 << 16;

impl Node {
    pub(crate) fn tick(&mut self) {
        self.ticks += 1;
        match self.role {
            Role::Leader => self.tick_leader(),
            _ => self.tick_election(),
        }
    }

    /// `Input::Ticks`: exactly `count` ticks in a row.
    pub(crate) fn tick_many(&mut self, count: u32) -> Result<(), StepError> {
        if count > TICKS_PER_INPUT_MAX {
            return Err(StepError::TooManyTicks {
                count,
                max: TICKS_PER_INPUT_MAX,
            });
        }
        for _ in 0..count {
            self.tick();
        }
        Ok(())
    }

    /// How many ticks from now until one may act: the `k`-th tick (`k >= 1`) may send (a
    /// heartbeat, a vote request), campaign, step down or give up a transfer; the
    /// `k - 1` before it only advance timers and produce an empty `Ready`. Other inputs
    /// may bring the moment closer (a node that becomes leader heartbeats on its next
    /// tick), so a driver asks again after every step.
    pub fn ticks_until_due(&self) -> u32 {
        let election = ticks_until(self.election_elapsed, self.election_timeout);
        let due = match self.role {
            Role::Leader => {
                let heartbeat = ticks_until(self.heartbeat_elapsed, self.cfg.heartbeat_ticks);
                let quorum_check = ticks_until(self.election_elapsed, self.cfg.election_ticks);
                let transfer = self.transfer.as_ref().map_or(u32::MAX, |t| {
                    ticks_until(t.elapsed_ticks, self.cfg.election_ticks)
                });
                heartbeat.min(quorum_check).min(transfer)
            }
            Role::Follower => election,
            Role::PreCandidate | Role::Candidate => {
                // A campaign asks again for votes every heartbeat interval.
                let every = self.cfg.heartbeat_ticks;
                assert!(every > 0, "validated: heartbeats are positive");
                election.min(every - self.election_elapsed % every)
            }
        };
        assert!(due >= 1, "the next tick is the soonest one can act");
        due
    }
}

/// Ticks until a timer at `elapsed` reaches `limit`; the next one if it already has.
fn ticks_until(elapsed: u32, limit: u32) -> u32 {
    limit.saturating_sub(elapsed).max(1)
}
