//! Timers, (pre-)campaigns and votes: how followers and candidates become leaders.

use crate::message::{Message, MessageBody};
use crate::node::{Node, Role};
use crate::quorum::{self, VoteResult};
use crate::types::{Index, Term};

impl Node {
    pub(crate) fn tick(&mut self) {
        self.ticks += 1;
        match self.role {
            Role::Leader => self.tick_leader(),
            _ => self.tick_election(),
        }
    }

    fn tick_election(&mut self) {
        self.election_elapsed += 1;
        if self.election_elapsed >= self.cfg.election_ticks {
            self.boot_guard = false;
        }
        if self.election_elapsed >= self.election_timeout {
            if self.promotable() {
                self.campaign(self.cfg.pre_vote);
            } else {
                // A learner or a removed node never campaigns; it keeps waiting.
                self.reset_election_timer();
            }
        } else if self.role != Role::Follower
            && self
                .election_elapsed
                .is_multiple_of(self.cfg.heartbeat_ticks)
        {
            self.request_votes(true);
        }
    }

    /// Starts a pre-campaign (no term change) or a real campaign (term + 1, vote self).
    pub(crate) fn campaign(&mut self, pre: bool) {
        assert!(self.promotable(), "only a voter campaigns");
        self.stats.elections_started += u64::from(!pre);
        if pre {
            self.campaign_for_transfer = false;
        }
        self.boot_guard = false;
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
            (VoteResult::Won, Role::PreCandidate) => self.campaign(false),
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
        let can_vote = self.vote == Some(m.from)
            || (self.vote.is_none() && self.leader.is_none())
            || (pre && m.term > self.term)
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
                self.record_vote(m.from, !*reject);
            }
            _ => self.stats.dropped_unexpected += 1,
        }
    }
}
