//! The cluster a script drives. Each node is a [`Pipeline`] (the one implementation of
//! the `Ready` contract); this file supplies only the effects: a network queue, a disk per
//! node that holds exactly the writes the script completed, and a toy application that
//! applies commands by appending their bytes. Nothing happens unless a command says so:
//! messages wait in the queue, writes wait in flight.
//!
//! Two safety checks run on every step, whatever the script expects: at most one leader
//! per term (election safety) and every index applied with the same entry on every node
//! (state machine safety). A breach prints a `VIOLATION` line and is kept in
//! [`World::violations`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use raft_core::{
    Apply, Entry, EntryKind, Index, Input, Message, Node, NodeId, Observer, Pipeline, Ready,
    RestoredState, Role, Stats, StepError, Term, Work, Write,
};

use super::args::parse_ids;
use super::commands::Filter;

/// `stabilize` gives up after this many passes (a message storm or a livelock).
const STABILIZE_PASSES_MAX: usize = 1_000;
/// Writes one node may complete in one `stabilize` pass (each may cause another).
const WRITES_PER_PASS_MAX: usize = 1_000;

/// A node: its configuration, its pipeline while it runs, and what survives a crash.
pub(super) struct Member {
    pub cfg: raft_core::Config,
    pub pipeline: Option<Pipeline>,
    /// What the completed writes left on this node's disk.
    pub disk: RestoredState,
    /// Writes handed out and not yet completed, oldest first. A crash loses them.
    pub pending: VecDeque<Write>,
    pub app: App,
}

/// The application: the bytes of every command applied, comma-separated, starting from
/// the snapshot it was installed from or restarted with.
#[derive(Default)]
pub(super) struct App {
    base: Vec<u8>,
    commands: Vec<(Index, Vec<u8>)>,
    pub applied: Index,
}

impl App {
    pub fn restored(disk: &RestoredState) -> App {
        match &disk.snapshot {
            Some(s) => App {
                base: s.data.clone(),
                commands: Vec::new(),
                applied: s.meta.index,
            },
            None => App::default(),
        }
    }

    /// The state after applying every entry up to `index` (which it has applied).
    pub fn state_at(&self, index: Index) -> Vec<u8> {
        let mut parts: Vec<&[u8]> = Vec::new();
        if !self.base.is_empty() {
            parts.push(&self.base);
        }
        let upto = self.commands.iter().filter(|(i, _)| *i <= index);
        parts.extend(upto.map(|(_, data)| data.as_slice()));
        parts.join(&b","[..])
    }

    fn install(&mut self, index: Index, data: &[u8]) {
        *self = App {
            base: data.to_vec(),
            commands: Vec::new(),
            applied: index,
        };
    }

    fn apply(&mut self, e: &Entry) {
        if e.kind == EntryKind::Normal {
            self.commands.push((e.index, e.data.to_vec()));
        }
        self.applied = e.index;
    }
}

/// Sees every `Ready` of one call into a pipeline, and which terms the node led in.
#[derive(Default)]
pub(super) struct Recorder {
    readys: Vec<Ready>,
    led: Vec<Term>,
}

impl Observer for Recorder {
    fn after_step(&mut self, node: &Node, ready: &Ready) {
        if node.role() == Role::Leader {
            self.led.push(node.term());
        }
        self.readys.push(ready.clone());
    }
}

#[derive(Default)]
pub struct World {
    pub(super) members: Vec<Member>,
    /// Messages sent and not yet delivered or dropped, in sending order.
    pub(super) queue: Vec<Message>,
    /// Who led each term (the first leader seen).
    leaders: BTreeMap<Term, NodeId>,
    /// Every applied entry, by index, with the first node that applied it.
    applied: BTreeMap<Index, (NodeId, Entry)>,
    /// Safety breaches seen, in order.
    pub violations: Vec<String>,
    /// `output off`: commands print only violations (and `ok`).
    pub(super) quiet: bool,
}

impl World {
    pub(super) fn member(&self, id: NodeId) -> Result<&Member, String> {
        let at = id.checked_sub(1).ok_or("node ids start at 1")? as usize;
        self.members.get(at).ok_or_else(|| format!("no node {id}"))
    }

    pub(super) fn member_mut(&mut self, id: NodeId) -> Result<&mut Member, String> {
        let at = id.checked_sub(1).ok_or("node ids start at 1")? as usize;
        self.members
            .get_mut(at)
            .ok_or_else(|| format!("no node {id}"))
    }

    /// Node `id` while it runs.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        let member = self.member(id).ok()?;
        member.pipeline.as_ref().map(Pipeline::node)
    }

    /// Every node's id, ascending.
    pub(super) fn ids(&self) -> BTreeSet<NodeId> {
        (1..=self.members.len() as NodeId).collect()
    }

    /// `all` or `1,2,3`.
    pub(super) fn parse_ids(&self, text: &str) -> Result<BTreeSet<NodeId>, String> {
        let ids = match text {
            "all" => self.ids(),
            _ => parse_ids(text)?,
        };
        ids.iter().try_for_each(|&id| self.member(id).map(drop))?;
        Ok(ids)
    }

    /// Feeds `input` to node `id`: a header line, then what it caused, indented.
    pub(super) fn input(&mut self, id: NodeId, input: Input, out: &mut Vec<String>) {
        out.push(format!("{id}: {input}"));
        let lines = self.drive(id, |p, r| p.step_observed(input, r));
        out.extend(indent(lines));
    }

    /// One call into node `id`'s pipeline, and its effects carried out: messages queued,
    /// writes put in flight, applies applied. Returns what to print: the work, the
    /// messages now waiting for a write (`wait#N`), role changes, counters that explain
    /// silence (drops), errors and safety violations.
    pub(super) fn drive(
        &mut self,
        id: NodeId,
        call: impl FnOnce(&mut Pipeline, &mut Recorder) -> Result<Work, StepError>,
    ) -> Vec<String> {
        let Ok(member) = self.member_mut(id) else {
            return vec![format!("error: no node {id}")];
        };
        let Some(pipeline) = member.pipeline.as_mut() else {
            return vec![format!("error: {id} is down")];
        };
        let (stats, role) = (pipeline.node().stats().clone(), pipeline.node().role());
        let mut recorder = Recorder::default();
        let work = match call(pipeline, &mut recorder) {
            Ok(work) => work,
            Err(e) => return vec![format!("error: {e}")],
        };
        let node = pipeline.node();
        let mut lines: Vec<String> = lines_of(&work);
        member.pending.extend(work.writes.iter().cloned());
        lines.extend(waiting(&recorder, &work, member.pending.back()));
        lines.extend(waiting_applies(&recorder, &work, member.pending.back()));
        if node.role() != role {
            lines.push(format!("became {:?} t{}", node.role(), node.term()));
        }
        lines.extend(counter_notes(&stats, node.stats()));
        let Work {
            messages, applies, ..
        } = work;
        self.queue.extend(messages);
        for apply in &applies {
            self.carry_out(id, apply, &mut lines);
        }
        self.check_leaders(id, &recorder.led, &mut lines);
        self.answer_snapshot_wanted(id, &mut lines);
        lines
    }

    /// The toy application answers a leader that let its snapshot's bytes go and now has
    /// a follower that needs them: it hands in its state as applied.
    fn answer_snapshot_wanted(&mut self, id: NodeId, lines: &mut Vec<String>) {
        let member = self.member(id).expect("a driven node exists");
        let Some(node) = member.pipeline.as_ref().map(Pipeline::node) else {
            return;
        };
        let (index, taken) = (member.app.applied, node.log().snapshot_position().index);
        if !node.snapshot_wanted() || index < taken {
            return;
        }
        let data = member.app.state_at(index);
        lines.push("snapshot wanted: the app hands in its state".to_string());
        self.input(id, Input::Snapshot { index, data }, lines);
    }

    /// Step 4 of the contract, on the toy application, checking agreement.
    fn carry_out(&mut self, id: NodeId, apply: &Apply, lines: &mut Vec<String>) {
        if let Some(s) = &apply.install {
            let (index, term) = (s.meta.index, s.meta.term);
            if let Some((other, e)) = self.applied.get(&index).filter(|(_, e)| e.term != term) {
                let what = format!("{id} installed a snapshot at {term}/{index}");
                self.violation(format!("{what}; {other} applied {e}"), lines);
            }
            let member = self.member_mut(id).expect("a driven node exists");
            member.app.install(index, &s.data);
        }
        for e in &apply.committed {
            match self.applied.get(&e.index) {
                Some((other, seen)) if seen != e => {
                    let what = format!("{id} applied {e} where {other} applied {seen}");
                    self.violation(format!("state machine safety: {what}"), lines);
                }
                Some(_) => {}
                None => {
                    self.applied.insert(e.index, (id, e.clone()));
                }
            }
            let member = self.member_mut(id).expect("a driven node exists");
            member.app.apply(e);
        }
    }

    fn check_leaders(&mut self, id: NodeId, led: &[Term], lines: &mut Vec<String>) {
        for &term in led {
            let first = *self.leaders.entry(term).or_insert(id);
            if first != id {
                let what = format!("{first} and {id} both lead term {term}");
                self.violation(format!("election safety: {what}"), lines);
            }
        }
    }

    fn violation(&mut self, what: String, lines: &mut Vec<String>) {
        if !self.violations.contains(&what) {
            lines.push(format!("VIOLATION {what}"));
            self.violations.push(what);
        }
    }

    /// Completes node `id`'s oldest write in flight: it lands on the disk, then the
    /// pipeline releases what waited for it.
    pub(super) fn persist_one(&mut self, id: NodeId, out: &mut Vec<String>) -> Result<(), String> {
        let member = self.member_mut(id)?;
        let write = member
            .pending
            .pop_front()
            .ok_or_else(|| format!("{id} has no write in flight"))?;
        write.apply_to(&mut member.disk);
        out.push(format!("{id}: persisted write#{}", write.id));
        let lines = self.drive(id, |p, r| Ok(p.persisted_observed(write.id, r)));
        out.extend(indent(lines));
        Ok(())
    }

    /// Delivers one message (printed first, its effects indented under it).
    pub(super) fn deliver_one(&mut self, m: Message, out: &mut Vec<String>) {
        out.push(m.to_string());
        let to = m.to;
        let lines = match self.member(to) {
            Err(_) => vec![format!("dropped: {to} does not exist")],
            Ok(member) if member.pipeline.is_none() => vec![format!("dropped: {to} is down")],
            Ok(_) => self.drive(to, |p, r| p.step_observed(Input::Message(m), r)),
        };
        out.extend(indent(lines));
    }

    /// Removes and returns, in queue order, up to `limit` queued messages `filter` matches.
    pub(super) fn take_queued(&mut self, filter: &Filter, limit: usize) -> Vec<Message> {
        let mut taken = Vec::new();
        let mut kept = Vec::new();
        for m in std::mem::take(&mut self.queue) {
            if taken.len() < limit && filter.matches(&m) {
                taken.push(m);
            } else {
                kept.push(m);
            }
        }
        self.queue = kept;
        taken
    }

    /// Until nothing changes: every node in `ids` completes its writes, then every queued
    /// message between two nodes of `ids` is delivered (one round per pass).
    pub(super) fn stabilize(
        &mut self,
        ids: &BTreeSet<NodeId>,
        out: &mut Vec<String>,
    ) -> Result<(), String> {
        let between = Filter::between(ids.clone());
        for _ in 0..STABILIZE_PASSES_MAX {
            let mut busy = false;
            for &id in ids {
                for _ in 0..WRITES_PER_PASS_MAX {
                    if self.member(id)?.pending.is_empty() {
                        break;
                    }
                    self.persist_one(id, out)?;
                    busy = true;
                }
            }
            let round = self.take_queued(&between, usize::MAX);
            busy |= !round.is_empty();
            round.into_iter().for_each(|m| self.deliver_one(m, out));
            if !busy {
                return Ok(());
            }
        }
        Err(format!("not stable after {STABILIZE_PASSES_MAX} passes"))
    }
}

pub(super) fn indent(lines: Vec<String>) -> impl Iterator<Item = String> {
    lines.into_iter().map(|l| format!("  {l}"))
}

fn lines_of(work: &Work) -> Vec<String> {
    let text = work.to_string();
    text.lines().map(str::to_string).collect()
}

/// The after-persist messages this call produced that the pipeline did not send: they
/// wait for the newest write in flight (the pipeline attaches them there).
fn waiting(recorder: &Recorder, work: &Work, newest: Option<&Write>) -> Vec<String> {
    let mut sent: Vec<&Message> = work.messages.iter().collect();
    let mut lines = Vec::new();
    let after_persist = recorder
        .readys
        .iter()
        .flat_map(|r| &r.messages_after_persist);
    for m in after_persist {
        if let Some(at) = sent.iter().position(|s| *s == m) {
            sent.remove(at);
            continue;
        }
        let write = newest.expect("a message is held back only behind a write in flight");
        lines.push(format!("wait#{} {m}", write.id));
    }
    lines
}

/// The applies this call's `Ready`s asked for that the pipeline did not release: they
/// wait for the newest write in flight, like the messages in [`waiting`]. Rebuilt from
/// each `Ready` the way the pipeline builds them, for display only.
fn waiting_applies(recorder: &Recorder, work: &Work, newest: Option<&Write>) -> Vec<String> {
    let mut released: Vec<&Apply> = work.applies.iter().collect();
    let mut lines = Vec::new();
    for ready in &recorder.readys {
        let apply = Apply {
            install: ready
                .snapshot
                .as_ref()
                .filter(|s| s.is_received())
                .map(|s| Box::new(s.snapshot().clone())),
            committed: ready.committed.clone(),
            reads: ready.reads.clone(),
            reads_aborted: ready.reads_aborted.clone(),
            membership: ready.membership.clone().map(Box::new),
        };
        if apply.is_empty() {
            continue;
        }
        if let Some(at) = released.iter().position(|a| **a == apply) {
            released.remove(at);
            continue;
        }
        let write = newest.expect("an apply is held back only behind a write in flight");
        lines.push(format!("wait#{} {apply}", write.id));
    }
    lines
}

/// Reads one counter.
type Counter = fn(&Stats) -> u64;

/// Counters that explain why a node did nothing visible (a drop) or changed role.
fn counter_notes(before: &Stats, after: &Stats) -> Option<String> {
    let counters: [(&str, Counter); 9] = [
        ("dropped_misaddressed", |s| s.dropped_misaddressed),
        ("dropped_stale_term", |s| s.dropped_stale_term),
        ("dropped_in_lease", |s| s.dropped_in_lease),
        ("dropped_malformed", |s| s.dropped_malformed),
        ("dropped_unexpected", |s| s.dropped_unexpected),
        ("transfers_abandoned", |s| s.transfers_abandoned),
        ("reads_served_by_lease", |s| s.reads_served_by_lease),
        ("leaderships_lost_check_quorum", |s| {
            s.leaderships_lost_check_quorum
        }),
        ("leaderships_ended_by_removal", |s| {
            s.leaderships_ended_by_removal
        }),
    ];
    let changed: Vec<String> = counters
        .iter()
        .filter_map(|(name, get)| {
            let delta = get(after) - get(before);
            (delta > 0).then(|| format!("{name}+{delta}"))
        })
        .collect();
    (!changed.is_empty()).then(|| format!("stats {}", changed.join(" ")))
}
