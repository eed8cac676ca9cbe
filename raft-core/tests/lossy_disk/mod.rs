//! A disk harsher than the simulator's, for the adversarial runs of raft-core's and
//! kv-core's tests (kv-core includes this file by path): a write that need not sync
//! (`Write::must_sync == false`) may be *reported* durable before it is, and a crash keeps
//! any prefix of the writes not yet synced, reported ones included. Writes still land in
//! order, as the `Ready` contract requires. Plus the seeded PRNG those runs draw from.

#![allow(dead_code)] // each including test uses its own subset

use std::collections::VecDeque;

use raft_core::{RestoredState, Write};

/// splitmix64: small, seedable, and the same on every platform.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One node's disk: `synced` survives any crash; `tail` holds writes handed out and not
/// yet synced, in order, each marked whether it was already reported to the pipeline.
#[derive(Default)]
pub struct LossyDisk {
    pub synced: RestoredState,
    pub tail: VecDeque<(Write, bool)>,
}

impl LossyDisk {
    /// The oldest unreported write, made durable (if it must sync) and reported.
    pub fn complete_next(&mut self) -> Option<u64> {
        let at = self.tail.iter().position(|(_, reported)| !reported)?;
        self.tail[at].1 = true;
        let id = self.tail[at].0.id;
        if self.tail[at].0.must_sync {
            // An fsync makes everything written before it durable too.
            for (w, _) in self.tail.drain(..=at) {
                w.apply_to(&mut self.synced);
            }
        }
        Some(id)
    }

    /// What every reported write adds up to (whether or not it is synced yet).
    pub fn reported(&self) -> RestoredState {
        let mut s = self.synced.clone();
        for (w, _) in self.tail.iter().take_while(|(_, r)| *r) {
            w.apply_to(&mut s);
        }
        s
    }

    /// A crash: some prefix of the unsynced writes made it.
    pub fn crash(&mut self, rng: &mut Rng) -> RestoredState {
        let keep = rng.below(self.tail.len() as u64 + 1) as usize;
        for (w, _) in self.tail.drain(..).take(keep) {
            w.apply_to(&mut self.synced);
        }
        self.synced.clone()
    }
}
