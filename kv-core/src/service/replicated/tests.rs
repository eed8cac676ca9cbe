//! The session layer over a machine that is not key/value: a counter whose every output
//! depends on its whole history, so a write applied twice, or re-executed for a retry,
//! shows in the state or in the answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::service::state_machine::{decode, encode, Access};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Counter {
    total: u64,
    adds: u64,
}

impl StateMachine for Counter {
    type Op = Access<u64, ()>;
    type Command = u64;
    type Query = ();
    type Output = (u64, u64);

    fn route(op: Self::Op) -> Self::Op {
        op
    }

    fn apply(&mut self, n: &u64) -> (u64, u64) {
        self.total = self.total.wrapping_add(*n);
        self.adds += 1;
        (self.total, self.adds)
    }

    fn query(&self, _: &()) -> (u64, u64) {
        (self.total, self.adds)
    }

    fn snapshot(&self) -> Vec<u8> {
        encode(self)
    }

    fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes)
    }
}

type State = Replicated<Counter>;

fn add(client: ClientId, seq: u64, n: u64) -> Command<u64> {
    Command { client, seq, op: n }
}

#[test]
fn a_retry_gets_its_first_output_and_an_older_write_is_stale() {
    let mut s = State::default();
    assert_eq!(s.apply(&add(1, 1, 5)), Applied::Fresh((5, 1)));
    assert_eq!(s.apply(&add(2, 1, 1)), Applied::Fresh((6, 2)));
    assert_eq!(s.apply(&add(1, 1, 5)), Applied::Duplicate((5, 1)));
    assert_eq!(s.apply(&add(1, 2, 1)), Applied::Fresh((7, 3)));
    assert_eq!(s.apply(&add(1, 1, 5)), Applied::Stale);
    assert_eq!(s.query(&()), (7, 3));
    assert_eq!(s.cached(1, 2), Some(&(7, 3)));
    assert!(s.is_stale(1, 1) && !s.is_stale(3, 1));
    assert_eq!(s.sessions().len(), 2);
}

#[test]
fn snapshots_carry_sessions_and_reject_bad_bytes() {
    let mut s = State::default();
    s.apply(&add(9, 4, 2));
    let mut back = State::restore(&s.snapshot()).expect("own snapshot decodes");
    assert_eq!(back, s);
    assert_eq!(back.apply(&add(9, 4, 2)), Applied::Duplicate((2, 1)));
    assert_eq!(State::restore(&[]), Ok(State::default()));
    let version = SNAPSHOT_VERSION;
    assert!(matches!(
        State::restore(&[version + 1]),
        Err(DecodeError::Version { found, .. }) if found == version + 1
    ));
    // A session count of 2^32 - 1 in five bytes: refused when the bytes run out, with no
    // allocation on the count's say-so (a BTreeMap grows per decoded entry).
    let lying = [version, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert!(matches!(
        State::restore(&lying),
        Err(DecodeError::Snapshot { size_bytes: 6, .. })
    ));
    let mut truncated = s.snapshot();
    truncated.pop();
    assert!(
        State::restore(&truncated).is_err(),
        "the machine's bytes are short"
    );
}

/// Applies `cmd` to `dup`, then the retries `retry` picks, checking every answer.
struct Run {
    dup: State,
    /// Each (client, seq) applied so far, with its first output.
    first: BTreeMap<(ClientId, u64), (u64, u64)>,
    applied: Vec<Command<u64>>,
    latest: BTreeMap<ClientId, u64>,
}

impl Run {
    fn retry(&mut self, cmd: &Command<u64>) -> bool {
        let state_before = self.dup.clone();
        let got = self.dup.apply(cmd);
        let want = if self.latest.get(&cmd.client) == Some(&cmd.seq) {
            Applied::Duplicate(self.first[&(cmd.client, cmd.seq)])
        } else {
            Applied::Stale
        };
        got == want && self.dup == state_before
    }
}

quickcheck::quickcheck! {
    /// Sessions, over any history: every retry of a client's latest write gets that
    /// write's first output, every retry of an older one is Stale, and neither changes
    /// the state, before or after a snapshot/restore taken anywhere in the middle; the
    /// state ends equal to applying each write once.
    fn duplicates_never_change_the_state(ops: Vec<(u8, u8, u8)>, cut: usize) -> bool {
        let cut = cut % (ops.len() + 1);
        let mut once = State::default();
        let mut run = Run {
            dup: State::default(),
            first: BTreeMap::new(),
            applied: Vec::new(),
            latest: BTreeMap::new(),
        };
        for (i, &(client, n, retry)) in ops.iter().enumerate() {
            if i == cut {
                run.dup = State::restore(&run.dup.snapshot()).expect("own snapshot decodes");
            }
            let client = ClientId::from(client % 4);
            let seq = run.latest.get(&client).map_or(1, |s| s + 1);
            let cmd = add(client, seq, u64::from(n));
            let Applied::Fresh(out) = once.apply(&cmd) else { return false };
            if run.dup.apply(&cmd) != Applied::Fresh(out) {
                return false;
            }
            run.first.insert((client, seq), out);
            run.latest.insert(client, seq);
            run.applied.push(cmd);
            if retry % 2 == 1 {
                let pick = run.applied[usize::from(retry) % run.applied.len()].clone();
                if !run.retry(&pick) {
                    return false;
                }
            }
        }
        once == run.dup
    }

    /// Whatever the bytes, decoding answers Ok or a typed error; it never panics.
    fn arbitrary_bytes_decode_or_fail_cleanly(bytes: Vec<u8>, versioned: bool) -> bool {
        let mut bytes = bytes;
        if versioned {
            bytes.insert(0, SNAPSHOT_VERSION);
        }
        let _ = State::restore(&bytes);
        let _ = Command::<u64>::decode(&bytes);
        true
    }
}
