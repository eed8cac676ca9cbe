use raft_sim::lab2;
fn main() {
    let all: Vec<(&str, fn(u64) -> raft_sim::Cluster)> = vec![
        ("basic_agree", lab2::basic_agree),
        ("rpc_bytes", lab2::rpc_bytes),
        ("backup", lab2::backup),
        ("count", lab2::count),
        ("persist2", lab2::persist2),
        ("figure8", lab2::figure8),
        ("unreliable_agree", lab2::unreliable_agree),
        ("figure8_unreliable", lab2::figure8_unreliable),
        ("reliable_churn", lab2::reliable_churn),
        ("unreliable_churn", lab2::unreliable_churn),
    ];
    for (name, f) in all {
        let t = std::time::Instant::now();
        let c = f(1);
        println!("{name:20} sim={:>6}ms wall={:>5}ms committed={:>5} crashes={} req={} bytes={} events={}", c.now_us() / 1000, t.elapsed().as_millis(), c.committed_count(), c.counters.crashes, c.counters.requests, c.counters.request_bytes, c.counters.events);
    }
}
