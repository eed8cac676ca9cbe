//! How `corpus/decoders` was made: one valid input per decoder, from the encoders the
//! project itself uses, so the fuzzer starts inside each format rather than at its
//! first check. `cargo test --manifest-path fuzz/Cargo.toml --test seeds -- --ignored`
//! rewrites the files; the test below keeps them decoding.

use std::fs;
use std::path::PathBuf;

use kv_core::service::{Replicated, Request};
use kv_core::{KvState, Op, Outcome};
use raft_core::{Entry, EntryKind, Message, MessageBody};
use runtime::frame::encode_frame;
use runtime::wire::{Hello, Wire, WIRE_VERSION};
use trace::format::{Frame, Header, Kind, Step, FORMAT_VERSION, MAGIC};

type KvWire = Wire<Op, Outcome>;

fn append() -> Message {
    let entry = Entry {
        term: 2,
        index: 5,
        kind: EntryKind::Normal,
        data: b"put k v".to_vec().into(),
    };
    Message {
        from: 1,
        to: 2,
        term: 2,
        body: MessageBody::Append {
            prev_index: 4,
            prev_term: 1,
            entries: vec![entry],
            commit: 4,
        },
    }
}

fn hello() -> KvWire {
    Wire::Hello(Hello {
        version: WIRE_VERSION,
        from: Some(1),
        client_addr: Some("127.0.0.1:6379".into()),
        service: Some("kv".into()),
        incarnation: 7,
    })
}

fn peer_stream() -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&hello().encode(), &mut out);
    let raft: KvWire = Wire::Raft {
        seq: 1,
        message: append(),
    };
    encode_frame(&raft.encode(), &mut out);
    out
}

fn trace_file() -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    let header = Header {
        version: FORMAT_VERSION,
        kind: Kind::Raft,
        node: 1,
        incarnation: 0,
        started_us: 0,
        first_step: 0,
        boot: Vec::new(),
        note: "fuzz seed".into(),
    };
    Frame::Header(header).encode_into(&mut out);
    let step = Step {
        time_us: 10,
        input: postcard::to_allocvec(&raft_core::Input::Tick).expect("encodes"),
        digest: 0,
        received: None,
        sent: Vec::new(),
        output: None,
    };
    Frame::Step(step).encode_into(&mut out);
    out
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let request = Request {
        client: 3,
        seq: 1,
        op: Op::Put {
            key: "k".into(),
            value: "v".into(),
        },
    };
    vec![
        ("wire-hello", hello().encode()),
        ("wire-request", KvWire::Request(request).encode()),
        ("peer-stream", peer_stream()),
        (
            "raft-message",
            postcard::to_allocvec(&append()).expect("encodes"),
        ),
        (
            "resp-multibulk",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nPING\r\n".to_vec(),
        ),
        ("resp-inline", b"GET \"a b\" 'c'\r\nINFO\n".to_vec()),
        ("kv-snapshot", Replicated::<KvState>::default().snapshot()),
        ("trace-file", trace_file()),
    ]
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/decoders")
}

#[test]
#[ignore = "rewrites corpus/decoders"]
fn write_decoder_seeds() {
    fs::create_dir_all(dir()).expect("corpus directory");
    for (name, bytes) in seeds() {
        fs::write(dir().join(name), bytes).expect("write a seed");
    }
}

#[test]
fn checked_in_seeds_are_what_the_encoders_make() {
    for (name, bytes) in seeds() {
        let stored = fs::read(dir().join(name)).expect("a checked-in seed");
        assert_eq!(
            stored, bytes,
            "{name}: rerun the ignored write_decoder_seeds"
        );
    }
}

/// A seed the decoders refuse would start the fuzzer at the first check again.
#[test]
fn seeds_decode() {
    let trace = tempfile::NamedTempFile::new().expect("a temporary file");
    fs::write(trace.path(), trace_file()).expect("write the trace");
    let read = trace::file::read_file(trace.path()).expect("the seed trace reads");
    assert_eq!((read.frames.len(), read.torn_tail), (2, None));
    let mut stream = bytes::BytesMut::from(&peer_stream()[..]);
    let limit = runtime::frame::FRAME_BYTES_MAX_DEFAULT;
    let first = runtime::frame::decode_frame(&mut stream, limit).expect("a frame");
    let first = KvWire::decode(&first.expect("whole")).expect("a hello");
    assert_eq!(first, hello());
    let limits = runtime::resp::Limits::default();
    let (args, _) = runtime::resp::parse_command(&seeds()[4].1, &limits)
        .expect("RESP")
        .expect("a whole command");
    assert_eq!(args, [&b"SET"[..], b"k", b"v"]);
}
