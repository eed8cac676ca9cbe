//! A deterministic world for the coordinator: virtual time, simulated workers that crash,
//! stall and fail, a network that delays, duplicates and reorders reports, and an in-memory
//! shared directory with the same commit-by-rename rule as the real driver.

use std::collections::BTreeMap;

use mr_core::apps::WordCount;
use mr_core::{
    attempt_files, decode_bucket, encode_bucket, intermediate_name, partition_pairs, reduce_pairs,
    Assignment, Attempt, Config, Coordinator, Input, MapReduce, Output, TaskId,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim_kit::queue::EventQueue;
use trace::machine::MrMachine;
use trace::Recorder;

const TICK_MS: u64 = 100;
const TIMEOUT_TICKS: u64 = 10;
const ASK_RETRY_MS: u64 = 20;
const TIME_LIMIT_MS: u64 = 30 * 60 * 1000;
const EVENTS_MAX: u64 = 1_000_000;
/// Events pending at once: a few per worker and report, so this means a runaway.
const QUEUE_LEN_MAX: usize = 1 << 16;

#[derive(Debug, Clone, Copy)]
enum Event {
    Tick,
    Ask {
        worker: usize,
        life: u32,
    },
    Finish {
        worker: usize,
        life: u32,
        assignment: AssignmentKey,
    },
    Deliver {
        attempt: AttemptKey,
        done: bool,
    },
    Restart {
        worker: usize,
    },
}

type AttemptKey = (u64, TaskId);
type AssignmentKey = (u64, TaskId, u32, u32);

fn key(a: Attempt) -> AttemptKey {
    (a.id.0, a.task)
}

fn attempt(k: AttemptKey) -> Attempt {
    Attempt {
        id: mr_core::AttemptId(k.0),
        task: k.1,
    }
}

/// How the world misbehaves; `commit_discards` is a deliberately broken driver, to show the
/// checker catches double commits.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub commit_discards: bool,
}

#[derive(Debug, Clone, Copy)]
struct Worker {
    /// Incremented on every crash, so events of a previous life are ignored.
    life: u32,
    alive: bool,
    exited: bool,
}

pub struct World {
    rng: ChaCha8Rng,
    now_ms: u64,
    /// Popped in (time, insertion) order, as the kit's simulators do.
    queue: EventQueue<Event>,
    core: Coordinator,
    workers: Vec<Worker>,
    inputs: Vec<(String, String)>,
    /// The shared directory: final names, and temporaries keyed by their temporary name.
    files: BTreeMap<String, Vec<u8>>,
    temporaries: BTreeMap<String, Vec<u8>>,
    commits: u64,
    faults: Faults,
    /// Everything that happened, for the determinism check.
    pub trace: Vec<String>,
    /// The coordinator's steps as a replayable trace, when asked
    /// (`sim_kit::seeds::trace_request`): written on drop, also when a run fails.
    recording: Option<(std::path::PathBuf, Recorder<MrMachine>)>,
}

impl World {
    pub fn new(seed: u64, faults: Faults) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n_map = rng.gen_range(1..=8);
        let n_reduce = rng.gen_range(1..=6);
        let inputs = (0..n_map)
            .map(|i| (format!("in-{i}.txt"), random_text(&mut rng)))
            .collect();
        // App failures here are transient, so the job-failure limit is out of reach.
        let config = Config {
            task_timeout_ticks: TIMEOUT_TICKS,
            failures_per_task_max: 1_000,
            ..Config::new(n_map, n_reduce)
        };
        let n_workers = rng.gen_range(1..=5);
        let mut world = World {
            rng,
            now_ms: 0,
            queue: EventQueue::new(QUEUE_LEN_MAX),
            core: Coordinator::new(config).unwrap(),
            workers: vec![
                Worker {
                    life: 0,
                    alive: true,
                    exited: false
                };
                n_workers
            ],
            inputs,
            files: BTreeMap::new(),
            temporaries: BTreeMap::new(),
            commits: 0,
            faults,
            trace: Vec::new(),
            recording: sim_kit::seeds::trace_request().map(|dir| {
                let sink = trace::Sink::memory();
                let note = format!("mr coordinator simulation, seed {seed}");
                let r = Recorder::start(sink, 1, 1, 0, &config, note);
                (dir.join(format!("seed{seed}")), r)
            }),
        };
        world.schedule(TICK_MS, Event::Tick);
        for worker in 0..n_workers {
            let delay = world.rng.gen_range(0..50);
            world.schedule(delay, Event::Ask { worker, life: 0 });
        }
        world
    }

    fn schedule(&mut self, delay_ms: u64, event: Event) {
        self.queue.push(self.now_ms + delay_ms, event);
    }

    /// Runs until the job is done and every worker has heard it; returns the output lines.
    pub fn run(&mut self) -> Vec<String> {
        let mut events = 0;
        while let Some((at_ms, event)) = self.queue.pop() {
            assert!(at_ms >= self.now_ms, "time never runs backwards");
            self.now_ms = at_ms;
            events += 1;
            assert!(
                events < EVENTS_MAX && self.now_ms < TIME_LIMIT_MS,
                "job did not finish: {:?}",
                self.core.stats()
            );
            self.trace.push(format!("{at_ms} {event:?}"));
            self.handle(event);
            if self.core.is_done() && self.workers.iter().all(|w| w.exited || !w.alive) {
                break;
            }
        }
        assert!(
            self.core.is_done(),
            "the event queue ran dry before the job finished"
        );
        let n_tasks = u64::from(self.core.config().n_map + self.core.config().n_reduce);
        assert_eq!(self.commits, n_tasks, "every task commits exactly once");
        if std::env::var_os("SIM_VERBOSE").is_some() {
            eprintln!(
                "{:?} at {} ms, {} events",
                self.core.stats(),
                self.now_ms,
                events
            );
        }
        self.output_lines()
    }

    /// Steps the coordinator, recording the step if the run is recorded.
    fn core_step(&mut self, input: Input) -> Result<Output, mr_core::StepError> {
        let Some((_, r)) = self.recording.as_mut() else {
            return self.core.step(input);
        };
        let bytes = Recorder::<MrMachine>::encode_input(&input);
        let out = self.core.step(input);
        let recorded = out.clone().map_err(|e| e.to_string());
        r.record(self.now_ms * 1000, bytes, None, &recorded);
        out
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Tick => {
                let out = self.core_step(Input::Tick).unwrap();
                self.trace.push(format!("  -> {out:?}"));
                if !self.core.is_done() {
                    self.schedule(TICK_MS, Event::Tick);
                }
            }
            Event::Ask { worker, life } if self.current(worker, life) => self.ask(worker),
            Event::Finish {
                worker,
                life,
                assignment,
            } if self.current(worker, life) => self.finish(worker, assignment),
            Event::Deliver { attempt: a, done } => self.deliver(attempt(a), done),
            Event::Restart { worker } => {
                self.workers[worker].alive = true;
                self.schedule(
                    0,
                    Event::Ask {
                        worker,
                        life: self.workers[worker].life,
                    },
                );
            }
            Event::Ask { .. } | Event::Finish { .. } => {} // from a crashed life
        }
    }

    fn current(&self, worker: usize, life: u32) -> bool {
        let w = self.workers[worker];
        w.alive && !w.exited && w.life == life
    }

    fn ask(&mut self, worker: usize) {
        let life = self.workers[worker].life;
        match self.core_step(Input::Ask).unwrap() {
            Output::Assign(a) => {
                let roll = self.rng.gen_range(0..100);
                let duration_ms = match roll {
                    0..=14 => self.rng.gen_range(1_200..4_000), // slow: past the timeout
                    _ => self.rng.gen_range(5..300),
                };
                let key = (a.attempt.id.0, a.attempt.task, a.n_map, a.n_reduce);
                if roll >= 90 {
                    // Crash somewhere in the middle; come back as a fresh process later.
                    let crash_at = self.rng.gen_range(0..duration_ms);
                    self.schedule(crash_at, Event::Restart { worker });
                    self.workers[worker].alive = false;
                    self.workers[worker].life += 1;
                    self.write_partial(a);
                } else {
                    self.schedule(
                        duration_ms,
                        Event::Finish {
                            worker,
                            life,
                            assignment: key,
                        },
                    );
                }
            }
            Output::Wait => self.schedule(ASK_RETRY_MS, Event::Ask { worker, life }),
            Output::Exit => self.workers[worker].exited = true,
            other => panic!("Ask answered with {other:?}"),
        }
    }

    /// A crashed attempt may leave some temporary files behind; they must never surface.
    fn write_partial(&mut self, a: Assignment) {
        for (temporary, _) in attempt_files(a.attempt, a.n_reduce) {
            if self.rng.gen_bool(0.5) {
                self.temporaries.insert(temporary, b"torn".to_vec());
            }
        }
    }

    fn finish(&mut self, worker: usize, (id, task, n_map, n_reduce): AssignmentKey) {
        let a = Attempt {
            id: mr_core::AttemptId(id),
            task,
        };
        let app_fails = self.rng.gen_range(0..100) < 5;
        if !app_fails {
            for (temporary, bytes) in self.execute(a, n_map, n_reduce) {
                self.temporaries.insert(temporary, bytes);
            }
        }
        // The report crosses the network: delayed, sometimes duplicated much later.
        let delay = self.rng.gen_range(0..50);
        self.schedule(
            delay,
            Event::Deliver {
                attempt: key(a),
                done: !app_fails,
            },
        );
        if self.rng.gen_range(0..100) < 15 {
            let late = self.rng.gen_range(0..3_000);
            self.schedule(
                late,
                Event::Deliver {
                    attempt: key(a),
                    done: !app_fails,
                },
            );
        }
        let life = self.workers[worker].life;
        self.schedule(delay + 1, Event::Ask { worker, life });
    }

    /// Runs the task for real: word count over the inputs, via the committed intermediates.
    fn execute(&self, a: Attempt, n_map: u32, n_reduce: u32) -> Vec<(String, Vec<u8>)> {
        let files = attempt_files(a, n_reduce);
        match a.task {
            TaskId::Map(x) => {
                let (name, text) = &self.inputs[x as usize];
                let buckets = partition_pairs(WordCount.map(name, text).unwrap(), n_reduce);
                files
                    .into_iter()
                    .zip(buckets)
                    .map(|((tmp, _), b)| (tmp, encode_bucket(&b)))
                    .collect()
            }
            TaskId::Reduce(y) => {
                let mut pairs = Vec::new();
                for x in 0..n_map {
                    let bytes = self
                        .files
                        .get(&intermediate_name(x, y))
                        .expect("reduce runs after every map committed");
                    pairs.extend(
                        decode_bucket(bytes).expect("only complete intermediates are committed"),
                    );
                }
                vec![(files[0].0.clone(), reduce_pairs(&WordCount, pairs).unwrap())]
            }
        }
    }

    fn deliver(&mut self, a: Attempt, done: bool) {
        let input = if done {
            Input::Done(a)
        } else {
            Input::Failed(a)
        };
        let out = self.core_step(input).unwrap();
        self.trace.push(format!("  -> {out:?}"));
        let n_reduce = self.core.config().n_reduce;
        match out {
            Output::Commit(a) => self.commit(a, n_reduce),
            Output::Discard(a) if self.faults.commit_discards && done => self.commit(a, n_reduce),
            Output::Discard(a) => {
                for (temporary, _) in attempt_files(a, n_reduce) {
                    self.temporaries.remove(&temporary);
                }
            }
            other => panic!("a report answered with {other:?}"),
        }
    }

    fn commit(&mut self, a: Attempt, n_reduce: u32) {
        for (temporary, final_name) in attempt_files(a, n_reduce) {
            let bytes = self
                .temporaries
                .remove(&temporary)
                .expect("a done attempt wrote all its files");
            assert!(
                !self.files.contains_key(&final_name),
                "committed output {final_name} written twice"
            );
            self.files.insert(final_name, bytes);
        }
        self.commits += 1;
    }

    fn output_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .files
            .iter()
            .filter(|(name, _)| name.starts_with("mr-out-"))
            .flat_map(|(_, bytes)| {
                String::from_utf8(bytes.clone())
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        lines.sort();
        lines
    }

    pub fn sequential_lines(&self) -> Vec<String> {
        let out = mr_core::run_sequential(&WordCount, &self.inputs).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn random_text(rng: &mut ChaCha8Rng) -> String {
    const WORDS: &[&str] = &[
        "alpha", "beta", "gamma", "delta", "Alpha", "x", "yy", "zzz", "émile", "map", "reduce",
    ];
    let n = rng.gen_range(0..200);
    (0..n)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(if rng.gen_bool(0.5) { " " } else { ", " })
}

impl Drop for World {
    fn drop(&mut self) {
        let Some((dir, r)) = self.recording.take() else {
            return;
        };
        let bytes = r.into_bytes().expect("an in-memory recorder");
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join(trace::file::file_name(1, 0)), bytes));
        if let Err(e) = written {
            eprintln!("cannot write the trace to {}: {e}", dir.display());
        }
    }
}
