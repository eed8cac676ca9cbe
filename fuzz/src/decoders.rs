//! `decoders`: the same bytes through every decoder that reads what another process, a
//! peer or a disk wrote. Each must return an error for bytes it cannot read; a panic is
//! the finding. (Bounded allocation is left to libFuzzer's `-rss_limit_mb` /
//! `-malloc_limit_mb`: an allocation on a length field's say-so shows up there.)

use std::io::Write as _;

use bytes::BytesMut;
use kv_core::service::{Command, Replicated};
use kv_core::shardkv::{ShardKv, ShardOp, ShardOutput};
use kv_core::{CtrlOp, CtrlOutcome, KvState, Op, Outcome, ShardCtrl};
use runtime::frame::{decode_frame, FRAME_BYTES_MAX_DEFAULT};
use runtime::resp::{parse_command, to_command, Limits};
use runtime::wire::Wire;

/// Every decoder, on `data`.
pub fn run(data: &[u8]) {
    peer_payloads(data);
    peer_stream(data);
    redis_stream(data);
    service_state(data);
    let _ = postcard::from_bytes::<raft_core::Message>(data);
    let _ = mr_core::decode_bucket(data);
    trace_file(data);
}

/// A frame's payload on a peer port, for each service the transport carries.
fn peer_payloads(data: &[u8]) {
    let _ = Wire::<Op, Outcome>::decode(data);
    let _ = Wire::<CtrlOp, CtrlOutcome>::decode(data);
    let _ = Wire::<ShardOp, ShardOutput>::decode(data);
}

/// A peer connection's byte stream: frames off the front until one is incomplete or bad,
/// each payload decoded as the key/value node would.
fn peer_stream(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    while let Ok(Some(payload)) = decode_frame(&mut buf, FRAME_BYTES_MAX_DEFAULT) {
        let _ = Wire::<Op, Outcome>::decode(&payload);
    }
}

/// A Redis client's byte stream: commands off the front, as the front end reads them.
fn redis_stream(data: &[u8]) {
    let limits = Limits::default();
    let mut rest = data;
    while let Ok(Some((args, consumed))) = parse_command(rest, &limits) {
        if !args.is_empty() {
            let _ = to_command(args);
        }
        rest = &rest[consumed..];
    }
}

/// Log entries and snapshots of each replicated service (a snapshot arrives from the
/// leader; entries come from the log).
fn service_state(data: &[u8]) {
    let _ = Command::<Op>::decode(data);
    let _ = Command::<CtrlOp>::decode(data);
    let _ = Command::<ShardOp>::decode(data);
    let _ = Replicated::<KvState>::restore(data);
    let _ = Replicated::<ShardCtrl>::restore(data);
    let _ = Replicated::<ShardKv>::restore(data);
}

thread_local! {
    /// One file per thread, rewritten per input: the reader only takes a path.
    static TRACE: tempfile::NamedTempFile =
        tempfile::NamedTempFile::new().expect("a temporary file for trace inputs");
}

fn trace_file(data: &[u8]) {
    TRACE.with(|file| {
        let mut f = std::fs::File::create(file.path()).expect("rewrite the trace input");
        f.write_all(data).expect("write the trace input");
        drop(f);
        let _ = trace::file::read_file(file.path());
    });
}
