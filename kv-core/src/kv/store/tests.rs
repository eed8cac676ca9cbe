use std::collections::BTreeMap;

use quickcheck::{quickcheck, TestResult};

use serde::de::DeserializeSeed;

use super::{HashKey, Store, StoreSeed, PAGE_BYTES};

/// One operation of a model test: key number, and a value built from a byte and a size.
#[derive(Clone, Debug)]
enum Step {
    Insert(u8, u8, u16),
    Append(u8, u8, u16),
    Remove(u8),
}

impl quickcheck::Arbitrary for Step {
    fn arbitrary(g: &mut quickcheck::Gen) -> Step {
        let key = u8::arbitrary(g) % 24;
        // Mostly small values, some large enough to fill pages and get pages of their own.
        let size = match u8::arbitrary(g) % 8 {
            0 => u16::arbitrary(g),
            1 => u16::arbitrary(g) % 4096,
            _ => u16::arbitrary(g) % 200,
        };
        match u8::arbitrary(g) % 5 {
            0 => Step::Remove(key),
            1 => Step::Append(key, u8::arbitrary(g), size / 8),
            _ => Step::Insert(key, u8::arbitrary(g), size),
        }
    }
}

fn key(n: u8) -> String {
    format!("key-{n}")
}

fn value(c: u8, size: u16) -> String {
    char::from(b'a' + c % 26)
        .to_string()
        .repeat(usize::from(size))
}

/// Applies `steps` to a store and to a `BTreeMap`, checking they agree after each.
fn run(steps: &[Step]) -> Store {
    run_keyed(steps, HashKey::default())
}

/// [`run`] with the store's table keyed by `hash_key`.
fn run_keyed(steps: &[Step], hash_key: HashKey) -> Store {
    // Small pages, so a short run fills, seals and evacuates many.
    let mut store = Store::with_page_bytes(4096).rekeyed(hash_key);
    let mut model: BTreeMap<String, String> = BTreeMap::new();
    for step in steps {
        match *step {
            Step::Insert(k, c, size) => {
                store.insert(&key(k), &value(c, size));
                model.insert(key(k), value(c, size));
            }
            Step::Append(k, c, size) => {
                let len = store.append(&key(k), &value(c, size));
                let v = model.entry(key(k)).or_default();
                v.push_str(&value(c, size));
                assert_eq!(len, v.len());
            }
            Step::Remove(k) => {
                assert_eq!(store.remove(&key(k)), model.remove(&key(k)).is_some());
            }
        }
        store.check_invariants();
        assert_eq!(store.len(), model.len());
    }
    for (k, v) in &model {
        assert_eq!(store.get(k), Some(v.as_str()), "{k}");
    }
    let sorted: Vec<(&str, &str)> = model.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    assert_eq!(store.sorted().collect::<Vec<_>>(), sorted);
    store
}

quickcheck! {
    fn agrees_with_a_btreemap(steps: Vec<Step>) -> TestResult {
        run(&steps);
        TestResult::passed()
    }

    fn encodes_as_a_btreemap_and_back(steps: Vec<Step>) -> TestResult {
        let store = run(&steps);
        let model: BTreeMap<&str, &str> = store.iter().collect();
        let bytes = postcard::to_allocvec(&store).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&model).unwrap());
        let back: Store = postcard::from_bytes(&bytes).unwrap();
        back.check_invariants();
        TestResult::from_bool(back == store)
    }

    /// Keyed by any seed, a store holds and encodes the same; a filled store keyed
    /// again, and one decoded under a key, still find every record (`check_invariants`
    /// looks each key up through the table).
    fn a_hash_key_changes_where_keys_land_not_what_is_stored(steps: Vec<Step>, seed: u64) -> TestResult {
        let keyed = run_keyed(&steps, HashKey::from_seed(seed));
        let plain = run(&steps);
        let bytes = postcard::to_allocvec(&keyed).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&plain).unwrap());
        let rekeyed = plain.rekeyed(HashKey::from_seed(seed ^ 1));
        rekeyed.check_invariants();
        let mut decoder = postcard::Deserializer::from_bytes(&bytes);
        let decoded = StoreSeed(HashKey::from_seed(seed)).deserialize(&mut decoder).unwrap();
        decoded.check_invariants();
        assert_eq!(keyed.hash_key(), HashKey::from_seed(seed));
        assert_eq!(rekeyed.hash_key(), HashKey::from_seed(seed ^ 1));
        assert_eq!(decoded.hash_key(), HashKey::from_seed(seed), "decoded under its key");
        TestResult::from_bool(decoded == keyed && rekeyed == keyed)
    }
}

#[test]
fn overwrites_of_the_same_length_stay_in_place() {
    let mut store = Store::default();
    store.insert("k", "0123");
    let before = store.page_bytes();
    for _ in 0..1000 {
        store.insert("k", "abcd");
    }
    assert_eq!(store.page_bytes(), before);
    assert_eq!(store.get("k"), Some("abcd"));
}

/// Rewriting one key with values of changing lengths fills page after page with
/// garbage; sealed pages are freed, so the pages never hold much more than the tail.
#[test]
fn garbage_is_collected_as_pages_fill() {
    let mut store = Store::default();
    store.insert("kept", "x");
    for i in 0..100_000usize {
        store.insert("k", &"v".repeat(100 + i % 2));
    }
    store.check_invariants();
    assert!(
        store.page_bytes() <= 2 * PAGE_BYTES,
        "{} bytes",
        store.page_bytes()
    );
    assert_eq!(store.get("kept"), Some("x"));
}

/// Many live keys and a churn of rewrites: sealed pages keep two thirds of their bytes
/// live, so the pages hold at most 1.5× the live bytes plus one page.
#[test]
fn pages_hold_at_most_one_and_a_half_times_the_live_bytes() {
    let mut store = Store::default();
    for round in 0..6usize {
        for k in 0..20_000usize {
            if (k + round) % 3 != 0 {
                store.insert(&format!("key:{k}"), &"v".repeat(60 + (k + round) % 40));
            }
        }
    }
    store.check_invariants();
    let (live, held) = (store.live_bytes(), store.page_bytes());
    assert!(
        held * 2 <= live * 3 + 2 * PAGE_BYTES,
        "{held} held for {live} live"
    );
}

#[test]
fn a_large_value_gets_a_page_of_its_own_and_frees_it() {
    let mut store = Store::default();
    store.insert("small", "s");
    store.insert("big", &"b".repeat(PAGE_BYTES * 2));
    store.check_invariants();
    assert_eq!(store.get("big").map(str::len), Some(PAGE_BYTES * 2));
    assert!(store.remove("big"));
    store.check_invariants();
    assert!(store.page_bytes() < PAGE_BYTES);
    assert_eq!(store.get("small"), Some("s"));
}

#[test]
fn hostile_keys_and_values() {
    let mut store = Store::default();
    store.insert("", "");
    store.insert("é", "ünïcode");
    store.append("", "x");
    assert_eq!(store.get(""), Some("x"));
    assert_eq!(store.get("é"), Some("ünïcode"));
    assert!(!store.remove("absent"));
    assert_eq!(store.append("new", ""), 0);
    assert_eq!(store.get("new"), Some(""));
    store.check_invariants();
}

/// A snapshot holding a value past the service's limit (from a corrupt disk or a hostile
/// leader) is refused as a decode error; the store never sees it.
#[test]
fn a_decoded_value_past_the_limit_is_an_error() {
    use crate::kv::VALUE_BYTES_MAX;
    let mut map = BTreeMap::new();
    map.insert("k".to_string(), "v".repeat(VALUE_BYTES_MAX + 1));
    let bytes = postcard::to_allocvec(&map).unwrap();
    assert!(postcard::from_bytes::<Store>(&bytes).is_err());
    map.insert("k".to_string(), "v".repeat(VALUE_BYTES_MAX));
    let bytes = postcard::to_allocvec(&map).unwrap();
    assert_eq!(postcard::from_bytes::<Store>(&bytes).unwrap().len(), 1);
}
