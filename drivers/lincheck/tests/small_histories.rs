//! Hand-made histories small enough to check by eye.

use std::time::Duration;

use lincheck::{
    check, check_with_limits, check_with_stats, KvInput, KvModel, KvOutput, Limit, Limits,
    Operation, RegisterInput as RI, RegisterModel, RegisterOutput as RO, Verdict,
};

const BUDGET: Duration = Duration::from_secs(10);

fn op<I, O>(
    client: u64,
    input: I,
    output: Option<O>,
    call: u64,
    ret: Option<u64>,
) -> Operation<I, O> {
    Operation {
        client,
        input,
        output,
        call,
        ret,
    }
}

fn read(client: u64, value: Option<i64>, call: u64, ret: u64) -> Operation<RI, RO> {
    op(client, RI::Read, Some(RO::Read(value)), call, Some(ret))
}

fn write(client: u64, value: i64, call: u64, ret: Option<u64>) -> Operation<RI, RO> {
    let output = ret.map(|_| RO::Done);
    op(client, RI::Write(value), output, call, ret)
}

fn cas(
    client: u64,
    (from, to): (i64, i64),
    ok: Option<bool>,
    call: u64,
    ret: u64,
) -> Operation<RI, RO> {
    op(
        client,
        RI::Cas { from, to },
        ok.map(RO::Cas),
        call,
        Some(ret),
    )
}

fn register(history: &[Operation<RI, RO>]) -> Verdict {
    check(&RegisterModel, history, BUDGET)
}

fn is_linearizable(v: &Verdict) -> bool {
    match v {
        Verdict::Linearizable => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown => panic!("unexpected unknown"),
    }
}

#[test]
fn empty_history_is_linearizable() {
    assert_eq!(register(&[]), Verdict::Linearizable);
}

#[test]
fn sequential_history_is_linearizable() {
    let h = [
        read(0, None, 0, 1),
        write(0, 1, 2, Some(3)),
        read(1, Some(1), 4, 5),
    ];
    assert_eq!(register(&h), Verdict::Linearizable);
}

#[test]
fn concurrent_history_needing_a_reorder() {
    // The read is invoked first but must be linearized after the write it overlaps.
    let h = [read(0, Some(1), 0, 10), write(1, 1, 1, Some(2))];
    assert_eq!(register(&h), Verdict::Linearizable);
}

#[test]
fn touching_intervals_count_as_concurrent() {
    // The read returns at the very time the write is invoked: either order is allowed.
    let h = [read(0, Some(1), 0, 5), write(1, 1, 5, Some(9))];
    assert_eq!(register(&h), Verdict::Linearizable);
}

#[test]
fn stale_read_is_not_linearizable() {
    let h = [
        write(0, 1, 0, Some(1)),
        write(0, 2, 2, Some(3)),
        read(1, Some(1), 4, 5),
    ];
    assert!(!is_linearizable(&register(&h)));
}

#[test]
fn pending_write_may_take_effect_long_after_its_call() {
    let h = [
        write(0, 1, 0, None),
        read(1, None, 5, 6),
        read(1, None, 50, 60),
        read(2, Some(1), 100, 101),
    ];
    assert_eq!(register(&h), Verdict::Linearizable);
}

#[test]
fn pending_write_may_never_take_effect() {
    let h = [
        write(0, 1, 0, None),
        read(1, None, 1, 2),
        read(1, None, 3, 4),
    ];
    assert_eq!(register(&h), Verdict::Linearizable);
}

#[test]
fn pending_write_cannot_take_effect_before_its_call() {
    let h = [read(1, Some(1), 0, 2), write(0, 1, 3, None)];
    assert!(!is_linearizable(&register(&h)));
}

#[test]
fn pending_write_takes_effect_only_once() {
    let h = [
        write(0, 1, 0, None),
        read(1, Some(1), 1, 2),
        write(2, 2, 3, Some(4)),
        read(1, Some(1), 5, 6),
    ];
    assert!(!is_linearizable(&register(&h)));
}

#[test]
fn register_cas_success_and_failure() {
    let w = write(0, 1, 0, Some(1));
    let ok = [
        w.clone(),
        cas(1, (1, 2), Some(true), 2, 3),
        read(2, Some(2), 4, 5),
    ];
    assert_eq!(register(&ok), Verdict::Linearizable);
    let fails_rightly = [
        w.clone(),
        cas(1, (3, 2), Some(false), 2, 3),
        read(2, Some(1), 4, 5),
    ];
    assert_eq!(register(&fails_rightly), Verdict::Linearizable);
    let fails_wrongly = [w.clone(), cas(1, (1, 2), Some(false), 2, 3)];
    assert!(!is_linearizable(&register(&fails_wrongly)));
    let succeeds_wrongly = [w, cas(1, (3, 2), Some(true), 2, 3)];
    assert!(!is_linearizable(&register(&succeeds_wrongly)));
    // A cas on the initial nil never succeeds.
    assert!(!is_linearizable(&register(&[cas(
        0,
        (0, 1),
        Some(true),
        0,
        1
    )])));
}

#[test]
fn unknown_output_is_whatever_the_model_says() {
    // The cas completed but its result was lost: it succeeded, since the register held 1.
    let h = |seen: i64| {
        vec![
            write(0, 1, 0, Some(1)),
            cas(1, (1, 2), None, 2, 3),
            read(2, Some(seen), 4, 5),
        ]
    };
    assert_eq!(register(&h(2)), Verdict::Linearizable);
    assert!(!is_linearizable(&register(&h(1))));
}

#[test]
fn reads_with_unknown_output_are_dropped() {
    let h = [
        write(0, 1, 0, Some(1)),
        op(1, RI::Read, None, 2, Some(3)),
        op(2, RI::Read, None, 2, None),
        read(3, Some(1), 4, 5),
    ];
    let result = check_with_stats(&RegisterModel, &h, BUDGET);
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!((result.stats.operations, result.stats.dropped), (4, 2));
}

#[test]
fn explanation_names_the_prefix_and_the_stuck_operation() {
    let h = [
        write(0, 1, 0, Some(1)),
        write(0, 2, 2, Some(3)),
        read(1, Some(1), 4, 5),
    ];
    let Verdict::NotLinearizable(why) = register(&h) else {
        panic!("expected a violation")
    };
    let prefix: Vec<_> = why.prefix.iter().map(|o| o.operation.as_str()).collect();
    assert_eq!(prefix, ["write(1) -> ok", "write(2) -> ok"]);
    assert_eq!(why.state_after_prefix, "2");
    assert_eq!(why.stuck.len(), 1);
    assert_eq!((why.stuck[0].op.index, why.stuck[0].legal_next), (2, false));
    assert_eq!((why.stuck[0].op.call, why.stuck[0].op.ret), (4, Some(5)));
    let text = why.to_string();
    assert!(text.contains("partition 1 of 1"), "{text}");
    assert!(
        text.contains("client 1 [4 .. 5]  read -> 1  -- illegal in this state"),
        "{text}"
    );
}

#[test]
fn explanation_marks_legal_but_doomed_candidates() {
    // Two overlapping writes, then reads that no order explains: 1, 2, then 1 again.
    let h = [
        write(0, 1, 0, Some(10)),
        write(1, 2, 0, Some(10)),
        read(2, Some(1), 11, 12),
        read(2, Some(2), 13, 14),
        read(2, Some(1), 15, 16),
    ];
    let Verdict::NotLinearizable(why) = register(&h) else {
        panic!("expected a violation")
    };
    assert!(why.prefix.len() >= 3, "{why}");
    assert!(!why.stuck.is_empty(), "{why}");
}

#[test]
fn zero_budget_gives_unknown() {
    let h: Vec<_> = (0..50).map(|i| write(i, i as i64, 0, Some(100))).collect();
    let result = check_with_stats(&RegisterModel, &h, Duration::ZERO);
    assert_eq!(result.verdict, Verdict::Unknown);
    assert_eq!(result.limit_reached, Some(Limit::Time));
    assert_eq!(result.stats.partitions_decided, 0);
}

/// `n` overlapping writes of distinct values, then a read of a value none wrote: refuting
/// it visits every subset of the writes, about `n * 2^(n-1)` configurations.
fn many_configurations(n: u64) -> Vec<Operation<RI, RO>> {
    let mut h: Vec<_> = (0..n).map(|i| write(i, i as i64, 0, Some(100))).collect();
    h.push(read(n, Some(-1), 101, 102));
    h
}

fn memo_limited(memo_bytes: usize) -> Limits {
    Limits {
        time: BUDGET,
        memo_bytes,
    }
}

#[test]
fn a_full_memo_gives_unknown() {
    let h = many_configurations(12);
    let roomy = check_with_limits(&RegisterModel, &h, memo_limited(64 << 20));
    assert!(matches!(roomy.verdict, Verdict::NotLinearizable(_)));
    assert!(roomy.stats.configurations > 12 << 10, "{:?}", roomy.stats);

    let small = roomy.stats.memo_bytes_peak / 4;
    let tight = check_with_limits(&RegisterModel, &h, memo_limited(small));
    assert_eq!(tight.verdict, Verdict::Unknown);
    assert_eq!(tight.limit_reached, Some(Limit::Memory));
    assert!(tight.stats.memo_bytes_peak <= small, "{:?}", tight.stats);
    assert_eq!(tight.stats.partitions_decided, 0);
}

#[test]
fn a_partition_at_the_memory_bound_does_not_hide_a_violation_in_another() {
    let put = |key: &str, v: usize| KvInput::Put {
        key: key.into(),
        value: v.to_string(),
    };
    let mut h: Vec<_> = (0..12)
        .map(|i| kv(i, put("a", i as usize), KvOutput::Done, 0, 100))
        .collect();
    h.push(kv(20, get("a"), got(Some("none")), 101, 102));
    let ok_b = [
        kv(21, put("b", 1), KvOutput::Done, 0, 1),
        kv(21, get("b"), got(Some("1")), 2, 3),
    ];
    let bad_b = [
        kv(21, put("b", 1), KvOutput::Done, 0, 1),
        kv(21, get("b"), got(Some("2")), 2, 3),
    ];
    let tight = memo_limited(4 << 10);

    let result = check_with_limits(&KvModel::new(), &[&h[..], &bad_b].concat(), tight);
    let Verdict::NotLinearizable(why) = result.verdict else {
        panic!("expected the violation on b, got {:?}", result.verdict)
    };
    assert!(why.to_string().contains(r#"get("b") -> "2""#), "{why}");

    let result = check_with_limits(&KvModel::new(), &[&h[..], &ok_b].concat(), tight);
    assert_eq!(result.verdict, Verdict::Unknown);
    assert_eq!(result.limit_reached, Some(Limit::Memory));
    assert_eq!(result.stats.partitions_decided, 1);
}

/// With no concurrency there is one configuration per operation, and its memo key is one
/// word: memory grows linearly (it used to be an N-bit set per configuration).
#[test]
fn a_sequential_history_needs_memory_linear_in_its_length() {
    let n = 100_000;
    let h: Vec<_> = (0..n)
        .map(|i| {
            let value = format!("x 0 {i} y");
            let put = KvInput::Put {
                key: "k".into(),
                value,
            };
            kv(0, put, KvOutput::Done, 2 * i, 2 * i + 1)
        })
        .collect();
    let result = check_with_stats(&KvModel::new(), &h, BUDGET);
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(result.stats.configurations, n as usize);
    let per_op = result.stats.memo_bytes_peak / n as usize;
    assert!(per_op < 200, "{per_op} bytes per operation");
}

#[test]
#[should_panic(expected = "returns before its call")]
fn return_before_call_is_a_caller_bug() {
    register(&[write(0, 1, 5, Some(4))]);
}

fn kv(
    client: u64,
    input: KvInput,
    output: KvOutput,
    call: u64,
    ret: u64,
) -> Operation<KvInput, KvOutput> {
    op(client, input, Some(output), call, Some(ret))
}

fn get(key: &str) -> KvInput {
    KvInput::Get { key: key.into() }
}

fn got(value: Option<&str>) -> KvOutput {
    KvOutput::Get(value.map(String::from))
}

#[test]
fn kv_operations_follow_the_model() {
    let k = || "k".to_string();
    let h = [
        kv(0, get("k"), got(None), 0, 1),
        kv(
            0,
            KvInput::Append {
                key: k(),
                value: "a".into(),
            },
            KvOutput::Done,
            2,
            3,
        ),
        kv(
            0,
            KvInput::Append {
                key: k(),
                value: "b".into(),
            },
            KvOutput::Done,
            4,
            5,
        ),
        kv(1, get("k"), got(Some("ab")), 6, 7),
        kv(1, KvInput::Delete { key: k() }, KvOutput::Done, 8, 9),
        kv(1, get("k"), got(None), 10, 11),
        kv(
            1,
            KvInput::Put {
                key: k(),
                value: "p".into(),
            },
            KvOutput::Done,
            12,
            13,
        ),
        kv(2, get("k"), got(Some("p")), 14, 15),
    ];
    assert_eq!(check(&KvModel::new(), &h, BUDGET), Verdict::Linearizable);
}

#[test]
fn kv_cas_success_and_failure() {
    let cas = |expected: Option<&str>, new: &str| KvInput::Cas {
        key: "k".into(),
        expected: expected.map(String::from),
        new: new.into(),
    };
    let m = KvModel::new();
    let h = [
        kv(0, cas(Some("x"), "y"), KvOutput::Cas(false), 0, 1),
        kv(0, cas(None, "x"), KvOutput::Cas(true), 2, 3),
        kv(0, cas(None, "z"), KvOutput::Cas(false), 4, 5),
        kv(0, cas(Some("x"), "y"), KvOutput::Cas(true), 6, 7),
        kv(1, get("k"), got(Some("y")), 8, 9),
    ];
    assert_eq!(check(&m, &h, BUDGET), Verdict::Linearizable);
    let wrong = [kv(0, cas(None, "x"), KvOutput::Cas(false), 0, 1)];
    assert!(!is_linearizable(&check(&m, &wrong, BUDGET)));
    let wrong = [kv(0, cas(Some("x"), "y"), KvOutput::Cas(true), 0, 1)];
    assert!(!is_linearizable(&check(&m, &wrong, BUDGET)));
}

#[test]
fn kv_partitions_by_key_and_reports_the_failing_key() {
    let put = |key: &str, v: &str| KvInput::Put {
        key: key.into(),
        value: v.into(),
    };
    let h = [
        kv(0, put("a", "1"), KvOutput::Done, 0, 1),
        kv(0, put("b", "1"), KvOutput::Done, 2, 3),
        kv(1, get("a"), got(Some("1")), 4, 5),
        kv(1, get("b"), got(Some("2")), 6, 7),
    ];
    let result = check_with_stats(&KvModel::new(), &h, BUDGET);
    assert_eq!(result.stats.partitions, 2);
    let Verdict::NotLinearizable(why) = result.verdict else {
        panic!("expected a violation")
    };
    assert_eq!((why.partition, why.partitions), (1, 2));
    assert!(why.to_string().contains(r#"get("b") -> "2""#), "{why}");
}

#[test]
fn kv_empty_is_absent_only_when_asked() {
    let h = [
        kv(
            0,
            KvInput::Put {
                key: "k".into(),
                value: String::new(),
            },
            KvOutput::Done,
            0,
            1,
        ),
        kv(
            0,
            KvInput::Append {
                key: "k".into(),
                value: String::new(),
            },
            KvOutput::Done,
            2,
            3,
        ),
        kv(1, get("k"), got(None), 4, 5),
    ];
    assert_eq!(
        check(&KvModel::empty_is_absent(), &h, BUDGET),
        Verdict::Linearizable
    );
    assert!(!is_linearizable(&check(&KvModel::new(), &h, BUDGET)));
    let read_empty = [kv(1, get("k"), got(Some("")), 0, 1)];
    assert_eq!(
        check(&KvModel::empty_is_absent(), &read_empty, BUDGET),
        Verdict::Linearizable
    );
    assert!(!is_linearizable(&check(
        &KvModel::new(),
        &read_empty,
        BUDGET
    )));
}
