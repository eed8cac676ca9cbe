fn main() {
    for seed in 1..=5 {
        let t = std::time::Instant::now();
        let c = raft_sim::nemesis::run(seed, &Default::default(), None);
        println!("seed {seed} sim={}ms wall={}ms committed={} crashes={} lost_writes={} events={} term={:?}", c.now_us()/1000, t.elapsed().as_millis(), c.committed_count(), c.counters.crashes, c.counters.writes_lost, c.counters.events, c.node(0).map(|n| n.term()));
    }
}
