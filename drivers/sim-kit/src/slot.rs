//! One place for a node in a world: the node while it runs, its disk (which outlives
//! it), the incarnation that tells its events from a previous life's, and its clock.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use raft_core::RestoredState;

use crate::disk::Disk;

pub(crate) struct Slot<N> {
    pub(crate) node: Option<N>,
    /// Bumped by every kill: a tick or disk completion scheduled for an earlier
    /// incarnation finds the number changed and is dropped.
    pub(crate) incarnation: u32,
    pub(crate) disk: Disk,
    /// This node's tick period: the world's, off by its clock drift.
    pub(crate) tick_period_us: u64,
    /// When the next tick not yet handed to the node falls: its clock's ticks fall at
    /// this time plus whole periods.
    pub(crate) tick_next_us: u64,
    /// When the one wake-up that counts is scheduled (`u64::MAX`: none). A node is woken
    /// only at the tick it is due (`SimNode::ticks_until_due`); a wake-up scheduled
    /// earlier and no longer wanted finds this changed and is dropped.
    pub(crate) tick_wake_us: u64,
}

impl<N> Slot<N> {
    /// An empty slot whose clock runs off by up to `drift_ppm` parts per million (drawn
    /// from `rng` only when there is drift, so drift-free worlds draw nothing here).
    pub(crate) fn new(tick_us: u64, drift_ppm: u64, rng: &mut ChaCha8Rng) -> Self {
        let drift = drift_ppm as i64;
        assert!(
            drift < 1_000_000,
            "a clock drift of {drift_ppm} ppm stops time"
        );
        let ppm = if drift > 0 {
            rng.gen_range(-drift..=drift)
        } else {
            0
        };
        let tick_period_us = (tick_us as i64 * (1_000_000 + ppm) / 1_000_000) as u64;
        assert!(tick_period_us > 0, "a tick period of zero never advances");
        Slot {
            node: None,
            incarnation: 0,
            disk: Disk::default(),
            tick_period_us,
            tick_next_us: 0,
            tick_wake_us: u64::MAX,
        }
    }

    pub(crate) fn is_current(&self, incarnation: u32) -> bool {
        self.incarnation == incarnation
    }

    /// What a restart reads from the disk, and whether recovery cut off a torn write.
    pub(crate) fn recover(&mut self) -> (RestoredState, bool) {
        assert!(self.node.is_none(), "recovery under a running node");
        let torn_before = self.disk.torn_bytes_repaired;
        let restored = self.disk.recover();
        (restored, self.disk.torn_bytes_repaired > torn_before)
    }

    /// Discards the running node: memory and unsynced writes are gone, the disk stays.
    /// Returns how many writes were lost, or `None` if the node was not running.
    pub(crate) fn kill(&mut self) -> Option<usize> {
        self.node.take()?;
        self.incarnation += 1;
        Some(self.disk.crash())
    }
}
