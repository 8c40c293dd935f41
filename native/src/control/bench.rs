//! `era bench control`: what ERA costs in a control update, how fast the fast CPU path is against
//! the burn reference, and how fast the environments step.
//!
//! ERA and its baseline run on the same networks (same seed), the same batches and the same backend;
//! measurements are interleaved and the median of each is reported, with the ratio, because these
//! machines are shared and noisy. With `--backend fast` every variant runs on the fast path and on
//! ndarray side by side. SAC: the update alone (batches sampled beforehand from a 100 000-transition
//! buffer) with ERA on and off, and SAC-ERA inside a FiveLinkArm-v0 training loop (acting, stepping,
//! storing, sampling, two updates per step). PPO: the 320 minibatch updates of one 2048-step rollout
//! with ERA on and off, and one whole iteration of PPO-ERA training on FiveLinkArm-v0 (the rollout,
//! acting one step at a time, then its update). With `--against jax` the fast path's SAC update runs
//! beside the same update in JAX instead (docs/benchmarks.md, "Beside JAX").
//!
//! What was tried for the fast path, with each attempt's predicted and measured effect, is in
//! docs/benchmarks.md ("What was tried for the fast path").

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use era_shared::control::config::AgentConfig;
use era_shared::control::engine::{self as engines, Engine};
use era_shared::control::ppo::{PpoConfig, Rollout};
use era_shared::control::replay::{Batch, ReplayBuffer};
use era_shared::control::sac::SacConfig;
use era_shared::control::{ControlConfig, ControlTrainer};
use era_shared::env::{Env, env_ids};
use era_shared::train::{TrainError, TrainRng, Trainer};
use rand::{Rng, SeedableRng};

use super::args::{Against, BenchAlgo, BenchControlArgs};
use crate::backend::{self, BackendChoice, Compute, Task};
use crate::bench_record::BenchRecord;
use crate::peer::Peer;

/// HalfCheetah's dimensions: the usual yardstick for a SAC update.
const OBS: usize = 17;
const ACT: usize = 6;

/// Runs `era bench control`.
pub fn run(args: &BenchControlArgs) -> anyhow::Result<()> {
    if args.against == Against::DmControl && args.algo != BenchAlgo::Env {
        anyhow::bail!("--against dm-control times the environments only; use --algo env");
    }
    if args.against == Against::Jax {
        if args.algo != BenchAlgo::Sac {
            anyhow::bail!("--against jax: the JAX version exists for the SAC update only; use --algo sac");
        }
        if args.backend == BackendChoice::Ndarray {
            anyhow::bail!(
                "--against jax measures the fast CPU path (--backend fast) or a GPU (--backend cuda or wgpu) beside JAX, not the ndarray reference"
            );
        }
    }
    let want = |a: BenchAlgo| args.algo == a || args.algo == BenchAlgo::All;
    let mut record = if want(BenchAlgo::Sac) || want(BenchAlgo::Ppo) {
        backend::run(args.backend, Agents { args })??
    } else {
        BenchRecord::without_backend("bench control")
    };
    record.setting("width", args.width);
    record.setting("updates", args.updates);
    record.setting("repeats", args.repeats);
    if want(BenchAlgo::Env) {
        let ids: Vec<String> =
            if args.envs.is_empty() { env_ids().iter().map(|s| s.to_string()).collect() } else { args.envs.clone() };
        if args.against == Against::DmControl {
            bench_beside_dm_control(args, &ids, &mut record)?;
        } else {
            println!("environment steps/s (one copy, uniform random actions, {} steps each):", args.env_steps);
            for id in &ids {
                let rate = env_steps_per_sec(id, args.env_steps)?;
                println!("  {id:<26} {rate:>12.0} steps/s");
                record.figure(&format!("env/{id}"), rate, "steps/s");
            }
        }
    }
    record.write(args.json.as_deref())
}

struct Agents<'a> {
    args: &'a BenchControlArgs,
}

impl Task for Agents<'_> {
    type Output = anyhow::Result<BenchRecord>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<BenchRecord> {
        let a = self.args;
        let mut record = BenchRecord::new("bench control", compute);
        let want = |x: BenchAlgo| a.algo == x || a.algo == BenchAlgo::All;
        if want(BenchAlgo::Sac) {
            let bench = Bench {
                algo: "sac",
                update: format!("SAC update (obs {OBS}, action {ACT}, 2×{} MLPs, batch 256)", a.width),
                unit: "updates/s",
                in_loop: "sac-era in a FiveLinkArm-v0 training loop (act, step, store, sample, 2 updates per step)",
                loop_unit: "updates/s",
            };
            let update = |era, engine| sac_updates_per_sec::<B>(era, a.width, a.updates, engine, &device);
            if a.against == Against::Jax {
                let jax = Jax { peer: Peer::jax(&a.python), width: a.width, updates: a.updates };
                bench.report_against_jax((a.repeats, compute), &update, &jax, &mut record)?;
            } else {
                bench.report(
                    (a.repeats, compute),
                    &update,
                    &|engine| sac_loop_updates_per_sec::<B>(a.width, a.updates, engine, &device),
                    &mut record,
                )?;
            }
        }
        if want(BenchAlgo::Ppo) {
            let bench = Bench {
                algo: "ppo",
                update: format!(
                    "PPO update (obs {OBS}, action {ACT}, 2×64 MLPs, 2048-step rollout, 10 epochs × 32 minibatches of 64)"
                ),
                unit: "minibatch updates/s",
                in_loop: "ppo-era on FiveLinkArm-v0, rollout of 2048 steps + update",
                loop_unit: "environment steps/s",
            };
            bench.report(
                (a.repeats, compute),
                &|era, engine| ppo_updates_per_sec::<B>(era, engine, &device),
                &|engine| ppo_loop_steps_per_sec::<B>(engine, &device),
                &mut record,
            )?;
        }
        Ok(record)
    }
}

/// One algorithm's benchmark as printed: the update with ERA on and off, and ERA inside a training
/// loop.
struct Bench {
    /// `sac` or `ppo`.
    algo: &'static str,
    /// What the update measurement is.
    update: String,
    /// Its unit.
    unit: &'static str,
    /// What the training-loop measurement is.
    in_loop: &'static str,
    /// Its unit.
    loop_unit: &'static str,
}

impl Bench {
    /// Measures `update(era, engine)` with ERA on and off and `in_loop(engine)`, interleaved, and
    /// prints the medians (and records them). On the fast path each runs on the fast path and on the
    /// ndarray reference side by side, with the speed-up.
    fn report(
        &self,
        (repeats, compute): (usize, Compute),
        update: &dyn Fn(bool, Engine) -> Result<f64, TrainError>,
        in_loop: &dyn Fn(Engine) -> Result<f64, TrainError>,
        record: &mut BenchRecord,
    ) -> Result<(), TrainError> {
        let (algo, unit, engine) = (self.algo, self.unit, compute.engine());
        if engine == Engine::Fast {
            let [era_fast, era_ref, plain_fast, plain_ref, loop_fast, loop_ref] = medians(
                repeats,
                [
                    &|| update(true, Engine::Fast),
                    &|| update(true, Engine::Burn),
                    &|| update(false, Engine::Fast),
                    &|| update(false, Engine::Burn),
                    &|| in_loop(Engine::Fast),
                    &|| in_loop(Engine::Burn),
                ],
            )?;
            println!("{}, {unit}, median of {repeats}:", self.update);
            let with_era = format!("{algo}-era");
            side_by_side(("fast", "ndarray"), &[(&with_era, era_fast, era_ref), (algo, plain_fast, plain_ref)]);
            println!("{}, {}:", self.in_loop, self.loop_unit);
            side_by_side(("fast", "ndarray"), &[(&with_era, loop_fast, loop_ref)]);
            println!("  {algo}-era (fast)     {era_fast:>10.1} {unit}");
            println!("  ERA overhead (fast): {:.3}× (time per update, {algo}-era / {algo})", plain_fast / era_fast);
            self.record(record, [era_fast, plain_fast, loop_fast]);
            record.figure(&format!("{algo}/update_era_ndarray"), era_ref, unit);
            record.figure(&format!("{algo}/update_plain_ndarray"), plain_ref, unit);
        } else {
            let [era, plain, looped] =
                medians(repeats, [&|| update(true, engine), &|| update(false, engine), &|| in_loop(engine)])?;
            println!("{} on {compute}, median of {repeats}:", self.update);
            println!("  {algo}-era  {era:>10.1} {unit}\n  {algo}      {plain:>10.1} {unit}");
            println!("  {}: {looped:.1} {}", self.in_loop, self.loop_unit);
            println!("  ERA overhead: {:.3}× (time per update, {algo}-era / {algo})", plain / era);
            self.record(record, [era, plain, looped]);
        }
        Ok(())
    }

    /// Records the update rates with ERA on and off, ERA's overhead and the training loop's rate.
    fn record(&self, record: &mut BenchRecord, [era, plain, looped]: [f64; 3]) {
        let algo = self.algo;
        record.figure(&format!("{algo}/update_era"), era, self.unit);
        record.figure(&format!("{algo}/update_plain"), plain, self.unit);
        record.figure(&format!("{algo}/era_overhead"), plain / era, "×");
        record.figure(&format!("{algo}/loop_era"), looped, self.loop_unit);
    }

    /// Measures `update(era, engine)` and the same update in JAX (on whatever device JAX finds) with
    /// ERA on and off, interleaved, and prints the medians side by side (and records them).
    fn report_against_jax(
        &self,
        (repeats, compute): (usize, Compute),
        update: &dyn Fn(bool, Engine) -> Result<f64, TrainError>,
        jax: &Jax,
        record: &mut BenchRecord,
    ) -> anyhow::Result<()> {
        let version = jax.peer.version()?;
        let era = |on| Ok::<_, anyhow::Error>(update(on, compute.engine())?);
        let [era_on, jax_on, era_off, jax_off] = medians(
            repeats,
            [&|| era(true), &|| jax.updates_per_sec(true), &|| era(false), &|| jax.updates_per_sec(false)],
        )?;
        println!(
            "{} on {compute}, {}, median of {repeats}, beside JAX {version} on {} (compiled end to end):",
            self.update,
            self.unit,
            jax.peer.platform()?
        );
        let algo = self.algo;
        let with_era = format!("{algo}-era");
        side_by_side((&compute.to_string(), "jax"), &[(&with_era, era_on, jax_on), (algo, era_off, jax_off)]);
        record.setting("jax", version);
        record.figure(&format!("{algo}/update_era"), era_on, self.unit);
        record.figure(&format!("{algo}/update_plain"), era_off, self.unit);
        record.figure(&format!("{algo}/update_era_jax"), jax_on, self.unit);
        record.figure(&format!("{algo}/update_plain_jax"), jax_off, self.unit);
        record.figure(&format!("{algo}/update_era_vs_jax"), era_on / jax_on, "×");
        record.figure(&format!("{algo}/update_plain_vs_jax"), era_off / jax_off, "×");
        Ok(())
    }
}

/// The SAC update in JAX (`native/peers/jax_sac_update.py`), one Python process per measurement.
struct Jax<'a> {
    /// The interpreter and the script.
    peer: Peer<'a>,
    /// Hidden width.
    width: usize,
    /// Updates timed per measurement.
    updates: usize,
}

impl Jax<'_> {
    /// One measurement: SAC-ERA (`era`) or SAC updates per second, compilation and warm-up excluded.
    fn updates_per_sec(&self, era: bool) -> anyhow::Result<f64> {
        let (width, updates) = (self.width.to_string(), self.updates.to_string());
        let args = ["--width", &width, "--updates", &updates, "--era", if era { "on" } else { "off" }];
        self.peer.measure(&args, "updates/s")
    }
}

/// Prints rows of `(variant, ours, reference)` rates under the two columns' names, with the speed-up.
fn side_by_side((ours, reference): (&str, &str), rows: &[(&str, f64, f64)]) {
    println!("  {:<42} {:>12} {:>12} {:>9}", "", ours, reference, "speed-up");
    for (name, mine, theirs) in rows {
        println!("  {name:<42} {mine:>12.1} {theirs:>12.1} {:>8.2}×", mine / theirs);
    }
}

/// Runs every measurement once per round, `repeats` rounds, interleaved so that the machine's
/// changing load falls on all alike; the median of each.
fn medians<E, const N: usize>(repeats: usize, measure: [&dyn Fn() -> Result<f64, E>; N]) -> Result<[f64; N], E> {
    let mut runs: [Vec<f64>; N] = std::array::from_fn(|_| Vec::new());
    for _ in 0..repeats.max(1) {
        for (m, out) in measure.iter().zip(&mut runs) {
            out.push(m()?);
        }
    }
    Ok(runs.map(era_shared::stats::median))
}

/// SAC or SAC-ERA updates per second on a 100 000-transition buffer of random transitions, on either
/// engine (a warm-up of 10 updates first). Batches are sampled beforehand, so this is the update alone.
fn sac_updates_per_sec<B: AutodiffBackend>(
    era: bool,
    width: usize,
    updates: usize,
    engine: Engine,
    device: &B::Device,
) -> Result<f64, TrainError> {
    // The released networks (ELU, LayerNorm critics, AdamW), as the JAX script runs them.
    let cfg = SacConfig::standard(era).with_hidden(vec![width, width]);
    let mut rng = TrainRng::seed_from_u64(0);
    let mut data = TrainRng::seed_from_u64(1);
    let buffer = ReplayBuffer::random(100_000, OBS, ACT, 0.0, &mut data);
    let batches: Vec<_> = (0..updates + 10).map(|_| buffer.sample(256, &mut data)).collect();
    // As in training: only the last update computes statistics, and reading them waits for the device.
    let time = |run: &mut dyn FnMut(&[Batch]) -> Result<(), TrainError>| -> Result<f64, TrainError> {
        run(&batches[..10])?;
        let start = Instant::now();
        run(&batches[10..])?;
        Ok(updates as f64 / start.elapsed().as_secs_f64())
    };
    let mut agent = engines::sac::<B>(engine, &cfg, (OBS, ACT), &mut rng, device)?;
    time(&mut |batches| {
        for (i, b) in batches.iter().enumerate() {
            if let Some(stats) = agent.update(&cfg, b, &mut rng, i + 1 == batches.len()) {
                pollster::block_on(stats.read())?;
            }
        }
        Ok(())
    })
}

/// SAC-ERA updates per second inside a real training loop on FiveLinkArm-v0 (the largest pure-Rust
/// task): each environment step acts, steps, stores the transition, samples two batches from the
/// replay buffer and updates twice; statistics every 1000 steps as in a run.
fn sac_loop_updates_per_sec<B: AutodiffBackend>(
    width: usize,
    updates: usize,
    engine: Engine,
    device: &B::Device,
) -> Result<f64, TrainError> {
    let sac = SacConfig::standard(true).with_hidden(vec![width, width]).with_learning_starts(300);
    let config = ControlConfig::new("FiveLinkArm-v0".into(), AgentConfig::Sac(sac))
        .with_total_steps(1_000_000)
        .with_eval_every(1_000_000);
    let mut trainer = ControlTrainer::<B>::with_engine(config, device, engine)?;
    while trainer.updates() < 10 {
        pollster::block_on(trainer.advance())?;
    }
    let (start, first) = (Instant::now(), trainer.updates());
    while trainer.updates() < first + updates as u64 {
        pollster::block_on(trainer.advance())?;
    }
    Ok((trainer.updates() - first) as f64 / start.elapsed().as_secs_f64())
}

/// PPO or PPO-ERA minibatch updates per second over one 2048-step rollout of random data, on either
/// engine.
fn ppo_updates_per_sec<B: AutodiffBackend>(era: bool, engine: Engine, device: &B::Device) -> Result<f64, TrainError> {
    let cfg = PpoConfig::standard(era);
    let (n, minibatches) = (cfg.num_steps, cfg.num_minibatches * cfg.update_epochs);
    let mut rng = TrainRng::seed_from_u64(0);
    let mut agent = engines::ppo::<B>(engine, &cfg, (OBS, ACT, 1), &mut rng, device)?;
    let mut data = TrainRng::seed_from_u64(1);
    let mut v = |k: usize| -> Vec<f32> { (0..k).map(|_| data.random_range(-1.0f32..1.0)).collect() };
    let rollout = Rollout {
        obs: v(n * OBS),
        actions: v(n * ACT),
        log_probs: v(n).iter().map(|x| x - 8.0).collect(),
        values: v(n),
        rewards: v(n),
        dones: vec![false; n],
        advantages: v(n),
        returns: v(n),
    };
    let start = Instant::now();
    pollster::block_on(agent.update(&cfg, &rollout, 1.0, &mut rng).read())?;
    Ok(minibatches as f64 / start.elapsed().as_secs_f64())
}

/// Environment steps per second of PPO-ERA training on FiveLinkArm-v0 with the default settings: one
/// iteration of the loop, a 2048-step rollout (acting one step at a time, stepping, normalising)
/// and its 320 minibatch updates.
fn ppo_loop_steps_per_sec<B: AutodiffBackend>(engine: Engine, device: &B::Device) -> Result<f64, TrainError> {
    let config = ControlConfig::new("FiveLinkArm-v0".into(), AgentConfig::Ppo(PpoConfig::standard(true)))
        .with_total_steps(1_000_000)
        .with_eval_every(1_000_000);
    let mut trainer = ControlTrainer::<B>::with_engine(config, device, engine)?;
    let start = Instant::now();
    pollster::block_on(trainer.advance())?;
    Ok(trainer.step() as f64 / start.elapsed().as_secs_f64())
}

/// Each `dmc/` task's steps/s in era and in dm_control's own Python loop, measurements alternating
/// (`--repeats` of each, medians and their ratio printed).
fn bench_beside_dm_control(args: &BenchControlArgs, ids: &[String], record: &mut BenchRecord) -> anyhow::Result<()> {
    let peer = Peer::dm_control(&args.dmc_python);
    let version = peer.version()?;
    record.setting("dm_control", version.as_str());
    println!(
        "environment steps/s beside dm_control {version}'s Python loop (one copy, uniform random actions, {} steps, median of {}):",
        args.env_steps, args.repeats
    );
    let steps = args.env_steps.to_string();
    for id in ids {
        let Some(task) = id.strip_prefix("dmc/") else {
            anyhow::bail!("--against dm-control: {id} is not a DeepMind Control task (dmc/…)");
        };
        let [ours, theirs] = medians(
            args.repeats,
            [&|| env_steps_per_sec(id, args.env_steps), &|| peer.measure(&[task, &steps], "steps/s")],
        )?;
        println!("  {id:<26} era {ours:>9.0}   dm_control {theirs:>9.0}   {:>6.2}×", ours / theirs);
        record.figure(&format!("env/{id}"), ours, "steps/s");
        record.figure(&format!("env/{id}/dm_control"), theirs, "steps/s");
        record.figure(&format!("env/{id}/ratio"), ours / theirs, "×");
    }
    Ok(())
}

/// Steps per second of one environment copy under uniform random actions.
fn env_steps_per_sec(id: &str, steps: usize) -> anyhow::Result<f64> {
    let mut env = Env::make(id)?;
    let mut rng = TrainRng::seed_from_u64(0);
    let spec = env.spec().clone();
    let actions: Vec<Vec<f32>> = (0..1000)
        .map(|_| {
            let unit: Vec<f32> = (0..spec.action.dims()).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            spec.action.from_unit(&unit)
        })
        .collect();
    env.reset(Some(0));
    let start = Instant::now();
    for t in 0..steps {
        let s = env.step(&actions[t % actions.len()])?;
        if s.terminated || s.truncated {
            env.reset(None);
        }
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}
