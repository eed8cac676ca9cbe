//! Compact, stable, one-line-per-item text forms of what flows through a node, for
//! protocol scripts (`tests/scripts.rs`), logs and test failures. Everything printed
//! here is part of the scripts' expected output, so it must not depend on hashing,
//! addresses or `Debug` layouts; change it only together with `REWRITE=1`.
//!
//! The notation (see also `testdata/README.md`):
//!
//! - a log position is `term/index`: `3/7`;
//! - an entry is its position plus its payload: `3/7:put-x` (a command; its bytes bare
//!   if they are plain printable ASCII, else quoted, else hex, at most
//!   [`DATA_SHOWN_BYTES`] of them shown), `3/7(noop)` (a leader's opening no-op),
//!   `3/7(voters=1,2,3 learners=4)` (a configuration);
//! - a message is `from->to tTERM Kind fields`: `1->2 t3 Append prev=2/5 commit=5 [3/6:a]`;
//! - a hard state is `HardState t3 vote=1 commit=5` (`vote=-` for none).
//!
//! Multi-line forms ([`Ready`], [`Work`]) put one item per line and omit empty parts;
//! an empty one prints nothing.

use std::fmt::{self, Display, Formatter, Write as _};

use crate::conf_change::decode_membership;
use crate::membership::{ConfChange, Membership};
use crate::message::{Message, MessageBody};
use crate::pipeline::{Apply, Work, Write};
use crate::read_only::ReadState;
use crate::ready::{Input, Ready, SnapshotWrite};
use crate::types::{Entry, EntryKind, HardState, LogPosition, NodeId, Snapshot, SnapshotMeta};

/// Payload bytes shown before the rest is summarized as `..+N` (N bytes more).
pub(crate) const DATA_SHOWN_BYTES: usize = 16;

/// Opaque bytes, short: bare if every byte is printable ASCII that cannot be mistaken for
/// the notation around it, quoted if printable UTF-8, else hex. `""` when empty.
pub(crate) struct Data<'a>(pub &'a [u8]);

impl Display for Data<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let bytes = self.0;
        if bytes.is_empty() {
            return f.write_str("\"\"");
        }
        let shown = &bytes[..bytes.len().min(DATA_SHOWN_BYTES)];
        let bare = |b: &u8| b.is_ascii_graphic() && !b"\"\\()[];".contains(b);
        if shown.iter().all(bare) {
            // Safe: printable ASCII is UTF-8.
            f.write_str(std::str::from_utf8(shown).expect("ASCII"))?;
        } else if let Some(s) = printable_utf8(shown) {
            write!(f, "{s:?}")?;
        } else {
            f.write_str("0x")?;
            shown.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        }
        if bytes.len() > shown.len() {
            write!(f, "..+{}", bytes.len() - shown.len())?;
        }
        Ok(())
    }
}

/// The bytes as text if they are valid UTF-8 without control characters. A cut in the
/// middle of a character (at `DATA_SHOWN_BYTES`) makes them hex, which is still stable.
fn printable_utf8(bytes: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(bytes).ok()?;
    (!s.chars().any(char::is_control)).then_some(s)
}

/// Node ids as `1,2,3`; `-` for none.
struct Ids<'a, I>(&'a I);

impl<'a, I> Display for Ids<'a, I>
where
    &'a I: IntoIterator<Item = &'a NodeId>,
{
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for (i, id) in self.0.into_iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(f, "{sep}{id}")?;
            any = true;
        }
        if !any {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// Items separated by single spaces.
fn spaced<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        let sep = if i == 0 { "" } else { " " };
        write!(f, "{sep}{item}")?;
    }
    Ok(())
}

impl Display for LogPosition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.term, self.index)
    }
}

impl Display for HardState {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "HardState t{} vote=", self.term)?;
        match self.vote {
            Some(v) => write!(f, "{v}")?,
            None => f.write_str("-")?,
        }
        write!(f, " commit={}", self.commit)
    }
}

/// `voters=1,2,3`, then `outgoing=` (joint), `learners=` and `learners-next=` when
/// non-empty. A joining node's empty configuration is `voters=-`.
impl Display for Membership {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "voters={}", Ids(&self.voters))?;
        if !self.voters_outgoing.is_empty() {
            write!(f, " outgoing={}", Ids(&self.voters_outgoing))?;
        }
        if !self.learners.is_empty() {
            write!(f, " learners={}", Ids(&self.learners))?;
        }
        if !self.learners_next.is_empty() {
            write!(f, " learners-next={}", Ids(&self.learners_next))?;
        }
        Ok(())
    }
}

impl Display for Entry {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.position())?;
        match self.kind {
            EntryKind::Normal => write!(f, ":{}", Data(&self.data)),
            EntryKind::Empty => f.write_str("(noop)"),
            EntryKind::Membership => match decode_membership(&self.data) {
                Ok(m) => write!(f, "({m})"),
                Err(_) => write!(f, "(bad-conf {})", Data(&self.data)),
            },
        }
    }
}

impl Display for ReadState {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.index)
    }
}

/// `3/6 voters=1,2,3`: where a snapshot ends and the configuration it carries.
impl Display for SnapshotMeta {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.position(), self.membership)
    }
}

impl Display for Snapshot {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} data={}", self.meta, Data(&self.data))
    }
}

impl Display for SnapshotWrite {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotWrite::Taken(s) => write!(f, "taken {s}"),
            SnapshotWrite::Received(s) => write!(f, "received {s}"),
        }
    }
}

fn granted(reject: bool) -> &'static str {
    if reject {
        "reject"
    } else {
        "ok"
    }
}

impl MessageBody {
    /// The short name scripts print and filter on (`Append`, `VoteResp`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            MessageBody::PreVote { .. } => "PreVote",
            MessageBody::PreVoteResponse { .. } => "PreVoteResp",
            MessageBody::Vote { .. } => "Vote",
            MessageBody::VoteResponse { .. } => "VoteResp",
            MessageBody::Append { .. } => "Append",
            MessageBody::AppendResponse { .. } => "AppendResp",
            MessageBody::Heartbeat { .. } => "Heartbeat",
            MessageBody::HeartbeatResponse { .. } => "HeartbeatResp",
            MessageBody::TimeoutNow => "TimeoutNow",
            MessageBody::InstallSnapshot { .. } => "InstallSnapshot",
            MessageBody::SnapshotResponse { .. } => "SnapshotResp",
        }
    }
}

impl Display for MessageBody {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind_name())?;
        let pos = |term, index| LogPosition { term, index };
        match self {
            MessageBody::PreVote {
                last_index,
                last_term,
            } => write!(f, " last={}", pos(*last_term, *last_index)),
            MessageBody::Vote {
                last_index,
                last_term,
                transfer,
            } => {
                write!(f, " last={}", pos(*last_term, *last_index))?;
                f.write_str(if *transfer { " transfer" } else { "" })
            }
            MessageBody::PreVoteResponse { reject } | MessageBody::VoteResponse { reject } => {
                write!(f, " {}", granted(*reject))
            }
            MessageBody::Append {
                prev_index,
                prev_term,
                entries,
                commit,
            } => {
                let prev = pos(*prev_term, *prev_index);
                write!(f, " prev={prev} commit={commit}")?;
                if !entries.is_empty() {
                    f.write_str(" [")?;
                    spaced(f, entries)?;
                    f.write_str("]")?;
                }
                Ok(())
            }
            MessageBody::AppendResponse {
                reject,
                index,
                conflict_term,
                conflict_index,
            } => {
                write!(f, " {} index={index}", granted(*reject))?;
                if *reject {
                    match conflict_term {
                        Some(t) => write!(f, " hint={t}/{conflict_index}")?,
                        None => write!(f, " hint=-/{conflict_index}")?,
                    }
                }
                Ok(())
            }
            MessageBody::Heartbeat { commit, round } => {
                write!(f, " commit={commit} round={round}")
            }
            MessageBody::HeartbeatResponse { round } => write!(f, " round={round}"),
            MessageBody::TimeoutNow => Ok(()),
            MessageBody::InstallSnapshot {
                meta,
                total_bytes,
                offset,
                data,
            } => {
                let end = offset.saturating_add(data.len() as u64);
                let at = meta.position();
                write!(f, " {at} bytes={offset}..{end}/{total_bytes}")
            }
            MessageBody::SnapshotResponse {
                index,
                received_bytes,
            } => write!(f, " index={index} received={received_bytes}"),
        }
    }
}

impl Display for Message {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{} t{} {}", self.from, self.to, self.term, self.body)
    }
}

impl Display for ConfChange {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ConfChange::AddVoter(id) => write!(f, "add-voter={id}"),
            ConfChange::AddLearner(id) => write!(f, "add-learner={id}"),
            ConfChange::Remove(id) => write!(f, "remove={id}"),
        }
    }
}

impl Display for Input {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Input::Tick => f.write_str("Tick"),
            Input::Campaign => f.write_str("Campaign"),
            Input::Message(m) => write!(f, "Message {m}"),
            Input::Propose { data } => write!(f, "Propose {}", Data(data)),
            Input::ProposeBatch { batch } => {
                let items: Vec<Data> = batch.iter().map(|d| Data(d)).collect();
                f.write_str("ProposeBatch [")?;
                spaced(f, &items)?;
                f.write_str("]")
            }
            Input::Persisted(pos) => write!(f, "Persisted {pos}"),
            Input::Snapshot { index, data } => {
                write!(f, "Snapshot index={index} data={}", Data(data))
            }
            Input::Read { id } => write!(f, "Read {id}"),
            Input::ReadBatch { ids } => write!(f, "ReadBatch {ids:?}"),
            Input::Ticks { count } => write!(f, "Ticks {count}"),
            Input::TransferLeadership { to } => write!(f, "TransferLeadership to={to}"),
            Input::ChangeMembership { changes } => {
                f.write_str("ChangeMembership ")?;
                spaced(f, changes)
            }
        }
    }
}

/// Lines joined by newlines, without a trailing one.
struct Lines(Vec<String>);

impl Lines {
    fn push(&mut self, line: impl Display) {
        self.0.push(line.to_string());
    }

    /// `label item item ...` if there are items.
    fn list<T: Display>(&mut self, label: &str, items: &[T]) {
        if items.is_empty() {
            return;
        }
        let mut line = label.to_string();
        for item in items {
            write!(line, " {item}").expect("writing to a String");
        }
        self.0.push(line);
    }
}

impl Display for Lines {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// The parts of a write, `; `-separated, in the order the contract writes them.
fn write_parts(
    snapshot: &Option<SnapshotWrite>,
    hard_state: &Option<HardState>,
    entries: &[Entry],
) -> String {
    let mut parts = Vec::new();
    if let Some(s) = snapshot {
        parts.push(format!("snapshot {s}"));
    }
    if let Some(hs) = hard_state {
        parts.push(hs.to_string());
    }
    if !entries.is_empty() {
        let list: Vec<String> = entries.iter().map(Entry::to_string).collect();
        parts.push(format!("entries {}", list.join(" ")));
    }
    parts.join("; ")
}

/// One line per part, in the contract's order; empty parts omitted:
///
/// ```text
/// snapshot taken 1/6 voters=1,2,3 data=abc
/// HardState t1 vote=1 commit=5
/// entries 1/7:x 1/8:y
/// must-sync
/// send 1->2 t1 Append prev=1/6 commit=5 [1/7:x 1/8:y]
/// after-persist 1->2 t1 VoteResp ok
/// committed 1/5:w
/// reads 9@5
/// aborted 4
/// proposed 1/8
/// membership voters=1,2,3
/// ```
impl Display for Ready {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut out = Lines(Vec::new());
        if let Some(s) = &self.snapshot {
            out.push(format_args!("snapshot {s}"));
        }
        if let Some(hs) = &self.hard_state {
            out.push(hs);
        }
        out.list("entries", &self.entries);
        if self.must_sync {
            out.push("must-sync");
        }
        self.messages
            .iter()
            .for_each(|m| out.push(format_args!("send {m}")));
        self.messages_after_persist
            .iter()
            .for_each(|m| out.push(format_args!("after-persist {m}")));
        out.list("committed", &self.committed);
        out.list("reads", &self.reads);
        out.list("aborted", &self.reads_aborted);
        if let Some(p) = self.proposed {
            out.push(format_args!("proposed {p}"));
        }
        if let Some(m) = &self.membership {
            out.push(format_args!("membership {m}"));
        }
        out.fmt(f)
    }
}

/// `write#3 sync: snapshot ...; HardState ...; entries ...` on one line (`sync` only
/// when it must be fsynced before it is reported).
impl Display for Write {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let sync = if self.must_sync { " sync" } else { "" };
        let parts = write_parts(&self.snapshot, &self.hard_state, &self.entries);
        write!(f, "write#{}{sync}: {parts}", self.id)
    }
}

/// `apply: install 1/6; committed 1/7:x; reads 9@7; aborted 4; membership voters=1,2,3`
/// on one line, empty parts omitted.
impl Display for Apply {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = &self.install {
            parts.push(format!("install {}", s.meta.position()));
        }
        let mut list = |label: &str, items: Vec<String>| {
            if !items.is_empty() {
                parts.push(format!("{label} {}", items.join(" ")));
            }
        };
        list(
            "committed",
            self.committed.iter().map(|e| e.to_string()).collect(),
        );
        list("reads", self.reads.iter().map(|r| r.to_string()).collect());
        list(
            "aborted",
            self.reads_aborted.iter().map(|r| r.to_string()).collect(),
        );
        if let Some(m) = &self.membership {
            parts.push(format!("membership {m}"));
        }
        write!(f, "apply: {}", parts.join("; "))
    }
}

/// What the driver does now, one line each: `send <message>`, then each write, each
/// apply, and `proposed <position>`.
impl Display for Work {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut out = Lines(Vec::new());
        self.messages
            .iter()
            .for_each(|m| out.push(format_args!("send {m}")));
        self.writes.iter().for_each(|w| out.push(w));
        self.applies.iter().for_each(|a| out.push(a));
        if let Some(p) = self.proposed {
            out.push(format_args!("proposed {p}"));
        }
        out.fmt(f)
    }
}

#[cfg(test)]
mod tests;
