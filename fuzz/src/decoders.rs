//! `decoders`: the same bytes through every decoder that reads what another process, a
//! peer, a disk or an operator wrote. Each must return an error for bytes it cannot read;
//! a panic is the finding. (Bounded allocation is left to libFuzzer's `-rss_limit_mb` /
//! `-malloc_limit_mb`: an allocation on a length field's say-so shows up there.)

use std::path::Path;

use bytes::BytesMut;
use kv_core::service::{Command, Replicated};
use kv_core::shardkv::{ShardKv, ShardOp, ShardOutput};
use kv_core::{CtrlOp, CtrlOutcome, KvState, Op, Outcome, ShardCtrl};
use mr_driver::frame::read_frame;
use mr_driver::protocol::{Reply, Request};
use runtime::frame::{decode_frame, FRAME_BYTES_MAX_DEFAULT};
use runtime::resp::{parse_command, to_command, Limits};
use runtime::storage::StorageOptions;
use runtime::wire::Wire;

/// Every decoder, on `data`.
pub fn run(data: &[u8]) {
    peer_payloads(data);
    peer_stream(data);
    redis_stream(data);
    service_state(data);
    let _ = postcard::from_bytes::<raft_core::Message>(data);
    let _ = mr_core::decode_bucket(data);
    let _ = trace::file::read_bytes(Path::new("fuzz-input"), data);
    durable_storage(data);
    histories(data);
    mr_streams(data);
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

/// A node's data directory: a log segment replayed as recovery replays the last one, and
/// a snapshot file, with the limit a node runs with.
fn durable_storage(data: &[u8]) {
    let name = Path::new("fuzz-input");
    let record_bytes_max = StorageOptions::default().record_bytes_max;
    let _ = runtime::storage::decode_segment(name, data, record_bytes_max);
    let _ = runtime::storage::decode_snapshot_file(name, data, record_bytes_max);
}

/// A history file for `raftkv check-history`, in both formats. Its reader refuses a file
/// that is not UTF-8 before parsing, so such bytes reach no parser there either.
fn histories(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = lincheck::parse_kv(text);
        let _ = lincheck::parse_jepsen(text);
    }
}

/// A MapReduce connection's byte stream, read by the coordinator (requests) and by a
/// worker (replies, whose task it checks before running it), frame after frame.
fn mr_streams(data: &[u8]) {
    let mut requests = data;
    while read_frame::<_, Request>(&mut requests).is_ok() {}
    let mut replies = data;
    while let Ok(reply) = read_frame::<_, Reply>(&mut replies) {
        if let Reply::Task(spec) = reply {
            let _ = spec.validate();
        }
    }
}
