//! Timers, (pre-)campaigns and votes: how followers and candidates become leaders.

use crate::bounds::{INDEX_HEADROOM, INDEX_MAX, TERM_MAX};
use crate::message::{Message, MessageBody};
use crate::node::{Node, Role};
use crate::quorum::{self, VoteResult};
use crate::types::{Index, Term};

/// What kind of campaign a node starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Campaign {
    /// A pre-vote round: no term change, no durable state.
    Pre,
    /// A real election: term + 1, vote for self.
    Election,
    /// A real election the leader asked for (`TimeoutNow`): its vote requests say so,
    /// and voters ignore the lease they granted that leader.
    Transfer,
}

impl Node {
    pub(crate) fn tick_election(&mut self) {
        self.election_elapsed += 1;
        if self.election_elapsed >= self.election_timeout {
            self.on_election_timeout();
        } else if self.role != Role::Follower
            && self
                .election_elapsed
                .is_multiple_of(self.cfg.heartbeat_ticks)
        {
            self.request_votes(true);
        }
    }

    /// What the election timer firing does, also reached through `Input::Campaign`: a
    /// voter (pre-)campaigns; a learner or a removed node never does and keeps waiting.
    pub(crate) fn on_election_timeout(&mut self) {
        if !self.promotable() {
            self.reset_election_timer();
            return;
        }
        let kind = if self.cfg.pre_vote {
            Campaign::Pre
        } else {
            Campaign::Election
        };
        self.campaign(kind);
    }

    /// `Input::Campaign`: the election timer fires now. A leader ignores it (it has no
    /// election timer), so a script or an operator cannot depose a healthy leader by it.
    pub(crate) fn campaign_now(&mut self) {
        if self.role != Role::Leader {
            self.on_election_timeout();
        }
    }

    /// Starts a pre-campaign (no term change) or a real campaign (term + 1, vote self).
    /// Every campaign decides afresh whether it is a transfer.
    pub(crate) fn campaign(&mut self, kind: Campaign) {
        assert!(self.promotable(), "only a voter campaigns");
        if self.term >= TERM_MAX || self.log.last_index() > INDEX_MAX - INDEX_HEADROOM {
            // No term is left to campaign in, or no room for a leader's appends (see
            // `bounds`).
            self.stats.campaigns_refused_at_term_max += 1;
            self.reset_election_timer();
            return;
        }
        let pre = kind == Campaign::Pre;
        self.stats.elections_started += u64::from(!pre);
        self.campaign_for_transfer = kind == Campaign::Transfer;
        self.votes.clear();
        self.leader = None;
        self.progress.clear();
        self.reset_election_timer();
        if pre {
            self.role = Role::PreCandidate;
        } else {
            self.role = Role::Candidate;
            self.term += 1;
            self.vote = Some(self.cfg.id);
            self.own_term_durable = false;
        }
        if self.record_vote(self.cfg.id, true) != VoteResult::Pending {
            return;
        }
        self.request_votes(false);
    }

    /// Sends this campaign's (pre-)vote request to every voter, or with `unanswered_only`
    /// to those not heard from: a lost request or answer then costs a heartbeat interval
    /// instead of a whole election timeout. Granting the same candidate twice is harmless.
    fn request_votes(&mut self, unanswered_only: bool) {
        let pre = self.role == Role::PreCandidate;
        assert!(
            pre || self.role == Role::Candidate,
            "only candidates ask for votes"
        );
        let campaign_term = if pre { self.term + 1 } else { self.term };
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        for peer in self.voting_peers() {
            if unanswered_only && self.votes.contains_key(&peer) {
                continue;
            }
            let body = if pre {
                MessageBody::PreVote {
                    last_index,
                    last_term,
                }
            } else {
                MessageBody::Vote {
                    last_index,
                    last_term,
                    transfer: self.campaign_for_transfer,
                }
            };
            self.send(peer, campaign_term, body);
        }
    }

    /// Counts one answer and acts on a decided outcome; returns the outcome.
    fn record_vote(&mut self, from: u64, granted: bool) -> VoteResult {
        self.votes.entry(from).or_insert(granted);
        let m = &self.membership;
        let result = quorum::joint_vote_result(&m.voters, &m.voters_outgoing, |id| {
            self.votes.get(&id).copied()
        });
        match (result, self.role) {
            (VoteResult::Won, Role::PreCandidate) => self.campaign(Campaign::Election),
            (VoteResult::Won, Role::Candidate) => self.become_leader(),
            (VoteResult::Lost, _) => self.become_follower(self.term, None),
            _ => {}
        }
        result
    }

    /// PreVote and Vote requests, in any role, once the term rules have run.
    pub(crate) fn handle_vote_request(
        &mut self,
        m: &Message,
        pre: bool,
        last_index: Index,
        last_term: Term,
    ) {
        let transfer = matches!(m.body, MessageBody::Vote { transfer: true, .. });
        let refused_in_lease = self.vote != Some(m.from)
            && !transfer
            && self.in_lease()
            && !self.injected_lease_follows_leader();
        self.stats.dropped_in_lease += u64::from(refused_in_lease);
        let can_vote = self.vote == Some(m.from)
            || (self.vote.is_none() && self.leader.is_none() && !refused_in_lease)
            || (pre && m.term > self.term && !refused_in_lease)
            || self.injected_vote_twice();
        let grant = can_vote && self.log.is_up_to_date(last_index, last_term);
        let reply_term = if grant { m.term } else { self.term };
        if grant && !pre {
            self.vote = Some(m.from);
            self.reset_election_timer();
        }
        let reject = !grant;
        let body = if pre {
            MessageBody::PreVoteResponse { reject }
        } else {
            MessageBody::VoteResponse { reject }
        };
        self.send(m.from, reply_term, body);
    }

    /// The injected bug: a follower forgets it already voted in this term.
    #[cfg(feature = "bug-injection")]
    fn injected_vote_twice(&self) -> bool {
        self.role == Role::Follower && self.cfg.has_bug(crate::config::InjectedBug::VoteTwice)
    }

    #[cfg(not(feature = "bug-injection"))]
    fn injected_vote_twice(&self) -> bool {
        false
    }

    pub(crate) fn step_candidate(&mut self, m: Message) {
        match (&m.body, self.role) {
            (
                MessageBody::Append { .. }
                | MessageBody::Heartbeat { .. }
                | MessageBody::InstallSnapshot { .. },
                _,
            ) => {
                // A leader exists in our term: stand down and let the follower path answer.
                self.become_follower(self.term, Some(m.from));
                self.step_follower(m);
            }
            (MessageBody::PreVoteResponse { reject }, Role::PreCandidate) => {
                self.record_vote(m.from, !*reject);
            }
            (MessageBody::VoteResponse { reject }, Role::Candidate) => {
                // It answers a request sent only once our term and vote were durable.
                self.own_term_durable = true;
                self.record_vote(m.from, !*reject);
            }
            _ => self.stats.dropped_unexpected += 1,
        }
    }
}
