//! Built-in applications. Each is pure; the driver's registry maps names to them.

mod grep;
mod indexer;
mod wc;

pub use grep::Grep;
pub use indexer::Indexer;
pub use wc::WordCount;

/// Calls `f` on each maximal run of letters in `text` — the course's "split on non-letters"
/// (`unicode.IsLetter`). ASCII is decided byte by byte, which is what keeps `wc` fast.
pub fn for_each_word<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    let bytes = text.as_bytes();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let (is_letter, width) = if byte.is_ascii() {
            (byte.is_ascii_alphabetic(), 1)
        } else {
            let c = text[i..].chars().next().expect("i is on a char boundary");
            (c.is_alphabetic(), c.len_utf8())
        };
        match (is_letter, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                f(&text[s..i]);
                start = None;
            }
            _ => {}
        }
        i += width;
    }
    debug_assert_eq!(i, bytes.len());
    if let Some(s) = start {
        f(&text[s..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_word(text, |w| out.push(w));
        out
    }

    #[test]
    fn splits_on_non_letters() {
        assert_eq!(words("Hello, world!  it's"), ["Hello", "world", "it", "s"]);
        assert_eq!(
            words("naïve café-au-lait 42x"),
            ["naïve", "café", "au", "lait", "x"]
        );
        assert!(words(" .,; 12 ").is_empty());
    }
}
