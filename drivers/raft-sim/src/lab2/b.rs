//! Lab 2B: log replication.

use raft_core::{EntryKind, Index};

use super::{make, rand_cmd, ELECTION_TIMEOUT_MS};
use crate::cluster::Cluster;
use crate::harness::cmd;
use crate::Sim;

/// Everything applied before `index` on some server is a leader's opening entry (a no-op,
/// or the bootstrap configuration).
fn only_noops_before(c: &Cluster, index: Index) -> bool {
    (0..c.n()).any(|i| c.applied(i).len() as Index >= index - 1)
        && (0..c.n()).all(|i| {
            c.applied(i)
                .iter()
                .take(index as usize - 1)
                .all(|e| e.kind != EntryKind::Normal)
        })
}

pub fn basic_agree(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    let mut last = None;
    for x in 1..=3u64 {
        let next = last.map_or(1, |i: Index| i + 1);
        let (nd, _) = c.n_committed(next);
        assert_eq!(nd, 0, "some have committed before Start()");
        let index = c.one(cmd(x * 100), 3, false);
        match last {
            None => assert!(
                only_noops_before(&c, index),
                "first command at {index} follows only no-ops"
            ),
            Some(prev) => assert_eq!(
                index,
                prev + 1,
                "got index {index} but expected {}",
                prev + 1
            ),
        }
        last = Some(index);
    }
    c
}

/// Each command should be sent to each peer just once.
pub fn rpc_bytes(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    let mut prev = c.one(cmd(99), 3, false);
    let bytes0 = c.bytes_total();
    let mut sent = 0u64;
    for _ in 0..10 {
        let payload: Vec<u8> = (0..5000).map(|_| c.rand_below(256) as u8).collect();
        sent += payload.len() as u64;
        let index = c.one(payload, 3, false);
        assert_eq!(
            index,
            prev + 1,
            "got index {index} but expected {}",
            prev + 1
        );
        prev = index;
    }
    let got = c.bytes_total() - bytes0;
    let expected = 3 * sent;
    assert!(
        got <= expected + 50_000,
        "too many RPC bytes; got {got}, expected {expected}"
    );
    c
}

pub fn follower_failure(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    c.one(cmd(101), 3, false);
    // One follower down: the other two still agree.
    let leader1 = c.check_one_leader();
    c.disconnect((leader1 + 1) % 3);
    c.one(cmd(102), 2, false);
    c.sleep_ms(ELECTION_TIMEOUT_MS);
    let i103 = c.one(cmd(103), 2, false);
    // Both followers down: the leader accepts but nothing commits.
    let leader2 = c.check_one_leader();
    c.disconnect((leader2 + 1) % 3);
    c.disconnect((leader2 + 2) % 3);
    let (index, _) = c
        .start_cmd(leader2, cmd(104))
        .expect("leader rejected Start()");
    assert_eq!(index, i103 + 1, "expected index {}, got {index}", i103 + 1);
    c.sleep_ms(2 * ELECTION_TIMEOUT_MS);
    let (n, _) = c.n_committed(index);
    assert_eq!(n, 0, "{n} committed but no majority");
    c
}

pub fn leader_failure(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    c.one(cmd(101), 3, false);
    let leader1 = c.check_one_leader();
    c.disconnect(leader1);
    // The remaining followers elect a new leader.
    c.one(cmd(102), 2, false);
    c.sleep_ms(ELECTION_TIMEOUT_MS);
    let i103 = c.one(cmd(103), 2, false);
    let leader2 = c.check_one_leader();
    c.disconnect(leader2);
    for i in 0..3 {
        let _ = c.start_cmd(i, cmd(104));
    }
    c.sleep_ms(2 * ELECTION_TIMEOUT_MS);
    let (n, _) = c.n_committed(i103 + 1);
    assert_eq!(n, 0, "{n} committed but no majority");
    c
}

pub fn fail_agree(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    c.one(cmd(101), 3, false);
    let leader = c.check_one_leader();
    c.disconnect((leader + 1) % 3);
    c.one(cmd(102), 2, false);
    c.one(cmd(103), 2, false);
    c.sleep_ms(ELECTION_TIMEOUT_MS);
    c.one(cmd(104), 2, false);
    c.one(cmd(105), 2, false);
    // The follower comes back and catches up.
    c.connect((leader + 1) % 3);
    c.one(cmd(106), 3, true);
    c.sleep_ms(ELECTION_TIMEOUT_MS);
    c.one(cmd(107), 3, true);
    c
}

pub fn fail_no_agree(seed: u64) -> Cluster {
    let mut c = make(5, seed, true);
    let i10 = c.one(cmd(10), 5, false);
    // 3 of 5 followers disconnect.
    let leader = c.check_one_leader();
    (1..=3).for_each(|k| c.disconnect((leader + k) % 5));
    let (index, _) = c
        .start_cmd(leader, cmd(20))
        .expect("leader rejected Start()");
    assert_eq!(index, i10 + 1, "expected index {}, got {index}", i10 + 1);
    c.sleep_ms(2 * ELECTION_TIMEOUT_MS);
    let (n, _) = c.n_committed(index);
    assert_eq!(n, 0, "{n} committed but no majority");
    (1..=3).for_each(|k| c.connect((leader + k) % 5));
    // The disconnected majority may have elected a leader from among their own ranks,
    // forgetting index `index`, or the old leader may still lead with it; either way the
    // new term's no-op comes first.
    let leader2 = c.check_one_leader();
    let (index2, _) = c
        .start_cmd(leader2, cmd(30))
        .expect("leader2 rejected Start()");
    assert!(
        (index + 1..=index + 2).contains(&index2),
        "unexpected index {index2}"
    );
    c.one(cmd(1000), 5, true);
    c
}

pub fn concurrent_starts(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    for attempt in 0..5 {
        if attempt > 0 {
            // Give the situation some time to settle.
            c.sleep_ms(3_000);
        }
        let leader = c.check_one_leader();
        let Some((_, term)) = c.start_cmd(leader, cmd(1)) else {
            continue;
        };
        let mut indexes = Vec::new();
        for i in 0..5u64 {
            match c.start_cmd(leader, cmd(100 + i)) {
                Some((index, t)) if t == term => indexes.push(index),
                _ => {}
            }
        }
        if (0..3).any(|j| c.node(j).is_some_and(|n| n.term() != term)) {
            continue; // term changed: cannot expect the starts to commit
        }
        let mut got = Vec::new();
        let mut moved_on = false;
        for index in indexes {
            match c.wait(index, 3, Some(term)) {
                Some(v) => got.push(v),
                None => moved_on = true,
            }
        }
        if moved_on {
            continue;
        }
        for i in 0..5u64 {
            assert!(got.contains(&cmd(100 + i)), "cmd {} missing", 100 + i);
        }
        return c;
    }
    panic!("term changed too often (seed {seed})");
}

pub fn rejoin(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    c.one(cmd(101), 3, true);
    // The leader is partitioned and accepts commands it cannot commit.
    let leader1 = c.check_one_leader();
    c.disconnect(leader1);
    for x in [102, 103, 104] {
        let _ = c.start_cmd(leader1, cmd(x));
    }
    // A new leader commits, also for index 2.
    c.one(cmd(103), 2, true);
    let leader2 = c.check_one_leader();
    c.disconnect(leader2);
    // The old leader returns.
    c.connect(leader1);
    c.one(cmd(104), 2, true);
    c.connect(leader2);
    c.one(cmd(105), 3, true);
    c
}

pub fn backup(seed: u64) -> Cluster {
    let mut c = make(5, seed, true);
    let x = rand_cmd(&mut c);
    c.one(x, 5, true);
    // Put the leader and one follower in a partition; they accept 50 doomed commands.
    let leader1 = c.check_one_leader();
    (2..=4).for_each(|k| c.disconnect((leader1 + k) % 5));
    for _ in 0..50 {
        let x = rand_cmd(&mut c);
        let _ = c.start_cmd(leader1, x);
    }
    c.sleep_ms(ELECTION_TIMEOUT_MS / 2);
    c.disconnect(leader1);
    c.disconnect((leader1 + 1) % 5);
    // The other partition commits 50.
    (2..=4).for_each(|k| c.connect((leader1 + k) % 5));
    for _ in 0..50 {
        let x = rand_cmd(&mut c);
        c.one(x, 3, true);
    }
    // Now another partitioned leader and one follower.
    let leader2 = c.check_one_leader();
    let mut other = (leader1 + 2) % 5;
    if leader2 == other {
        other = (leader2 + 1) % 5;
    }
    c.disconnect(other);
    for _ in 0..50 {
        let x = rand_cmd(&mut c);
        let _ = c.start_cmd(leader2, x);
    }
    c.sleep_ms(ELECTION_TIMEOUT_MS / 2);
    // Bring the original leader back to life.
    (0..5).for_each(|i| c.disconnect(i));
    c.connect(leader1);
    c.connect((leader1 + 1) % 5);
    c.connect(other);
    for _ in 0..50 {
        let x = rand_cmd(&mut c);
        c.one(x, 3, true);
    }
    (0..5).for_each(|i| c.connect(i));
    let x = rand_cmd(&mut c);
    c.one(x, 5, true);
    c
}

pub fn count(seed: u64) -> Cluster {
    let mut c = make(3, seed, true);
    c.check_one_leader();
    let total1 = c.rpc_total();
    assert!(
        (1..=30).contains(&total1),
        "too many or few RPCs ({total1}) to elect initial leader"
    );
    for attempt in 0..5 {
        if attempt > 0 {
            c.sleep_ms(3_000);
        }
        if count_agreements(&mut c).is_some() {
            let total2 = c.rpc_total();
            c.sleep_ms(ELECTION_TIMEOUT_MS);
            let idle = c.rpc_total() - total2;
            assert!(
                idle <= 3 * 20,
                "too many RPCs ({idle}) for 1 second of idleness"
            );
            return c;
        }
    }
    panic!("term changed too often (seed {seed})");
}

/// One attempt of the count test's agreement phase; `None` if the term changed.
fn count_agreements(c: &mut Cluster) -> Option<()> {
    let iters = 10u64;
    let leader = c.check_one_leader();
    let total1 = c.rpc_total();
    let (start_index, term) = c.start_cmd(leader, cmd(1))?;
    let mut cmds = Vec::new();
    for i in 1..iters + 2 {
        let x = 1_000 + c.rand_below(1 << 40);
        cmds.push(x);
        let (index, t) = c.start_cmd(leader, cmd(x))?;
        if t != term {
            return None;
        }
        assert_eq!(index, start_index + i, "Start() failed");
    }
    for i in 1..=iters {
        let value = c.wait(start_index + i, 3, Some(term))?;
        assert_eq!(
            value,
            cmd(cmds[i as usize - 1]),
            "wrong value committed for index {}",
            start_index + i
        );
    }
    if (0..3).any(|j| c.node(j).is_some_and(|n| n.term() != term)) {
        return None;
    }
    let used = c.rpc_total() - total1;
    if std::env::var_os("SIM_VERBOSE").is_some() {
        eprintln!("count_2b: {used} RPCs for {iters} entries");
    }
    assert!(
        used <= (iters + 1 + 3) * 3,
        "too many RPCs ({used}) for {iters} entries"
    );
    Some(())
}
