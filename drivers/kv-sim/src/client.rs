//! A simulated client: a `kv-core` clerk plus what it should do next (a script of
//! operations, or its service's background workload) and which servers it can reach.

use std::collections::{BTreeSet, VecDeque};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use kv_core::service::{Clerk, Completion};
use kv_core::{ClerkConfig, Op};
use raft_core::NodeId;

use crate::service::SimService;

/// Network identities of clients start here, far above any server id.
pub const CLIENT_NET_BASE: NodeId = 1_000_000;

/// The course's generic client loop: append "x CLIENT J y" to a key (half the time) or
/// read it; with `random_keys`, keys are drawn from `0..keys` and some writes are puts.
#[derive(Clone, Debug)]
pub struct Workload {
    /// `None`: the client's own key (its index); `Some(n)`: a random key in `0..n`.
    pub random_keys: Option<u64>,
    /// Appends issued so far (J).
    pub appends: u64,
}

impl Workload {
    pub fn own_key() -> Self {
        Workload {
            random_keys: None,
            appends: 0,
        }
    }

    pub fn random_keys(n: u64) -> Self {
        Workload {
            random_keys: Some(n),
            appends: 0,
        }
    }

    pub fn next(&mut self, client: usize, rng: &mut ChaCha8Rng) -> Op {
        let key = match self.random_keys {
            None => client.to_string(),
            Some(n) => rng.gen_range(0..n).to_string(),
        };
        if rng.gen_ratio(1, 2) {
            let value = append_value(client, self.appends);
            self.appends += 1;
            Op::Append { key, value }
        } else if self.random_keys.is_some() && rng.gen_ratio(1, 10) {
            let value = format!("p {client} {}", rng.gen_range(0..1000));
            Op::Put { key, value }
        } else {
            Op::Get { key }
        }
    }
}

/// The value the course's clients append: "x CLIENT J y".
pub fn append_value(client: usize, j: u64) -> String {
    format!("x {client} {j} y")
}

pub struct SimClient<S: SimService> {
    pub clerk: Clerk<S::Op, S::Output>,
    /// Server slots this client's messages can reach.
    pub reach: BTreeSet<usize>,
    pub script: VecDeque<S::Op>,
    pub workload: Option<S::Workload>,
    /// The operation in flight, as an index into the world's history.
    pub current: Option<usize>,
    pub completed: Vec<Completion<S::Op, S::Output>>,
}

/// The network identity of client `index`.
pub fn net_id(index: usize) -> NodeId {
    CLIENT_NET_BASE + index as NodeId
}

/// The client whose clerk uses this client id.
pub fn index_of(client: kv_core::ClientId) -> usize {
    (client - 1) as usize
}

impl<S: SimService> SimClient<S> {
    pub fn new(index: usize, servers: usize) -> Self {
        let ids = (1..=servers as NodeId).collect();
        SimClient {
            clerk: Clerk::new(ClerkConfig::new(index as u64 + 1, ids)),
            reach: (0..servers).collect(),
            script: VecDeque::new(),
            workload: None,
            current: None,
            completed: Vec::new(),
        }
    }

    /// Whether this client has nothing in flight and nothing more to do.
    pub fn is_done(&self) -> bool {
        self.current.is_none() && self.script.is_empty() && self.workload.is_none()
    }
}
