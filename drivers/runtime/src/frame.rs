//! Length-prefixed, checksummed frames: what every byte on a peer connection travels in.
//!
//! A frame is `[len: u32 LE][crc32c(payload): u32 LE][payload: len bytes]`. The length
//! is checked against the reader's `frame_bytes_max` as soon as the 8-byte header has
//! arrived, before any buffer grows for the payload, so a peer cannot make a node
//! allocate on a length field's say-so. A checksum mismatch means the stream is not
//! what the peer meant to send (or not a peer at all): the connection is dropped.

use bytes::{Buf, BytesMut};
use thiserror::Error;

pub const FRAME_HEADER_BYTES: usize = 8;

/// Frames larger than this are refused by default: a Raft append is at most
/// `append_bytes_max` plus one entry (1 MiB each by default), a snapshot chunk 256 KiB.
pub const FRAME_BYTES_MAX_DEFAULT: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame of {size_bytes} bytes exceeds the limit of {max} bytes")]
    TooLarge { size_bytes: u64, max: usize },
    #[error("frame checksum mismatch (expected {expected:#010x}, computed {actual:#010x})")]
    Checksum { expected: u32, actual: u32 },
}

/// Appends one frame holding `payload` to `out`.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).expect("frames are far below 4 GiB");
    out.reserve(FRAME_HEADER_BYTES + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Takes one whole frame's payload off the front of `buf`; `Ok(None)` until it has
/// fully arrived. On error the stream is unusable: close the connection.
pub fn decode_frame(
    buf: &mut BytesMut,
    frame_bytes_max: usize,
) -> Result<Option<BytesMut>, FrameError> {
    if buf.len() < FRAME_HEADER_BYTES {
        return Ok(None);
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
    let expected = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    if len > frame_bytes_max {
        return Err(FrameError::TooLarge {
            size_bytes: len as u64,
            max: frame_bytes_max,
        });
    }
    if buf.len() < FRAME_HEADER_BYTES + len {
        // Reserve what this frame needs, now that its size is known to be allowed.
        buf.reserve(FRAME_HEADER_BYTES + len - buf.len());
        return Ok(None);
    }
    buf.advance(FRAME_HEADER_BYTES);
    let payload = buf.split_to(len);
    let actual = crc32c::crc32c(&payload);
    if actual != expected {
        return Err(FrameError::Checksum { expected, actual });
    }
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            encode_frame(p, &mut out);
        }
        out
    }

    #[test]
    fn frames_come_out_as_they_went_in_whatever_the_arrival_split() {
        let bytes = framed(&[b"hello", b"", b"world!"]);
        for split in 0..=bytes.len() {
            let mut buf = BytesMut::from(&bytes[..split]);
            let mut got = Vec::new();
            while let Some(p) = decode_frame(&mut buf, 64).unwrap() {
                got.push(p.to_vec());
            }
            buf.extend_from_slice(&bytes[split..]);
            while let Some(p) = decode_frame(&mut buf, 64).unwrap() {
                got.push(p.to_vec());
            }
            assert_eq!(got, vec![b"hello".to_vec(), vec![], b"world!".to_vec()]);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn an_oversize_length_is_refused_from_the_header_alone() {
        let mut buf = BytesMut::from(&u32::MAX.to_le_bytes()[..]);
        buf.extend_from_slice(&[0; 4]);
        let capacity = buf.capacity();
        let err = decode_frame(&mut buf, 1 << 20).unwrap_err();
        assert_eq!(
            err,
            FrameError::TooLarge {
                size_bytes: u32::MAX as u64,
                max: 1 << 20
            }
        );
        assert_eq!(buf.capacity(), capacity, "nothing was reserved for it");
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let bytes = framed(&[b"a raft message"]);
        for i in FRAME_HEADER_BYTES * 8..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let mut buf = BytesMut::from(&bad[..]);
            assert!(matches!(
                decode_frame(&mut buf, 64),
                Err(FrameError::Checksum { .. })
            ));
        }
    }
}
