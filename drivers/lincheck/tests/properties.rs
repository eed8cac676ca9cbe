//! Property tests: histories made from a real sequential execution are always accepted,
//! and on small random histories the search agrees with brute force over every order.

use std::collections::HashMap;
use std::time::Duration;

use lincheck::{
    check, check_with_limits, KvInput, KvModel, KvOutput, Limit, Limits, Model, Operation,
    RegisterInput as RI, RegisterModel, RegisterOutput as RO, Verdict,
};
use quickcheck::{Arbitrary, Gen, QuickCheck};

const BUDGET: Duration = Duration::from_secs(60);

fn below(g: &mut Gen, n: u64) -> u64 {
    u64::arbitrary(g) % n
}

fn register_input(g: &mut Gen) -> RI {
    let v = || 0..3;
    match below(g, 3) {
        0 => RI::Read,
        1 => RI::Write(*g.choose(&v().collect::<Vec<i64>>()).unwrap()),
        _ => RI::Cas {
            from: below(g, 3) as i64,
            to: below(g, 3) as i64,
        },
    }
}

fn kv_input(g: &mut Gen) -> KvInput {
    let key = g.choose(&["a", "b"]).unwrap().to_string();
    let value = g.choose(&["", "x", "y"]).unwrap().to_string();
    let expected = g
        .choose(&[None, Some(""), Some("x"), Some("xy")])
        .unwrap()
        .map(String::from);
    match below(g, 5) {
        0 => KvInput::Get { key },
        1 => KvInput::Put { key, value },
        2 => KvInput::Append { key, value },
        3 => KvInput::Delete { key },
        _ => KvInput::Cas {
            key,
            expected,
            new: value,
        },
    }
}

/// Applies ops in order through `model`, one state per partition key. Returns the
/// outputs, or `None` as soon as one operation is illegal.
fn run_sequentially<M: Model>(
    model: &M,
    key_of: &impl Fn(&M::Input) -> String,
    ops: &[(&M::Input, Option<&M::Output>)],
) -> Option<()> {
    let mut states: HashMap<String, M::State> = HashMap::new();
    for (input, output) in ops {
        let state = states.entry(key_of(input)).or_insert_with(|| model.init());
        *state = model.step(state, input, *output)?;
    }
    Some(())
}

// --- Histories from a real execution -------------------------------------------------

/// A history built from a sequential execution: operation i took effect at time 10 i + 5;
/// its interval is stretched randomly around that point; some never return, some lose
/// their output, and some pending ones never took effect at all.
#[derive(Clone, Debug)]
struct Executed<I: Clone, O: Clone>(Vec<Operation<I, O>>);

fn executed<M: OutputOf>(
    g: &mut Gen,
    model: &M,
    input: fn(&mut Gen) -> M::Input,
    key_of: fn(&M::Input) -> String,
) -> Vec<Operation<M::Input, M::Output>> {
    let n = below(g, 40) as usize;
    let mut states: HashMap<String, M::State> = HashMap::new();
    let mut history = Vec::new();
    for i in 0..n as u64 {
        let input = input(g);
        let point = 10 * i + 5;
        let call = point - below(g, 5) - 10 * below(g, 3).min(i);
        let ret = point + below(g, 5) + 10 * below(g, 3);
        let (pending, lost) = (below(g, 6) == 0, below(g, 6) == 0);
        if pending && below(g, 2) == 0 {
            // Never took effect: must be consistent with the model's total step.
            history.push(Operation {
                client: i,
                input,
                output: None,
                call,
                ret: None,
            });
            continue;
        }
        let state = states.entry(key_of(&input)).or_insert_with(|| model.init());
        let (next, output) = model.apply(state, &input);
        *state = next;
        let output = (!lost).then_some(output);
        history.push(Operation {
            client: i,
            input,
            output,
            call,
            ret: (!pending).then_some(ret),
        });
    }
    history
}

/// What the model outputs for an input (the checker's models are deterministic).
trait OutputOf: Model {
    fn apply(&self, state: &Self::State, input: &Self::Input) -> (Self::State, Self::Output);
}

impl OutputOf for RegisterModel {
    fn apply(&self, state: &Option<i64>, input: &RI) -> (Option<i64>, RO) {
        let out = match input {
            RI::Read => RO::Read(*state),
            RI::Write(_) => RO::Done,
            RI::Cas { from, .. } => RO::Cas(*state == Some(*from)),
        };
        (
            self.step(state, input, Some(&out))
                .expect("the right output is legal"),
            out,
        )
    }
}

impl OutputOf for KvModel {
    fn apply(&self, state: &Option<String>, input: &KvInput) -> (Option<String>, KvOutput) {
        let out = match input {
            KvInput::Get { .. } => KvOutput::Get(state.clone()),
            KvInput::Cas { expected, .. } => KvOutput::Cas(expected == state),
            _ => KvOutput::Done,
        };
        (
            self.step(state, input, Some(&out))
                .expect("the right output is legal"),
            out,
        )
    }
}

impl Arbitrary for Executed<RI, RO> {
    fn arbitrary(g: &mut Gen) -> Self {
        Executed(executed(g, &RegisterModel, register_input, |_| {
            String::new()
        }))
    }
}

impl Arbitrary for Executed<KvInput, KvOutput> {
    fn arbitrary(g: &mut Gen) -> Self {
        Executed(executed(g, &KvModel::new(), kv_input, |i| {
            i.key().to_string()
        }))
    }
}

#[test]
fn executed_register_histories_are_linearizable() {
    fn prop(h: Executed<RI, RO>) -> bool {
        check(&RegisterModel, &h.0, BUDGET) == Verdict::Linearizable
    }
    QuickCheck::new()
        .tests(500)
        .quickcheck(prop as fn(_) -> bool);
}

#[test]
fn executed_kv_histories_are_linearizable() {
    fn prop(h: Executed<KvInput, KvOutput>) -> bool {
        check(&KvModel::new(), &h.0, BUDGET) == Verdict::Linearizable
    }
    QuickCheck::new()
        .tests(500)
        .quickcheck(prop as fn(_) -> bool);
}

// --- Brute force on small random histories -------------------------------------------

/// Up to 6 operations with random intervals and random (often wrong) outputs.
#[derive(Clone, Debug)]
struct Small<I: Clone, O: Clone>(Vec<Operation<I, O>>);

fn small<I: Clone, O: Clone>(
    g: &mut Gen,
    input: fn(&mut Gen) -> I,
    output: fn(&mut Gen, &I) -> O,
) -> Vec<Operation<I, O>> {
    let n = below(g, 7);
    (0..n)
        .map(|client| {
            let call = below(g, 10);
            let ret = (below(g, 5) != 0).then(|| call + below(g, 10));
            let input = input(g);
            let output = (below(g, 6) != 0).then(|| output(g, &input));
            Operation {
                client,
                input,
                output,
                call,
                ret,
            }
        })
        .collect()
}

fn shrink_ops<I: Clone + 'static, O: Clone + 'static>(
    ops: &[Operation<I, O>],
) -> Box<dyn Iterator<Item = Vec<Operation<I, O>>>> {
    let ops = ops.to_vec();
    Box::new((0..ops.len()).map(move |i| {
        let mut fewer = ops.clone();
        fewer.remove(i);
        fewer
    }))
}

impl Arbitrary for Small<RI, RO> {
    fn arbitrary(g: &mut Gen) -> Self {
        Small(small(g, register_input, |g, input| match input {
            RI::Read => RO::Read(*g.choose(&[None, Some(0), Some(1), Some(2)]).unwrap()),
            RI::Write(_) => RO::Done,
            RI::Cas { .. } => RO::Cas(bool::arbitrary(g)),
        }))
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(shrink_ops(&self.0).map(Small))
    }
}

impl Arbitrary for Small<KvInput, KvOutput> {
    fn arbitrary(g: &mut Gen) -> Self {
        Small(small(g, kv_input, |g, input| match input {
            KvInput::Get { .. } => {
                let v = g
                    .choose(&[None, Some(""), Some("x"), Some("y"), Some("xy")])
                    .unwrap();
                KvOutput::Get(v.map(String::from))
            }
            KvInput::Cas { .. } => KvOutput::Cas(bool::arbitrary(g)),
            _ => KvOutput::Done,
        }))
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(shrink_ops(&self.0).map(Small))
    }
}

/// Tries every order of every set of operations that may have taken effect (all completed
/// ones and pending ones whose output is known; any subset of the pending ones with an
/// unknown output) that respects real time, applying each through the model.
fn brute_force<M: Model>(
    model: &M,
    key_of: &impl Fn(&M::Input) -> String,
    h: &[Operation<M::Input, M::Output>],
) -> bool {
    let optional = |i: usize| h[i].ret.is_none() && h[i].output.is_none();
    let pending: Vec<usize> = (0..h.len()).filter(|&i| optional(i)).collect();
    (0..1u32 << pending.len()).any(|mask| {
        let left: Vec<usize> = (0..h.len())
            .filter(|&i| {
                !optional(i) || mask & (1 << pending.iter().position(|&p| p == i).unwrap()) != 0
            })
            .collect();
        some_order(model, key_of, h, &left, &mut Vec::new())
    })
}

fn some_order<M: Model>(
    model: &M,
    key_of: &impl Fn(&M::Input) -> String,
    h: &[Operation<M::Input, M::Output>],
    left: &[usize],
    order: &mut Vec<usize>,
) -> bool {
    if left.is_empty() {
        let ops: Vec<_> = order
            .iter()
            .map(|&i| (&h[i].input, h[i].output.as_ref()))
            .collect();
        return run_sequentially(model, key_of, &ops).is_some();
    }
    left.iter().any(|&j| {
        // j may come next unless another remaining operation returned before j was called.
        if left.iter().any(|&k| h[k].precedes(&h[j])) {
            return false;
        }
        let rest: Vec<usize> = left.iter().copied().filter(|&k| k != j).collect();
        order.push(j);
        let found = some_order(model, key_of, h, &rest, order);
        order.pop();
        found
    })
}

fn agrees<M: Model>(
    model: &M,
    key_of: impl Fn(&M::Input) -> String,
    h: &[Operation<M::Input, M::Output>],
) -> bool {
    let expected = brute_force(model, &key_of, h);
    match check(model, h, BUDGET) {
        Verdict::Linearizable => expected,
        Verdict::NotLinearizable(_) => !expected,
        Verdict::Unknown => false,
    }
}

#[test]
fn register_search_agrees_with_brute_force() {
    fn prop(h: Small<RI, RO>) -> bool {
        agrees(&RegisterModel, |_| String::new(), &h.0)
    }
    QuickCheck::new()
        .tests(3000)
        .quickcheck(prop as fn(_) -> bool);
}

#[test]
fn kv_search_agrees_with_brute_force() {
    fn prop(h: Small<KvInput, KvOutput>) -> bool {
        agrees(&KvModel::new(), |i| i.key().to_string(), &h.0)
            && agrees(&KvModel::empty_is_absent(), |i| i.key().to_string(), &h.0)
    }
    QuickCheck::new()
        .tests(3000)
        .quickcheck(prop as fn(_) -> bool);
}

/// A memory bound can only turn a verdict into `unknown`, never into the wrong answer.
#[test]
fn a_memory_bound_never_changes_a_verdict() {
    fn prop(h: Small<RI, RO>, memo_bytes: u16) -> bool {
        let expected = brute_force(&RegisterModel, &|_: &RI| String::new(), &h.0);
        let limits = Limits {
            time: BUDGET,
            memo_bytes: usize::from(memo_bytes % 2048),
        };
        let result = check_with_limits(&RegisterModel, &h.0, limits);
        match result.verdict {
            Verdict::Linearizable => expected && result.limit_reached.is_none(),
            Verdict::NotLinearizable(_) => !expected && result.limit_reached.is_none(),
            Verdict::Unknown => result.limit_reached == Some(Limit::Memory),
        }
    }
    QuickCheck::new()
        .tests(3000)
        .quickcheck(prop as fn(_, _) -> bool);
}

#[test]
fn brute_force_sees_both_verdicts() {
    // Guards the property above against generators that only make one kind of history.
    let mut g = Gen::new(10);
    let verdicts: Vec<bool> = (0..300)
        .map(|_| {
            let h = Small::<RI, RO>::arbitrary(&mut g).0;
            brute_force(&RegisterModel, &|_: &RI| String::new(), &h)
        })
        .collect();
    let yes = verdicts.iter().filter(|&&v| v).count();
    assert!(yes > 30 && yes < 270, "{yes} of 300 linearizable");
}
