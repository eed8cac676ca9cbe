//! The coordinator's connections: how many there are, which are idle, and a deadline for
//! each request, so that connections that say nothing (or say it very slowly) cannot keep
//! real workers out.
//!
//! Two rules. A connection must deliver each whole request before a deadline (a byte now
//! and then does not extend it); missing it closes the connection. And when the limit on
//! connections is reached, a newcomer evicts the connection that has been idle longest —
//! idle meaning waiting for a request while holding no task — rather than being refused.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Identifies a connection in the registry.
pub(crate) type ConnectionId = u64;

struct Slot {
    /// Another handle on the socket, to shut it down from the accepting thread.
    stream: TcpStream,
    /// Since when it has been waiting for a request while holding no task; `None` when it
    /// is busy or holds a task (then it is never evicted).
    idle_since: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    next_id: ConnectionId,
    live: HashMap<ConnectionId, Slot>,
}

/// The live connections.
#[derive(Default)]
pub(crate) struct Registry {
    inner: Mutex<Inner>,
}

/// What [`Registry::admit`] did with a new connection.
pub(crate) enum Admission {
    Admitted(ConnectionId),
    /// Every slot is taken by a connection that is busy or holds a task.
    Full,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The registry is consistent after every statement; a panic elsewhere cannot break it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// Registers `stream` as idle, first evicting the longest-idle connection if there
    /// are already `max` of them.
    pub(crate) fn admit(&self, stream: &TcpStream, max: usize) -> io::Result<Admission> {
        let handle = stream.try_clone()?;
        let mut inner = self.lock();
        if inner.live.len() >= max {
            let longest_idle = inner
                .live
                .iter()
                .filter_map(|(&id, slot)| slot.idle_since.map(|since| (since, id)))
                .min();
            let Some((_, victim)) = longest_idle else {
                return Ok(Admission::Full);
            };
            if let Some(slot) = inner.live.remove(&victim) {
                // Its thread sees the end of the stream and exits.
                let _ = slot.stream.shutdown(Shutdown::Both);
            }
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let slot = Slot {
            stream: handle,
            idle_since: Some(Instant::now()),
        };
        inner.live.insert(id, slot);
        debug_assert!(inner.live.len() <= max.max(1));
        Ok(Admission::Admitted(id))
    }

    /// Marks the connection idle (waiting for a request, holding no task) or not.
    pub(crate) fn set_idle(&self, id: ConnectionId, idle: bool) {
        if let Some(slot) = self.lock().live.get_mut(&id) {
            slot.idle_since = idle.then(Instant::now);
        }
    }

    /// Forgets the connection (already gone if it was evicted).
    pub(crate) fn remove(&self, id: ConnectionId) {
        self.lock().live.remove(&id);
    }
}

/// A socket reader whose every read ends by `deadline`: each read waits at most for what
/// is left, and none starts after it.
pub(crate) struct Deadlined {
    pub(crate) stream: TcpStream,
    pub(crate) deadline: Instant,
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// True for the errors a read past its deadline gives.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

#[cfg(test)]
mod tests {
    use super::{Admission, Registry};
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_full_registry_evicts_the_longest_idle_and_never_a_busy_one() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let registry = Registry::default();
        let mut ours = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let client = TcpStream::connect(addr).unwrap();
            let (server_side, _) = listener.accept().unwrap();
            match registry.admit(&server_side, 2).unwrap() {
                Admission::Admitted(id) => ids.push(id),
                Admission::Full => panic!("nothing was busy"),
            }
            ours.push((client, server_side));
        }
        // The first (longest idle) was evicted to admit the third.
        assert_eq!(registry.len(), 2);
        registry.set_idle(ids[1], false);
        registry.set_idle(ids[2], false);
        let _client = TcpStream::connect(addr).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        assert!(matches!(
            registry.admit(&server_side, 2).unwrap(),
            Admission::Full
        ));
        registry.remove(ids[1]);
        assert!(matches!(
            registry.admit(&server_side, 2).unwrap(),
            Admission::Admitted(_)
        ));
        assert_eq!(registry.len(), 2);
    }
}
