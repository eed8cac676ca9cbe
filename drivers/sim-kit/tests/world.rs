//! The skeleton on its own: a world of bare Raft pipelines with no application, and one
//! event of its own. Elections happen, runs repeat, dead nodes' events are dropped, and
//! a failure names its seed.

use raft_core::{Config, Input, Message, Node, Pipeline, Role, Work, WriteId};
use sim_kit::watch::RaftWatch;
use sim_kit::{NetConfig, Sim, World, WorldConfig, MS};

struct Mini {
    world: World<Pipeline, u32>,
    /// The world's own events, as they came due: (time, payload).
    pings: Vec<(u64, u32)>,
    ticks: Vec<u64>,
}

impl Mini {
    fn new(seed: u64) -> Self {
        let cfg = WorldConfig::new(3, seed, NetConfig::unreliable());
        let mut mini = Mini {
            world: World::new(cfg, RaftWatch::for_service()),
            pings: Vec::new(),
            ticks: vec![0; 3],
        };
        for slot in 0..3 {
            mini.start(slot);
        }
        mini
    }

    /// Steps the node, after handing it the ticks it is owed.
    fn step(&mut self, slot: usize, input: Input) {
        self.hand_in_ticks(slot);
        self.step_now(slot, input);
    }

    fn hand_in_ticks(&mut self, slot: usize) {
        if let Some(ticks) = self.world.owed_ticks_input(slot) {
            self.ticks[slot] += match ticks {
                Input::Ticks { count } => u64::from(count),
                _ => 1,
            };
            self.step_now(slot, ticks);
        }
    }

    fn step_now(&mut self, slot: usize, input: Input) {
        let work = self.world.step_pipeline(slot, input);
        self.carry_out(slot, work.expect("ticks and messages are never refused"));
    }

    fn carry_out(&mut self, slot: usize, work: Work) {
        for m in work.messages {
            self.world.send(m);
        }
        for write in work.writes {
            self.world.write(slot, write);
        }
    }

    fn leader(&self) -> Option<usize> {
        (0..3).find(|&s| {
            self.world
                .node(s)
                .is_some_and(|p| p.node().role() == Role::Leader)
        })
    }
}

impl Sim for Mini {
    sim_kit::sim_world!(world: Pipeline, u32);

    fn start(&mut self, slot: usize) {
        self.world.start(slot, |boot| {
            let mut cfg = Config::new(boot.id, vec![1, 2, 3]);
            cfg.seed = boot.seed;
            let node = Node::new(cfg, boot.restored).map_err(|e| e.to_string())?;
            Ok(Pipeline::new(node))
        });
    }

    fn on_tick(&mut self, slot: usize, count: u32) {
        self.ticks[slot] += u64::from(count);
        self.step_now(slot, Input::Ticks { count });
    }

    fn on_message(&mut self, slot: usize, message: Message) {
        self.step(slot, Input::Message(message));
    }

    fn on_persisted(&mut self, slot: usize, id: WriteId) {
        self.hand_in_ticks(slot);
        let work = self.world.persist_pipeline(slot, id);
        self.carry_out(slot, work);
    }

    fn on_event(&mut self, ping: u32) {
        let now_us = self.now_us();
        self.pings.push((now_us, ping));
    }
}

#[test]
fn a_world_of_pipelines_elects_and_repeats_itself() {
    let run = |seed| {
        let mut m = Mini::new(seed);
        m.sleep_ms(5_000);
        assert!(m.leader().is_some(), "no leader in 5 s:\n{}", m.describe());
        (m.output_digest(), m.world.counters().clone())
    };
    let (digest, counters) = run(7);
    assert!(counters.events > 0 && counters.delivered > 0);
    assert!(counters.lost > 0, "an unreliable network drops something");
    assert_eq!(run(7), (digest, counters), "same seed, same run");
    assert_ne!(run(8).0, digest, "the digest sees the seed");
}

#[test]
fn a_killed_node_hears_nothing_until_it_restarts() {
    let mut m = Mini::new(3);
    m.sleep_ms(2_000);
    let term = m.world.node(0).expect("up").node().term();
    m.crash(0);
    assert!(!m.world.kill(0), "killing a dead node does nothing");
    assert!(!m.is_connected(0), "a crash disconnects");
    let ticks = m.ticks[0];
    m.sleep_ms(1_000);
    assert_eq!(m.ticks[0], ticks, "a dead node's ticks are dropped");
    assert_eq!(m.world.counters().crashes, 1);
    m.restart(0);
    assert!(
        m.world.node(0).expect("up").node().term() >= term,
        "term is durable"
    );
    m.connect(0);
    m.sleep_ms(1_000);
    assert!(m.ticks[0] > ticks + 50, "the restarted node ticks again");
}

#[test]
fn own_events_come_due_in_order() {
    let mut m = Mini::new(1);
    m.world.schedule(5 * MS, 2);
    m.world.schedule(3 * MS, 1);
    m.world.schedule(5 * MS, 3);
    m.advance_us(4 * MS);
    assert_eq!(m.pings, vec![(3 * MS, 1)]);
    assert_eq!(m.now_us(), 4 * MS, "the clock stands at the horizon");
    m.advance_us(MS);
    assert_eq!(m.pings, vec![(3 * MS, 1), (5 * MS, 2), (5 * MS, 3)]);
}

#[test]
fn a_failure_names_seed_time_and_every_slot() {
    let mut m = Mini::new(11);
    m.sleep_ms(1_500);
    m.kill(2);
    m.disconnect(1);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.fail("boom")));
    let text = sim_kit::seeds::panic_text(&*panic.expect_err("fail panics")).to_string();
    assert!(text.starts_with("boom (seed 11, t = 1500 ms)"), "{text}");
    assert!(text.contains("node 2: disconnected"), "{text}");
    assert!(text.contains("node 3: connected, down"), "{text}");
}

#[test]
fn a_runaway_world_fails_on_its_event_budget() {
    let mut cfg = WorldConfig::new(3, 5, NetConfig::default());
    cfg.events_max = 1_000;
    let mut m = Mini::new(5);
    m.world = World::new(cfg, RaftWatch::for_service());
    for slot in 0..3 {
        m.start(slot);
    }
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| m.sleep_ms(60_000)));
    let text = sim_kit::seeds::panic_text(&*panic.expect_err("budget")).to_string();
    assert!(text.contains("event budget exhausted"), "{text}");
}
