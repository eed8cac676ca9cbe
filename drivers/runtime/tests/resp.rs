//! The Redis protocol front end from the outside: what a network loop sees.

use quickcheck::{quickcheck, QuickCheck};
use runtime::resp::{
    command_docs_reply, config_get_reply, encode, parse_command, to_command, Command, CommandError,
    Limits, Parsed, ProtocolError, Reply,
};

fn words(text: &[&str]) -> Vec<Vec<u8>> {
    text.iter().map(|word| word.as_bytes().to_vec()).collect()
}

/// A request as redis-cli sends it: an array of bulk strings, which is exactly how an
/// array reply of bulk strings is encoded.
fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let reply = Reply::Array(args.iter().map(|arg| Reply::bulk(arg.clone())).collect());
    let mut out = Vec::new();
    encode(&reply, &mut out);
    out
}

fn encoded(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    encode(reply, &mut out);
    out
}

fn parse(buf: &[u8]) -> Result<Option<Parsed>, ProtocolError> {
    parse_command(buf, &Limits::default())
}

/// Every supported command, as words (no blanks, so they also work inline), and what it
/// must become.
fn samples() -> Vec<(Vec<&'static str>, Command)> {
    let s = |text: &str| text.to_string();
    vec![
        (vec!["get", "k"], Command::Get { key: s("k") }),
        (
            vec!["set", "k", "v"],
            Command::Set {
                key: s("k"),
                value: s("v"),
            },
        ),
        (
            vec!["append", "k", "v"],
            Command::Append {
                key: s("k"),
                value: s("v"),
            },
        ),
        (
            vec!["del", "a", "b"],
            Command::Del {
                keys: vec![s("a"), s("b")],
            },
        ),
        (vec!["exists", "a"], Command::Exists { keys: vec![s("a")] }),
        (vec!["incr", "n"], Command::Incr { key: s("n") }),
        (
            vec!["mget", "a", "b"],
            Command::MGet {
                keys: vec![s("a"), s("b")],
            },
        ),
        (
            vec!["mset", "a", "1", "b", "2"],
            Command::MSet {
                pairs: vec![(s("a"), s("1")), (s("b"), s("2"))],
            },
        ),
        (vec!["ping"], Command::Ping { message: None }),
        (
            vec!["ping", "hi"],
            Command::Ping {
                message: Some(b"hi".to_vec()),
            },
        ),
        (
            vec!["echo", "hi"],
            Command::Echo {
                message: b"hi".to_vec(),
            },
        ),
        (vec!["info"], Command::Info { section: None }),
        (
            vec!["info", "server"],
            Command::Info {
                section: Some(s("server")),
            },
        ),
        (vec!["dbsize"], Command::DbSize),
        (vec!["select", "0"], Command::Select { db: 0 }),
        (vec!["command"], Command::Command { sub: None }),
        (
            vec!["command", "docs"],
            Command::Command {
                sub: Some(s("docs")),
            },
        ),
        (
            vec!["command", "docs", "get"],
            Command::Command {
                sub: Some(s("docs")),
            },
        ),
        (
            vec!["command", "count"],
            Command::Command {
                sub: Some(s("count")),
            },
        ),
        (
            vec!["config", "get", "save"],
            Command::ConfigGet { param: s("save") },
        ),
        (vec!["quit"], Command::Quit),
    ]
}

/// The command name in lower, upper and mixed case; arguments untouched.
fn spellings(request: &[&str]) -> Vec<Vec<String>> {
    let mixed: String = request[0]
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    [
        request[0].to_string(),
        request[0].to_ascii_uppercase(),
        mixed,
    ]
    .into_iter()
    .map(|name| {
        let mut spelled = vec![name];
        spelled.extend(request[1..].iter().map(|w| w.to_string()));
        spelled
    })
    .collect()
}

fn inline(request: &[String], ending: &str) -> Vec<u8> {
    format!("{}{ending}", request.join(" ")).into_bytes()
}

#[test]
fn every_command_parses_in_both_forms_and_any_case() {
    for (request, expected) in samples() {
        for spelled in spellings(&request) {
            let args: Vec<Vec<u8>> = spelled.iter().map(|w| w.as_bytes().to_vec()).collect();
            let forms = [
                multibulk(&args),
                inline(&spelled, "\r\n"),
                inline(&spelled, "\n"),
            ];
            for buf in forms {
                let (parsed, consumed) = parse(&buf).unwrap().unwrap();
                assert_eq!(consumed, buf.len(), "{spelled:?}");
                assert_eq!(parsed, args);
                assert_eq!(to_command(parsed).unwrap(), expected, "{spelled:?}");
            }
        }
    }
}

#[test]
fn pipelined_commands_parse_one_after_another() {
    let mut buf = Vec::new();
    let mut expected = Vec::new();
    for (i, (request, command)) in samples().into_iter().enumerate() {
        let spelled: Vec<String> = request.iter().map(|w| w.to_string()).collect();
        let form = if i % 3 == 0 {
            inline(&spelled, "\r\n")
        } else {
            multibulk(&words(&request))
        };
        expected.push((command, form.len()));
        buf.extend(form);
    }
    let mut pos = 0;
    for (command, len) in expected {
        let (args, consumed) = parse(&buf[pos..]).unwrap().unwrap();
        assert_eq!(consumed, len);
        assert_eq!(to_command(args).unwrap(), command);
        pos += consumed;
    }
    assert_eq!(pos, buf.len());
    assert_eq!(parse(&buf[pos..]), Ok(None));
}

#[test]
fn every_prefix_of_a_valid_request_needs_more_bytes() {
    let mut requests: Vec<Vec<u8>> = Vec::new();
    for (request, _) in samples() {
        let spelled: Vec<String> = request.iter().map(|w| w.to_string()).collect();
        requests.push(multibulk(&words(&request)));
        requests.push(inline(&spelled, "\r\n"));
    }
    requests.push(multibulk(&[
        b"set".to_vec(),
        b"k".to_vec(),
        b"a\r\nb\0".to_vec(),
    ]));
    requests.push(multibulk(&[b"echo".to_vec(), Vec::new()]));
    requests.push(b"set k \"two words\"\r\n".to_vec());
    for request in requests {
        for split in 0..request.len() {
            assert_eq!(
                parse(&request[..split]),
                Ok(None),
                "{request:?} cut at {split}"
            );
        }
        let (_, consumed) = parse(&request).unwrap().unwrap();
        assert_eq!(consumed, request.len());
    }
}

#[test]
fn blank_lines_and_empty_arrays_are_consumed_without_a_command() {
    for (buf, len) in [
        (&b"\r\n"[..], 2),
        (b"\n", 1),
        (b"   \t \r\n", 7),
        (b"*0\r\n", 4),
        (b"*-1\r\n", 5),
    ] {
        assert_eq!(parse(buf), Ok(Some((Vec::new(), len))), "{buf:?}");
    }
}

#[test]
fn inline_quotes_group_words() {
    let (args, _) = parse(b"SET k \"a b\\r\\n\" \r\n").unwrap().unwrap();
    assert_eq!(args, words(&["SET", "k", "a b\r\n"]));
    assert_eq!(parse(b"get \"k\r\n"), Err(ProtocolError::UnbalancedQuotes));
}

#[test]
fn multibulk_count_beyond_args_max_fails_before_the_arguments_arrive() {
    assert_eq!(
        parse(b"*99999999\r\n"),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    // Not even the end of the header is needed.
    assert_eq!(parse(b"*99999"), Err(ProtocolError::InvalidMultibulkLength));
    assert_eq!(
        parse(b"*4097\r\n"),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(parse(b"*4096\r\n"), Ok(None));
    let tight = Limits {
        args_max: 2,
        ..Limits::default()
    };
    assert_eq!(
        parse_command(b"*3", &tight),
        Err(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(parse_command(b"*2", &tight), Ok(None));
}

#[test]
fn malformed_multibulk_counts_are_refused() {
    for buf in [
        &b"*-3\r\n"[..],
        b"*-2",
        b"*x\r\n",
        b"*\r\n",
        b"*-\r\n",
        b"*-0\r\n",
        b"*01\r\n",
        b"*+1\r\n",
        b"*1\rx",
        b"*1\n",
        b"*1 \r\n",
    ] {
        assert_eq!(
            parse(buf),
            Err(ProtocolError::InvalidMultibulkLength),
            "{buf:?}"
        );
    }
}

#[test]
fn bulk_lengths_beyond_bulk_bytes_max_or_negative_are_refused() {
    for header in [
        &b"$-5\r\n"[..],
        b"$-1\r\n",
        b"$-",
        b"$99999999999",
        b"$8388609\r\n",
        b"$x\r\n",
        b"$\r\n",
        b"$03\r\n",
        b"$3x",
    ] {
        let buf = [&b"*1\r\n"[..], header].concat();
        assert_eq!(
            parse(&buf),
            Err(ProtocolError::InvalidBulkLength),
            "{buf:?}"
        );
    }
    // The largest allowed length is waited for, not refused.
    assert_eq!(parse(b"*1\r\n$8388608\r\n"), Ok(None));
    let tight = Limits {
        bulk_bytes_max: 3,
        ..Limits::default()
    };
    assert_eq!(
        parse_command(b"*1\r\n$4", &tight),
        Err(ProtocolError::InvalidBulkLength)
    );
}

#[test]
fn bulk_data_must_be_followed_by_crlf() {
    for buf in [
        &b"*1\r\n$3\r\nabcX"[..],
        b"*1\r\n$3\r\nabc\rX",
        b"*1\r\n$3\r\nabcd\r\n",
        b"*1\r\n$3\r\nab\r\n\r\n",
    ] {
        assert_eq!(parse(buf), Err(ProtocolError::BulkNotTerminated), "{buf:?}");
    }
}

#[test]
fn multibulk_arguments_must_be_bulks() {
    assert_eq!(
        parse(b"*1\r\nx"),
        Err(ProtocolError::ExpectedBulk { got: b'x' })
    );
    assert_eq!(
        parse(b"*2\r\n$1\r\na\r\n:1\r\n"),
        Err(ProtocolError::ExpectedBulk { got: b':' })
    );
}

#[test]
fn huge_inline_lines_are_refused() {
    let max = Limits::default().inline_bytes_max;
    let mut line = vec![b'a'; max];
    assert_eq!(parse(&line), Ok(None));
    line.push(b'\r');
    assert_eq!(parse(&line), Ok(None), "the \\r may start the line ending");
    line.pop();
    line.push(b'a');
    assert_eq!(parse(&line), Err(ProtocolError::TooBigInline));
    line.extend_from_slice(b"\r\n");
    assert_eq!(parse(&line), Err(ProtocolError::TooBigInline));
    let tight = Limits {
        inline_bytes_max: 8,
        args_max: 2,
        ..Limits::default()
    };
    assert_eq!(
        parse_command(b"ping 1234\n", &tight),
        Err(ProtocolError::TooBigInline)
    );
    assert_eq!(
        parse_command(b"a b c\n", &tight),
        Err(ProtocolError::TooManyInlineArgs)
    );
}

#[test]
fn protocol_errors_read_as_redis_words_them() {
    let cases = [
        (
            ProtocolError::InvalidMultibulkLength,
            "Protocol error: invalid multibulk length",
        ),
        (
            ProtocolError::InvalidBulkLength,
            "Protocol error: invalid bulk length",
        ),
        (
            ProtocolError::ExpectedBulk { got: b'x' },
            "Protocol error: expected '$', got 'x'",
        ),
        (
            ProtocolError::ExpectedBulk { got: b'\n' },
            "Protocol error: expected '$', got '\\x0a'",
        ),
        (
            ProtocolError::TooBigInline,
            "Protocol error: too big inline request",
        ),
        (
            ProtocolError::UnbalancedQuotes,
            "Protocol error: unbalanced quotes in request",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
    let reply = ProtocolError::InvalidBulkLength.to_reply();
    assert_eq!(
        encoded(&reply),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
}

fn command_error(request: &[&str]) -> String {
    to_command(words(request)).unwrap_err().to_string()
}

#[test]
fn unknown_commands_quote_name_and_first_args() {
    assert_eq!(
        command_error(&["foo", "a", "b"]),
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        command_error(&["FOO"]),
        "ERR unknown command 'FOO', with args beginning with: "
    );
    let long = "z".repeat(500);
    let message = command_error(&["foo", &long]);
    assert!(message.len() < 250, "{message}");
    assert_eq!(
        to_command(Vec::new()),
        Err(CommandError::Unknown {
            name: String::new(),
            args_beginning: String::new()
        })
    );
}

#[test]
fn wrong_arity_is_reported_for_each_command() {
    let cases: &[(&[&str], &str)] = &[
        (&["get"], "get"),
        (&["GET", "a", "b"], "get"),
        (&["set", "k"], "set"),
        (&["append", "k"], "append"),
        (&["append", "k", "v", "w"], "append"),
        (&["del"], "del"),
        (&["exists"], "exists"),
        (&["incr"], "incr"),
        (&["incr", "a", "b"], "incr"),
        (&["mget"], "mget"),
        (&["mset"], "mset"),
        (&["mset", "k"], "mset"),
        (&["mset", "a", "1", "b"], "mset"),
        (&["ping", "a", "b"], "ping"),
        (&["echo"], "echo"),
        (&["echo", "a", "b"], "echo"),
        (&["info", "a", "b"], "info"),
        (&["dbsize", "x"], "dbsize"),
        (&["select"], "select"),
        (&["select", "0", "1"], "select"),
        (&["command", "count", "x"], "command|count"),
        (&["config"], "config"),
        (&["config", "get"], "config|get"),
        (&["config", "get", "save", "appendonly"], "config|get"),
    ];
    for (request, name) in cases {
        let expected = format!("ERR wrong number of arguments for '{name}' command");
        assert_eq!(command_error(request), expected, "{request:?}");
    }
}

#[test]
fn non_utf8_keys_and_values_are_refused() {
    let bad = vec![0xff, 0xfe];
    for request in [
        vec![b"get".to_vec(), bad.clone()],
        vec![b"set".to_vec(), b"k".to_vec(), bad.clone()],
        vec![b"del".to_vec(), b"k".to_vec(), bad.clone()],
        vec![b"mset".to_vec(), bad.clone(), b"v".to_vec()],
    ] {
        let error = to_command(request).unwrap_err();
        assert_eq!(error, CommandError::NotUtf8);
        assert_eq!(error.to_string(), "ERR keys and values must be UTF-8");
    }
    // Messages that are only echoed may be any bytes.
    let echo = to_command(vec![b"echo".to_vec(), bad.clone()]).unwrap();
    assert_eq!(echo, Command::Echo { message: bad });
}

#[test]
fn set_options_select_and_subcommands_are_refused_as_redis_does() {
    assert_eq!(
        command_error(&["set", "k", "v", "EX", "10"]),
        "ERR syntax error"
    );
    assert_eq!(command_error(&["set", "k", "v", "NX"]), "ERR syntax error");
    let not_integer = "ERR value is not an integer or out of range";
    for db in ["abc", "", "01", "+0", "99999999999", "1.0"] {
        assert_eq!(command_error(&["select", db]), not_integer, "{db}");
    }
    assert_eq!(
        command_error(&["select", "1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        command_error(&["select", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        command_error(&["command", "Foo"]),
        "ERR unknown subcommand 'Foo'. Try COMMAND HELP."
    );
    assert_eq!(
        command_error(&["config", "set", "a", "b"]),
        "ERR unknown subcommand 'set'. Try CONFIG HELP."
    );
}

#[test]
fn writes_are_exactly_the_commands_that_change_the_store() {
    for (request, command) in samples() {
        let expected = matches!(request[0], "set" | "append" | "del" | "incr" | "mset");
        assert_eq!(command.is_write(), expected, "{request:?}");
    }
}

#[test]
fn every_reply_variant_encodes_byte_exact() {
    let cases: Vec<(Reply, &[u8])> = vec![
        (Reply::ok(), b"+OK\r\n"),
        (Reply::Simple(String::new()), b"+\r\n"),
        (Reply::Simple("a\r\nb\nc".into()), b"+a  b c\r\n"),
        (
            Reply::Error("ERR bad\r\nthing".into()),
            b"-ERR bad  thing\r\n",
        ),
        (Reply::Integer(0), b":0\r\n"),
        (Reply::Integer(-42), b":-42\r\n"),
        (Reply::Integer(i64::MIN), b":-9223372036854775808\r\n"),
        (Reply::Bulk(None), b"$-1\r\n"),
        (Reply::bulk(""), b"$0\r\n\r\n"),
        (Reply::bulk(&b"a\r\nb"[..]), b"$4\r\na\r\nb\r\n"),
        (Reply::Array(Vec::new()), b"*0\r\n"),
        (Reply::NullArray, b"*-1\r\n"),
        (
            Reply::Array(vec![
                Reply::Integer(1),
                Reply::Array(vec![Reply::Bulk(None)]),
                Reply::bulk("x"),
            ]),
            b"*3\r\n:1\r\n*1\r\n$-1\r\n$1\r\nx\r\n",
        ),
    ];
    for (reply, bytes) in cases {
        assert_eq!(encoded(&reply), bytes, "{reply:?}");
    }
}

#[test]
fn encode_appends_to_what_is_already_there() {
    let mut out = b"+OK\r\n".to_vec();
    encode(&Reply::Integer(7), &mut out);
    assert_eq!(out, b"+OK\r\n:7\r\n");
}

#[test]
fn command_introspection_answers_what_clients_ask_at_startup() {
    assert_eq!(encoded(&command_docs_reply(Some("DOCS"))), b"*0\r\n");
    assert_eq!(command_docs_reply(Some("count")), Reply::Integer(16));
    let Reply::Array(entries) = command_docs_reply(None) else {
        panic!("COMMAND is an array")
    };
    assert_eq!(entries.len(), 16);
    let get = &entries[0];
    let expected_flags = Reply::Array(vec![
        Reply::Simple("readonly".into()),
        Reply::Simple("fast".into()),
    ]);
    assert_eq!(
        get,
        &Reply::Array(vec![
            Reply::bulk("get"),
            Reply::Integer(2),
            expected_flags,
            Reply::Integer(1),
            Reply::Integer(1),
            Reply::Integer(1),
        ])
    );
    let unknown = encoded(&command_docs_reply(Some("nope")));
    assert_eq!(
        unknown,
        b"-ERR unknown subcommand 'nope'. Try COMMAND HELP.\r\n"
    );
}

#[test]
fn config_get_satisfies_redis_benchmark() {
    assert_eq!(
        encoded(&config_get_reply("save")),
        b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    assert_eq!(
        encoded(&config_get_reply("APPENDONLY")),
        b"*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n"
    );
    assert_eq!(encoded(&config_get_reply("maxmemory")), b"*0\r\n");
}

#[test]
fn command_errors_become_error_replies() {
    let reply = CommandError::NotAnInteger.to_reply();
    assert_eq!(
        encoded(&reply),
        b"-ERR value is not an integer or out of range\r\n"
    );
}

/// Whatever bytes arrive, parsing answers; and once it has decided (a command or an
/// error), more bytes behind never change that decision.
fn decisions_are_stable(bytes: Vec<u8>, more: Vec<u8>, limits: &Limits) -> bool {
    let first = parse_command(&bytes, limits);
    let longer = parse_command(&[bytes, more].concat(), limits);
    match first {
        Ok(None) => true,
        decided => decided == longer,
    }
}

#[test]
fn quickcheck_random_bytes_never_panic() {
    fn random(bytes: Vec<u8>, more: Vec<u8>) -> bool {
        decisions_are_stable(bytes, more, &Limits::default())
    }
    // Random bytes rarely look like RESP; these start like it and have tiny limits.
    fn resp_like(bytes: Vec<u8>, more: Vec<u8>) -> bool {
        let limits = Limits {
            bulk_bytes_max: 4,
            args_max: 3,
            inline_bytes_max: 8,
        };
        let mut multibulk = b"*2\r\n$".to_vec();
        multibulk.extend(&bytes);
        decisions_are_stable(multibulk, more.clone(), &limits)
            && decisions_are_stable(bytes, more, &limits)
    }
    QuickCheck::new()
        .tests(5_000)
        .quickcheck(random as fn(Vec<u8>, Vec<u8>) -> bool);
    QuickCheck::new()
        .tests(5_000)
        .quickcheck(resp_like as fn(Vec<u8>, Vec<u8>) -> bool);
}

#[test]
fn quickcheck_mutated_requests_never_panic() {
    fn mutated(args: Vec<Vec<u8>>, at: usize, byte: u8) -> bool {
        let mut buf = multibulk(&args);
        let at = at % buf.len();
        buf[at] = byte;
        let limits = Limits {
            bulk_bytes_max: 64,
            args_max: 64,
            inline_bytes_max: 64,
        };
        decisions_are_stable(buf, Vec::new(), &limits)
    }
    QuickCheck::new()
        .tests(5_000)
        .quickcheck(mutated as fn(Vec<Vec<u8>>, usize, u8) -> bool);
}

#[test]
fn quickcheck_encoded_args_parse_back_equal() {
    fn round_trip(args: Vec<Vec<u8>>, trailing: Vec<u8>) -> bool {
        let request = multibulk(&args);
        let buf = [request.clone(), trailing].concat();
        parse(&buf) == Ok(Some((args, request.len())))
    }
    quickcheck(round_trip as fn(Vec<Vec<u8>>, Vec<u8>) -> bool);
}
