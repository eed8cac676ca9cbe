//! The network of a fuzzed cluster: packets in flight, in the order they were sent, and
//! the schedule picks which one happens next. A packet is delivered, lost or copied
//! only when the schedule says so; one sent while `PENDING_MAX` are in flight is lost
//! (which a network may always do), so no schedule grows the world without bound.

/// Packets in flight at most.
pub const PENDING_MAX: usize = 128;

pub struct Network<P> {
    pending: Vec<P>,
    /// The partition: bit k set puts slot k on one side, clear on the other. Zero (or
    /// every bit) is a whole network.
    cut: u64,
    /// Packets lost to the partition when their turn came.
    pub partitioned: u64,
}

impl<P: Clone> Network<P> {
    pub fn new() -> Self {
        Network {
            pending: Vec::with_capacity(PENDING_MAX),
            cut: 0,
            partitioned: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn send(&mut self, packet: P) {
        if self.pending.len() < PENDING_MAX {
            self.pending.push(packet);
        }
        assert!(self.pending.len() <= PENDING_MAX);
    }

    /// The schedule's `i` as a position in flight (taken modulo), if any is.
    fn pick(&self, i: u8) -> Option<usize> {
        (!self.pending.is_empty()).then(|| usize::from(i) % self.pending.len())
    }

    /// Takes the i-th packet off the network to deliver it; the rest keep their order.
    pub fn take(&mut self, i: u8) -> Option<P> {
        let i = self.pick(i)?;
        Some(self.pending.remove(i))
    }

    /// The packet at position `i` in flight (0: the one `take(0)` delivers next).
    pub fn peek(&self, i: usize) -> Option<&P> {
        self.pending.get(i)
    }

    /// Loses the i-th packet.
    pub fn lose(&mut self, i: u8) {
        if let Some(i) = self.pick(i) {
            self.pending.swap_remove(i);
        }
    }

    /// Puts a copy of the i-th packet back on the network.
    pub fn duplicate(&mut self, i: u8) {
        if let Some(i) = self.pick(i) {
            let copy = self.pending[i].clone();
            self.send(copy);
        }
    }

    /// Splits the slots by `mask` (bit k: slot k); 0 heals.
    pub fn partition(&mut self, mask: u64) {
        self.cut = mask;
    }

    /// Whether a packet from slot `from` to slot `to` crosses the partition; counts it
    /// lost if so. The caller drops it.
    pub fn cut_off(&mut self, from: usize, to: usize) -> bool {
        let side = |slot: usize| slot < 64 && self.cut & (1 << slot) != 0;
        let crosses = side(from) != side(to);
        self.partitioned += u64::from(crosses);
        crosses
    }
}

impl<P: Clone> Default for Network<P> {
    fn default() -> Self {
        Self::new()
    }
}
