//! End to end, real processes on loopback: what a node does with its data directory
//! damaged or shared. A torn tail (the end of an append cut short) is repaired and the
//! node catches up; a flipped byte in the durable prefix is refused, naming the file and
//! offset; a second process on the same directory is refused.

mod common;

use std::io::{Seek, SeekFrom, Write};
use std::time::Duration;

use common::{records, segments, Harness, RespConn, Spawned};
use runtime::local_cluster::free_port;

#[tokio::test(flavor = "current_thread")]
async fn torn_tail_is_repaired_and_the_node_catches_up() {
    let mut h = Harness::start("torn-tail", 3).await;
    for i in 0..20 {
        h.put(&format!("k{i}"), &format!("before{i}")).await;
    }
    let victim = h.follower().await;
    // It has everything the leader committed before it goes.
    h.wait_status(Duration::from_secs(10), |s| {
        let commit = s.values().map(|x| x.commit).max().unwrap_or(0);
        s.get(&victim).is_some_and(|me| me.applied >= commit)
    })
    .await
    .unwrap_or_else(|s| panic!("node {victim} not caught up before the kill: {s:#?}"));
    h.cluster.kill(victim);
    h.say(format!("SIGKILL node {victim} (a follower)"));

    // A torn tail is what a crash in the middle of an append leaves: the end of a
    // record that was never synced, so never acknowledged. Append one, a copy of the
    // last record cut a few bytes short. (Cutting the real last record instead would
    // take away an entry the node acknowledged, which no crash can do: the leader
    // believes the node has it and never sends it again.)
    let segs = segments(&h.cluster.data_dir(victim));
    let last = segs.last().expect("a segment").clone();
    let recs = records(&last);
    let &(last_offset, last_len) = recs.last().expect("records in the last segment");
    let bytes = std::fs::read(&last).expect("read segment");
    let file_bytes = bytes.len() as u64;
    assert_eq!(
        file_bytes,
        last_offset + 8 + u64::from(last_len),
        "the segment ends with a whole record"
    );
    let cut = 3;
    let torn = &bytes[last_offset as usize..bytes.len() - cut];
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .expect("open segment");
    file.write_all(torn).expect("append a torn record");
    drop(file);
    let name = last.file_name().unwrap().to_string_lossy().to_string();
    h.say(format!(
        "appended {} bytes to {name}: a record of {} bytes cut {cut} short ({} records, {file_bytes} bytes before)",
        torn.len(),
        torn.len() + cut,
        recs.len()
    ));

    // Writes while it is down, which it must fetch from the leader.
    for i in 0..10 {
        h.put(&format!("k{i}"), &format!("while_down{i}")).await;
    }
    h.cluster.start(victim).expect("restart");
    let expected = format!(
        "repaired torn tail: dropped {} bytes at {name}:{file_bytes}",
        torn.len()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !h.log(victim).contains("repaired torn tail") && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = h
        .log(victim)
        .lines()
        .rev()
        .find(|l| l.contains("recovered:"))
        .map(str::to_string)
        .unwrap_or_default();
    h.say(format!("node {victim}: {recovered}"));
    assert!(
        recovered.contains(&expected),
        "expected {expected:?} in its recovery line"
    );

    for i in 0..20 {
        h.put(&format!("k{i}"), &format!("after{i}")).await;
    }
    let leader = h.leader(Duration::from_secs(10)).await;
    let commit = common::node_status(h.cluster.peers[&leader]).await.commit;
    let statuses = h
        .wait_status(Duration::from_secs(10), |s| {
            s.get(&victim).is_some_and(|me| me.applied >= commit)
        })
        .await
        .unwrap_or_else(|s| {
            panic!("node {victim} did not apply up to the leader's commit {commit}: {s:#?}")
        });
    h.say(format!(
        "node {victim} applied {} (leader's commit {commit})",
        statuses[&victim].applied
    ));
    h.assert_alive(&h.ids());

    let mut redis = RespConn::connect(h.cluster.redis[&victim]);
    for i in 0..20 {
        let key = format!("k{i}");
        assert_eq!(
            redis.call(&["GET", &key]),
            common::Resp::bulk(&format!("after{i}")),
            "GET {key} through node {victim}'s redis port"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn flipped_byte_in_the_durable_prefix_is_refused_naming_file_and_offset() {
    let mut h = Harness::start("flipped-byte", 3).await;
    for i in 0..20 {
        h.put(&format!("k{i}"), &format!("v{i}")).await;
    }
    let victim = h.follower().await;
    let status = h.cluster.terminate(victim, Duration::from_secs(5));
    assert!(
        status.is_some_and(|s| s.success()),
        "node {victim} did not stop cleanly: {status:?}"
    );
    let segs = segments(&h.cluster.data_dir(victim));
    let seg = segs.last().expect("a segment").clone();
    let recs = records(&seg);
    assert!(recs.len() >= 4, "too few records to pick one: {recs:?}");
    // The second record: after the checkpoint, well before the end.
    let (offset, len) = recs[1];
    let at = offset + 8 + u64::from(len) / 2;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&seg)
        .expect("open segment");
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(at)).unwrap();
    std::io::Read::read_exact(&mut file, &mut byte).unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&[byte[0] ^ 0x5a]).unwrap();
    file.sync_all().unwrap();
    drop(file);
    h.say(format!(
        "flipped byte {at} of {} (inside the record at offset {offset}, {} records)",
        seg.display(),
        recs.len()
    ));

    h.cluster.start(victim).expect("start");
    let exit = h.wait_exit(victim, Duration::from_secs(10));
    let log = h.log(victim);
    let last_lines: Vec<&str> = log.lines().rev().take(3).collect();
    h.say(format!("node {victim} exited {exit:?}: {last_lines:?}"));
    let exit = exit.unwrap_or_else(|| panic!("node {victim} still running 10 s after start"));
    assert!(!exit.success(), "node {victim} exited successfully");
    let expected = format!("corrupt record in {} at offset {offset}", seg.display());
    assert!(
        log.contains(&expected),
        "expected {expected:?} in its output"
    );
    // Refused untouched: the damaged byte is still there for the operator.
    let bytes = std::fs::read(&seg).unwrap();
    assert_eq!(
        bytes[at as usize],
        byte[0] ^ 0x5a,
        "the segment was changed"
    );

    // The other two still serve.
    h.put("k0", "still served").await;
    assert_eq!(h.get("k0").await.as_deref(), Some("still served"));
    let others: Vec<_> = h.ids().into_iter().filter(|&i| i != victim).collect();
    h.assert_alive(&others);
}

#[tokio::test(flavor = "current_thread")]
async fn second_process_on_the_same_data_dir_is_refused() {
    let mut h = Harness::start("second-process", 3).await;
    h.put("a", "1").await;
    let id = 1;
    let dir = h.cluster.data_dir(id);
    let peer = free_port().expect("port");
    let client = free_port().expect("port");
    let args = [
        "server".to_string(),
        "--id".into(),
        id.to_string(),
        "--peers".into(),
        format!("{id}={peer}"),
        "--client".into(),
        client.to_string(),
        "--data-dir".into(),
        dir.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut second = Spawned::new(&args, h.dir().join("second.out"));
    let exit = second.wait(Duration::from_secs(10));
    let output = second.output();
    h.say(format!("second process: {exit:?}, said {output:?}"));
    let exit = exit.expect("the second process still running after 10 s");
    assert!(!exit.success(), "the second process exited successfully");
    let expected = format!(
        "data directory {} is in use by another process",
        dir.display()
    );
    assert!(output.contains(&expected), "expected {expected:?}");

    // The first keeps serving, its directory unharmed.
    h.assert_alive(&h.ids());
    h.put("a", "2").await;
    assert_eq!(h.get("a").await.as_deref(), Some("2"));
    let s = common::node_status(h.cluster.peers[&id]).await;
    assert!(s.role == "leader" || s.role == "follower", "{s:?}");
    let mut redis = RespConn::connect(h.cluster.redis[&id]);
    assert_eq!(redis.call(&["GET", "a"]), common::Resp::bulk("2"));
}
