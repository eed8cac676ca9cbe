//! Storage as the event loop sees it: writes in, `RestoredState` out, across reopens,
//! torn tails, damaged bytes and crashes in the middle of a snapshot write. The meaning
//! of every write is `raft_core::Write::apply_to`; each test compares against it.

use std::fs;
use std::path::{Path, PathBuf};

use quickcheck::{QuickCheck, TestResult};
use raft_core::{
    Entry, EntryKind, HardState, Index, RestoredState, Snapshot, SnapshotMeta, SnapshotWrite, Term,
    Write,
};
use runtime::storage::{Recovered, Storage, StorageError, StorageOptions, TornTail};

fn entries(first: Index, last: Index, term: Term) -> Vec<Entry> {
    (first..=last)
        .map(|index| Entry {
            term,
            index,
            kind: EntryKind::Normal,
            data: format!("entry {index} of term {term}").into_bytes().into(),
        })
        .collect()
}

fn hard(term: Term, commit: Index) -> HardState {
    HardState {
        term,
        vote: Some(1),
        commit,
    }
}

fn write(hard_state: Option<HardState>, entries: Vec<Entry>) -> Write {
    Write {
        id: 0,
        snapshot: None,
        must_sync: !entries.is_empty(),
        hard_state,
        entries,
    }
}

fn snapshot(index: Index, term: Term, received: bool, data: &[u8]) -> SnapshotWrite {
    let snapshot = Snapshot {
        meta: SnapshotMeta {
            index,
            term,
            membership: Default::default(),
        },
        data: data.to_vec(),
    };
    match received {
        true => SnapshotWrite::Received(snapshot),
        false => SnapshotWrite::Taken(snapshot),
    }
}

fn snapshot_write(sw: SnapshotWrite, hard_state: Option<HardState>) -> Write {
    Write {
        id: 0,
        snapshot: Some(sw),
        hard_state,
        entries: Vec::new(),
        must_sync: true,
    }
}

fn reference(writes: &[Write]) -> RestoredState {
    let mut state = RestoredState::default();
    for w in writes {
        w.apply_to(&mut state);
    }
    state
}

fn small() -> StorageOptions {
    StorageOptions {
        segment_bytes_max: 256,
        record_bytes_max: 1 << 20,
    }
}

fn open(dir: &Path, opts: StorageOptions) -> (Storage, Recovered) {
    Storage::open(dir, opts).unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

fn append_all(storage: &mut Storage, writes: &[Write]) {
    for w in writes {
        storage.append(w).unwrap();
    }
    storage.sync().unwrap();
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    found.sort();
    found
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    files(dir, "seg-")
}

fn last_segment(dir: &Path) -> PathBuf {
    segments(dir).pop().unwrap()
}

fn len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// A copy of the directory's files (not the lock) into a new temporary directory.
fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "LOCK" {
            fs::copy(&path, to.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    to
}

/// Entries, hard states, a truncating overwrite, commit-only writes, a taken and a
/// received snapshot, with entries after each.
fn scripted() -> Vec<Write> {
    vec![
        write(Some(hard(1, 0)), entries(1, 5, 1)),
        write(Some(hard(1, 2)), vec![]),
        write(Some(hard(2, 2)), entries(4, 6, 2)),
        write(Some(hard(2, 5)), vec![]),
        snapshot_write(snapshot(3, 1, false, b"state at 3"), None),
        write(None, entries(7, 8, 2)),
        snapshot_write(snapshot(10, 3, true, b"state at 10"), Some(hard(3, 10))),
        write(None, entries(11, 12, 3)),
        write(Some(hard(3, 12)), vec![]),
    ]
}

#[test]
fn fresh_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node-1");
    let (storage, recovered) = open(&path, StorageOptions::default());
    assert!(recovered.report.fresh);
    assert_eq!(recovered.report.to_string(), "fresh data directory");
    assert_eq!(recovered.state, RestoredState::default());
    assert_eq!(segments(&path).len(), 1);
    assert_eq!(storage.log_bytes(), len(&segments(&path)[0]));
    assert_eq!(storage.snapshot_bytes(), 0);
    assert_eq!(storage.dir(), path);
    drop(storage);
    let (_, recovered) = open(&path, StorageOptions::default());
    assert!(!recovered.report.fresh);
    assert_eq!(recovered.state, RestoredState::default());
}

#[test]
fn round_trip_scripted() {
    let writes = scripted();
    for opts in [StorageOptions::default(), small()] {
        let dir = tempfile::tempdir().unwrap();
        for end in 0..=writes.len() {
            let (mut storage, recovered) = open(dir.path(), opts.clone());
            assert_eq!(
                recovered.state,
                reference(&writes[..end]),
                "after {end} writes"
            );
            if end < writes.len() {
                append_all(&mut storage, &writes[end..=end]);
            }
        }
    }
}

#[test]
fn group_commit_then_reopen() {
    let writes = scripted();
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(dir.path(), small());
    append_all(&mut storage, &writes);
    let snapshot_file = files(dir.path(), "snap-").pop().unwrap();
    assert_eq!(storage.snapshot_bytes(), len(&snapshot_file));
    let live: u64 = segments(dir.path()).iter().map(|p| len(p)).sum();
    assert_eq!(storage.log_bytes(), live);
    drop(storage);
    let (_, recovered) = open(dir.path(), small());
    assert_eq!(recovered.state, reference(&writes));
    assert_eq!(recovered.report.torn_tail, None);
    assert!(recovered.report.files_removed.is_empty());
}

/// A small deterministic generator for the property below.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high);
        low + self.below(high - low + 1)
    }
}

/// A write that respects `apply_to`'s preconditions and Raft's shape (terms never
/// decrease along the log, commit never passes the log's end nor moves back).
fn next_write(rng: &mut Rng, state: &RestoredState) -> Write {
    let snap = state
        .snapshot
        .as_ref()
        .map_or((0, 0), |s| (s.meta.index, s.meta.term));
    let last = snap.0 + state.entries.len() as u64;
    let hs = state.hard_state;
    match rng.below(10) {
        0..=4 => {
            let term = hs.term.max(1) + rng.below(2);
            let first = rng.between(snap.0.max(hs.commit) + 1, last + 1);
            let count = rng.between(1, 4);
            let new_hs = (term != hs.term || rng.below(3) == 0).then_some(HardState { term, ..hs });
            write(new_hs, entries(first, first + count - 1, term))
        }
        5 | 6 => write(
            Some(HardState {
                commit: rng.between(hs.commit, last),
                ..hs
            }),
            vec![],
        ),
        7 | 8 if last > snap.0 => {
            let index = rng.between(snap.0 + 1, last);
            let term = state.entries[(index - snap.0 - 1) as usize].term;
            let data = vec![rng.below(256) as u8; rng.below(300) as usize];
            snapshot_write(snapshot(index, term, false, &data), None)
        }
        _ => {
            let index = rng.between(snap.0.max(hs.commit) + 1, last + 3);
            let term = hs.term.max(snap.1).max(1);
            let data = vec![rng.below(256) as u8; rng.below(300) as usize];
            let new_hs = HardState {
                term,
                commit: index,
                ..hs
            };
            snapshot_write(snapshot(index, term, true, &data), Some(new_hs))
        }
    }
}

/// Any valid sequence of writes, appended in random groups with a sync after each and
/// reopened at random points, recovers to what `apply_to` says.
fn round_trip_property(seed: u64, segment_bytes_max: u16) -> TestResult {
    let mut rng = Rng(seed);
    let opts = StorageOptions {
        segment_bytes_max: u64::from(segment_bytes_max.max(64)),
        record_bytes_max: 1 << 20,
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(dir.path(), opts.clone());
    let mut state = RestoredState::default();
    for _ in 0..rng.between(1, 40) {
        let w = next_write(&mut rng, &state);
        w.apply_to(&mut state);
        storage.append(&w).unwrap();
        if rng.below(3) == 0 {
            storage.sync().unwrap();
        }
        if rng.below(8) == 0 {
            storage.sync().unwrap();
            drop(storage);
            let recovered;
            (storage, recovered) = open(dir.path(), opts.clone());
            if recovered.state != state {
                return TestResult::error(format!("seed {seed}: mid-run reopen differs"));
            }
        }
    }
    storage.sync().unwrap();
    drop(storage);
    let (_, recovered) = open(dir.path(), opts);
    if recovered.state != state {
        return TestResult::error(format!(
            "seed {seed}: {:?}\n!= {:?}",
            recovered.state, state
        ));
    }
    TestResult::passed()
}

#[test]
fn round_trip_random_writes() {
    QuickCheck::new()
        .tests(60)
        .quickcheck(round_trip_property as fn(u64, u16) -> TestResult);
}

#[test]
fn rotation_then_snapshot_removes_old_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(dir.path(), small());
    let mut writes = vec![write(Some(hard(1, 0)), vec![])];
    writes.extend((1..=40).map(|i| write(None, entries(i, i, 1))));
    append_all(&mut storage, &writes);
    let old = segments(dir.path());
    assert!(old.len() > 5, "{} segments", old.len());
    let live: u64 = old.iter().map(|p| len(p)).sum();
    assert_eq!(storage.log_bytes(), live);

    let taken = snapshot_write(snapshot(30, 1, false, b"applied through 30"), None);
    storage.append(&taken).unwrap();
    writes.push(taken);
    let now = segments(dir.path());
    assert_eq!(now.len(), 1);
    assert!(old.iter().all(|p| !p.exists()));
    assert!(
        !old.contains(&now[0]),
        "the checkpoint starts a new segment"
    );
    assert_eq!(storage.log_bytes(), len(&now[0]));
    drop(storage);

    let (_, recovered) = open(dir.path(), small());
    assert_eq!(recovered.state, reference(&writes));
    assert_eq!(recovered.state.entries.len(), 10);
    assert_eq!(recovered.report.segments_read, 1);
}

/// Appends `writes`, then `last`; returns the last segment's length before `last`.
fn with_last_write(dir: &Path, writes: &[Write], last: &Write) -> u64 {
    let (mut storage, _) = open(dir, StorageOptions::default());
    append_all(&mut storage, writes);
    let before = len(&last_segment(dir));
    append_all(&mut storage, std::slice::from_ref(last));
    before
}

#[test]
fn torn_tail_at_every_offset() {
    let writes = scripted();
    let last = write(Some(hard(3, 12)), entries(13, 15, 3));
    let original = tempfile::tempdir().unwrap();
    let start = with_last_write(original.path(), &writes, &last);
    let end = len(&last_segment(original.path()));
    assert!(end - start > 50);
    for cut in start..end {
        let dir = copy_dir(original.path());
        let segment = last_segment(dir.path());
        fs::OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let (storage, recovered) = open(dir.path(), StorageOptions::default());
        assert_eq!(recovered.state, reference(&writes), "cut at {cut}");
        let expected = (cut > start).then(|| TornTail {
            file: segment.clone(),
            offset: start,
            bytes_dropped: cut - start,
        });
        assert_eq!(recovered.report.torn_tail, expected, "cut at {cut}");
        if cut > start {
            let shown = recovered.report.to_string();
            let at = format!("dropped {} bytes at seg-", cut - start);
            assert!(
                shown.contains(&at) && shown.ends_with(&format!(":{start}")),
                "{shown}"
            );
        }
        assert_eq!(len(&segment), start);
        drop(storage);
        let (_, again) = open(dir.path(), StorageOptions::default());
        assert_eq!(again.report.torn_tail, None);
        assert_eq!(again.state, reference(&writes));
    }
}

#[test]
fn zeros_at_the_tail_are_torn_not_corrupt() {
    let writes = scripted();
    let last = write(None, entries(13, 13, 3));
    let original = tempfile::tempdir().unwrap();
    let start = with_last_write(original.path(), &writes, &last);
    let mut all = writes.clone();
    all.push(last);

    // Preallocated (or never written) space after the log.
    let dir = copy_dir(original.path());
    let segment = last_segment(dir.path());
    let mut bytes = fs::read(&segment).unwrap();
    bytes.extend([0u8; 100]);
    fs::write(&segment, &bytes).unwrap();
    let (_, recovered) = open(dir.path(), StorageOptions::default());
    assert_eq!(recovered.state, reference(&all));
    assert_eq!(recovered.report.torn_tail.unwrap().bytes_dropped, 100);

    // The last record's length landed, its payload blocks did not.
    let dir = copy_dir(original.path());
    let segment = last_segment(dir.path());
    let mut bytes = fs::read(&segment).unwrap();
    bytes[start as usize + 8..].fill(0);
    fs::write(&segment, &bytes).unwrap();
    let (_, recovered) = open(dir.path(), StorageOptions::default());
    assert_eq!(recovered.state, reference(&writes));
    assert_eq!(recovered.report.torn_tail.unwrap().offset, start);
}

/// Offsets of the records in a segment, read from the frames' length fields.
fn record_offsets(segment: &Path) -> Vec<u64> {
    let bytes = fs::read(segment).unwrap();
    let mut offsets = Vec::new();
    let mut at = 16;
    while at < bytes.len() {
        offsets.push(at as u64);
        at += 8 + u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    }
    offsets
}

fn expect_corrupt(dir: &Path, file: &Path, offset: u64) {
    let before: Vec<Vec<u8>> = segments(dir).iter().map(|p| fs::read(p).unwrap()).collect();
    let err = Storage::open(dir, StorageOptions::default()).unwrap_err();
    match &err {
        StorageError::Corrupt {
            file: f, offset: o, ..
        } => {
            assert_eq!((f.as_path(), *o), (file, offset), "{err}");
        }
        other => panic!("expected Corrupt, got {other}"),
    }
    let shown = err.to_string();
    assert!(shown.contains(&file.display().to_string()), "{shown}");
    assert!(shown.contains(&format!("at offset {offset}")), "{shown}");
    assert!(shown.contains("refusing to start"), "{shown}");
    let after: Vec<Vec<u8>> = segments(dir).iter().map(|p| fs::read(p).unwrap()).collect();
    assert_eq!(before, after, "a refused directory is left as found");
}

fn flip(path: &Path, at: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at as usize] ^= 0x10;
    fs::write(path, &bytes).unwrap();
}

#[test]
fn flipped_byte_in_durable_prefix_is_corrupt() {
    let writes: Vec<Write> = (1..=6)
        .map(|i| write(Some(hard(1, i - 1)), entries(i, i, 1)))
        .collect();
    let original = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(original.path(), StorageOptions::default());
    append_all(&mut storage, &writes);
    drop(storage);
    let offsets = record_offsets(&last_segment(original.path()));
    assert_eq!(offsets.len(), 7, "a checkpoint and six writes");

    for (i, &offset) in offsets.iter().enumerate() {
        // A payload byte of each record, the last one included: written bytes that
        // fail their checksum are damage, wherever they are.
        let dir = copy_dir(original.path());
        let segment = last_segment(dir.path());
        flip(&segment, offset + 10);
        expect_corrupt(dir.path(), &segment, offset);
        // The length of a record that is not the last: it now runs past the end of the
        // file, but valid records follow it.
        if i + 1 < offsets.len() {
            let dir = copy_dir(original.path());
            let segment = last_segment(dir.path());
            flip(&segment, offset + 3);
            expect_corrupt(dir.path(), &segment, offset);
        }
    }
}

#[test]
fn damage_in_an_earlier_segment_is_corrupt() {
    let original = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(original.path(), small());
    let writes: Vec<Write> = (1..=20)
        .map(|i| write(Some(hard(1, 0)), entries(i, i, 1)))
        .collect();
    append_all(&mut storage, &writes);
    drop(storage);
    let all = segments(original.path());
    assert!(all.len() >= 3);

    let dir = copy_dir(original.path());
    let second = &segments(dir.path())[1];
    let offsets = record_offsets(second);
    flip(second, offsets.last().unwrap() + 10);
    expect_corrupt(dir.path(), second, *offsets.last().unwrap());

    // Cut short: a torn tail is harmless only in the last segment.
    let dir = copy_dir(original.path());
    let second = &segments(dir.path())[1];
    let last_start = *record_offsets(second).last().unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(second)
        .unwrap()
        .set_len(last_start + 5)
        .unwrap();
    expect_corrupt(dir.path(), second, last_start);

    // A missing segment in the middle.
    let dir = copy_dir(original.path());
    let second = segments(dir.path())[1].clone();
    fs::remove_file(&second).unwrap();
    let third = &segments(dir.path())[1];
    expect_corrupt(dir.path(), third, 0);
}

#[test]
fn oversize_length_prefix() {
    let writes = scripted();
    let original = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(original.path(), StorageOptions::default());
    append_all(&mut storage, &writes);
    drop(storage);

    // At the tail: garbage where an append was interrupted.
    let dir = copy_dir(original.path());
    let segment = last_segment(dir.path());
    let end = len(&segment);
    let mut bytes = fs::read(&segment).unwrap();
    bytes.extend(0xffff_fff0u32.to_le_bytes());
    bytes.extend([1, 2, 3, 4, 5, 6, 7]);
    fs::write(&segment, &bytes).unwrap();
    let (_, recovered) = open(dir.path(), StorageOptions::default());
    assert_eq!(recovered.state, reference(&writes));
    assert_eq!(recovered.report.torn_tail.unwrap().offset, end);

    // Inside the log: refused, without allocating 4 GiB.
    let dir = copy_dir(original.path());
    let segment = last_segment(dir.path());
    let offsets = record_offsets(&segment);
    let mut bytes = fs::read(&segment).unwrap();
    let at = offsets[1] as usize;
    bytes[at..at + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    fs::write(&segment, &bytes).unwrap();
    expect_corrupt(dir.path(), &segment, offsets[1]);
}

#[test]
fn oversize_write_is_refused_and_storage_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions {
        segment_bytes_max: 1 << 20,
        record_bytes_max: 200,
    };
    let (mut storage, _) = open(dir.path(), opts.clone());
    let mut big = entries(1, 1, 1);
    big[0].data = vec![7; 500].into();
    let err = storage.append(&write(Some(hard(1, 0)), big)).unwrap_err();
    assert!(
        matches!(err, StorageError::RecordTooLarge { max: 200, .. }),
        "{err}"
    );
    let small_write = write(Some(hard(1, 0)), entries(1, 2, 1));
    append_all(&mut storage, std::slice::from_ref(&small_write));
    let gap = storage.append(&write(None, entries(5, 5, 1))).unwrap_err();
    assert!(matches!(gap, StorageError::InvalidWrite { .. }), "{gap}");
    drop(storage);
    let (_, recovered) = open(dir.path(), opts);
    assert_eq!(recovered.state, reference(&[small_write]));
}

/// The directory just before and just after a received snapshot write, with an older
/// taken snapshot in both.
struct SnapshotCrash {
    before: tempfile::TempDir,
    after: tempfile::TempDir,
    writes_before: Vec<Write>,
    writes_after: Vec<Write>,
}

fn snapshot_crash() -> SnapshotCrash {
    let writes_before = vec![
        write(Some(hard(1, 0)), entries(1, 6, 1)),
        snapshot_write(snapshot(4, 1, false, b"state at 4"), Some(hard(1, 4))),
        write(Some(hard(2, 4)), entries(7, 8, 2)),
    ];
    let mut writes_after = writes_before.clone();
    writes_after.push(snapshot_write(
        snapshot(20, 3, true, b"state at 20"),
        Some(hard(3, 20)),
    ));
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(dir.path(), StorageOptions::default());
    append_all(&mut storage, &writes_before);
    let before = copy_dir(dir.path());
    append_all(&mut storage, &writes_after[writes_before.len()..]);
    let after = copy_dir(dir.path());
    SnapshotCrash {
        before,
        after,
        writes_before,
        writes_after,
    }
}

fn copy_into(from: &Path, name: &str, to: &Path) -> PathBuf {
    fs::copy(from.join(name), to.join(name)).unwrap();
    to.join(name)
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_str().unwrap().to_string()
}

/// Opens `dir`, expects `writes`' state, no leftovers, and a clean second open.
fn expect_recovers_to(dir: &Path, writes: &[Write], leftovers: &[PathBuf]) {
    let (storage, recovered) = open(dir, StorageOptions::default());
    assert_eq!(recovered.state, reference(writes));
    for path in leftovers {
        assert!(
            recovered.report.files_removed.contains(path),
            "{}",
            path.display()
        );
        assert!(!path.exists(), "{}", path.display());
    }
    assert_eq!(files(dir, "snap-").len(), 1);
    drop(storage);
    let (_, again) = open(dir, StorageOptions::default());
    assert_eq!(again.state, reference(writes));
    assert!(again.report.files_removed.is_empty());
    assert_eq!(again.report.torn_tail, None);
}

#[test]
fn crash_during_snapshot_write() {
    let crash = snapshot_crash();
    let new_snapshot = name(&files(crash.after.path(), "snap-")[0]);
    let new_segment = name(&last_segment(crash.after.path()));
    let before = || copy_dir(crash.before.path());

    // (1) half-written: only temporary files.
    let dir = before();
    let tmp_snap = dir.path().join(format!("{new_snapshot}.tmp"));
    fs::write(&tmp_snap, b"half a snap").unwrap();
    let tmp_seg = dir.path().join(format!("{new_segment}.tmp"));
    fs::write(&tmp_seg, b"raftseg\n").unwrap();
    expect_recovers_to(dir.path(), &crash.writes_before, &[tmp_snap, tmp_seg]);

    // (1) done: the snapshot file renamed, no checkpoint names it.
    let dir = before();
    let orphan = copy_into(crash.after.path(), &new_snapshot, dir.path());
    expect_recovers_to(dir.path(), &crash.writes_before, &[orphan]);

    // (3) torn: the new segment holds part of its checkpoint.
    for keep in [0, 8, 16, 20, 30] {
        let dir = before();
        let orphan = copy_into(crash.after.path(), &new_snapshot, dir.path());
        let segment = copy_into(crash.after.path(), &new_segment, dir.path());
        fs::OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap()
            .set_len(keep)
            .unwrap();
        expect_recovers_to(dir.path(), &crash.writes_before, &[orphan]);
    }

    // (3) done, (4) not: old segments and the old snapshot still there.
    let dir = copy_dir(crash.after.path());
    let mut leftovers = Vec::new();
    for path in segments(crash.before.path())
        .iter()
        .chain(&files(crash.before.path(), "snap-"))
    {
        leftovers.push(copy_into(crash.before.path(), &name(path), dir.path()));
    }
    assert!(leftovers.len() >= 2);
    expect_recovers_to(dir.path(), &crash.writes_after, &leftovers);
}

#[test]
fn damaged_or_missing_snapshot_file_is_corrupt() {
    let crash = snapshot_crash();
    let dir = copy_dir(crash.after.path());
    let snap = files(dir.path(), "snap-").pop().unwrap();
    flip(&snap, len(&snap) - 1);
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(
        matches!(&err, StorageError::Corrupt { file, .. } if *file == snap),
        "{err}"
    );

    fs::remove_file(&snap).unwrap();
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(
        matches!(&err, StorageError::Corrupt { file, .. } if *file == snap),
        "{err}"
    );
    assert!(err.to_string().contains(&name(&snap)), "{err}");
}

#[test]
fn second_open_is_locked_until_drop() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = open(dir.path(), StorageOptions::default());
    let err = Storage::open(dir.path(), StorageOptions::default()).unwrap_err();
    assert!(
        matches!(&err, StorageError::Locked { dir: d } if d == dir.path()),
        "{err}"
    );
    assert!(
        err.to_string().contains("is in use by another process"),
        "{err}"
    );
    drop(first);
    let (_, recovered) = open(dir.path(), StorageOptions::default());
    assert!(!recovered.report.fresh);
}

#[test]
fn report_reads_as_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, _) = open(dir.path(), small());
    append_all(&mut storage, &scripted()[..4]);
    drop(storage);
    let (_, recovered) = open(dir.path(), small());
    let shown = recovered.report.to_string();
    assert!(shown.starts_with("read "), "{shown}");
    assert!(shown.contains(" segments, 5 records"), "{shown}");
    assert!(!shown.contains('\n'));
}
