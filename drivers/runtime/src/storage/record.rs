//! One record: its payload (what a `raft_core::Write` or a checkpoint says) and its frame
//! on disk, `[len: u32 LE][crc32c: u32 LE over payload][payload: len bytes]`.
//!
//! Reading a frame classifies what it finds rather than failing: a frame cut short by
//! the end of the file, or zeros where a frame should be, is what a crash leaves behind
//! (`Torn`); a checksum mismatch over non-zero bytes is what a bad disk leaves behind
//! (`Bad`). Only the caller knows whether the frame is at the end of the log, where the
//! first is harmless.

use std::borrow::Cow;
use std::io::{self, Read};

use raft_core::{Entry, HardState};
use serde::{Deserialize, Serialize};

use super::error::StorageError;
use super::snapshot_file::SnapshotRef;

/// `len` and `crc32c`, both u32 LE.
pub(crate) const FRAME_HEADER_BYTES: u64 = 8;

/// The payload. Variants are only ever added at the end (postcard encodes the variant
/// index), and the segment header carries a format version for anything more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Record<'a> {
    /// The whole durable state except snapshot bytes: replay starts here.
    Checkpoint {
        hard_state: HardState,
        snapshot: Option<SnapshotRef>,
        entries: Cow<'a, [Entry]>,
    },
    /// One `raft_core::Write`, applied as `Write::apply_to` does.
    Write {
        hard_state: Option<HardState>,
        snapshot: Option<SnapshotRef>,
        entries: Cow<'a, [Entry]>,
    },
}

/// The framed bytes of `record`, refused if its payload would exceed `record_bytes_max`
/// (recovery would refuse to read it back).
pub(crate) fn frame(record: &Record<'_>, record_bytes_max: u32) -> Result<Vec<u8>, StorageError> {
    let header = [0u8; FRAME_HEADER_BYTES as usize];
    let mut bytes =
        postcard::to_extend(record, header.to_vec()).map_err(|e| StorageError::InvalidWrite {
            reason: format!("cannot encode record: {e}"),
        })?;
    let size_bytes = bytes.len() as u64 - FRAME_HEADER_BYTES;
    if size_bytes > u64::from(record_bytes_max) {
        return Err(StorageError::RecordTooLarge {
            size_bytes,
            max: record_bytes_max,
        });
    }
    assert!(
        size_bytes > 0,
        "a postcard enum encodes to at least one byte"
    );
    let len = u32::try_from(size_bytes).expect("checked against a u32 above");
    let crc = crc32c::crc32c(&bytes[FRAME_HEADER_BYTES as usize..]);
    bytes[0..4].copy_from_slice(&len.to_le_bytes());
    bytes[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Decodes a payload whose checksum already matched; the whole payload must be used.
pub(crate) fn decode(payload: &[u8]) -> Result<Record<'static>, String> {
    let (record, rest) = postcard::take_from_bytes::<Record<'static>>(payload)
        .map_err(|e| format!("undecodable payload: {e}"))?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the payload's end", rest.len()));
    }
    Ok(record)
}

/// What one attempt to read a frame found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// The file ends exactly here.
    End,
    /// A payload whose checksum matches.
    Payload(Vec<u8>),
    /// What an interrupted append leaves: a frame cut short by the end of the file, or
    /// zeros (unwritten blocks) from here to the end of the file.
    Torn(&'static str),
    /// Anything else: damage, not an interrupted append.
    Bad(String),
}

/// Reads the frame at the reader's position, `remaining_bytes` before the end of the
/// file. The length is checked against the file's end and `record_bytes_max` before
/// anything is allocated for the payload.
pub(crate) fn read_frame(
    reader: &mut impl Read,
    remaining_bytes: u64,
    record_bytes_max: u32,
) -> io::Result<Frame> {
    if remaining_bytes == 0 {
        return Ok(Frame::End);
    }
    if remaining_bytes < FRAME_HEADER_BYTES {
        return Ok(Frame::Torn("frame header cut short by the end of the file"));
    }
    let mut header = [0u8; FRAME_HEADER_BYTES as usize];
    reader.read_exact(&mut header)?;
    let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
    let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    let after_header_bytes = remaining_bytes - FRAME_HEADER_BYTES;
    if len == 0 {
        // No record is empty, so a zero length is unwritten (or preallocated) space,
        // provided nothing but zeros follows.
        if crc == 0 && rest_is_zero(reader, after_header_bytes)? {
            return Ok(Frame::Torn("zeros to the end of the file"));
        }
        return Ok(Frame::Bad(
            "zero-length record followed by data".to_string(),
        ));
    }
    if u64::from(len) > after_header_bytes {
        return cut_short(reader, len, after_header_bytes, record_bytes_max);
    }
    if len > record_bytes_max {
        let reason = format!("length {len} exceeds record_bytes_max {record_bytes_max}");
        return Ok(Frame::Bad(reason));
    }
    let mut payload = vec![0u8; len as usize];
    reader.read_exact(&mut payload)?;
    let computed = crc32c::crc32c(&payload);
    if computed == crc {
        return Ok(Frame::Payload(payload));
    }
    // A length written but payload blocks never were: the filesystem shows zeros.
    let zeroed = payload.iter().all(|&b| b == 0);
    if zeroed && rest_is_zero(reader, after_header_bytes - u64::from(len))? {
        return Ok(Frame::Torn("record payload is zeros (never written)"));
    }
    let reason = format!("checksum mismatch (stored {crc:#010x}, computed {computed:#010x})");
    Ok(Frame::Bad(reason))
}

/// A frame whose length runs past the end of the file: the end of an interrupted append,
/// unless a valid frame follows it, in which case the length itself is damaged and
/// cutting here would drop records that were written (and perhaps acknowledged).
fn cut_short(
    reader: &mut impl Read,
    len: u32,
    after_header_bytes: u64,
    record_bytes_max: u32,
) -> io::Result<Frame> {
    // A torn frame is shorter than its length, which we never write above the maximum:
    // more bytes than that after it cannot all belong to it.
    if after_header_bytes > u64::from(record_bytes_max) {
        let reason = format!("length {len} runs past the end of the file");
        return Ok(Frame::Bad(reason));
    }
    let mut rest = vec![0u8; usize::try_from(after_header_bytes).expect("<= record_bytes_max")];
    reader.read_exact(&mut rest)?;
    match valid_frame_within(&rest, record_bytes_max) {
        None => Ok(Frame::Torn("record cut short by the end of the file")),
        Some(at) => {
            let at = at as u64 + FRAME_HEADER_BYTES;
            let reason = format!("length {len} runs past the end of the file, yet a valid record follows {at} bytes later");
            Ok(Frame::Bad(reason))
        }
    }
}

/// The first position in `bytes` where a complete frame with a matching checksum over a
/// non-zero payload starts, if any.
fn valid_frame_within(bytes: &[u8], record_bytes_max: u32) -> Option<usize> {
    let header_bytes = FRAME_HEADER_BYTES as usize;
    (0..bytes.len().saturating_sub(header_bytes)).find(|&at| {
        let word = |from: usize| u32::from_le_bytes(bytes[from..from + 4].try_into().expect("4"));
        let (len, crc) = (word(at), word(at + 4));
        let start = at + header_bytes;
        let fits = len > 0 && len <= record_bytes_max && len as usize <= bytes.len() - start;
        fits && crc32c::crc32c(&bytes[start..start + len as usize]) == crc
    })
}

/// Whether the next `bytes` bytes are all zero, read in bounded chunks.
fn rest_is_zero(reader: &mut impl Read, bytes: u64) -> io::Result<bool> {
    let mut chunk = [0u8; 8192];
    let mut left = bytes;
    while left > 0 {
        let n = usize::try_from(left.min(chunk.len() as u64)).expect("at most 8192");
        reader.read_exact(&mut chunk[..n])?;
        if chunk[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft_core::EntryKind;
    use std::io::Cursor;

    fn sample() -> Record<'static> {
        let entry = Entry {
            term: 2,
            index: 5,
            kind: EntryKind::Normal,
            data: b"hello".to_vec().into(),
        };
        Record::Write {
            hard_state: Some(HardState {
                term: 2,
                vote: Some(1),
                commit: 4,
            }),
            snapshot: None,
            entries: Cow::Owned(vec![entry]),
        }
    }

    fn read(bytes: &[u8], max: u32) -> Frame {
        read_frame(&mut Cursor::new(bytes), bytes.len() as u64, max).unwrap()
    }

    #[test]
    fn frame_round_trips() {
        let bytes = frame(&sample(), 1024).unwrap();
        let Frame::Payload(payload) = read(&bytes, 1024) else {
            panic!("expected a payload");
        };
        assert_eq!(decode(&payload).unwrap(), sample());
    }

    #[test]
    fn too_large_is_refused_on_write_and_on_read() {
        let bytes = frame(&sample(), 1024).unwrap();
        let size = bytes.len() as u32 - FRAME_HEADER_BYTES as u32;
        assert!(matches!(
            frame(&sample(), size - 1),
            Err(StorageError::RecordTooLarge { .. })
        ));
        assert!(matches!(read(&bytes, size - 1), Frame::Bad(_)));
    }

    #[test]
    fn classifies_damage() {
        let bytes = frame(&sample(), 1024).unwrap();
        for cut in 1..bytes.len() {
            assert!(matches!(read(&bytes[..cut], 1024), Frame::Torn(_)), "{cut}");
        }
        assert_eq!(read(&[], 1024), Frame::End);
        assert!(matches!(read(&[0; 40], 1024), Frame::Torn(_)));
        let mut zeroed = bytes.clone();
        zeroed[8..].fill(0);
        assert!(matches!(read(&zeroed, 1024), Frame::Torn(_)));
        zeroed.push(1);
        assert!(matches!(read(&zeroed, 1024), Frame::Bad(_)));
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 0x40;
        assert!(matches!(read(&flipped, 1024), Frame::Bad(_)));
        let mut huge = vec![0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4];
        assert!(matches!(read(&huge, 1024), Frame::Torn(_)));
        huge.extend(std::iter::repeat_n(7, 2000));
        huge[0..4].copy_from_slice(&1500u32.to_le_bytes());
        assert!(matches!(read(&huge, 1024), Frame::Bad(_)));
    }

    #[test]
    fn damaged_length_before_a_valid_record_is_not_torn() {
        let one = frame(&sample(), 1024).unwrap();
        let mut two = one.clone();
        two.extend_from_slice(&one);
        two[0..4].copy_from_slice(&500u32.to_le_bytes());
        assert!(matches!(read(&two, 1024), Frame::Bad(_)));
        two[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(read(&two, 1024), Frame::Bad(_)));
        assert!(matches!(read(&two, 40), Frame::Bad(_)));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut payload = postcard::to_allocvec(&sample()).unwrap();
        payload.push(0);
        assert!(decode(&payload).is_err());
    }
}
