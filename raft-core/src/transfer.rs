//! Leadership transfer: the leader brings a chosen voter's log up to date, then tells it
//! to campaign at once (`TimeoutNow`); its vote requests carry a flag that lets voters
//! ignore their leader lease, since the current leader asked for this election.
//!
//! While a transfer is pending the leader refuses proposals (they could not commit in its
//! term anyway once the transferee wins). The transfer is abandoned after an election
//! timeout. Once a `TimeoutNow` went out, the leader never again serves lease reads in
//! this term: a delayed `TimeoutNow` may still elect the transferee.

use crate::election::Campaign;
use crate::error::StepError;
use crate::message::MessageBody;
use crate::node::{Node, Role};
use crate::types::NodeId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PendingTransfer {
    pub to: NodeId,
    pub elapsed_ticks: u32,
}

impl Node {
    /// `Input::TransferLeadership`.
    pub(crate) fn transfer_leadership(&mut self, to: NodeId) -> Result<(), StepError> {
        if self.role != Role::Leader {
            return Err(StepError::NotLeader {
                leader: self.leader,
            });
        }
        if !self.membership.voters.contains(&to) {
            return Err(StepError::NotAVoter { id: to });
        }
        if to == self.cfg.id {
            self.transfer = None;
            return Ok(());
        }
        self.stats.transfers_started += 1;
        self.transfer = Some(PendingTransfer {
            to,
            elapsed_ticks: 0,
        });
        self.maybe_send_timeout_now();
        if self.transfer.is_some() {
            // Not caught up yet: push the missing entries now rather than at the next
            // heartbeat.
            self.send_append(to, true);
        }
        Ok(())
    }

    /// Sends `TimeoutNow` once the transferee holds the whole log.
    pub(crate) fn maybe_send_timeout_now(&mut self) {
        let Some(t) = self.transfer else { return };
        if self.progress[&t.to].match_index != self.log.last_index() {
            return;
        }
        self.lease_revoked = true;
        self.transfer = None;
        self.send(t.to, self.term, MessageBody::TimeoutNow);
    }

    /// Called every leader tick; gives up after an election timeout.
    pub(crate) fn tick_transfer(&mut self) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        t.elapsed_ticks += 1;
        if t.elapsed_ticks >= self.cfg.election_ticks {
            self.stats.transfers_abandoned += 1;
            self.transfer = None;
        }
    }

    /// A follower told by its leader to take over: campaign now, skipping pre-vote.
    pub(crate) fn on_timeout_now(&mut self) {
        if !self.promotable() {
            self.stats.dropped_unexpected += 1;
            return;
        }
        self.campaign(Campaign::Transfer);
    }
}
