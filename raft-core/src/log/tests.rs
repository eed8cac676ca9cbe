use super::*;
use crate::types::EntryKind;
use quickcheck::quickcheck;

fn entry(index: Index, term: Term) -> Entry {
    Entry {
        term,
        index,
        kind: EntryKind::Normal,
        data: vec![index as u8].into(),
    }
}

fn log_with_terms(terms: &[Term]) -> RaftLog {
    let entries = terms
        .iter()
        .enumerate()
        .map(|(i, &t)| entry(i as Index + 1, t))
        .collect();
    RaftLog::restored(LogPosition::default(), entries, 0)
}

#[test]
fn term_lookup_and_bounds() {
    let log = log_with_terms(&[1, 1, 2, 3]);
    assert_eq!(log.term(0), Some(0));
    assert_eq!(log.term(3), Some(2));
    assert_eq!(log.term(5), None);
    assert_eq!((log.last_index(), log.last_term()), (4, 3));
    assert_eq!(log.last_index_of_term(1), Some(2));
    assert_eq!(log.last_index_of_term(4), None);
    assert_eq!(log.first_index_of_term_at(2), 1);
    assert_eq!(log.first_index_of_term_at(4), 4);
}

#[test]
fn up_to_date_table() {
    let log = log_with_terms(&[1, 2, 2]);
    for (last_index, last_term, want) in [
        (3, 2, true),
        (2, 2, false),
        (1, 3, true),
        (9, 1, false),
        (4, 2, true),
    ] {
        assert_eq!(
            log.is_up_to_date(last_index, last_term),
            want,
            "({last_index}, {last_term})"
        );
    }
}

#[test]
fn truncate_on_conflict_keeps_prefix_and_lowers_persisted() {
    let mut log = log_with_terms(&[1, 1, 1, 1]);
    let incoming = [entry(2, 1), entry(3, 2), entry(4, 2), entry(5, 2)];
    assert_eq!(log.find_conflict(&incoming), Some(3));
    log.truncate_and_append(incoming[1..].to_vec());
    assert_eq!(log.last_index(), 5);
    assert_eq!(log.term(2), Some(1));
    assert_eq!(log.term(3), Some(2));
    assert_eq!(
        log.persisted(),
        2,
        "the replaced suffix is no longer durable"
    );
    let handed = log.take_unhanded();
    assert_eq!(
        handed.first().map(|e| e.index),
        Some(3),
        "driver must truncate from 3"
    );
    assert!(log.take_unhanded().is_empty());
}

#[test]
fn stale_persisted_report_is_ignored() {
    let mut log = log_with_terms(&[1, 1]);
    log.truncate_and_append(vec![entry(2, 2)]);
    assert!(!log.persisted_to(LogPosition { term: 1, index: 2 }));
    assert!(log.persisted_to(LogPosition { term: 2, index: 2 }));
}

#[test]
fn committed_are_handed_once() {
    let mut log = log_with_terms(&[1, 1, 1]);
    log.commit_to(2);
    assert_eq!(log.take_committed().len(), 2);
    assert!(log.take_committed().is_empty());
    log.commit_to(1);
    assert_eq!(log.committed(), 2, "commit never goes back");
}

#[test]
fn slice_respects_bytes_but_sends_at_least_one() {
    let log = log_with_terms(&[1, 1, 1]);
    let one = entry(1, 1).size_bytes();
    assert_eq!(log.slice_bytes(1, 1).len(), 1);
    assert_eq!(log.slice_bytes(1, 2 * one).len(), 2);
    assert_eq!(log.slice_bytes(1, usize::MAX).len(), 3);
    assert!(log.slice_bytes(4, usize::MAX).is_empty());
}

/// Reference model: a plain vector of terms.
fn apply_append(model: &mut Vec<Term>, prev: usize, terms: &[Term]) {
    for (i, &t) in terms.iter().enumerate() {
        let at = prev + i;
        if at < model.len() && model[at] != t {
            model.truncate(at);
        }
        if at >= model.len() {
            model.push(t);
        }
    }
}

quickcheck! {
    /// Follower-style appends agree with the reference model on every index.
    fn appends_match_model(ops: Vec<(u8, Vec<u8>)>) -> bool {
        let mut log = RaftLog::default();
        let mut model: Vec<Term> = Vec::new();
        for (prev, bumps) in ops {
            let prev = usize::from(prev) % (model.len() + 1);
            let base = model.get(prev.wrapping_sub(1)).copied().unwrap_or(0);
            let mut t = base;
            let terms: Vec<Term> = bumps.iter().take(6).map(|b| { t += Term::from(b % 2); t }).collect();
            let entries: Vec<Entry> = terms.iter().enumerate().map(|(i, &t)| entry((prev + i + 1) as Index, t)).collect();
            if let Some(c) = log.find_conflict(&entries) {
                let skip = (c as usize) - prev - 1;
                // A real leader never sends a term below its predecessor's; skip such cases.
                if entries[skip].term >= log.term(c - 1).unwrap_or(0) {
                    log.truncate_and_append(entries[skip..].to_vec());
                    apply_append(&mut model, prev, &terms);
                } else {
                    continue;
                }
            }
            let got: Vec<Term> = (1..=log.last_index()).map(|i| log.term(i).unwrap()).collect();
            if got != model { return false; }
        }
        true
    }
}
