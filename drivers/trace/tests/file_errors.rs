//! Bad trace files get typed errors that say where: not a trace, a wrong format
//! version, a flipped byte inside the file, an absurd frame length; a file cut
//! mid-frame is not an error but a torn tail, reported with its offset.

use trace::file::{read_bytes, read_file, TraceError};
use trace::format::{Frame, Header, Step, FORMAT_VERSION, MAGIC};
use trace::Kind;

fn header(version: u32) -> Frame {
    Frame::Header(Header {
        version,
        kind: Kind::Kv,
        node: 1,
        incarnation: 7,
        started_us: 0,
        first_step: 0,
        boot: vec![1, 2, 3],
        note: "test".into(),
    })
}

fn step(i: u64) -> Frame {
    Frame::Step(Step {
        time_us: i,
        input: vec![0; 40],
        digest: i,
        received: None,
        sent: Vec::new(),
        output: None,
    })
}

fn file(frames: &[Frame]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    frames.iter().for_each(|f| f.encode_into(&mut bytes));
    bytes
}

fn read(bytes: &[u8]) -> Result<trace::file::TraceFile, TraceError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node-1.000000.trace");
    std::fs::write(&path, bytes).unwrap();
    read_file(&path)
}

#[test]
fn a_good_file_reads_whole() {
    let frames = [header(FORMAT_VERSION), step(1), step(2)];
    let t = read(&file(&frames)).unwrap();
    assert_eq!(t.frames, frames);
    assert!(t.torn_tail.is_none());
}

#[test]
fn bad_files_say_what_and_where() {
    let good = file(&[header(FORMAT_VERSION), step(1), step(2), step(3)]);
    assert!(matches!(
        read(b"GIF89a..."),
        Err(TraceError::NotATrace { .. })
    ));
    let other_version = file(&[header(FORMAT_VERSION + 1)]);
    let e = read(&other_version).unwrap_err();
    assert!(
        matches!(e, TraceError::Version { found, .. } if found == FORMAT_VERSION + 1),
        "{e}"
    );
    assert!(e.to_string().contains("version"), "{e}");

    let mut flipped = good.clone();
    let middle = good.len() / 2;
    flipped[middle] ^= 0x40;
    let e = read(&flipped).unwrap_err();
    assert!(
        matches!(e, TraceError::Corrupt { offset, .. } if offset <= middle as u64),
        "{e}"
    );

    let mut huge = MAGIC.to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    huge.extend_from_slice(&[0; 16]);
    let e = read(&huge).unwrap_err();
    assert!(
        e.to_string().contains("at most"),
        "the length is refused before allocating: {e}"
    );

    let no_header = file(&[step(1)]);
    assert!(matches!(
        read(&no_header),
        Err(TraceError::Corrupt { offset: 8, .. })
    ));
}

#[test]
fn a_file_cut_mid_frame_reads_to_its_last_whole_frame() {
    let good = file(&[header(FORMAT_VERSION), step(1), step(2), step(3)]);
    for cut in 1..30 {
        let t = read(&good[..good.len() - cut]).unwrap();
        assert_eq!(t.frames.len(), 3, "cut {cut}");
        let (offset, bytes) = t.torn_tail.expect("a torn tail");
        assert_eq!(offset + bytes, (good.len() - cut) as u64);
    }
}

/// Frames and torn tail.
type Found = (Vec<Frame>, Option<(u64, u64)>);

/// What a read found, without the path (the file's and the in-memory name differ).
fn outcome(read: Result<trace::file::TraceFile, TraceError>) -> Result<Found, String> {
    read.map(|t| (t.frames, t.torn_tail)).map_err(|e| {
        let text = e.to_string();
        let (_, why) = text.split_once(": ").expect("errors name the path first");
        why.to_string()
    })
}

/// The fuzz target reads from memory: the same bytes must read the same either way, and
/// what the encoder wrote must come back frame for frame.
#[test]
fn bytes_in_memory_read_as_the_file_does() {
    let frames = [header(FORMAT_VERSION), step(1), step(2)];
    let good = file(&frames);
    let name = std::path::Path::new("node-1.000000.trace");
    let t = read_bytes(name, &good).unwrap();
    assert_eq!(t.path, name);
    assert_eq!(outcome(Ok(t)), Ok((frames.to_vec(), None)));
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x40;
    let variants = (0..good.len())
        .map(|cut| good[..cut].to_vec())
        .chain([flipped, file(&[step(1)])]);
    let mut refused = 0;
    for bytes in variants {
        let from_memory = outcome(read_bytes(name, &bytes));
        refused += usize::from(from_memory.is_err());
        assert_eq!(from_memory, outcome(read(&bytes)), "{} bytes", bytes.len());
    }
    // Every cut inside the magic, the flipped byte and the missing header.
    assert_eq!(refused, MAGIC.len() + 2);
}

/// A file past the cap is refused from its size, before a byte is read (a sparse file
/// here, so the test writes nothing).
#[test]
fn a_file_past_the_cap_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node-1.000000.trace");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(trace::file::TRACE_FILE_BYTES_MAX + 1).unwrap();
    let refused = read_file(&path);
    assert!(
        matches!(refused, Err(TraceError::TooLarge { size_bytes, .. }) if size_bytes == trace::file::TRACE_FILE_BYTES_MAX + 1),
        "{refused:?}"
    );
}
