//! Length-prefixed postcard frames over a byte stream: a 4-byte big-endian length, then the
//! payload. The length is checked against a cap before anything is allocated.

use std::io::{self, Read, Write};

use serde::{de::DeserializeOwned, Serialize};

/// Largest payload either side accepts. Messages are small (a task carries two paths and
/// the app's name and arguments); the cap only stops a confused or hostile peer.
pub const FRAME_SIZE_BYTES_MAX: u32 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the peer closed the connection")]
    Closed,
    #[error("frame of {size_bytes} bytes exceeds the {FRAME_SIZE_BYTES_MAX}-byte limit")]
    TooLarge { size_bytes: u64 },
    #[error("malformed frame: {0}")]
    Malformed(#[from] postcard::Error),
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
}

/// Writes one frame and flushes it.
pub fn write_frame<W: Write, T: Serialize>(writer: &mut W, message: &T) -> Result<(), FrameError> {
    let payload = postcard::to_allocvec(message)?;
    let size_bytes = u32::try_from(payload.len())
        .ok()
        .filter(|&n| n <= FRAME_SIZE_BYTES_MAX)
        .ok_or(FrameError::TooLarge {
            size_bytes: payload.len() as u64,
        })?;
    // One write per frame: header and payload leave in the same segment.
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&size_bytes.to_be_bytes());
    frame.extend_from_slice(&payload);
    writer
        .write_all(&frame)
        .and_then(|()| writer.flush())
        .map_err(|e| {
            if is_disconnect(&e) {
                FrameError::Closed
            } else {
                FrameError::Io(e)
            }
        })
}

/// Reads one frame. A clean end of stream before the length is [`FrameError::Closed`].
pub fn read_frame<R: Read, T: DeserializeOwned>(reader: &mut R) -> Result<T, FrameError> {
    let mut header = [0u8; 4];
    match reader.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if is_disconnect(&e) => return Err(FrameError::Closed),
        Err(e) => return Err(FrameError::Io(e)),
    }
    let size_bytes = u32::from_be_bytes(header);
    if size_bytes > FRAME_SIZE_BYTES_MAX {
        return Err(FrameError::TooLarge {
            size_bytes: u64::from(size_bytes),
        });
    }
    let mut payload = vec![0u8; size_bytes as usize];
    reader.read_exact(&mut payload).map_err(|e| {
        if is_disconnect(&e) {
            FrameError::Closed
        } else {
            FrameError::Io(e)
        }
    })?;
    let (message, rest) = postcard::take_from_bytes(&payload)?;
    if !rest.is_empty() {
        return Err(FrameError::Malformed(
            postcard::Error::DeserializeBadEncoding,
        ));
    }
    Ok(message)
}

fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &("hello".to_string(), 7u32)).unwrap();
        let back: (String, u32) = read_frame(&mut buf.as_slice()).unwrap();
        assert_eq!(back, ("hello".to_string(), 7));

        let huge = (FRAME_SIZE_BYTES_MAX + 1).to_be_bytes();
        let err = read_frame::<_, u32>(&mut huge.as_slice()).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { .. }), "{err}");
        assert!(matches!(
            read_frame::<_, u32>(&mut [].as_slice()),
            Err(FrameError::Closed)
        ));
        let truncated = [0u8, 0, 0, 9, 1];
        assert!(matches!(
            read_frame::<_, u32>(&mut truncated.as_slice()),
            Err(FrameError::Closed)
        ));
        let trailing = [0u8, 0, 0, 2, 1, 1];
        assert!(matches!(
            read_frame::<_, u8>(&mut trailing.as_slice()),
            Err(FrameError::Malformed(_))
        ));
    }
}
