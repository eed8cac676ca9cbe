//! The two history formats: what each line becomes, and the errors for bad input.

use std::io::Write;

use lincheck::{
    parse_jepsen, parse_jepsen_file, parse_kv, parse_kv_file, KvInput, KvOutput, LineError,
    Operation, ParseError, RegisterInput as RI, RegisterOutput as RO, MAX_FILE_BYTES,
};

#[test]
fn kv_lines_pair_into_operations_timed_by_line() {
    let text = r#"{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}
{:process 1, :type :invoke, :f :get, :key "4", :value nil}

{:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}
{:process 1, :type :ok, :f :get, :key "4", :value ""}
{:process 2, :type :invoke, :f :put, :key "k", :value "v"}
"#;
    let ops = parse_kv(text).unwrap();
    let append = KvInput::Append {
        key: "4".into(),
        value: "x 0 1 y".into(),
    };
    assert_eq!(
        ops,
        vec![
            Operation {
                client: 0,
                input: append,
                output: Some(KvOutput::Done),
                call: 1,
                ret: Some(4)
            },
            // A read of "" is a read of an absent key (see KvModel::empty_is_absent).
            Operation {
                client: 1,
                input: KvInput::Get { key: "4".into() },
                output: Some(KvOutput::Get(None)),
                call: 2,
                ret: Some(5)
            },
            // Never completed: open for ever.
            Operation {
                client: 2,
                input: KvInput::Put {
                    key: "k".into(),
                    value: "v".into()
                },
                output: None,
                call: 6,
                ret: None
            },
        ]
    );
}

#[test]
fn kv_info_stays_open_and_fail_is_dropped() {
    let text = r#"{:process 0, :type :invoke, :f :put, :key "a", :value "1"}
{:process 0, :type :info, :f :put, :key "a", :value "1"}
{:process 1, :type :invoke, :f :put, :key "a", :value "2"}
{:process 1, :type :fail, :f :put, :key "a", :value "2"}
"#;
    let ops = parse_kv(text).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].client, ops[0].output.clone(), ops[0].ret),
        (0, None, None)
    );
}

fn kv_error(text: &str) -> (usize, LineError) {
    match parse_kv(text) {
        Err(ParseError::Line { line, error }) => (line, error),
        other => panic!("expected a line error, got {other:?}"),
    }
}

#[test]
fn kv_malformed_lines_are_errors_with_their_line_number() {
    let ok = r#"{:process 0, :type :invoke, :f :get, :key "4", :value nil}"#;
    type Expect = fn(&LineError) -> bool;
    let cases: [(&str, Expect); 6] = [
        ("garbage", |e| matches!(e, LineError::Syntax(_))),
        (r#"{:process 1, :type :invoke, :f :get, :value nil}"#, |e| {
            *e == LineError::MissingField("key")
        }),
        (
            r#"{:process 1, :type :invoke, :f :scan, :key "4", :value nil}"#,
            |e| matches!(e, LineError::BadField { field: "f", .. }),
        ),
        (
            r#"{:process 1, :type :done, :f :get, :key "4", :value nil}"#,
            |e| matches!(e, LineError::BadField { field: "type", .. }),
        ),
        (
            r#"{:process 1, :type :ok, :f :get, :key "4", :value "x"}"#,
            |e| *e == LineError::CompletionWithoutInvocation(1),
        ),
        (
            r#"{:process 0, :type :ok, :f :get, :key "5", :value "x"}"#,
            |e| matches!(e, LineError::Mismatch { .. }),
        ),
    ];
    for (bad, is_expected) in cases {
        let (line, error) = kv_error(&format!("{ok}\n{bad}\n"));
        assert_eq!(line, 2, "{bad}");
        assert!(is_expected(&error), "{bad}: {error}");
    }
    assert_eq!(
        kv_error(&format!("{ok}\n{ok}\n")),
        (2, LineError::DoubleInvocation(0))
    );
    let err = parse_kv("{:process 0}\n").unwrap_err();
    assert_eq!(err.line(), Some(1));
    assert_eq!(err.to_string(), "line 1: missing field :type");
}

#[test]
fn jepsen_lines_map_onto_the_register_model() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:write\t4
INFO  jepsen.util - 2\t:invoke\t:cas\t[4 0]
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
some other logger line
INFO  jepsen.util - 3   :invoke :cas    [1 2]
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:info\t:write\t:timed-out
INFO  jepsen.util - 2\t:fail\t:cas\t[4 0]
INFO  jepsen.util - 3   :ok     :cas    [1 2]
INFO  jepsen.util - 4\t:invoke\t:read\tnil
INFO  jepsen.util - 4\t:fail\t:read\t:timed-out
INFO  jepsen.util - 5\t:invoke\t:write\t1
INFO  jepsen.util - 5\t:fail\t:write\t1
";
    let ops = parse_jepsen(text).unwrap();
    let summary: Vec<_> = ops
        .iter()
        .map(|o| (o.client, o.input, o.output, o.call, o.ret))
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, RI::Read, Some(RO::Read(None)), 1, Some(7)),
            (1, RI::Write(4), None, 2, None),
            (
                2,
                RI::Cas { from: 4, to: 0 },
                Some(RO::Cas(false)),
                3,
                Some(9)
            ),
            (
                3,
                RI::Cas { from: 1, to: 2 },
                Some(RO::Cas(true)),
                6,
                Some(10)
            ),
            (4, RI::Read, None, 11, Some(12)),
        ]
    );
}

#[test]
fn jepsen_event_lines_with_bad_values_are_errors() {
    let cases = [
        ("INFO  jepsen.util - 1\t:invoke\t:write\tfour\n", 1),
        ("INFO  jepsen.util - 1\t:invoke\t:cas\t[1]\n", 1),
        (
            "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\tx\n",
            2,
        ),
        ("INFO  jepsen.util - 1\t:ok\t:read\t1\n", 1),
        (
            "INFO  jepsen.util - 1\t:invoke\t:write\t1\nINFO  jepsen.util - 1\t:ok\t:write\t2\n",
            2,
        ),
    ];
    for (text, line) in cases {
        let err = parse_jepsen(text).unwrap_err();
        assert_eq!(err.line(), Some(line), "{text:?}: {err}");
    }
}

#[test]
fn missing_and_oversized_files_are_refused() {
    let missing = parse_kv_file("/nonexistent/history.txt".as_ref()).unwrap_err();
    assert!(matches!(missing, ParseError::Io(_)), "{missing}");
    let big = tempfile::NamedTempFile::new().unwrap();
    big.as_file().set_len(MAX_FILE_BYTES + 1).unwrap(); // sparse: costs no disk
    let err = parse_jepsen_file(big.path()).unwrap_err();
    assert!(matches!(err, ParseError::TooLarge { .. }), "{err}");
    let mut small = tempfile::NamedTempFile::new().unwrap();
    writeln!(small, "INFO  jepsen.util - 1\t:invoke\t:write\t1").unwrap();
    assert_eq!(parse_jepsen_file(small.path()).unwrap().len(), 1);
}
