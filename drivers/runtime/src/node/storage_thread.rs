//! The storage thread: makes writes durable beside the event loop, so the loop keeps
//! sending heartbeats and appends while an fsync is in flight.
//!
//! Group commit: it takes every write waiting for it, appends them all, syncs once if
//! any of them must be synced, and reports them all — in order, as the pipeline needs.

use std::sync::mpsc as std_mpsc;

use super::replica::Replica;
use raft_core::Write;

use super::actor::{Event, Inbox};
use crate::storage::{Storage, StorageError};

/// Writes gathered into one fsync at most; more wait for the next round.
const GROUP_WRITES_MAX: usize = 4096;

/// Starts the thread; it ends once the sender is dropped and every write handed to it
/// is on disk (join the handle to wait for that).
pub(crate) fn spawn<R: Replica + Send + 'static>(
    storage: Storage,
    inbox: Inbox<R>,
) -> (std_mpsc::Sender<Vec<Write>>, std::thread::JoinHandle<()>)
where
    R::Op: Send,
    R::Output: Send,
{
    let (tx, rx) = std_mpsc::channel::<Vec<Write>>();
    let thread = std::thread::Builder::new()
        .name("storage".into())
        .spawn(move || run(storage, rx, inbox))
        .expect("spawning the storage thread");
    (tx, thread)
}

fn run<R: Replica>(mut storage: Storage, rx: std_mpsc::Receiver<Vec<Write>>, inbox: Inbox<R>) {
    while let Ok(first) = rx.recv() {
        let mut group = first;
        while group.len() < GROUP_WRITES_MAX {
            match rx.try_recv() {
                Ok(more) => group.extend(more),
                Err(_) => break,
            }
        }
        let event = match persist(&mut storage, &group) {
            Ok(()) => Event::Persisted {
                ids: group.iter().map(|w| w.id).collect(),
                log_bytes: storage.log_bytes(),
                snapshot_bytes: storage.snapshot_bytes(),
            },
            Err(e) => Event::StorageFailed(e),
        };
        if matches!(event, Event::StorageFailed(_)) {
            let _ = inbox.blocking_send(event);
            return; // nothing more can be written safely
        }
        // Never dropped while the actor runs (a lost report would stall the pipeline).
        // After shutdown nobody listens (the send fails at once), but what was handed
        // over still gets written: a clean stop leaves no torn tail behind.
        let _ = inbox.blocking_send(event);
    }
}

fn persist(storage: &mut Storage, group: &[Write]) -> Result<(), StorageError> {
    assert!(!group.is_empty(), "a group has at least one write");
    for w in group {
        storage.append(w)?;
    }
    if group.iter().any(|w| w.must_sync) {
        storage.sync()?;
    }
    Ok(())
}
