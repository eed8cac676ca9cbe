//! Lab 2C: persistence, and the course's hardest schedules (Figure 8, churn).

use super::{make, make_with, rand_cmd, ELECTION_TIMEOUT_MS};
use crate::actor::{run_until_done, run_until_last_done, sleep_with, Actor, OneTask};
use crate::cluster::{Cluster, ConfigTweak};
use crate::harness::cmd;
use crate::Sim;
use crate::MS;

pub fn persist1(seed: u64) -> Cluster {
    let n = 3;
    let mut c = make(n, seed, true);
    c.one(cmd(11), n, true);
    // Crash and restart everyone.
    (0..n).for_each(|i| c.restart(i));
    (0..n).for_each(|i| {
        c.disconnect(i);
        c.connect(i)
    });
    c.one(cmd(12), n, true);
    let leader1 = c.check_one_leader();
    c.disconnect(leader1);
    c.restart(leader1);
    c.connect(leader1);
    c.one(cmd(13), n, true);
    let leader2 = c.check_one_leader();
    c.disconnect(leader2);
    let i14 = c.one(cmd(14), n - 1, true);
    c.restart(leader2);
    c.connect(leader2);
    // Wait for leader2 to join before killing i3.
    c.wait(i14, n, None);
    let i3 = (c.check_one_leader() + 1) % n;
    c.disconnect(i3);
    c.one(cmd(15), n - 1, true);
    c.restart(i3);
    c.connect(i3);
    c.one(cmd(16), n, true);
    c
}

pub fn persist2(seed: u64) -> Cluster {
    let n = 5;
    let mut c = make(n, seed, true);
    let mut x = 1;
    let mut next = || {
        x += 1;
        cmd(10 + x)
    };
    for _ in 0..5 {
        let v = next();
        c.one(v, 5, true);
        let leader1 = c.check_one_leader();
        c.disconnect((leader1 + 1) % n);
        c.disconnect((leader1 + 2) % n);
        let v = next();
        c.one(v, 3, true);
        c.disconnect(leader1);
        c.disconnect((leader1 + 3) % n);
        c.disconnect((leader1 + 4) % n);
        for k in [1, 2] {
            c.restart((leader1 + k) % n);
            c.connect((leader1 + k) % n);
        }
        c.sleep_ms(ELECTION_TIMEOUT_MS);
        c.restart((leader1 + 3) % n);
        c.connect((leader1 + 3) % n);
        let v = next();
        c.one(v, 3, true);
        c.connect((leader1 + 4) % n);
        c.connect(leader1);
    }
    c.one(cmd(1000), n, true);
    c
}

pub fn persist3(seed: u64) -> Cluster {
    let n = 3;
    let mut c = make(n, seed, true);
    c.one(cmd(101), 3, false);
    let leader = c.check_one_leader();
    c.disconnect((leader + 2) % n);
    c.one(cmd(102), 2, false);
    c.crash(leader);
    c.crash((leader + 1) % n);
    c.connect((leader + 2) % n);
    c.start(leader);
    c.connect(leader);
    c.one(cmd(103), 2, true);
    c.start((leader + 1) % n);
    c.connect((leader + 1) % n);
    c.one(cmd(104), n, true);
    c
}

/// Short sleep most of the time, sometimes up to half an election timeout.
fn figure8_pause_ms(c: &mut Cluster) -> u64 {
    if c.rand_below(1000) < 100 {
        c.rand_below(ELECTION_TIMEOUT_MS / 2)
    } else {
        c.rand_below(13)
    }
}

/// Leaders crash right after accepting commands, leaving uncommitted entries of many
/// terms around: only "commit by counting current-term entries" keeps this safe.
pub fn figure8(seed: u64) -> Cluster {
    figure8_with(seed, None)
}

/// Figure 8 with every node's config edited (used to show the checker catches bugs).
pub fn figure8_with(seed: u64, tweak: Option<ConfigTweak>) -> Cluster {
    let n = 5;
    let mut c = make_with(n, seed, true, tweak);
    let v = rand_cmd(&mut c);
    c.one(v, 1, true);
    let mut up = n;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..n {
            let v = rand_cmd(&mut c);
            if c.start_cmd(i, v).is_some() {
                leader = Some(i);
            }
        }
        let ms = figure8_pause_ms(&mut c);
        c.sleep_ms(ms);
        if let Some(l) = leader {
            c.crash(l);
            up -= 1;
        }
        if up < 3 {
            let s = c.rand_below(n as u64) as usize;
            if !c.is_alive(s) {
                c.start(s);
                c.connect(s);
                up += 1;
            }
        }
    }
    for i in 0..n {
        if !c.is_alive(i) {
            c.start(i);
            c.connect(i);
        }
    }
    let v = rand_cmd(&mut c);
    c.one(v, n, true);
    c
}

pub fn unreliable_agree(seed: u64) -> Cluster {
    let n = 5;
    let mut c = make(n, seed, false);
    let mut background: Vec<OneTask> = Vec::new();
    for iter in 1..50u64 {
        background.extend((0..4).map(|j| OneTask::new(cmd(100 * iter + j), 1, true)));
        let mut seq = OneTask::new(cmd(iter), 1, true);
        // Run until the sequential one() finishes, letting the background ones progress.
        let mut actors: Vec<&mut dyn Actor> =
            background.iter_mut().map(|t| t as &mut dyn Actor).collect();
        actors.push(&mut seq);
        run_until_last_done(&mut c, 11_000, &mut actors);
    }
    c.set_reliable(true);
    let mut actors: Vec<&mut dyn Actor> =
        background.iter_mut().map(|t| t as &mut dyn Actor).collect();
    run_until_done(&mut c, 11_000, &mut actors);
    c.one(cmd(100), n, true);
    c
}

pub fn figure8_unreliable(seed: u64) -> Cluster {
    let n = 5;
    let mut c = make(n, seed, false);
    let v = cmd(c.rand_below(10_000));
    c.one(v, 1, true);
    let mut up = n;
    for iter in 0..1000 {
        if iter == 200 {
            c.set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..n {
            let v = cmd(c.rand_below(10_000));
            if c.start_cmd(i, v).is_some() && c.is_connected(i) {
                leader = Some(i);
            }
        }
        let ms = figure8_pause_ms(&mut c);
        c.sleep_ms(ms);
        if let Some(l) = leader {
            if c.rand_below(1000) < ELECTION_TIMEOUT_MS / 2 {
                c.disconnect(l);
                up -= 1;
            }
        }
        if up < 3 {
            let s = c.rand_below(n as u64) as usize;
            if !c.is_connected(s) {
                c.connect(s);
                up += 1;
            }
        }
    }
    (0..n).for_each(|i| c.connect(i));
    let v = cmd(c.rand_below(10_000));
    c.one(v, n, true);
    c
}

/// One of the churn test's clients: find a leader, submit, check briefly whether it
/// committed, remember the values it saw committed.
pub struct ChurnClient {
    me: u64,
    pub stop: bool,
    pub seen: Vec<Vec<u8>>,
    pending: Option<(raft_core::Index, Vec<u8>, usize)>,
}

const CHURN_WAITS_MS: [u64; 5] = [10, 20, 50, 100, 200];

impl ChurnClient {
    pub fn new(me: u64) -> Self {
        ChurnClient {
            me,
            stop: false,
            seen: Vec::new(),
            pending: None,
        }
    }
}

impl Actor for ChurnClient {
    fn poll(&mut self, c: &mut Cluster) -> Option<u64> {
        if let Some((index, x, step)) = self.pending.take() {
            let (nd, value) = c.n_committed(index);
            if nd > 0 {
                if value.as_deref() == Some(x.as_slice()) {
                    self.seen.push(x);
                }
            } else if step < CHURN_WAITS_MS.len() {
                self.pending = Some((index, x, step + 1));
                return Some(CHURN_WAITS_MS[step] * MS);
            }
        }
        if self.stop {
            return None;
        }
        let x = rand_cmd(c);
        let mut index = None;
        for i in 0..c.n() {
            if let Some((idx, _)) = c.start_cmd(i, x.clone()) {
                index = Some(idx);
            }
        }
        match index {
            Some(index) => {
                self.pending = Some((index, x, 0));
                Some(0)
            }
            None => Some((79 + self.me * 17) * MS),
        }
    }
}

fn churn(seed: u64, reliable: bool) -> Cluster {
    let n = 5;
    let mut c = make(n, seed, reliable);
    let mut clients: Vec<ChurnClient> = (0..3).map(ChurnClient::new).collect();
    for _ in 0..20 {
        if c.rand_below(1000) < 200 {
            let i = c.rand_below(n as u64) as usize;
            c.disconnect(i);
        }
        if c.rand_below(1000) < 500 {
            let i = c.rand_below(n as u64) as usize;
            if !c.is_alive(i) {
                c.start(i);
            }
            c.connect(i);
        }
        if c.rand_below(1000) < 200 {
            let i = c.rand_below(n as u64) as usize;
            if c.is_alive(i) {
                c.crash(i);
            }
        }
        let mut actors: Vec<&mut dyn Actor> =
            clients.iter_mut().map(|t| t as &mut dyn Actor).collect();
        sleep_with(&mut c, ELECTION_TIMEOUT_MS * 7 / 10, &mut actors);
    }
    let mut actors: Vec<&mut dyn Actor> = clients.iter_mut().map(|t| t as &mut dyn Actor).collect();
    sleep_with(&mut c, ELECTION_TIMEOUT_MS, &mut actors);
    c.set_reliable(true);
    for i in 0..n {
        if !c.is_alive(i) {
            c.start(i);
        }
        c.connect(i);
    }
    clients.iter_mut().for_each(|cl| cl.stop = true);
    let mut actors: Vec<&mut dyn Actor> = clients.iter_mut().map(|t| t as &mut dyn Actor).collect();
    run_until_done(&mut c, 2_000, &mut actors);
    c.sleep_ms(ELECTION_TIMEOUT_MS);
    let v = rand_cmd(&mut c);
    let last = c.one(v, n, true);
    let mut really = Vec::new();
    for index in 1..=last {
        really.push(c.wait(index, n, None).expect("no term given, so a value"));
    }
    for v in clients.iter().flat_map(|cl| &cl.seen) {
        assert!(
            really.contains(v),
            "didn't find a value a client saw committed"
        );
    }
    c
}

pub fn reliable_churn(seed: u64) -> Cluster {
    churn(seed, true)
}

pub fn unreliable_churn(seed: u64) -> Cluster {
    churn(seed, false)
}
