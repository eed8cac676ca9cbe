//! Built-in applications. Each is pure; the driver's registry maps names to them.

mod grep;
mod indexer;
mod letters;
mod wc;

pub use grep::Grep;
pub use indexer::Indexer;
pub use letters::UNICODE_VERSION as LETTERS_UNICODE_VERSION;
pub use wc::WordCount;

/// Go's `unicode.IsLetter`: whether `c` is in Unicode general category L (Lu, Ll, Lt, Lm,
/// Lo). Not `char::is_alphabetic`, which also takes combining vowel signs (Mn/Mc), letter
/// numbers (Nl) and symbols such as Ⓒ, and so would join words the course splits.
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_letter_table(u32::from(c))
}

/// Binary search over the generated ranges (about 660 of them, so at most 10 probes).
fn in_letter_table(code: u32) -> bool {
    let ranges = letters::LETTER_RANGES;
    let i = ranges.partition_point(|&(_, last)| last < code);
    ranges.get(i).is_some_and(|&(first, _)| first <= code)
}

/// Calls `f` on each maximal run of letters ([`is_letter`]) in `text` — the course's "split
/// on non-letters" (`unicode.IsLetter`). ASCII runs are scanned byte by byte in tight loops,
/// which is what keeps `wc` fast; only non-ASCII characters are decoded.
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
            if is_letter(c) {
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
    use crate::app::MapReduce;

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
        // Where `char::is_alphabetic` would join: vowel signs (Mc, Mn), a decomposed
        // diaeresis (Mn), Ⓒ (So) and Ⅻ (Nl) all end a word, as in Go.
        assert_eq!(words("हिंदी"), ["ह", "द"]);
        assert_eq!(
            words("nai\u{308}ve Ⓒ2024 ACME Ⅻth"),
            ["nai", "ve", "ACME", "th"]
        );
    }

    /// Map output comes in key order, not hash map order (hashbrown's hasher is seeded
    /// afresh for every map), so a map task writes the same intermediate bytes on every run
    /// and every worker.
    #[test]
    fn built_in_maps_emit_keys_in_order_every_time() {
        // 3,000 occurrences of 1,000 distinct words, in scrambled order.
        let text: String = (0..3000_u32)
            .map(|i| letters_of((i * 7919) % 1000) + " ")
            .collect();
        let apps: [(&str, &dyn MapReduce); 2] = [("wc", &WordCount), ("indexer", &Indexer)];
        for (name, app) in apps {
            let first = app.map("doc", &text).unwrap();
            assert_eq!(first.len(), 1000);
            assert!(first.windows(2).all(|p| p[0].key < p[1].key), "{name}");
            let again = app.map("doc", &text).unwrap();
            assert!(again == first, "{name}: two maps of one text differ");
        }
    }

    /// `n` written in base 26 with the digits a..z.
    fn letters_of(mut n: u32) -> String {
        let mut word = String::new();
        loop {
            word.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
            if n == 0 {
                return word;
            }
        }
    }

    #[test]
    fn letters_are_category_l() {
        let cases = [
            ('a', true),
            ('Z', true),
            ('é', true),
            ('ß', true),
            ('中', true),
            ('한', true),        // Hangul syllable, Lo
            ('\u{1100}', true),  // Hangul choseong kiyeok, Lo
            ('ʰ', true),         // modifier letter small h, Lm
            ('ǅ', true),         // titlecase, Lt
            ('\u{20000}', true), // CJK extension B: four UTF-8 bytes
            ('\u{31350}', true), // CJK extension H, new in Unicode 15.0
            ('\u{24B8}', false), // Ⓒ, So (but Other_Alphabetic)
            ('\u{093F}', false), // Devanagari vowel sign I, Mc
            ('\u{0300}', false), // combining grave accent, Mn
            ('\u{216B}', false), // Ⅻ, Nl
            ('0', false),
            ('\u{0663}', false), // Arabic-Indic digit three, Nd
            ('_', false),
            (' ', false),
            ('\u{FFFD}', false), // what invalid UTF-8 in an input becomes
            ('\u{1F600}', false),
        ];
        for (c, letter) in cases {
            assert_eq!(is_letter(c), letter, "{c:?} U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn letter_table_is_sorted_disjoint_and_merged() {
        let ranges = letters::LETTER_RANGES;
        assert!(ranges.len() > 600, "{} ranges", ranges.len());
        for &(first, last) in ranges {
            assert!(first <= last && last <= u32::from(char::MAX));
            assert!(
                last < 0xD800 || first > 0xDFFF,
                "{first:X}..={last:X} has surrogates"
            );
        }
        for pair in ranges.windows(2) {
            // `+ 1 <`: adjacent ranges would have been merged by the generator.
            assert!(pair[0].1 + 1 < pair[1].0, "{pair:X?} overlap or touch");
        }
        // The ASCII fast path in `is_letter` must say what the table says.
        for b in 0..=0x7F_u8 {
            assert_eq!(
                in_letter_table(u32::from(b)),
                b.is_ascii_alphabetic(),
                "{b:#x}"
            );
        }
    }

    /// Every code point: the binary search agrees with a plain walk over the ranges.
    #[test]
    fn lookup_agrees_with_a_walk_over_the_table() {
        let mut letter = vec![false; 0x11_0000];
        for &(first, last) in letters::LETTER_RANGES {
            letter[first as usize..=last as usize].fill(true);
        }
        let chars = (0..=u32::from(char::MAX)).filter_map(char::from_u32);
        for c in chars {
            assert_eq!(is_letter(c), letter[c as usize], "U+{:04X}", u32::from(c));
        }
    }

    /// Category L is a subset of the Alphabetic property, which adds Nl, Other_Alphabetic
    /// marks and symbols; std's tables may also be of a newer Unicode than ours, adding
    /// letters we do not know yet. So every letter is alphabetic, never the reverse.
    #[test]
    fn letters_are_alphabetic_but_not_conversely() {
        let mut letter_only = Vec::new();
        let mut alphabetic_only = 0;
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            match (is_letter(c), c.is_alphabetic()) {
                (true, false) => letter_only.push(c),
                (false, true) => alphabetic_only += 1,
                _ => {}
            }
        }
        let (major, minor, update) = char::UNICODE_VERSION;
        let versions = format!(
            "letters of Unicode {LETTERS_UNICODE_VERSION}, is_alphabetic of Unicode \
             {major}.{minor}.{update}"
        );
        assert_eq!(letter_only, [] as [char; 0], "{versions}");
        assert!(alphabetic_only > 1000, "{versions}: {alphabetic_only}");
    }

    #[test]
    fn agrees_with_a_plain_split() {
        fn prop(text: String) -> bool {
            let plain: Vec<&str> = text
                .split(|c: char| !is_letter(c))
                .filter(|w| !w.is_empty())
                .collect();
            words(&text) == plain
        }
        quickcheck::quickcheck(prop as fn(String) -> bool);
    }

    /// The same, on text drawn from the characters where the scanner's paths meet: ASCII and
    /// non-ASCII letters of every UTF-8 length next to marks, symbols, digits and spaces.
    #[test]
    fn agrees_with_a_plain_split_on_edge_characters() {
        const POOL: &[char] = &[
            'a',
            'Z',
            ' ',
            '1',
            '_',
            'é',
            'ʰ',
            '\u{300}',
            '\u{93F}',
            'ह',
            'Ⓒ',
            'Ⅻ',
            '中',
            '\u{FFFD}',
            '\u{20000}',
            '\u{1F600}',
        ];
        fn prop(picks: Vec<u8>) -> bool {
            let text: String = picks
                .iter()
                .map(|&i| POOL[usize::from(i) % POOL.len()])
                .collect();
            let plain: Vec<&str> = text
                .split(|c: char| !is_letter(c))
                .filter(|w| !w.is_empty())
                .collect();
            words(&text) == plain
        }
        quickcheck::quickcheck(prop as fn(Vec<u8>) -> bool);
    }
}
