//! The script commands (documented in `testdata/README.md`), each a method on [`World`].

use std::collections::{BTreeSet, VecDeque};

use raft_core::{
    ConfChange, Config, Input, LogPosition, Message, Node, NodeId, Pipeline, ReadMode,
    RestoredState, Role,
};

use super::args::Command;
use super::world::{indent, App, Member, World};

/// Message kinds a filter may name (as `MessageBody::kind_name` prints them).
const KINDS: [&str; 11] = [
    "PreVote",
    "PreVoteResp",
    "Vote",
    "VoteResp",
    "Append",
    "AppendResp",
    "Heartbeat",
    "HeartbeatResp",
    "TimeoutNow",
    "InstallSnapshot",
    "SnapshotResp",
];
/// Bounds on counts a script may ask for, so every loop ends.
const ROUNDS_MAX: usize = 1_000;
const TICKS_MAX: u32 = 10_000;

/// Which queued messages a `deliver` or `drop` applies to.
pub struct Filter {
    from: Option<BTreeSet<NodeId>>,
    to: Option<BTreeSet<NodeId>>,
    kinds: Option<BTreeSet<String>>,
}

impl Filter {
    /// `from=`, `to=`, `type=` options (each a comma-separated list).
    fn parse(cmd: &mut Command) -> Result<Filter, String> {
        let kinds: Option<String> = cmd.take("type")?;
        let kinds = kinds.map(|k| k.split(',').map(str::to_string).collect::<BTreeSet<_>>());
        if let Some(bad) = kinds
            .iter()
            .flatten()
            .find(|k| !KINDS.contains(&k.as_str()))
        {
            return Err(format!("unknown message type {bad:?}; known: {KINDS:?}"));
        }
        Ok(Filter {
            from: cmd.take_ids("from")?,
            to: cmd.take_ids("to")?,
            kinds,
        })
    }

    /// Messages from one node of `ids` to another.
    pub fn between(ids: BTreeSet<NodeId>) -> Filter {
        Filter {
            from: Some(ids.clone()),
            to: Some(ids),
            kinds: None,
        }
    }

    pub fn matches(&self, m: &Message) -> bool {
        let kind = m.body.kind_name();
        self.from.as_ref().is_none_or(|s| s.contains(&m.from))
            && self.to.as_ref().is_none_or(|s| s.contains(&m.to))
            && self.kinds.as_ref().is_none_or(|s| s.contains(kind))
    }
}

impl World {
    /// Runs one command line; returns its output lines (`ok` if it printed nothing), or
    /// why the line is not a valid command.
    pub fn execute(&mut self, line: &str) -> Result<Vec<String>, String> {
        let mut cmd = Command::parse(line)?;
        let mut out = Vec::new();
        match cmd.name.as_str() {
            "add-nodes" => self.add_nodes(&mut cmd)?,
            "campaign"
            | "propose"
            | "propose-batch"
            | "read"
            | "transfer-leadership"
            | "change-membership"
            | "snapshot" => self.node_input(&mut cmd, &mut out)?,
            "tick" => self.tick(&mut cmd, &mut out)?,
            "deliver" => self.deliver(&mut cmd, &mut out)?,
            "drop" => self.drop_messages(&mut cmd, &mut out)?,
            "stabilize" => {
                cmd.finish(1)?;
                let ids = self.parse_ids(cmd.positional().first().map_or("all", |s| s))?;
                self.stabilize(&ids, &mut out)?
            }
            "persist" => self.persist(&mut cmd, &mut out)?,
            "crash" => self.crash(&mut cmd, &mut out)?,
            "restart" => self.restart(&mut cmd, &mut out)?,
            "status" | "log" | "disk" | "queue" => self.show(&mut cmd, &mut out)?,
            "output" => {
                self.quiet = match cmd.arg::<String>(0, "on or off")?.as_str() {
                    "on" => false,
                    "off" => true,
                    other => return Err(format!("output {other}: on or off")),
                };
                cmd.finish(1)?;
            }
            other => return Err(format!("unknown command {other:?}")),
        }
        if self.quiet {
            // Setup a story does not dwell on; a safety violation still shows.
            out.retain(|l| l.trim_start().starts_with("VIOLATION"));
        }
        if out.is_empty() {
            out.push("ok".to_string());
        }
        Ok(out)
    }

    /// `add-nodes COUNT [options]`: nodes numbered on from the last one, all voters of a
    /// new cluster unless `voters=` or `join=true` (an empty configuration, to be added by
    /// a membership change) says otherwise.
    fn add_nodes(&mut self, cmd: &mut Command) -> Result<(), String> {
        let count: u64 = cmd.arg(0, "node count")?;
        let first = self.members.len() as NodeId + 1;
        let ids: Vec<NodeId> = (first..first + count).collect();
        let join = cmd.take::<bool>("join")?.unwrap_or(false);
        let voters = match cmd.take_ids("voters")? {
            Some(v) => v.into_iter().collect(),
            None if join => Vec::new(),
            None => ids.clone(),
        };
        let template = config_options(cmd)?;
        cmd.finish(1)?;
        for id in ids {
            let cfg = Config {
                id,
                voters: voters.clone(),
                ..template.clone()
            };
            let node = Node::new(cfg.clone(), RestoredState::default())
                .map_err(|e| format!("node {id}: {e}"))?;
            self.members.push(Member {
                cfg,
                pipeline: Some(Pipeline::new(node)),
                disk: RestoredState::default(),
                pending: VecDeque::new(),
                app: App::default(),
            });
        }
        Ok(())
    }

    /// Commands that feed one node one input: `campaign N`, `propose N DATA`,
    /// `propose-batch N DATA...`, `read N ID`, `transfer-leadership N TO`,
    /// `change-membership N [add-voter=..] [add-learner=..] [remove=..]`,
    /// `snapshot N INDEX`.
    fn node_input(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        let id: NodeId = cmd.arg(0, "node id")?;
        self.member(id)?;
        let input = match cmd.name.as_str() {
            "campaign" => Input::Campaign,
            "propose" => Input::Propose {
                data: cmd.arg::<String>(1, "data")?.into_bytes(),
            },
            "propose-batch" => Input::ProposeBatch {
                batch: cmd.positional()[1..]
                    .iter()
                    .map(|w| w.clone().into_bytes())
                    .collect(),
            },
            "read" => Input::Read {
                id: cmd.arg(1, "read id")?,
            },
            "transfer-leadership" => Input::TransferLeadership {
                to: cmd.arg(1, "transferee")?,
            },
            "change-membership" => Input::ChangeMembership {
                changes: conf_changes(cmd)?,
            },
            "snapshot" => match self.snapshot_input(id, cmd.arg(1, "index")?)? {
                Ok(input) => input,
                Err(refused) => {
                    out.push(format!("{id}: snapshot refused: {refused}"));
                    return Ok(());
                }
            },
            _ => unreachable!("dispatched by name"),
        };
        let positional_max = match cmd.name.as_str() {
            "campaign" => 1,
            "propose-batch" => usize::MAX,
            _ => 2,
        };
        cmd.finish(positional_max)?;
        self.input(id, input, out);
        Ok(())
    }

    /// The application's state up to `index`, or why the application cannot give it:
    /// the contract asks for a snapshot of applied state only.
    fn snapshot_input(&self, id: NodeId, index: u64) -> Result<Result<Input, String>, String> {
        let app = &self.member(id)?.app;
        if index > app.applied {
            let applied = app.applied;
            return Ok(Err(format!("the application applied only up to {applied}")));
        }
        let data = app.state_at(index);
        Ok(Ok(Input::Snapshot { index, data }))
    }

    /// `tick IDS [COUNT]`: COUNT rounds (default 1), each ticking every node of IDS once.
    /// Only ticks that did something are printed, as `N: Tick` (`N: Tick (k of COUNT)`).
    fn tick(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        let ids_text: String = cmd.arg(0, "node ids")?;
        let ids = self.parse_ids(&ids_text)?;
        let count: u32 = cmd.arg_or(1, "tick count", 1)?;
        cmd.finish(2)?;
        if count > TICKS_MAX {
            return Err(format!("at most {TICKS_MAX} ticks at once"));
        }
        let live: Vec<NodeId> = ids
            .into_iter()
            .filter(|&id| self.member(id).is_ok_and(|m| m.pipeline.is_some()))
            .collect();
        for k in 1..=count {
            for &id in &live {
                let lines = self.drive(id, |p, r| p.step_observed(Input::Tick, r));
                if lines.is_empty() {
                    continue;
                }
                match count {
                    1 => out.push(format!("{id}: Tick")),
                    _ => out.push(format!("{id}: Tick ({k} of {count})")),
                }
                out.extend(indent(lines));
            }
        }
        Ok(())
    }

    /// `deliver [from=] [to=] [type=] [count=N] [rounds=R]`: R rounds (default 1). A
    /// round delivers, in queue order, the matching messages queued when it starts (at
    /// most N over all rounds); what they cause is queued behind and waits for the next
    /// round. Stops early once no queued message matches.
    fn deliver(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        let filter = Filter::parse(cmd)?;
        let mut count: usize = cmd.take("count")?.unwrap_or(usize::MAX);
        let rounds: usize = cmd.take("rounds")?.unwrap_or(1);
        cmd.finish(0)?;
        if rounds > ROUNDS_MAX {
            return Err(format!("at most {ROUNDS_MAX} rounds"));
        }
        for _ in 0..rounds {
            let round = self.take_queued(&filter, count);
            if round.is_empty() {
                break;
            }
            count -= round.len();
            round.into_iter().for_each(|m| self.deliver_one(m, out));
        }
        Ok(())
    }

    /// `drop [from=] [to=] [type=] [count=N]`: removes matching queued messages.
    fn drop_messages(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        let filter = Filter::parse(cmd)?;
        let count: usize = cmd.take("count")?.unwrap_or(usize::MAX);
        cmd.finish(0)?;
        for m in self.take_queued(&filter, count) {
            out.push(format!("dropped {m}"));
        }
        Ok(())
    }

    /// `persist IDS [count=N]`: each node completes its N oldest writes in flight
    /// (default: all those in flight when the command starts; writes they cause wait).
    fn persist(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        let ids_text: String = cmd.arg(0, "node ids")?;
        let count: Option<usize> = cmd.take("count")?;
        cmd.finish(1)?;
        for id in self.parse_ids(&ids_text)? {
            let in_flight = self.member(id)?.pending.len();
            let n = count.unwrap_or(in_flight);
            if n > in_flight {
                return Err(format!("{id} has only {in_flight} writes in flight"));
            }
            for _ in 0..n {
                self.persist_one(id, out)?;
            }
        }
        Ok(())
    }

    /// `crash N`: the node stops; its writes in flight and every message waiting for
    /// them are lost. Messages already sent stay queued (to it, they are dropped on
    /// delivery).
    fn crash(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        let id: NodeId = cmd.arg(0, "node id")?;
        cmd.finish(1)?;
        let member = self.member_mut(id)?;
        if member.pipeline.take().is_none() {
            return Err(format!("{id} is already down"));
        }
        let lost: Vec<String> = member
            .pending
            .drain(..)
            .map(|w| format!("write#{}", w.id))
            .collect();
        match lost.is_empty() {
            true => out.push(format!("{id}: crashed")),
            false => out.push(format!("{id}: crashed, lost {}", lost.join(" "))),
        }
        Ok(())
    }

    /// `restart N`: a new node from what the completed writes left on its disk.
    fn restart(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        let id: NodeId = cmd.arg(0, "node id")?;
        cmd.finish(1)?;
        let member = self.member_mut(id)?;
        if member.pipeline.is_some() {
            return Err(format!("{id} is running; crash it first"));
        }
        let node =
            Node::new(member.cfg.clone(), member.disk.clone()).map_err(|e| format!("{id}: {e}"))?;
        member.pipeline = Some(Pipeline::new(node));
        member.app = App::restored(&member.disk);
        out.push(format!("{id}: restarted"));
        out.extend(indent(disk_lines(&member.disk)));
        Ok(())
    }

    /// `status IDS`, `log IDS`, `disk IDS`, `queue`: the state, printed.
    fn show(&mut self, cmd: &mut Command, out: &mut Vec<String>) -> Result<(), String> {
        if cmd.name == "queue" {
            cmd.finish(0)?;
            out.extend(self.queue.iter().map(|m| m.to_string()));
            if self.queue.is_empty() {
                out.push("queue empty".to_string());
            }
            return Ok(());
        }
        let ids_text: String = cmd.arg(0, "node ids")?;
        cmd.finish(1)?;
        for id in self.parse_ids(&ids_text)? {
            let member = self.member(id)?;
            match (cmd.name.as_str(), &member.pipeline) {
                ("disk", _) => {
                    out.push(format!("{id}: disk"));
                    out.extend(indent(disk_lines(&member.disk)));
                }
                (_, None) => out.push(format!("{id}: down")),
                ("log", Some(p)) => out.extend(log_lines(id, p.node())),
                (_, Some(p)) => out.extend(status_lines(id, member, p)),
            }
        }
        Ok(())
    }
}

/// Builds one kind of edit for a node id.
type MakeChange = fn(NodeId) -> ConfChange;

/// `add-voter=4,5 add-learner=6 remove=3`, in that order of kinds.
fn conf_changes(cmd: &mut Command) -> Result<Vec<ConfChange>, String> {
    let mut changes = Vec::new();
    let kinds: [(&str, MakeChange); 3] = [
        ("add-voter", ConfChange::AddVoter),
        ("add-learner", ConfChange::AddLearner),
        ("remove", ConfChange::Remove),
    ];
    for (key, make) in kinds {
        if let Some(ids) = cmd.take_ids(key)? {
            changes.extend(ids.into_iter().map(make));
        }
    }
    Ok(changes)
}

/// A configuration for scripts: `Config::new`'s defaults except 10 election ticks and
/// 3 heartbeat ticks (short stories), then the options given.
fn config_options(cmd: &mut Command) -> Result<Config, String> {
    let mut cfg = Config {
        election_ticks: 10,
        heartbeat_ticks: 3,
        ..Config::new(1, Vec::new())
    };
    set(cmd, "election-ticks", &mut cfg.election_ticks)?;
    set(cmd, "heartbeat-ticks", &mut cfg.heartbeat_ticks)?;
    set(cmd, "pre-vote", &mut cfg.pre_vote)?;
    set(cmd, "check-quorum", &mut cfg.check_quorum)?;
    set(cmd, "snapshot-chunk-bytes", &mut cfg.snapshot_chunk_bytes)?;
    set(cmd, "append-bytes-max", &mut cfg.append_bytes_max)?;
    set(cmd, "inflight-msgs-max", &mut cfg.inflight_msgs_max)?;
    set(cmd, "uncommitted-bytes-max", &mut cfg.uncommitted_bytes_max)?;
    set(cmd, "seed", &mut cfg.seed)?;
    let mode: Option<String> = cmd.take("read-mode")?;
    cfg.read_mode = match mode.as_deref() {
        None | Some("safe") => ReadMode::Safe,
        Some("lease") => ReadMode::Lease,
        Some(other) => return Err(format!("read-mode={other}: safe or lease")),
    };
    let bug: Option<String> = cmd.take("bug")?;
    if let Some(name) = bug {
        set_bug(&mut cfg, &name)?;
    }
    Ok(cfg)
}

fn set<T: std::str::FromStr>(cmd: &mut Command, key: &str, field: &mut T) -> Result<(), String> {
    if let Some(value) = cmd.take(key)? {
        *field = value;
    }
    Ok(())
}

#[cfg(feature = "bug-injection")]
fn set_bug(cfg: &mut Config, name: &str) -> Result<(), String> {
    use raft_core::InjectedBug;
    cfg.bug = Some(match name {
        "vote-twice" => InjectedBug::VoteTwice,
        "commit-old-term" => InjectedBug::CommitOldTerm,
        "local-reads" => InjectedBug::LocalReads,
        "lease-follows-leader" => InjectedBug::LeaseFollowsLeader,
        "skip-joint" => InjectedBug::SkipJoint,
        other => return Err(format!("unknown bug {other:?}")),
    });
    Ok(())
}

#[cfg(not(feature = "bug-injection"))]
fn set_bug(_: &mut Config, name: &str) -> Result<(), String> {
    Err(format!("bug={name} needs --features bug-injection"))
}

fn disk_lines(disk: &RestoredState) -> Vec<String> {
    let mut lines = vec![disk.hard_state.to_string()];
    if let Some(s) = &disk.snapshot {
        lines.push(format!("snapshot {s}"));
    }
    if !disk.entries.is_empty() {
        let entries: Vec<String> = disk.entries.iter().map(|e| e.to_string()).collect();
        lines.push(format!("entries {}", entries.join(" ")));
    }
    lines
}

fn log_lines(id: NodeId, node: &Node) -> Vec<String> {
    let log = node.log();
    let mut lines = vec![format!(
        "{id}: log snapshot={} committed={} applied={} persisted={}",
        log.snapshot_position(),
        log.committed(),
        log.applied(),
        log.persisted()
    )];
    let entries = log.entries(log.first_index(), log.last_index());
    if !entries.is_empty() {
        let shown: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        lines.push(format!("  entries {}", shown.join(" ")));
    }
    lines
}

/// Role, term, vote, leader, log cursors, writes in flight; the configuration; a
/// leader's view of each follower; the application.
fn status_lines(id: NodeId, member: &Member, p: &Pipeline) -> Vec<String> {
    let node = p.node();
    let (log, hs) = (node.log(), node.hard_state());
    let last = LogPosition {
        term: log.last_term(),
        index: log.last_index(),
    };
    let who = |v: Option<NodeId>| v.map_or("-".to_string(), |v| v.to_string());
    let mut lines = vec![format!(
        "{id}: {:?} t{} vote={} leader={} last={last} commit={} writes-in-flight={}",
        node.role(),
        node.term(),
        who(hs.vote),
        who(node.leader()),
        log.committed(),
        p.writes_in_flight(),
    )];
    lines.push(format!("  membership {}", node.membership()));
    if node.role() == Role::Leader {
        for peer in node.membership().members().into_iter().filter(|&v| v != id) {
            let pr = node.progress(peer).expect("a leader tracks every member");
            let mut line = format!(
                "  progress {peer}: {:?} match={} next={}",
                pr.state, pr.match_index, pr.next_index
            );
            if pr.inflight_count() > 0 {
                line.push_str(&format!(" inflight={}", pr.inflight_count()));
            }
            lines.push(line);
        }
    }
    let state = String::from_utf8_lossy(&member.app.state_at(member.app.applied)).to_string();
    lines.push(format!(
        "  app applied={} state={state:?}",
        member.app.applied
    ));
    lines
}
