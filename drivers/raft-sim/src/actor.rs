//! Concurrent test clients without threads: an [`Actor`] is polled whenever its wake-up
//! time comes, while the cluster runs. The course's goroutine clients become actors.

use raft_core::Index;

use crate::cluster::Cluster;
use crate::Sim;
use crate::MS;

/// A client whose next move is due at `wake_us`.
pub trait Actor {
    /// Acts; returns the delay until the next poll, or `None` when finished.
    fn poll(&mut self, c: &mut Cluster) -> Option<u64>;
}

/// Polls due actors and runs the cluster between polls, until `stop` holds for the
/// actors' wake-up times (`None` = finished) or virtual time reaches `deadline_us`.
/// Returns whether `stop` was reached.
fn drive(
    c: &mut Cluster,
    actors: &mut [&mut dyn Actor],
    deadline_us: u64,
    stop: impl Fn(&[Option<u64>]) -> bool,
) -> bool {
    let mut wake: Vec<Option<u64>> = vec![Some(c.now_us()); actors.len()];
    loop {
        for (actor, w) in actors.iter_mut().zip(wake.iter_mut()) {
            if w.is_some_and(|t| t <= c.now_us()) {
                *w = actor.poll(c).map(|d| c.now_us() + d);
            }
        }
        if stop(&wake) {
            return true;
        }
        let next = wake
            .iter()
            .flatten()
            .copied()
            .min()
            .unwrap_or(deadline_us)
            .min(deadline_us);
        if c.now_us() >= deadline_us {
            return false;
        }
        c.advance_us(next.max(c.now_us()) - c.now_us());
    }
}

/// Runs the cluster for `ms` while polling `actors` (the course's sleep with goroutines).
pub fn sleep_with(c: &mut Cluster, ms: u64, actors: &mut [&mut dyn Actor]) {
    let until = c.now_us() + ms * MS;
    drive(c, actors, until, |_| false);
}

/// Polls `actors` until all finish; fails the run if that takes over `limit_ms`.
pub fn run_until_done(c: &mut Cluster, limit_ms: u64, actors: &mut [&mut dyn Actor]) {
    let deadline = c.now_us() + limit_ms * MS;
    if !drive(c, actors, deadline, |w| w.iter().all(Option::is_none)) {
        c.fail(&format!("actors still running after {limit_ms} ms"));
    }
}

/// Polls `actors` until the last one finishes (the others keep their state); fails the
/// run after `limit_ms`.
pub fn run_until_last_done(c: &mut Cluster, limit_ms: u64, actors: &mut [&mut dyn Actor]) {
    let deadline = c.now_us() + limit_ms * MS;
    if !drive(c, actors, deadline, |w| {
        w.last().is_some_and(Option::is_none)
    }) {
        c.fail(&format!(
            "the foreground actor is still running after {limit_ms} ms"
        ));
    }
}

/// The course's one() as a pollable client: find a leader, submit, wait up to 2 s for
/// `expected` servers to apply it, retry for up to 10 s.
pub struct OneTask {
    data: Vec<u8>,
    expected: usize,
    retry: bool,
    started_us: Option<u64>,
    probe: usize,
    waiting: Option<(Index, u64)>,
    pub result: Option<Index>,
}

impl OneTask {
    pub fn new(data: Vec<u8>, expected: usize, retry: bool) -> Self {
        OneTask {
            data,
            expected,
            retry,
            started_us: None,
            probe: 0,
            waiting: None,
            result: None,
        }
    }

    fn submit(&mut self, c: &mut Cluster) -> Option<Index> {
        for _ in 0..c.n() {
            self.probe = (self.probe + 1) % c.n();
            if c.is_connected(self.probe) {
                if let Some((index, _)) = c.start_cmd(self.probe, self.data.clone()) {
                    return Some(index);
                }
            }
        }
        None
    }
}

impl Actor for OneTask {
    fn poll(&mut self, c: &mut Cluster) -> Option<u64> {
        let now = c.now_us();
        let t0 = *self.started_us.get_or_insert(now);
        if let Some((index, since)) = self.waiting {
            let (nd, value) = c.n_committed(index);
            if nd >= self.expected && value.as_deref() == Some(self.data.as_slice()) {
                self.result = Some(index);
                return None;
            }
            if now - since < 2_000 * MS {
                return Some(20 * MS);
            }
            if !self.retry {
                c.fail(&format!("one({:?}) failed to reach agreement", self.data));
            }
            self.waiting = None;
        }
        if now - t0 >= 10_000 * MS {
            c.fail(&format!(
                "one({:?}) failed to reach agreement in 10 s",
                self.data
            ));
        }
        match self.submit(c) {
            Some(index) => {
                self.waiting = Some((index, now));
                Some(20 * MS)
            }
            None => Some(50 * MS),
        }
    }
}
