fn main() {
    let c = raft_sim::lab2::many_elections(1);
    println!(
        "t={}ms counters={:?} committed={}",
        c.now_us() / 1000,
        c.counters,
        c.committed_count()
    );
    let c = raft_sim::lab2::figure8_unreliable(1);
    println!(
        "t={}ms counters={:?} committed={}",
        c.now_us() / 1000,
        c.counters,
        c.committed_count()
    );
}
