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
//! beside the same update in JAX instead (see "Beside JAX" below).
//!
//! # What was tried for the fast path, predicted and measured
//!
//! SAC-ERA update, obs 17, action 6, batch 256, 2×256 ReLU MLPs, on the reference machine (2 cores of
//! an Intel Xeon with AVX-512, shared), in updates/s; the burn reference on ndarray does 78–84.
//!
//! | attempt | predicted | measured |
//! |---|---|---|
//! | ndarray's matrixmultiply with its `threading` feature | up to 1.6× (a second core) | 1.00×: it spawns no threads at these sizes; dropped |
//! | OpenBLAS as the GEMM (numpy's build, one thread) | faster kernels than matrixmultiply | 129–154 GFLOP/s at 256–512, below `gemm`'s 173–190; not used |
//! | `gemm` 0.19 without its `x86-v4` feature | — | 104 GFLOP/s on one core at 256³: FMA (AVX2) kernels only |
//! | `gemm` with `x86-v4` (AVX-512 kernels) | ×1.7 on the products | 180 GFLOP/s on one core at 256³ (×1.73) |
//! | hand-written gradients on those kernels, buffers kept, twin critics in `rayon::join`, the actor's products split by `gemm` over the pool | GEMM-bound: ~500 | 231 (SAC 272): splitting one 256-row product between two threads is slower than one thread (actor forward 365 µs vs 269 µs) |
//! | every product on one thread; the batch's two halves through the actor side by side | the actor's share halves | 327 (SAC 335) |
//! | two lanes meeting at spin barriers instead of ~8 `rayon::join`s, whose wake-ups cost 26–120 µs each on this virtual machine | −0.3 ms per update | 356 (SAC 369) |
//! | the truncated normal's draw in `f32` instead of `f64` (as the tensor version) | −5 % for SAC-ERA | within the noise (350–367) |
//! | our own loops compiled for the host CPU (`-C target-cpu=native`) | AVX-512 for Adam, biases, activations | +2 %; not worth a non-portable binary |
//! | column-major activations | `gemm` runs 5 % faster on a column-major forward product | not done: forward products are a third of the work |
//! | lane 1 on a persistent worker thread of the agent's own instead of a thread spawned per update (60–120 µs each) | +4 % | 370–387 (SAC 392) |
//! | burn's other CPU backend, `cpu` (CubeCL, JIT-compiled kernels), and with it `fusion`/`autotune` | fused element-wise kernels would cut the reference's overhead | not measurable here: its build script downloads a prebuilt LLVM from GitHub (`tracel-llvm-bundler`), which this machine cannot reach (build fails with exit 101) |
//! | Adam's moments flushed to zero below 10⁻³⁰ | a real run (not this benchmark) had 14 % of its time in Adam's loop: moments of dead ReLU units decay into subnormal floats | FiveLinkArm-v0 training 139 → 178 steps/s (×1.28); the benchmark's short runs never get there |
//!
//! Where the time went before the persistent lane thread (perf, width 256): 62 % in `gemm`'s kernels
//! and packing, 13 % in the truncated normal's draws, 7 % waiting at barriers (mostly for the lane
//! thread spawned per update), the rest in bias, activation, Adam and copies. At width 512 the kernels
//! take 77 % and each core runs them at about 85 % of its single-core rate while the other core does
//! the same: 110–114 updates/s.
//!
//! # Beside JAX
//!
//! The target set for this path was the authors' framework: the same update in JAX, compiled end to
//! end, did 350 (width 256) and 128 (width 512) updates/s on a 2-core AMD EPYC. `--against jax` runs
//! that update (`scripts/jax_sac_update.py`, JAX 0.10.2, 50 updates per compiled call, which JAX runs
//! about 10 % faster than one call per update) interleaved with the fast path on the machine at hand.
//! With the released networks on both sides (ELU, LayerNorm critics, AdamW; `--updates 1000 --repeats
//! 3`, training paused): SAC-ERA 249.1 vs 236.1 (1.05×) at width 256, 80.7 vs 89.6 (0.90×) at width
//! 512. The rest of this section was measured with CleanRL's ReLU networks and Adam, before the
//! defaults followed the release: on the reference machine (release build, `--updates 2000 --repeats
//! 3`), fast vs JAX: SAC-ERA
//! 360.7 vs 273.2 (1.32×) and SAC 362.6 vs 279.5 (1.30×) at width 256; SAC-ERA 104.5 vs 97.0 (1.08×)
//! and SAC 108.1 vs 99.4 (1.09×) at width 512 (an earlier run: 1.26×, 1.29×, 1.10×, 1.07×). This Xeon
//! runs JAX's update about a quarter slower than that EPYC did, so the absolute 128 is not reached
//! here at width 512. Why it is far: one update at width
//! 512 is about 2.24 GFLOP (sixteen 256×512×512 products plus the thin first and last layers), so
//! 128 updates/s is 287 GFLOP/s, 143 per core, against the 180–190 that `gemm`'s AVX-512 kernel gives
//! one core here on these shapes: the whole update would have to run at 75 % of the kernel's own rate.
//! The fast path runs at up to 127 per core (113.8 updates/s on a quiet machine, two thirds of the
//! time inside the kernel), JAX at up to 115; fewer
//! FLOPs or faster kernels would be needed (column-major activations are the one measured lead).
//!
//! PPO (obs 17, action 6, 2×64 tanh MLPs, minibatches of 64, 10 epochs over 2048 steps), minibatch
//! updates/s; the burn reference on ndarray does 1100–1210. The first and last figures are this
//! command's; the ones between come from a timing loop over the fast update alone (outside the
//! project), which runs the same update without the reference beside it:
//!
//! | attempt | predicted | measured |
//! |---|---|---|
//! | the SAC path's approach on one thread (minibatches of 64 rows are too small to split): hand-written gradients, kept buffers, one pass for the global-norm clip | the reference is all overhead: ≥ 10× | 3518 (3.0×): a profile showed 76 % of the time in the C library's `tanhf` and the `expm1f` it calls, scalar, ~12 ns each |
//! | `tanh` as `−m/(2 + m)`, `m = exp(−2|x|) − 1` from a range reduction and a polynomial, in a form the compiler vectorises | tanh several times cheaper | 8570 |
//! | the same with `2ᵏ` built by integer arithmetic instead of a float-to-int cast (which kept that part scalar) | — | 10 640 (9.3× in the bench) |
//! | `tanh` with AVX-512 through run-time dispatch | the activation is still ~25 % of the update at 4 floats per instruction | not done: another `unsafe` exception for ~15 %, with the target met three times over |

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use era_shared::control::config::AgentConfig;
use era_shared::control::engine::{self as engines, Engine};
use era_shared::control::ppo::{PpoConfig, Rollout};
use era_shared::control::replay::{Batch, ReplayBuffer};
use era_shared::control::sac::SacConfig;
use era_shared::control::{ControlConfig, ControlTrainer};
use era_shared::env::{Env, env_ids};
use era_shared::train::{TrainError, TrainRng};
use rand::{Rng, SeedableRng};

use super::args::{Against, BenchAlgo, BenchControlArgs};
use crate::backend::{self, BackendChoice, Task};
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
        BenchRecord::new("bench control", "cpu")
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

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &str) -> anyhow::Result<BenchRecord> {
        let a = self.args;
        let mut record = BenchRecord::new("bench control", backend);
        let want = |x: BenchAlgo| a.algo == x || a.algo == BenchAlgo::All;
        let engine = backend::engine(backend);
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
                bench.report_against_jax((a.repeats, engine, backend), &update, &jax, &mut record)?;
            } else {
                bench.report(
                    (a.repeats, engine, backend),
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
                (a.repeats, engine, backend),
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
        (repeats, engine, backend): (usize, Engine, &str),
        update: &dyn Fn(bool, Engine) -> Result<f64, TrainError>,
        in_loop: &dyn Fn(Engine) -> Result<f64, TrainError>,
        record: &mut BenchRecord,
    ) -> Result<(), TrainError> {
        let (algo, unit) = (self.algo, self.unit);
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
            println!("{} on {backend}, median of {repeats}:", self.update);
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
        (repeats, engine, backend): (usize, Engine, &str),
        update: &dyn Fn(bool, Engine) -> Result<f64, TrainError>,
        jax: &Jax,
        record: &mut BenchRecord,
    ) -> anyhow::Result<()> {
        let version = jax.peer.version()?;
        let era = |on| Ok::<_, anyhow::Error>(update(on, engine)?);
        let [era_on, jax_on, era_off, jax_off] = medians(
            repeats,
            [&|| era(true), &|| jax.updates_per_sec(true), &|| era(false), &|| jax.updates_per_sec(false)],
        )?;
        println!(
            "{} on {backend}, {}, median of {repeats}, beside JAX {version} on {} (compiled end to end):",
            self.update,
            self.unit,
            jax.peer.platform()?
        );
        let algo = self.algo;
        let with_era = format!("{algo}-era");
        side_by_side((backend, "jax"), &[(&with_era, era_on, jax_on), (algo, era_off, jax_off)]);
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

/// The SAC update in JAX (`scripts/jax_sac_update.py`), one Python process per measurement.
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
            if let Some(stats) = agent.update(b, &mut rng, i + 1 == batches.len()) {
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
    pollster::block_on(agent.update(&rollout, 1.0, &mut rng).read())?;
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
