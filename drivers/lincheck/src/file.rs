//! Reading a history file with a size cap, so a wrong path (a disk image, /dev/zero) fails
//! fast instead of exhausting memory.

use std::io::Read;
use std::path::Path;

use crate::ParseError;

/// History files larger than this are refused before reading.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Histories with more operations than this are refused while parsing.
pub const MAX_OPERATIONS: usize = 1 << 20;

pub(crate) fn read_capped(path: &Path) -> Result<String, ParseError> {
    let file = std::fs::File::open(path)?;
    let size_bytes = file.metadata()?.len();
    if size_bytes > MAX_FILE_BYTES {
        return Err(ParseError::TooLarge {
            size_bytes,
            limit_bytes: MAX_FILE_BYTES,
        });
    }
    // The file may grow (or be special) after the check: never read past the cap.
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ParseError::TooLarge {
            size_bytes: text.len() as u64,
            limit_bytes: MAX_FILE_BYTES,
        });
    }
    Ok(text)
}
