//! `era bench llm`: generation speed, and what ERA's logit scaling costs in a GRPO update.
//!
//! Two trainers with the same model and seed, one with ERA and one without, update on the same
//! rollout (sampled once, with rewards); measurements alternate between them and the median of each is
//! reported with the ratio, because these machines are shared and noisy. ERA's ω are set so that
//! every positive-advantage response is sharpened or softened: the scaled path is the one timed.

use std::time::Instant;

use anyhow::Context;
use burn::tensor::backend::AutodiffBackend;
use era_shared::llm::config::LlmConfig;
use era_shared::llm::hf_weights::write_dir;
use era_shared::llm::source::{ModelSource, PUBLISHED_SHAPES};
use era_shared::llm::trainer::{LlmTrainer, Rollout};
use era_shared::train::Engine;
use safetensors::Dtype;

use super::args::{BenchLlmArgs, NdarrayReference};
use crate::backend::{self, Compute, Task};
use crate::bench_record::BenchRecord;
use crate::peer::Peer;
use era_shared::stats::median;

/// Runs `era bench llm`.
pub fn run(args: &BenchLlmArgs) -> anyhow::Result<()> {
    if args.prompts == 0 || args.group < 2 || args.steps == 0 {
        anyhow::bail!("--prompts and --steps must be ≥ 1 and --group ≥ 2");
    }
    let model = model_source(&args.model)?;
    let record = backend::run(args.backend, Bench { args, model })??;
    record.write(args.peer.json.as_deref())
}

/// The model `--model` names: `tiny`, `random:SHAPE` or a checkpoint directory.
fn model_source(spec: &str) -> anyhow::Result<ModelSource> {
    if spec == "tiny" {
        return Ok(ModelSource::tiny(0));
    }
    let Some(shape) = spec.strip_prefix("random:") else {
        return Ok(ModelSource::from_dir(std::path::Path::new(spec))?);
    };
    let random = ModelSource::random(shape, 0)
        .with_context(|| format!("--model random:{shape}: unknown shape (known: {})", PUBLISHED_SHAPES.join(", ")))?;
    // Written as a checkpoint (bf16, two shards and their index, as downloads come) and read back, so
    // that the path a real checkpoint takes is the one measured.
    let dir = tempfile::tempdir().context("--model random: a scratch folder for the checkpoint")?;
    let ModelSource { config, weights, tokenizer } = &random;
    write_dir(dir.path(), config, weights, &tokenizer.to_json(), Dtype::BF16, 2)?;
    drop(random);
    Ok(ModelSource::from_dir(dir.path())?)
}

struct Bench<'a> {
    args: &'a BenchLlmArgs,
    model: ModelSource,
}

/// Above this many parameters burn's ndarray reference is left out unless `--ndarray on`: on a
/// Qwen2.5-0.5B shape one of its updates takes many minutes.
const NDARRAY_AUTO_LIMIT: usize = 50_000_000;

impl Task for Bench<'_> {
    type Output = anyhow::Result<BenchRecord>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<BenchRecord> {
        let Bench { args: a, model } = self;
        let config = |era: bool| {
            // A band no entropy falls inside: every positive-advantage response is rescaled.
            LlmConfig::new()
                .with_era(era)
                .with_omega_low(1e-3)
                .with_omega_high(1e-3)
                .with_warmup_steps(0)
                .with_prompts(a.prompts)
                .with_group(a.group)
                .with_dynamic_sampling(false)
        };
        // The peers first, so that a missing PyTorch is said before minutes of measuring.
        let peers = a.peer.peers();
        let versions = peers.iter().map(Peer::version).collect::<anyhow::Result<Vec<_>>>()?;
        let fast = compute.engine() == Engine::Fast;
        let (parameters, model_config) = (model.parameters(), model.config.clone());
        // On the fast path, burn's update and sampler on ndarray beside it (plain GRPO), timed in the
        // same rounds.
        let with_ndarray = fast
            && match a.ndarray {
                NdarrayReference::On => true,
                NdarrayReference::Off => false,
                NdarrayReference::Auto => parameters <= NDARRAY_AUTO_LIMIT,
            };
        let mut burn_ref =
            if with_ndarray { Some(LlmTrainer::<B>::new(config(false), model.clone(), &device)?) } else { None };
        // One trainer times both arms, ERA switched on and off between measurements, and holds the
        // only copy of the weights: the memory a run holds.
        let mut trainer = LlmTrainer::<B>::with_engine(config(true), model, &device, compute.engine())?;
        // Generation: one warm-up rollout, then timed ones; a random model writes until the length limit.
        pollster::block_on(trainer.rollout())?;
        let (mut gen_rates, mut sample_rates, mut gen_ref) = (Vec::new(), Vec::new(), Vec::new());
        let mut rollout: Option<Rollout<B::InnerBackend>> = None;
        // Tokens per second of the whole rollout, and of its sampling alone.
        let rate = |t: &mut LlmTrainer<B>| -> anyhow::Result<(f64, f64, Rollout<B::InnerBackend>)> {
            let start = Instant::now();
            let r = pollster::block_on(t.rollout())?;
            let tokens = r.responses.iter().map(Vec::len).sum::<usize>() as f64;
            Ok((tokens / start.elapsed().as_secs_f64(), tokens / r.sampling_seconds, r))
        };
        for _ in 0..a.repeats.max(1) {
            let (g, s, r) = rate(&mut trainer)?;
            gen_rates.push(g);
            sample_rates.push(s);
            rollout = Some(r);
            if let Some(b) = &mut burn_ref {
                gen_ref.push(rate(b)?.0);
            }
        }
        let Some(mut rollout) = rollout else { unreachable!("at least one repeat") };
        // Rewards that vary within every group, so every response has a non-zero advantage.
        for (i, r) in rollout.rewards.iter_mut().enumerate() {
            *r = (i % 2) as f64;
        }
        let tokens = rollout.packed.mask.iter().filter(|&&m| m).count() as f64;
        let update = |t: &mut LlmTrainer<B>, era: bool| -> anyhow::Result<f64> {
            t.set_era(era)?;
            let start = Instant::now();
            for _ in 0..a.steps {
                pollster::block_on(t.update(&rollout))?;
            }
            Ok(start.elapsed().as_secs_f64() / (a.steps as f64 * tokens))
        };
        update(&mut trainer, true)?;
        update(&mut trainer, false)?;
        if let Some(r) = &mut burn_ref {
            update(r, false)?;
        }
        // PyTorch, when asked: the same architecture over the same rows and width, one process per
        // measurement, interleaved with era's.
        let scratch = tempfile::tempdir().context("a scratch folder for the peer's config")?;
        let config_path = scratch.path().join("config.json");
        std::fs::write(&config_path, serde_json::to_vec(&model_config)?)?;
        // The record names the device once (asking wgpu for its adapters is not free).
        let mut record = BenchRecord::new("bench llm", compute);
        let peer_device = if record.gpu { "default" } else { "cpu" };
        let packed = &rollout.packed;
        let rows = packed.pads.len();
        let longest = rollout.responses.iter().map(Vec::len).max().unwrap_or(0);
        let sampled: usize = rollout.responses.iter().map(Vec::len).sum();
        // The peer samples the same rows, prompt width and (mean) response length, without stopping.
        let (prompt_len, new) =
            ((packed.width - longest.max(1)).to_string(), sampled.div_ceil(rows).max(1).to_string());
        let (rows_arg, width) = (rows.to_string(), packed.width.to_string());
        let (steps, config_arg) = (a.steps.to_string(), config_path.display().to_string());
        let mut update_args = vec!["qwen2", "--config", &config_arg, "--rows", &rows_arg, "--width", &width];
        update_args.extend(["--steps", &steps, "--repeats", "1"]);
        let mut sample_args = vec!["qwen2-generate", "--config", &config_arg, "--rows", &rows_arg];
        sample_args.extend(["--prompt-len", &prompt_len, "--new", &new, "--steps", "1", "--repeats", "1"]);
        if peer_device == "cpu" {
            update_args.extend(["--device", "cpu"]);
            sample_args.extend(["--device", "cpu"]);
        }
        let (mut t_on, mut t_off, mut t_ref) = (Vec::new(), Vec::new(), Vec::new());
        let mut peer_figures = vec![PeerFigures::default(); peers.len()];
        for round in 0..a.repeats.max(1) {
            // Which arm goes first alternates, so that neither always finds the caches the other left.
            if round % 2 == 0 {
                t_on.push(update(&mut trainer, true)?);
                t_off.push(update(&mut trainer, false)?);
            } else {
                t_off.push(update(&mut trainer, false)?);
                t_on.push(update(&mut trainer, true)?);
            }
            if let Some(r) = &mut burn_ref {
                t_ref.push(update(r, false)?);
            }
            for (p, f) in peers.iter().zip(&mut peer_figures) {
                let (time, peak) = p.measure_with_peak(&update_args, "s/update")?;
                f.update.push(time);
                f.update_peak = f.update_peak.max(peak.unwrap_or(f64::NAN));
                let (rate, peak) = p.measure_with_peak(&sample_args, "tokens/s")?;
                f.sampling.push(rate);
                f.sampling_peak = f.sampling_peak.max(peak.unwrap_or(f64::NAN));
            }
        }
        // Peak memory of one rollout and of one update, the reference trainer gone: what a run of
        // this model holds while it samples and while it learns.
        drop(burn_ref);
        trainer.set_era(true)?;
        let (_, sampling_peak) = crate::memory::peak_during(|| pollster::block_on(trainer.rollout()));
        let (_, update_peak) = crate::memory::peak_during(|| pollster::block_on(trainer.update(&rollout)));
        let (t_on, t_off) = (median(t_on), median(t_off));
        println!(
            "{} ({parameters} parameters, {} prompts × {} responses, {compute}), median of {}:",
            if a.model == "tiny" { "tiny model" } else { a.model.as_str() },
            a.prompts,
            a.group,
            a.repeats
        );
        let (gen_rate, sample_rate) = (median(gen_rates), median(sample_rates));
        println!(
            "  generation   {gen_rate:>10.1} tokens/s (a whole rollout: sampling, rewards, the log-prob pass); sampling alone {sample_rate:.1} tokens/s (batched, KV cache)"
        );
        if !gen_ref.is_empty() {
            let r = median(gen_ref);
            println!("  ndarray      {r:>10.1} tokens/s (burn's sampler): fast path speed-up {:.2}×", gen_rate / r);
            record.figure("generation_ndarray", r, "tokens/s");
        }
        println!(
            "  GRPO update  ERA {:>8.1} µs/token   plain {:>8.1} µs/token   ERA overhead {:.3}×",
            1e6 * t_on,
            1e6 * t_off,
            t_on / t_off
        );
        if !t_ref.is_empty() {
            let t_ref = median(t_ref);
            println!(
                "  ndarray      plain {:>8.1} µs/token (burn's update, same rollout): fast path speed-up {:.2}×",
                1e6 * t_ref,
                t_ref / t_off
            );
            record.figure("grpo_update_ndarray_time", t_ref * tokens, "s/update");
            record.figure("grpo_update_fast_speedup", t_ref / t_off, "×");
        } else if fast {
            let why = match a.ndarray {
                NdarrayReference::Off => "--ndarray off".to_string(),
                _ => format!("over {NDARRAY_AUTO_LIMIT} parameters; --ndarray on times it"),
            };
            println!("  ndarray      not timed ({why})");
        }
        println!(
            "  peak memory  sampling {sampling_peak:>8.0} MiB   update {update_peak:>8.0} MiB (era's process, holding the trainer: weights, AdamW's moments, gradients)"
        );
        for ((p, version), f) in peers.iter().zip(&versions).zip(peer_figures) {
            let name = p.name;
            let (torch, era_time, era_on_time) = (median(f.update), t_off * tokens, t_on * tokens);
            println!(
                "  PyTorch      {:>8.1} ms/update ({}, plain; {rows} rows × {})   era plain {:.1} ms, GRPO-ERA {:.1} ms: era / PyTorch {:.3}× plain, {:.3}× ERA (speed)",
                1e3 * torch,
                p.mode,
                packed.width,
                1e3 * era_time,
                1e3 * era_on_time,
                torch / era_time,
                torch / era_on_time
            );
            let sampling = median(f.sampling);
            println!(
                "  PyTorch      {sampling:>10.1} tokens/s sampling ({}, {rows} rows × {new} tokens after {prompt_len})   era's sampling / PyTorch {:.3}× (speed)",
                p.mode,
                sample_rate / sampling
            );
            println!(
                "  PyTorch      peak memory  sampling {:>8.0} MiB (the model alone)   update {:>8.0} MiB (its process)   era / PyTorch {:.2}× sampling, {:.2}× update",
                f.sampling_peak,
                f.update_peak,
                sampling_peak / f.sampling_peak,
                update_peak / f.update_peak
            );
            record.setting(name, format!("{version} ({peer_device}, {})", p.mode));
            record.figure(&format!("grpo_update_{name}_time"), torch, "s/update");
            record.figure(&format!("grpo_update_plain_vs_{name}"), torch / era_time, "×");
            record.figure(&format!("grpo_update_era_vs_{name}"), torch / era_on_time, "×");
            record.figure(&format!("generation_{name}"), sampling, "tokens/s");
            record.figure(&format!("sampling_vs_{name}"), sample_rate / sampling, "×");
            record.figure(&format!("peak_sampling_{name}"), f.sampling_peak, "MiB");
            record.figure(&format!("peak_update_{name}"), f.update_peak, "MiB");
        }
        record.setting("model", a.model.as_str());
        record.setting("parameters", parameters);
        record.setting("prompts", a.prompts);
        record.setting("group", a.group);
        record.setting("update_tokens", tokens);
        record.setting("update_rows", rows);
        record.setting("update_width", packed.width);
        record.figure("generation", gen_rate, "tokens/s");
        record.figure("sampling", sample_rate, "tokens/s");
        record.figure("grpo_update_era", 1.0 / t_on, "tokens/s");
        record.figure("grpo_update_plain", 1.0 / t_off, "tokens/s");
        record.figure("grpo_era_overhead", t_on / t_off, "×");
        record.figure("grpo_update_era_time", t_on * tokens, "s/update");
        record.figure("grpo_update_plain_time", t_off * tokens, "s/update");
        record.figure("peak_sampling", sampling_peak, "MiB");
        record.figure("peak_update", update_peak, "MiB");
        Ok(record)
    }
}

/// One peer's measurements over the rounds; peaks in MiB (NaN until reported).
#[derive(Clone)]
struct PeerFigures {
    update: Vec<f64>,
    sampling: Vec<f64>,
    update_peak: f64,
    sampling_peak: f64,
}

impl Default for PeerFigures {
    fn default() -> Self {
        Self { update: Vec::new(), sampling: Vec::new(), update_peak: f64::NAN, sampling_peak: f64::NAN }
    }
}
