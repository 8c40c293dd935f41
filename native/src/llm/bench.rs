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
use era_shared::llm::qwen2::random_weights;
use era_shared::llm::source::{ModelSource, PUBLISHED_SHAPES, published_shape, tiny_model};
use era_shared::llm::trainer::{LlmTrainer, Rollout};
use era_shared::train::Engine;
use safetensors::Dtype;

use super::args::BenchLlmArgs;
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
    let config = published_shape(shape)
        .with_context(|| format!("--model random:{shape}: unknown shape (known: {})", PUBLISHED_SHAPES.join(", ")))?;
    // Written as a checkpoint (bf16, two shards and their index, as downloads come) and read back, so
    // that the path a real checkpoint takes is the one measured.
    let dir = tempfile::tempdir().context("--model random: a scratch folder for the checkpoint")?;
    let (_, tokenizer) = tiny_model();
    write_dir(dir.path(), &config, &random_weights(&config, 0), &tokenizer.to_json(), Dtype::BF16, 2)?;
    Ok(ModelSource::from_dir(dir.path())?)
}

struct Bench<'a> {
    args: &'a BenchLlmArgs,
    model: ModelSource,
}

impl Task for Bench<'_> {
    type Output = anyhow::Result<BenchRecord>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<BenchRecord> {
        let a = self.args;
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
        // The peer first, so that a missing PyTorch is said before minutes of measuring.
        let peer = a.peer.peer();
        let torch_version = peer.as_ref().map(Peer::version).transpose()?;
        let fast = compute.engine() == Engine::Fast;
        let make = |era: bool| -> anyhow::Result<LlmTrainer<B>> {
            Ok(LlmTrainer::<B>::with_engine(config(era), self.model.clone(), &device, compute.engine())?)
        };
        let (mut on, mut off) = (make(true)?, make(false)?);
        // On the fast path, burn's update on ndarray beside it (plain GRPO), timed in the same rounds.
        let mut burn_ref =
            if fast { Some(LlmTrainer::<B>::new(config(false), self.model.clone(), &device)?) } else { None };
        // Generation: one warm-up rollout, then timed ones; a random model writes until the length limit.
        // On the fast path, burn's sampler on ndarray beside it.
        pollster::block_on(on.rollout())?;
        let (mut gen_rates, mut gen_ref) = (Vec::new(), Vec::new());
        let mut rollout: Option<Rollout<B::InnerBackend>> = None;
        let rate = |t: &mut LlmTrainer<B>| -> anyhow::Result<(f64, Rollout<B::InnerBackend>)> {
            let start = Instant::now();
            let r = pollster::block_on(t.rollout())?;
            let tokens: usize = r.responses.iter().map(Vec::len).sum();
            Ok((tokens as f64 / start.elapsed().as_secs_f64(), r))
        };
        for _ in 0..a.repeats.max(1) {
            let (g, r) = rate(&mut on)?;
            gen_rates.push(g);
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
        let update = |t: &mut LlmTrainer<B>| -> anyhow::Result<f64> {
            let start = Instant::now();
            for _ in 0..a.steps {
                pollster::block_on(t.update(&rollout))?;
            }
            Ok(start.elapsed().as_secs_f64() / (a.steps as f64 * tokens))
        };
        update(&mut on)?;
        update(&mut off)?;
        if let Some(r) = &mut burn_ref {
            update(r)?;
        }
        // PyTorch, when asked: the same architecture over the same rows and width, one process per
        // measurement, interleaved with era's.
        let scratch = tempfile::tempdir().context("a scratch folder for the peer's config")?;
        let config_path = scratch.path().join("config.json");
        std::fs::write(&config_path, serde_json::to_vec(&self.model.config)?)?;
        // The record names the device once (asking wgpu for its adapters is not free).
        let mut record = BenchRecord::new("bench llm", compute);
        let peer_device = if record.gpu { "default" } else { "cpu" };
        let (rows, width) = (rollout.packed.pads.len().to_string(), rollout.packed.width.to_string());
        let (steps, config_arg) = (a.steps.to_string(), config_path.display().to_string());
        let mut peer_args = vec!["qwen2", "--config", &config_arg, "--rows", &rows, "--width", &width];
        peer_args.extend(["--steps", &steps, "--repeats", "1"]);
        if peer_device == "cpu" {
            peer_args.extend(["--device", "cpu"]);
        }
        let (mut t_on, mut t_off, mut t_peer, mut t_ref) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..a.repeats.max(1) {
            // Which arm goes first alternates, so that neither always finds the caches the other left.
            if round % 2 == 0 {
                t_on.push(update(&mut on)?);
                t_off.push(update(&mut off)?);
            } else {
                t_off.push(update(&mut off)?);
                t_on.push(update(&mut on)?);
            }
            if let Some(r) = &mut burn_ref {
                t_ref.push(update(r)?);
            }
            if let Some(p) = &peer {
                t_peer.push(p.measure(&peer_args, "s/update")?);
            }
        }
        let (t_on, t_off) = (median(t_on), median(t_off));
        println!(
            "{} ({} parameters, {} prompts × {} responses, {compute}), median of {}:",
            if a.model == "tiny" { "tiny model" } else { a.model.as_str() },
            self.model.parameters(),
            a.prompts,
            a.group,
            a.repeats
        );
        let gen_rate = median(gen_rates);
        println!("  generation   {gen_rate:>10.1} tokens/s (batched, KV cache)");
        if fast {
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
        if fast {
            let t_ref = median(t_ref);
            println!(
                "  ndarray      plain {:>8.1} µs/token (burn's update, same rollout): fast path speed-up {:.2}×",
                1e6 * t_ref,
                t_ref / t_off
            );
            record.figure("grpo_update_ndarray_time", t_ref * tokens, "s/update");
            record.figure("grpo_update_fast_speedup", t_ref / t_off, "×");
        }
        if let (Some(version), Some(mode)) = (torch_version, peer.as_ref().map(|p| p.mode)) {
            let torch = median(t_peer);
            let era_time = t_off * tokens;
            println!(
                "  PyTorch      {:>8.1} ms/update ({mode}, plain; {rows} rows × {width})   era plain {:.1} ms/update: era / PyTorch {:.3}× (speed)",
                1e3 * torch,
                1e3 * era_time,
                torch / era_time
            );
            record.setting("torch", format!("{version} ({peer_device}, {mode})"));
            record.figure("grpo_update_torch_time", torch, "s/update");
            record.figure("grpo_update_plain_vs_torch", torch / era_time, "×");
        }
        record.setting("model", a.model.as_str());
        record.setting("parameters", self.model.parameters());
        record.setting("prompts", a.prompts);
        record.setting("group", a.group);
        record.setting("update_tokens", tokens);
        record.setting("update_rows", rollout.packed.pads.len());
        record.setting("update_width", rollout.packed.width);
        record.figure("generation", gen_rate, "tokens/s");
        record.figure("grpo_update_era", 1.0 / t_on, "tokens/s");
        record.figure("grpo_update_plain", 1.0 / t_off, "tokens/s");
        record.figure("grpo_era_overhead", t_on / t_off, "×");
        record.figure("grpo_update_era_time", t_on * tokens, "s/update");
        record.figure("grpo_update_plain_time", t_off * tokens, "s/update");
        Ok(record)
    }
}
