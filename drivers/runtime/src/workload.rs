//! A client workload against a running cluster, its history, and the checks on it: every
//! acknowledged write is in the final state exactly once, and the whole history is
//! linearizable. The demo and the end-to-end tests run the same workload.
//!
//! Writes are appends of tokens unique in the run (`c3.17;`: client 3's 17th), so the
//! final value of a key says exactly which writes took effect and how often.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use kv_core::{KvState, Op, Outcome};
use lincheck::{KvInput, KvModel, KvOutput, Operation, Verdict};
use raft_core::NodeId;
use tokio::sync::watch;

use crate::clerk_loop::CallError;
use crate::client::Client;

/// One operation as its client saw it; times in µs since the workload's epoch.
#[derive(Clone, Debug)]
pub struct HistoryOp {
    pub client: u64,
    pub op: Op,
    pub call_us: u64,
    /// `None`: no answer (deadline); the operation may have taken effect, once at most.
    pub ret: Option<(u64, Outcome)>,
}

#[derive(Clone, Debug)]
pub struct WorkloadOptions {
    pub clients: u64,
    pub keys: u64,
    /// Of every 100 operations, how many are reads.
    pub read_percent: u64,
    /// A single operation's deadline before it counts as indeterminate.
    pub op_deadline: Duration,
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        WorkloadOptions {
            clients: 5,
            keys: 6,
            read_percent: 20,
            op_deadline: Duration::from_secs(3),
        }
    }
}

/// Runs `opts.clients` clients until `stop` turns true; returns the merged history.
pub async fn run(
    peers: BTreeMap<NodeId, SocketAddr>,
    opts: WorkloadOptions,
    epoch: Instant,
    stop: watch::Receiver<bool>,
) -> Vec<HistoryOp> {
    let tasks: Vec<_> = (1..=opts.clients)
        .map(|c| {
            tokio::spawn(client_loop(
                c,
                peers.clone(),
                opts.clone(),
                epoch,
                stop.clone(),
            ))
        })
        .collect();
    let mut history = Vec::new();
    for t in tasks {
        history.extend(t.await.expect("client tasks do not panic"));
    }
    history
}

async fn client_loop(
    client: u64,
    peers: BTreeMap<NodeId, SocketAddr>,
    opts: WorkloadOptions,
    epoch: Instant,
    stop: watch::Receiver<bool>,
) -> Vec<HistoryOp> {
    let mut kv = Client::<KvState>::new(peers);
    let mut rng = client.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut history = Vec::new();
    for n in 1.. {
        if *stop.borrow() {
            break;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let key = format!("k{}", rng % opts.keys);
        let op = if (rng >> 32) % 100 < opts.read_percent {
            Op::Get { key }
        } else {
            let value = format!("c{client}.{n};");
            Op::Append { key, value }
        };
        history.push(call(&mut kv, client, op, epoch, opts.op_deadline).await);
    }
    history
}

/// One operation, timed and recorded.
pub async fn call(
    kv: &mut Client<KvState>,
    client: u64,
    op: Op,
    epoch: Instant,
    deadline: Duration,
) -> HistoryOp {
    let call_us = epoch.elapsed().as_micros() as u64;
    let result = kv.call(op.clone(), deadline).await;
    let ret_us = epoch.elapsed().as_micros() as u64;
    let ret = match result {
        Ok(outcome) => Some((ret_us.max(call_us + 1), outcome)),
        Err(CallError::Deadline(_)) => None,
        // The clerk gives up only on a rejection, which the workload never provokes.
        Err(CallError::Service(e)) => panic!("{op:?} rejected: {e}"),
    };
    HistoryOp {
        client,
        op,
        call_us,
        ret,
    }
}

/// Reads every key the workload may have touched, through a fresh client; the reads
/// become part of the history.
pub async fn read_back(
    peers: BTreeMap<NodeId, SocketAddr>,
    keys: u64,
    epoch: Instant,
) -> Result<(Vec<HistoryOp>, BTreeMap<String, String>), String> {
    let mut kv = Client::<KvState>::new(peers);
    let (mut reads, mut values) = (Vec::new(), BTreeMap::new());
    for k in 0..keys {
        let key = format!("k{k}");
        let h = call(
            &mut kv,
            0,
            Op::Get { key: key.clone() },
            epoch,
            Duration::from_secs(10),
        )
        .await;
        match &h.ret {
            Some((_, Outcome::Value(v))) => values.insert(key, v.clone().unwrap_or_default()),
            _ => return Err(format!("reading {key} back got no answer within 10 s")),
        };
        reads.push(h);
    }
    Ok((reads, values))
}

/// What the final values say about the writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WritesFound {
    pub acknowledged: usize,
    /// Acknowledged writes present exactly once.
    pub found_once: usize,
    pub lost: Vec<String>,
    pub duplicated: Vec<String>,
    /// Tokens in the values that no client ever wrote.
    pub unknown: Vec<String>,
}

pub fn writes_found(history: &[HistoryOp], values: &BTreeMap<String, String>) -> WritesFound {
    let mut present: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (k, v) in values {
        for token in v.split_inclusive(';') {
            *present.entry((k.as_str(), token)).or_default() += 1;
        }
    }
    let mut issued = BTreeSet::new();
    let mut found = WritesFound::default();
    for h in history {
        let Op::Append { key, value } = &h.op else {
            continue;
        };
        issued.insert((key.as_str(), value.as_str()));
        let n = present
            .get(&(key.as_str(), value.as_str()))
            .copied()
            .unwrap_or(0);
        if n > 1 {
            found.duplicated.push(value.clone());
        }
        if h.ret.is_some() {
            found.acknowledged += 1;
            match n {
                0 => found.lost.push(value.clone()),
                1 => found.found_once += 1,
                _ => {}
            }
        }
    }
    found.unknown = present
        .keys()
        .filter(|t| !issued.contains(*t))
        .map(|t| t.1.to_string())
        .collect();
    found
}

/// The history in the checker's terms.
pub fn operations(history: &[HistoryOp]) -> Vec<Operation<KvInput, KvOutput>> {
    history
        .iter()
        .map(|h| Operation {
            client: h.client,
            input: match h.op.clone() {
                Op::Get { key } => KvInput::Get { key },
                Op::Append { key, value } => KvInput::Append { key, value },
                other => unreachable!("the workload issues no {other:?}"),
            },
            output: h.ret.as_ref().map(|(_, o)| match o {
                Outcome::Value(v) => KvOutput::Get(v.clone()),
                _ => KvOutput::Done,
            }),
            call: h.call_us,
            ret: h.ret.as_ref().map(|(t, _)| *t),
        })
        .collect()
}

pub fn check_linearizable(history: &[HistoryOp], budget: Duration) -> Verdict {
    lincheck::check(&KvModel::new(), &operations(history), budget)
}

/// p50, p99 and max latency of the answered operations.
pub fn latency_percentiles(history: &[HistoryOp]) -> Option<(Duration, Duration, Duration)> {
    let mut l: Vec<u64> = history
        .iter()
        .filter_map(|h| h.ret.as_ref().map(|(t, _)| t - h.call_us))
        .collect();
    if l.is_empty() {
        return None;
    }
    l.sort_unstable();
    let at = |q: f64| Duration::from_micros(l[((l.len() - 1) as f64 * q).round() as usize]);
    Some((at(0.50), at(0.99), at(1.0)))
}
