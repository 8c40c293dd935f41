//! The LLM pieces end to end on the CPU backend: a Hugging Face checkpoint directory written in its
//! real layout → load → forward → decode; cached generation against recomputing everything; the
//! warm-up + GRPO trainer, its bit-exact resume, and ERA's regimes.
#![allow(clippy::unwrap_used)]

use burn::backend::{Autodiff, NdArray};
use burn::tensor::{Int, Tensor, TensorData};
use era_shared::llm::config::LlmConfig;
use era_shared::llm::generate::{Sampling, generate};
use era_shared::llm::grpo::AdvantageSign;
use era_shared::llm::hf_weights::{Weights, write_dir};
use era_shared::llm::qwen2::{Qwen2, Qwen2Config, random_weights};
use era_shared::llm::source::{ModelSource, tiny_model};
use era_shared::llm::tokenizer::LlmTokenizer;
use era_shared::llm::trainer::LlmTrainer;
use era_shared::metrics;
use era_shared::train::{Engine, TrainRng, Trainer};
use rand::SeedableRng;
use safetensors::tensor::Dtype;

type Cpu = NdArray<f32>;
type Train = Autodiff<Cpu>;

/// A small untied config over the task's characters, with weights large enough to be decisive.
fn small() -> (Qwen2Config, Weights, LlmTokenizer) {
    let (mut config, tokenizer) = tiny_model();
    config.hidden_size = 32;
    config.intermediate_size = 48;
    config.num_hidden_layers = 2;
    config.tie_word_embeddings = false;
    let w = random_weights(&config, 5);
    let weights = Weights::from_tensors(
        w.iter()
            .map(|(n, t)| {
                let mut t = t.clone();
                if !n.ends_with("norm.weight") {
                    t.values.iter_mut().for_each(|v| *v *= 10.0);
                }
                (n.clone(), t)
            })
            .collect(),
    );
    (config, weights, tokenizer)
}

/// Greedy decoding by recomputing the whole sequence every step (no cache, no padding).
fn greedy_without_cache(model: &Qwen2<Cpu>, prompt: &[u32], max_new: usize, stop: u32) -> Vec<u32> {
    let mut seq: Vec<i64> = prompt.iter().map(|&t| t as i64).collect();
    let mut out = Vec::new();
    for _ in 0..max_new {
        let n = seq.len();
        let ids: Tensor<Cpu, 2, Int> = Tensor::from_data(TensorData::new(seq.clone(), [1, n]), &Default::default());
        let logits = model.forward(ids, &[0], None);
        let v = logits.dims()[2];
        let last = logits.slice([0..1, n - 1..n, 0..v]).into_data().convert::<f32>().into_vec::<f32>().unwrap();
        let t = Sampling::greedy().pick(&last, &mut TrainRng::seed_from_u64(0));
        out.push(t);
        seq.push(t as i64);
        if t == stop {
            break;
        }
    }
    out
}

#[test]
fn a_sharded_bf16_checkpoint_loads_and_decodes_like_the_model_it_was_written_from() {
    let (config, weights, tokenizer) = small();
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &config, &weights, &tokenizer.to_json(), Dtype::BF16, 3).unwrap();
    assert!(dir.path().join("model-00003-of-00003.safetensors").is_file());
    assert!(dir.path().join("model.safetensors.index.json").is_file());
    let loaded = ModelSource::from_dir(dir.path()).unwrap();
    assert_eq!(loaded.config, config);
    assert_eq!(loaded.tokenizer.stop_ids(), &[0]);
    // bf16 keeps 8 bits of mantissa: every weight is within 2^-8 relative of the original.
    for (name, t) in weights.iter() {
        let back = loaded.weights.get(name).unwrap();
        for (a, b) in t.values.iter().zip(&back.values) {
            assert!((a - b).abs() <= a.abs() / 256.0 + 1e-12, "{name}: {a} vs {b}");
        }
    }
    let model = Qwen2::<Cpu>::from_weights(&loaded.config, &loaded.weights, &Default::default()).unwrap();
    let prompts: Vec<Vec<u32>> =
        ["457+385=", "9+1=", "12+345="].iter().map(|p| loaded.tokenizer.encode(p).unwrap()).collect();
    let mut rng = TrainRng::seed_from_u64(0);
    let cached = pollster::block_on(generate(
        &model,
        &prompts,
        12,
        loaded.tokenizer.stop_ids(),
        &Sampling::greedy(),
        &mut rng,
        &Default::default(),
    ))
    .unwrap();
    for (p, c) in prompts.iter().zip(&cached) {
        // Batched, left-padded and cached decoding writes what recomputing from scratch writes.
        assert_eq!(c, &greedy_without_cache(&model, p, 12, 0), "prompt {}", loaded.tokenizer.decode(p));
        assert!(!loaded.tokenizer.decode(c).is_empty() || c == &[0]);
    }
}

#[test]
fn a_misshapen_checkpoint_is_refused_naming_the_tensor() {
    let (config, weights, tokenizer) = small();
    let dir = tempfile::tempdir().unwrap();
    let wider = Qwen2Config { intermediate_size: 64, ..config.clone() };
    write_dir(dir.path(), &wider, &random_weights(&wider, 0), &tokenizer.to_json(), Dtype::F32, 1).unwrap();
    // config.json says 48 while the file holds 64-wide MLP weights.
    std::fs::write(dir.path().join("config.json"), serde_json::to_string(&config).unwrap()).unwrap();
    let e = ModelSource::from_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("mlp.") && e.contains("[64, 32]") && e.contains("[48, 32]"), "{e}");
    drop(weights);
}

fn quick(era: bool) -> LlmConfig {
    LlmConfig::new()
        .with_era(era)
        .with_digits(2)
        .with_test_size(40)
        .with_warmup_steps(3)
        .with_warmup_batch(8)
        .with_grpo_steps(4)
        .with_prompts(4)
        .with_group(4)
        .with_epochs(2)
        .with_minibatch(8)
        .with_dynamic_sampling(false)
        .with_eval_every(2)
        .with_eval_prompts(4)
        .with_eval_samples(4)
        .with_log_every(1)
        .with_seed(3)
}

fn source() -> ModelSource {
    let (config, weights, tokenizer) = small();
    ModelSource { config, weights, tokenizer }
}

fn run_to_end(t: &mut LlmTrainer<Train>) -> Vec<(u64, Vec<(&'static str, f64)>)> {
    let mut out = Vec::new();
    while !t.is_done() {
        for l in pollster::block_on(t.advance()).unwrap() {
            out.push((l.step, l.metrics));
        }
    }
    out
}

#[test]
fn warm_up_then_grpo_logs_every_key_and_resumes_bit_exactly() {
    let dev = Default::default();
    let mut whole = LlmTrainer::<Train>::new(quick(true).with_kl_coef(0.1), source(), &dev).unwrap();
    let full = run_to_end(&mut whole);
    assert_eq!(full.len(), 7);
    let grpo = &full[4].1;
    for key in [
        metrics::ROLLOUT_REWARD_MEAN,
        metrics::ROLLOUT_H_RESP_MEAN,
        metrics::ROLLOUT_ENTROPY_MEAN,
        metrics::ROLLOUT_RESPONSE_LEN,
        metrics::FRAC_SHARPEN,
        metrics::FRAC_SOFTEN,
        metrics::POLICY_LOSS,
        metrics::PASS_AT_KEYS[0],
        metrics::PASS_AT_KEYS[2],
    ] {
        assert!(grpo.iter().any(|(k, v)| *k == key && v.is_finite()), "{key} missing in {grpo:?}");
    }
    assert!(full[0].1.iter().any(|(k, _)| *k == metrics::TRAIN_LOSS));
    // The evaluation after the warm-up and at the end report pass@1..4 (4 samples), monotone in k.
    let pass: Vec<f64> = full[2].1.iter().filter(|(k, _)| k.starts_with("eval/pass@")).map(|(_, v)| *v).collect();
    assert_eq!(pass.len(), 3);

    // Stop after the warm-up's last step and after a GRPO step (the reference model is saved too).
    for cut in [3, 5] {
        let mut first = LlmTrainer::<Train>::new(quick(true).with_kl_coef(0.1), source(), &dev).unwrap();
        let mut before = Vec::new();
        while first.step() < cut {
            for l in pollster::block_on(first.advance()).unwrap() {
                before.push((l.step, l.metrics));
            }
        }
        let parts = first.save().unwrap();
        let mut second = LlmTrainer::<Train>::new(quick(true).with_kl_coef(0.1), source(), &dev).unwrap();
        second.load(&parts).unwrap();
        before.extend(run_to_end(&mut second));
        assert_eq!(before, full, "resumed at step {cut}");
    }
}

#[test]
fn each_record_carries_the_rollout_means_since_the_previous_one_and_resume_keeps_the_window() {
    let dev = Default::default();
    let mut every = LlmTrainer::<Train>::new(quick(true), source(), &dev).unwrap();
    let per_step = run_to_end(&mut every);
    let value = |metrics: &[(&str, f64)], key: &str| metrics.iter().find(|(k, _)| *k == key).map(|&(_, v)| v);
    // Logging every step: each window holds that step alone.
    for (_, m) in per_step.iter().filter(|(s, _)| *s > 3) {
        for (key, window) in metrics::ROLLOUT_WINDOWS {
            assert_eq!(value(m, key), value(m, window), "{window} of a one-step window");
        }
    }
    // Logging every third step: records at 3 (end of the warm-up, no rollout yet), 6 and 7; the
    // record at 6 holds the mean of steps 4, 5 and 6, the one at 7 step 7 alone.
    let sparse = || LlmTrainer::<Train>::new(quick(true).with_log_every(3).with_eval_every(4), source(), &dev).unwrap();
    let records = run_to_end(&mut sparse());
    assert_eq!(records.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![3, 6, 7]);
    assert!(metrics::ROLLOUT_WINDOWS.iter().all(|(_, w)| value(&records[0].1, w).is_none()));
    for (key, window) in metrics::ROLLOUT_WINDOWS {
        let at = |s: u64| value(&per_step.iter().find(|(t, _)| *t == s).unwrap().1, key).unwrap();
        let mean = (at(4) + at(5) + at(6)) / 3.0;
        assert!((value(&records[1].1, window).unwrap() - mean).abs() < 1e-12, "{window} at step 6");
        assert_eq!(value(&records[2].1, window), Some(at(7)), "{window} at step 7");
    }
    // A checkpoint inside a window (after step 5) keeps its sums: the resumed run logs the same.
    let mut first = sparse();
    let mut before = Vec::new();
    while first.step() < 5 {
        before.extend(pollster::block_on(first.advance()).unwrap().into_iter().map(|l| (l.step, l.metrics)));
    }
    let mut second = sparse();
    second.load(&first.save().unwrap()).unwrap();
    before.extend(run_to_end(&mut second));
    assert_eq!(before, records);
}

#[test]
fn every_arm_starts_grpo_from_the_same_warm_up_model_at_a_seed() {
    // The warm-up does not read ERA's settings: GRPO-ERA, GRPO and the released settings, at one
    // seed, hold the same weights and generator when the warm-up ends (GRPO starts with a fresh
    // optimiser; burn's records carry per-instance parameter ids, so the weights are compared).
    let dev = Default::default();
    let released =
        quick(true).with_ratio_to_rollout(true).with_advantage_rescale(false).with_clip_low(1.0).with_clip_high(1.0);
    let warmed = |c: LlmConfig| {
        let mut t = LlmTrainer::<Train>::new(c, source(), &dev).unwrap();
        while t.in_warmup() {
            pollster::block_on(t.advance()).unwrap();
        }
        let parts = t.save().unwrap();
        parts.into_iter().filter(|(name, _)| name == "model.safetensors" || name == "loop.json").collect::<Vec<_>>()
    };
    let era = warmed(quick(true));
    for other in [warmed(quick(false)), warmed(released)] {
        assert_eq!(era.len(), 2);
        assert_eq!(era.len(), other.len());
        for ((name, a), (other_name, b)) in era.iter().zip(&other) {
            assert!(name == other_name && a == b, "{name} differs");
        }
    }
}

#[test]
fn era_rescales_only_when_the_entropy_leaves_the_band() {
    let dev = Default::default();
    let frac = |c: LlmConfig| -> (f64, f64) {
        let mut t = LlmTrainer::<Train>::new(c.with_warmup_steps(0), source(), &dev).unwrap();
        let mut rollout = pollster::block_on(t.rollout()).unwrap();
        // An untrained model solves nothing: give half of each group reward 1 so advantages are ±.
        rollout.rewards.iter_mut().enumerate().for_each(|(i, r)| *r = (i % 2) as f64);
        let logged = pollster::block_on(t.update(&rollout)).unwrap();
        let get = |key| logged.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap();
        (get(metrics::FRAC_SHARPEN), get(metrics::FRAC_SOFTEN))
    };
    // A band above every entropy sharpens every positive-advantage response, one below softens them;
    // ERA off or a band containing everything changes nothing.
    // Half of the responses have A > 0.
    assert_eq!(frac(quick(true).with_omega_low(50.0).with_omega_high(60.0)), (0.5, 0.0));
    assert_eq!(frac(quick(true).with_omega_low(0.0).with_omega_high(1e-6)), (0.0, 0.5));
    assert_eq!(frac(quick(false).with_omega_low(50.0).with_omega_high(60.0)), (0.0, 0.0));
    assert_eq!(frac(quick(true).with_omega_low(0.0).with_omega_high(60.0)), (0.0, 0.0));
    // Learning from the unrewarded responses alone leaves ERA nothing to scale; from the rewarded
    // ones alone, all of them.
    let sharpen_all = || quick(true).with_omega_low(50.0).with_omega_high(60.0);
    assert_eq!(frac(sharpen_all().with_advantage_sign(AdvantageSign::Negative)), (0.0, 0.0));
    assert_eq!(frac(sharpen_all().with_advantage_sign(AdvantageSign::Positive)), (0.5, 0.0));
}

#[test]
fn an_exported_run_is_a_checkpoint_directory_that_decodes_the_same() {
    let dev = Default::default();
    let mut t = LlmTrainer::<Train>::new(quick(false).with_grpo_steps(1), source(), &dev).unwrap();
    run_to_end(&mut t);
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in t.export().unwrap() {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let back = ModelSource::from_dir(dir.path()).unwrap();
    let model = Qwen2::<Cpu>::from_weights(&back.config, &back.weights, &dev).unwrap();
    let prompt = back.tokenizer.encode("12+34=").unwrap();
    let greedy = |m: &Qwen2<Cpu>| {
        pollster::block_on(generate(
            m,
            std::slice::from_ref(&prompt),
            10,
            &[0],
            &Sampling::greedy(),
            &mut TrainRng::seed_from_u64(0),
            &dev,
        ))
        .unwrap()
    };
    assert_eq!(greedy(&model), greedy(&t.model().unwrap()));
}

#[test]
fn bad_settings_are_refused_naming_them() {
    let dev = Default::default();
    let err =
        |c: LlmConfig| LlmTrainer::<Train>::new(c, source(), &dev).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err(quick(true).with_group(1)).contains("group 1"));
    assert!(err(quick(true).with_omega_low(2.0).with_omega_high(1.0)).contains("omega_high"));
    assert!(err(quick(true).with_era_k(0.5)).contains("k"));
    assert!(err(quick(true).with_digits(12)).contains("digits 12"));
    assert!(err(quick(true).with_eval_prompts(41)).contains("eval_prompts 41"));
    assert!(err(quick(true).with_temperature(0.0)).contains("temperature"));
    // A tokenizer without the task's characters cannot learn the task.
    let mut s = source();
    s.tokenizer = LlmTokenizer::char_level("0123456789=");
    let e = LlmTrainer::<Train>::new(quick(true), s, &dev).err().unwrap().to_string();
    assert!(e.contains("'+'"), "{e}");
}

#[test]
fn a_grpo_update_moves_probability_towards_rewarded_responses() {
    use era_shared::llm::grpo::taken_log_probs;
    let dev = Default::default();
    for era in [false, true] {
        let config = quick(era).with_warmup_steps(0).with_lr(1e-3).with_epochs(1).with_minibatch(0);
        let mut t = LlmTrainer::<Train>::new(config, source(), &dev).unwrap();
        let mut rollout = pollster::block_on(t.rollout()).unwrap();
        rollout.rewards.iter_mut().enumerate().for_each(|(i, r)| *r = (i % 2) as f64);
        // Summed log-probability of each response under the current policy.
        let scores = |t: &LlmTrainer<Train>| -> Vec<f64> {
            let (ids, inputs, mask) = rollout.packed.tensors::<Cpu>(&dev);
            let lp = taken_log_probs(t.model().unwrap().forward(inputs, &rollout.packed.pads, None), ids, None, None);
            (lp * mask.float()).sum_dim(1).into_data().convert::<f64>().into_vec::<f64>().unwrap()
        };
        let before = scores(&t);
        pollster::block_on(t.update(&rollout)).unwrap();
        let after = scores(&t);
        let (mut up, mut down) = (0.0, 0.0);
        for (i, (b, a)) in before.iter().zip(&after).enumerate() {
            if i % 2 == 1 { up += a - b } else { down += a - b }
        }
        assert!(up > 0.0 && down < 0.0, "era {era}: rewarded {up}, unrewarded {down}");
    }
}

#[test]
fn the_ratio_divides_by_the_scaled_old_policy_or_by_the_rollout_policy() {
    let dev = Default::default();
    let approx_kl = |rollout_ratio: bool| -> f64 {
        // A band above every entropy: every positive-advantage response is sharpened (z' = 2z).
        let config = quick(true)
            .with_warmup_steps(0)
            .with_epochs(1)
            .with_minibatch(0)
            .with_omega_low(50.0)
            .with_omega_high(60.0)
            .with_ratio_to_rollout(rollout_ratio);
        let mut t = LlmTrainer::<Train>::new(config, source(), &dev).unwrap();
        let mut rollout = pollster::block_on(t.rollout()).unwrap();
        rollout.rewards.iter_mut().enumerate().for_each(|(i, r)| *r = (i % 2) as f64);
        let logged = pollster::block_on(t.update(&rollout)).unwrap();
        logged.iter().find(|(k, _)| *k == metrics::APPROX_KL).map(|(_, v)| *v).unwrap()
    };
    // One update on the whole batch: against the old policy under the same scale the ratio is 1
    // (log-ratio 0); against the sampling policy it is π'/π, which differs on the sharpened rows.
    assert!(approx_kl(false).abs() < 1e-6, "{}", approx_kl(false));
    assert!(approx_kl(true).abs() > 1e-3, "{}", approx_kl(true));
}

#[test]
fn one_sided_grpo_learns_from_its_side_only() {
    let dev = Default::default();
    let policy_loss = |sign: AdvantageSign| -> f64 {
        let config = quick(false).with_warmup_steps(0).with_epochs(1).with_minibatch(0).with_advantage_sign(sign);
        let mut t = LlmTrainer::<Train>::new(config, source(), &dev).unwrap();
        let mut rollout = pollster::block_on(t.rollout()).unwrap();
        rollout.rewards.iter_mut().enumerate().for_each(|(i, r)| *r = (i % 2) as f64);
        let logged = pollster::block_on(t.update(&rollout)).unwrap();
        logged.iter().find(|(k, _)| *k == metrics::POLICY_LOSS).map(|(_, v)| *v).unwrap()
    };
    // Before the first update the ratio is 1, so the loss is −Σ_t A / N: below 0 when only the
    // rewarded responses (A = +0.866) count, above 0 when only the unrewarded ones (A = −0.866) do.
    assert!(policy_loss(AdvantageSign::Positive) < 0.0);
    assert!(policy_loss(AdvantageSign::Negative) > 0.0);
}

/// The largest `|a − b| / max |b|` over two records' shared keys.
#[cfg(feature = "fast")]
fn record_gap(a: &[(&'static str, f64)], b: &[(&'static str, f64)]) -> (f64, &'static str) {
    let mut worst = (0.0, "");
    for (key, x) in a {
        let Some((_, y)) = b.iter().find(|(k, _)| k == key) else { panic!("{key} missing") };
        let d = (x - y).abs() / y.abs().max(1e-3);
        if d > worst.0 {
            worst = (d, key);
        }
    }
    worst
}

#[cfg(feature = "fast")]
#[test]
fn the_fast_update_follows_the_burn_update() {
    let dev = Default::default();
    for (what, c) in [
        // A band above every entropy: every positive-advantage response sharpened.
        ("GRPO-ERA sharpening, with KL", quick(true).with_kl_coef(0.1).with_omega_low(50.0).with_omega_high(60.0)),
        ("GRPO", quick(false)),
        // A band below every entropy: softened; the released ratio and clip settings.
        (
            "released settings, softening",
            quick(true)
                .with_omega_low(0.0)
                .with_omega_high(1e-6)
                .with_ratio_to_rollout(true)
                .with_advantage_rescale(false)
                .with_clip_low(1.0)
                .with_clip_high(1.0),
        ),
    ] {
        let mut burn = LlmTrainer::<Train>::new(c.clone(), source(), &dev).unwrap();
        let mut fast = LlmTrainer::<Train>::with_engine(c, source(), &dev, Engine::Fast).unwrap();
        assert!(fast.engine() == Engine::Fast && burn.engine() == Engine::Burn);
        // The warm-up: the same problems, so the same losses up to rounding.
        while burn.in_warmup() {
            let (a, b) = (pollster::block_on(burn.advance()).unwrap(), pollster::block_on(fast.advance()).unwrap());
            for (x, y) in b.iter().zip(&a) {
                let (d, key) = record_gap(&x.metrics, &y.metrics);
                assert!(d < 1e-4, "{what}: warm-up step {}: {key} differs by {d}", y.step);
            }
        }
        // One GRPO update (two epochs of two minibatches) on one rollout with rewards of both signs.
        let mut rollout = pollster::block_on(burn.rollout()).unwrap();
        rollout.rewards.iter_mut().enumerate().for_each(|(i, r)| *r = (i % 2) as f64);
        let a = pollster::block_on(burn.update(&rollout)).unwrap();
        let b = pollster::block_on(fast.update(&rollout)).unwrap();
        let (d, key) = record_gap(&b, &a);
        let scaled = a.iter().any(|(k, v)| (*k == metrics::FRAC_SHARPEN || *k == metrics::FRAC_SOFTEN) && *v > 0.0);
        assert_eq!(scaled, what.contains("ERA") || what.contains("softening"), "{what}: {a:?}");
        assert!(d < 1e-3, "{what}: update: {key} differs by {d}");
        // The models after it give the same logits.
        let (_, inputs, _) = rollout.packed.tensors::<Cpu>(&dev);
        let logits = |m: Qwen2<Cpu>| {
            m.forward(inputs.clone(), &rollout.packed.pads, None)
                .into_data()
                .convert::<f32>()
                .into_vec::<f32>()
                .unwrap()
        };
        let (x, y) = (logits(fast.model().unwrap()), logits(burn.model().unwrap()));
        let gap = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        let top = y.iter().map(|v| v.abs()).fold(0.0, f32::max);
        assert!(gap / top < 1e-4, "{what}: logits after the update differ by {}", gap / top);
    }
}

#[cfg(feature = "fast")]
#[test]
fn the_fast_path_resumes_bit_exactly_and_refuses_what_it_cannot_run() {
    let dev = Default::default();
    let c = quick(true).with_kl_coef(0.1);
    let fast = || LlmTrainer::<Train>::with_engine(c.clone(), source(), &dev, Engine::Fast).unwrap();
    let full = run_to_end(&mut fast());
    assert_eq!(full.len(), 7);
    for cut in [3, 5] {
        let mut first = fast();
        let mut before = Vec::new();
        while first.step() < cut {
            before.extend(pollster::block_on(first.advance()).unwrap().into_iter().map(|l| (l.step, l.metrics)));
        }
        let parts = first.save().unwrap();
        let mut second = fast();
        second.load(&parts).unwrap();
        before.extend(run_to_end(&mut second));
        assert_eq!(before, full, "fast path resumed at step {cut}");
        // A checkpoint of one engine is refused by the other, naming what to do.
        let mut burn = LlmTrainer::<Train>::new(c.clone(), source(), &dev).unwrap();
        let e = burn.load(&parts).unwrap_err().to_string();
        assert!(e.contains("--backend fast"), "{e}");
    }
    let mut burn = LlmTrainer::<Train>::new(c.clone(), source(), &dev).unwrap();
    pollster::block_on(burn.advance()).unwrap();
    let e = fast().load(&burn.save().unwrap()).unwrap_err().to_string();
    assert!(e.contains("not written by the fast CPU path"), "{e}");
    let e = LlmTrainer::<Train>::with_engine(c.with_top_k_logprobs(Some(8)), source(), &dev, Engine::Fast)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("top_k_logprobs"), "{e}");
}
