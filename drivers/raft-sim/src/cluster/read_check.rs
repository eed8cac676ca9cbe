//! Linearizable reads, checked: every read a node confirms must be at or past the
//! highest index committed anywhere when it was issued, or the run fails as stale.

use raft_core::{Apply, Input, StepError};
use sim_kit::Sim;

use super::Cluster;

impl Cluster {
    /// Asks `slot` for a linearizable read; its confirmation is checked against every
    /// commit that happened anywhere before now.
    pub fn read(&mut self, slot: usize) -> Result<u64, StepError> {
        if !self.is_alive(slot) {
            return Err(StepError::NotLeader { leader: None });
        }
        self.next_read_id += 1;
        let id = self.next_read_id;
        self.reads_open.insert((slot, id), self.commit_frontier);
        match self.step(slot, Input::Read { id }) {
            Ok(_) => {
                self.counters.reads_issued += 1;
                Ok(id)
            }
            Err(e) => {
                self.reads_open.remove(&(slot, id));
                Err(e)
            }
        }
    }

    /// The id the next read will get: reads issued from now on have ids at least this.
    pub fn next_read_id(&self) -> u64 {
        self.next_read_id + 1
    }

    /// How many reads with an id of at least `first_id` were confirmed.
    pub fn reads_confirmed_from(&self, first_id: u64) -> u64 {
        self.reads_confirmed_ids
            .iter()
            .filter(|&&id| id >= first_id)
            .count() as u64
    }

    /// Checks confirmed reads against the frontier at their issue, closes aborted ones.
    pub(super) fn check_reads(&mut self, slot: usize, apply: &Apply) {
        for r in &apply.reads {
            let Some(required) = self.reads_open.remove(&(slot, r.id)) else {
                self.fail(&format!(
                    "node {} confirmed unknown read {}",
                    slot + 1,
                    r.id
                ));
            };
            if r.index < required {
                self.fail(&format!(
                    "stale read: node {} confirmed read {} at index {}, but {} was committed before it was issued",
                    slot + 1, r.id, r.index, required
                ));
            }
            self.counters.reads_confirmed += 1;
            self.reads_confirmed_ids.push(r.id);
        }
        for id in &apply.reads_aborted {
            self.reads_open.remove(&(slot, *id));
            self.counters.reads_aborted += 1;
        }
    }
}
