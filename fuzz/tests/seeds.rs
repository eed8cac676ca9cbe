//! How `corpus/decoders` was made: one valid input per decoder, from the encoders the
//! project itself uses, so the fuzzer starts inside each format rather than at its
//! first check. `cargo test --manifest-path fuzz/Cargo.toml --test seeds -- --ignored`
//! rewrites the files; the test below keeps them decoding.

use std::fs;
use std::path::{Path, PathBuf};

use kv_core::service::{Replicated, Request};
use kv_core::{KvState, Op, Outcome};
use mr_core::{Assignment, Attempt, AttemptId, TaskId};
use mr_driver::frame::{read_frame, write_frame};
use mr_driver::job::AppSpec;
use mr_driver::protocol::{self as mr, InputFile, Reply, TaskSpec};
use raft_core::{
    Entry, EntryKind, HardState, Message, MessageBody, Snapshot, SnapshotMeta, SnapshotWrite, Write,
};
use runtime::frame::encode_frame;
use runtime::storage::{Storage, StorageOptions};
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

fn entry(index: u64) -> Entry {
    Entry {
        term: 1,
        index,
        kind: EntryKind::Normal,
        data: format!("put k{index} v").into_bytes().into(),
    }
}

fn storage_write(entries: Vec<Entry>, snapshot: Option<SnapshotWrite>) -> Write {
    let hard_state = HardState {
        term: 1,
        vote: Some(1),
        commit: 2,
    };
    Write {
        id: 0,
        snapshot,
        hard_state: Some(hard_state),
        entries,
        must_sync: true,
    }
}

/// A data directory's two kinds of file, as `Storage` writes them: entries 1–2, a
/// snapshot at 2, then entry 3. The live segment opens with a checkpoint naming the
/// snapshot and holds one write after it.
fn storage_files() -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (mut storage, _) = Storage::open(dir.path(), StorageOptions::default()).expect("opens");
    let snapshot = SnapshotWrite::Taken(Snapshot {
        meta: SnapshotMeta {
            index: 2,
            term: 1,
            membership: Default::default(),
        },
        data: Replicated::<KvState>::default().snapshot(),
    });
    let writes = [
        storage_write(vec![entry(1), entry(2)], None),
        storage_write(Vec::new(), Some(snapshot)),
        storage_write(vec![entry(3)], None),
    ];
    for w in &writes {
        storage.append(w).expect("a valid write");
    }
    storage.sync().expect("syncs");
    let file = |ext: &str| {
        let mut paths: Vec<PathBuf> = fs::read_dir(dir.path())
            .expect("the directory")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .collect();
        assert_eq!(paths.len(), 1, "one live .{ext} file");
        fs::read(paths.pop().expect("one")).expect("readable")
    };
    (file("log"), file("snap"))
}

fn task_spec() -> TaskSpec {
    TaskSpec {
        assignment: Assignment {
            attempt: Attempt {
                id: AttemptId(4),
                task: TaskId::Map(1),
            },
            n_map: 2,
            n_reduce: 3,
        },
        input: Some(InputFile {
            name: "pg-grimm.txt".into(),
            path: "/data/pg-grimm.txt".into(),
        }),
        app: AppSpec::Builtin {
            name: "wc".into(),
            args: Vec::new(),
        },
        work_dir: "/tmp/mr".into(),
    }
}

/// What a worker sends the coordinator on one connection, and what it hears back.
fn mr_streams() -> (Vec<u8>, Vec<u8>) {
    let attempt = task_spec().assignment.attempt;
    let requests = [
        mr::Request::Ask,
        mr::Request::Report {
            attempt,
            outcome: mr::Outcome::Done,
        },
        mr::Request::Report {
            attempt,
            outcome: mr::Outcome::Failed {
                reason: "exit status 2".into(),
            },
        },
    ];
    let replies = [
        Reply::Task(task_spec()),
        Reply::Wait {
            retry_after_ms: 100,
        },
        Reply::Ack,
        Reply::Exit,
        Reply::Rejected {
            reason: "unknown attempt".into(),
        },
    ];
    let (mut asked, mut answered) = (Vec::new(), Vec::new());
    requests
        .iter()
        .for_each(|r| write_frame(&mut asked, r).expect("encodes"));
    replies
        .iter()
        .for_each(|r| write_frame(&mut answered, r).expect("encodes"));
    (asked, answered)
}

/// `raftkv check-history` inputs; the formats have no encoder in the project.
const HISTORY_KV: &str = r#"{:process 0, :type :invoke, :f :put, :key "1", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "1", :value nil}
{:process 0, :type :ok, :f :put, :key "1", :value "x 0 0 y"}
{:process 2, :type :invoke, :f :append, :key "1", :value "x 2 0 y"}
{:process 1, :type :ok, :f :get, :key "1", :value "x 0 0 y"}
{:process 2, :type :info, :f :append, :key "1", :value "x 2 0 y"}
"#;

const HISTORY_JEPSEN: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - 1\t:invoke\t:cas\t[3 4]
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 0\t:ok\t:write\t3
INFO  jepsen.util - 1\t:fail\t:cas\t[3 4]
INFO  jepsen.util - 2\t:invoke\t:read\tnil
INFO  jepsen.util - 2\t:ok\t:read\t3
";

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let request = Request {
        client: 3,
        seq: 1,
        op: Op::Put {
            key: "k".into(),
            value: "v".into(),
        },
    };
    let (segment, snapshot) = storage_files();
    let (mr_requests, mr_replies) = mr_streams();
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
        ("storage-segment", segment),
        ("storage-snapshot", snapshot),
        ("history-kv", HISTORY_KV.as_bytes().to_vec()),
        ("history-jepsen", HISTORY_JEPSEN.as_bytes().to_vec()),
        ("mr-requests", mr_requests),
        ("mr-replies", mr_replies),
    ]
}

fn seed(name: &str) -> Vec<u8> {
    let found = seeds().into_iter().find(|(n, _)| *n == name);
    found.expect("a seed of that name").1
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
    let name = Path::new("seed");
    let read = trace::file::read_bytes(name, &trace_file()).expect("the seed trace reads");
    assert_eq!((read.frames.len(), read.torn_tail), (2, None));
    let mut stream = bytes::BytesMut::from(&peer_stream()[..]);
    let limit = runtime::frame::FRAME_BYTES_MAX_DEFAULT;
    let first = runtime::frame::decode_frame(&mut stream, limit).expect("a frame");
    let first = KvWire::decode(&first.expect("whole")).expect("a hello");
    assert_eq!(first, hello());
    let limits = runtime::resp::Limits::default();
    let (args, _) = runtime::resp::parse_command(&seed("resp-multibulk"), &limits)
        .expect("RESP")
        .expect("a whole command");
    assert_eq!(args, [&b"SET"[..], b"k", b"v"]);
}

#[test]
fn storage_seeds_decode() {
    let (name, max) = (
        Path::new("seed"),
        StorageOptions::default().record_bytes_max,
    );
    let segment = runtime::storage::decode_segment(name, &seed("storage-segment"), max)
        .expect("the seed segment replays");
    assert_eq!(
        (segment.records, segment.entries),
        (2, 1),
        "checkpoint, write"
    );
    assert_eq!(segment.torn_tail_offset, None);
    let snapshot = runtime::storage::decode_snapshot_file(name, &seed("storage-snapshot"), max)
        .expect("the seed snapshot file reads");
    assert_eq!((snapshot.meta.index, snapshot.meta.term), (2, 1));
    let state = Replicated::<KvState>::restore(&snapshot.data).expect("a service snapshot");
    assert_eq!(
        state.snapshot(),
        Replicated::<KvState>::default().snapshot()
    );
}

#[test]
fn history_and_mr_seeds_decode() {
    let kv = lincheck::parse_kv(HISTORY_KV).expect("the kv history parses");
    assert_eq!(kv.len(), 3, "put, get and the append left open");
    let jepsen = lincheck::parse_jepsen(HISTORY_JEPSEN).expect("the Jepsen history parses");
    assert_eq!(jepsen.len(), 3, "write, failed cas, read");
    let requests = seed("mr-requests");
    let mut reader = requests.as_slice();
    let mut read = 0;
    while read_frame::<_, mr::Request>(&mut reader).is_ok() {
        read += 1;
    }
    assert_eq!((read, reader.len()), (3, 0));
    let replies = seed("mr-replies");
    let mut reader = replies.as_slice();
    let first: Reply = read_frame(&mut reader).expect("a reply");
    assert_eq!(first, Reply::Task(task_spec()));
    assert_eq!(task_spec().validate(), Ok(()));
}
