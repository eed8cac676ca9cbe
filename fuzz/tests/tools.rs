//! Tools for reading findings and choosing corpus files, run by hand:
//!
//!     FUZZ_FILE=crash-... cargo test --manifest-path fuzz/Cargo.toml --test tools describe -- --ignored --nocapture
//!     FUZZ_DIR=/tmp/corpus-raft cargo test --manifest-path fuzz/Cargo.toml --test tools pick -- --ignored --nocapture
//!
//! `FUZZ_TARGET` names the target (`raft_cluster`, the default, `kv_cluster`,
//! `shard_cluster` or, for `pick`, `raft_peer` and `shardctrl_cluster`).

use std::path::PathBuf;

fn target() -> String {
    std::env::var("FUZZ_TARGET").unwrap_or_else(|_| "raft_cluster".into())
}

/// Prints the schedule a file decodes to, then runs it (a finding panics here too).
#[test]
#[ignore = "a tool: needs FUZZ_FILE"]
fn describe() {
    let path = std::env::var("FUZZ_FILE").expect("FUZZ_FILE names the input");
    let data = std::fs::read(&path).expect("a readable input");
    if target() == "shard_cluster" {
        let (setup, actions) = fuzz::shard_cluster::describe(&data);
        println!("{setup:?}");
        actions
            .iter()
            .enumerate()
            .for_each(|(i, a)| println!("{i:4} {a:?}"));
        println!("{:?}", fuzz::shard_cluster::play(&data));
    } else if target() == "kv_cluster" {
        let (setup, actions) = fuzz::kv_cluster::describe::<kv_core::KvState>(&data);
        println!("{setup:?}");
        actions
            .iter()
            .enumerate()
            .for_each(|(i, a)| println!("{i:4} {a:?}"));
        println!("{:?}", fuzz::kv_cluster::play::<kv_core::KvState>(&data));
    } else {
        let (setup, actions) = fuzz::raft_cluster::describe(&data);
        println!("{setup:?}");
        let mut cluster = setup.map(fuzz::raft_cluster::Cluster::new);
        for (i, a) in actions.iter().enumerate() {
            println!("{i:4} {a:?}");
            if let Some(cluster) = cluster.as_mut() {
                cluster.act(*a);
                print!("{}", cluster.status());
            }
        }
        println!("{:?}", cluster.map(|c| c.summary()));
    }
}

/// Prints each file of a corpus with what it reaches and its size, smallest first, so
/// a handful covering every milestone can be checked in.
#[test]
#[ignore = "a tool: needs FUZZ_DIR"]
fn pick() {
    let dir = std::env::var("FUZZ_DIR").expect("FUZZ_DIR names the corpus");
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
        .expect("a readable corpus")
        .map(|e| e.expect("an entry").path())
        .map(|p| (std::fs::metadata(&p).map_or(0, |m| m.len()), p))
        .collect();
    files.sort();
    for (bytes, path) in files {
        let data = std::fs::read(&path).expect("a readable input");
        let summary = if target() == "kv_cluster" {
            format!("{:?}", fuzz::kv_cluster::play::<kv_core::KvState>(&data))
        } else if target() == "shardctrl_cluster" {
            format!("{:?}", fuzz::kv_cluster::shardctrl::play(&data))
        } else if target() == "shard_cluster" {
            format!("{:?}", fuzz::shard_cluster::play(&data))
        } else if target() == "raft_peer" {
            format!("{:?}", fuzz::raft_peer::play(&data))
        } else {
            format!("{:?}", fuzz::raft_cluster::play(&data))
        };
        println!("{bytes:5} {} {summary}", path.display());
    }
}
