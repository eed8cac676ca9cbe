//! Built-in applications. Each is pure; the driver's registry maps names to them.

mod grep;
mod indexer;
mod wc;

pub use grep::Grep;
pub use indexer::Indexer;
pub use wc::WordCount;

/// Calls `f` on each maximal run of letters in `text` — the course's "split on non-letters"
/// (`unicode.IsLetter`). ASCII runs are scanned byte by byte in tight loops, which is what
/// keeps `wc` fast; only non-ASCII characters are decoded.
pub fn for_each_word<'a>(text: &'a str, mut f: impl FnMut(&'a str)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        i = letters_end(text, i);
        if i > start {
            f(&text[start..i]);
            continue;
        }
        // `i` is at a non-letter: step over it whole.
        i += if bytes[i].is_ascii() {
            1
        } else {
            char_at(text, i).len_utf8()
        };
    }
    debug_assert_eq!(i, bytes.len());
}

/// The end of the run of letters starting at byte `i` (`i` itself if there is none).
fn letters_end(text: &str, mut i: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i < bytes.len() && !bytes[i].is_ascii() {
            let c = char_at(text, i);
            if c.is_alphabetic() {
                i += c.len_utf8();
                continue;
            }
        }
        debug_assert!(text.is_char_boundary(i));
        return i;
    }
}

fn char_at(text: &str, i: usize) -> char {
    text[i..]
        .chars()
        .next()
        .expect("i is on a char boundary inside text")
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

    #[test]
    fn agrees_with_a_plain_split() {
        fn prop(text: String) -> bool {
            let plain: Vec<&str> = text
                .split(|c: char| !c.is_alphabetic())
                .filter(|w| !w.is_empty())
                .collect();
            words(&text) == plain
        }
        quickcheck::quickcheck(prop as fn(String) -> bool);
    }
}
