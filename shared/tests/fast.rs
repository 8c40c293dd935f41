//! The fast CPU path against the reference (burn) agents: same seed, same batches, same numbers up to
//! floating-point rounding; and its own determinism and exact resume.
#![allow(clippy::unwrap_used)]

use burn::backend::{Autodiff, NdArray};
use era_shared::control::AgentConfig;
use era_shared::control::engine::{Agent, Engine};
use era_shared::control::fast;
use era_shared::control::mlp::{Init, Nonlinearity, Norm};
use era_shared::control::policy::EraConfig;
use era_shared::control::replay::{Batch, ReplayBuffer};
use era_shared::control::sac::{Sac, SacConfig};
use era_shared::control::{ControlConfig, ControlTrainer};
use era_shared::train::{Logged, Part, TrainRng, Trainer, read};
use rand::{Rng, SeedableRng};

type B = Autodiff<NdArray<f32>>;

const OBS: usize = 5;
const ACT: usize = 3;

fn config(era: bool, activation: Nonlinearity) -> SacConfig {
    SacConfig::new(EraConfig::new().with_enabled(era)).with_hidden(vec![32, 32]).with_activation(activation)
}

fn batches(count: usize) -> Vec<Batch> {
    let mut data = TrainRng::seed_from_u64(11);
    let buffer = ReplayBuffer::random(500, OBS, ACT, 0.1, &mut data);
    (0..count).map(|_| buffer.sample(64, &mut data)).collect()
}

/// Largest relative difference `|a − b| / (1 + |b|)`.
fn gap(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(a, b)| (a - b).abs() / (1.0 + b.abs())).fold(0.0, f32::max)
}

/// Tolerance of the comparison, relative: over 30 updates the two paths' statistics and actions
/// agreed to 8.5·10⁻⁷ (SAC-ERA) and 2.9·10⁻⁷ (SAC) when measured with the released networks (LayerNorm
/// critics, orthogonal initialisation, AdamW); 10⁻⁴ leaves room for other
/// kernels (AVX2 instead of AVX-512 sums in another order) without hiding a wrong gradient, which
/// shows up at 10⁻² or more within a few updates.
const TOLERANCE: f32 = 1e-4;

#[test]
fn fast_sac_follows_the_reference_update_by_update() {
    // The released networks with each activation, and CleanRL's (no LayerNorm, uniform init, Adam).
    let cleanrl = |c: SacConfig| c.with_critic_norm(Norm::None).with_init(Init::Default).with_critic_weight_decay(0.0);
    let variants = [
        (true, Nonlinearity::Relu, false),
        (false, Nonlinearity::Relu, false),
        (true, Nonlinearity::Elu, false),
        (false, Nonlinearity::Elu, false),
        (true, Nonlinearity::Relu, true),
        (false, Nonlinearity::Relu, true),
    ];
    for (era, activation, clean) in variants {
        let cfg = if clean { cleanrl(config(era, activation)) } else { config(era, activation) };
        let (mut rng_ref, mut rng_fast) = (TrainRng::seed_from_u64(5), TrainRng::seed_from_u64(5));
        let mut reference = Sac::<B>::new(&cfg, OBS, ACT, &mut rng_ref, &Default::default()).unwrap();
        let mut fast = fast::sac::Sac::new(&cfg, OBS, ACT, &mut rng_fast).unwrap();
        let probe: Vec<f32> = (0..4 * OBS).map(|i| (i as f32 * 0.7).sin()).collect();
        let mut worst = 0.0f32;
        for (i, batch) in batches(30).iter().enumerate() {
            let want = pollster::block_on(read(reference.update(&cfg, batch, &mut rng_ref, true).unwrap())).unwrap();
            let got = fast.update(&cfg, batch, &mut rng_fast, true).unwrap();
            let g = gap(&got, &want);
            worst = worst.max(g);
            assert!(g < TOLERANCE, "era {era} {activation:?} update {i}: fast {got:?}\nreference {want:?}");
        }
        // The policies themselves: deterministic and sampled actions (the generators stay in step).
        let want = pollster::block_on(read(reference.act(&probe, 4, true, &mut rng_ref))).unwrap();
        assert!(gap(&fast.act(&probe, 4, true, &mut rng_fast), &want) < TOLERANCE);
        let want = pollster::block_on(read(reference.act(&probe, 4, false, &mut rng_ref))).unwrap();
        assert!(gap(&fast.act(&probe, 4, false, &mut rng_fast), &want) < TOLERANCE);
        eprintln!("era {era} {activation:?} cleanrl {clean}: largest relative difference over 30 updates {worst:.2e}");
    }
}

#[test]
fn fast_sac_is_deterministic_and_resumes_bit_for_bit() {
    for era in [true, false] {
        let run = |updates: &[Batch], from: Option<(&[Part], TrainRng)>| {
            let mut rng = TrainRng::seed_from_u64(7);
            let cfg = config(era, Nonlinearity::Relu);
            let mut agent = fast::sac::Sac::new(&cfg, OBS, ACT, &mut rng).unwrap();
            if let Some((parts, saved)) = from {
                agent.load(parts).unwrap();
                rng = saved;
            }
            let stats: Vec<Vec<f32>> = updates.iter().map(|b| agent.update(&cfg, b, &mut rng, true).unwrap()).collect();
            (agent, rng, stats)
        };
        let all = batches(20);
        let (_, _, whole) = run(&all, None);
        let (_, _, again) = run(&all, None);
        assert_eq!(whole, again, "same seed, same numbers");
        let (first, rng, head) = run(&all[..8], None);
        let parts = first.save().unwrap();
        let (_, _, tail) = run(&all[8..], Some((&parts, rng)));
        assert_eq!([head, tail].concat(), whole, "save after 8 updates, load, continue: identical");
    }
}

#[test]
fn a_checkpoint_that_does_not_fit_is_refused_with_the_tensor_named() {
    let mut rng = TrainRng::seed_from_u64(1);
    let small = fast::sac::Sac::new(&config(true, Nonlinearity::Relu), OBS, ACT, &mut rng).unwrap();
    let mut wide =
        fast::sac::Sac::new(&config(true, Nonlinearity::Relu).with_hidden(vec![64, 64]), OBS, ACT, &mut rng).unwrap();
    let err = wide.load(&small.save().unwrap()).unwrap_err().to_string();
    assert!(err.contains("tensor `actor`") && err.contains("needs"), "{err}");
    let err = wide.load(&[]).unwrap_err().to_string();
    assert!(err.contains("fast-sac.safetensors") && err.contains("backend that wrote it"), "{err}");
}

/// Runs `config` to the end on both engines and asserts they log the same steps, keys and values to
/// within 10⁻³ (relative), and that the reference logged `key` (so updates happened).
fn assert_engines_agree(config: &ControlConfig, key: &str) {
    let run = |engine| -> Vec<Logged> {
        let mut t = ControlTrainer::<B>::with_engine(config.clone(), &Default::default(), engine).unwrap();
        let mut out = Vec::new();
        while !t.is_done() {
            out.extend(pollster::block_on(t.advance()).unwrap());
        }
        out
    };
    let (reference, fast) = (run(Engine::Burn), run(Engine::Fast));
    assert_eq!(reference.len(), fast.len());
    assert!(reference.iter().any(|l| l.metrics.iter().any(|(k, _)| *k == key)), "no {key} logged");
    for (r, f) in reference.iter().zip(&fast) {
        assert_eq!(r.step, f.step);
        for ((kr, vr), (kf, vf)) in r.metrics.iter().zip(&f.metrics) {
            assert_eq!(kr, kf);
            assert!((vr - vf).abs() <= 1e-3 * (1.0 + vr.abs()), "step {} {kr}: burn {vr} vs fast {vf}", r.step);
        }
    }
}

/// The whole training loop on either engine: the same episodes, statistics and evaluations, up to
/// rounding, for a short SAC-ERA run on Pendulum-v1 (150 updates).
#[test]
fn the_trainer_on_the_fast_engine_follows_the_burn_engine() {
    let config = ControlConfig::new(
        "Pendulum-v1".into(),
        AgentConfig::Sac(config(true, Nonlinearity::Relu).with_batch_size(32).with_learning_starts(100)),
    )
    .with_total_steps(200)
    .with_eval_every(100)
    .with_eval_episodes(1)
    .with_log_every(50);
    assert_engines_agree(&config, era_shared::metrics::CRITIC_LOSS);
}

mod ppo {
    use super::*;
    use era_shared::control::ppo::{Ppo, PpoConfig, Rollout, gae};

    /// Small networks and rollouts; a large learning rate so that ratios leave the clip range and
    /// both sides of every `max` in the losses are exercised.
    fn config(era: bool) -> PpoConfig {
        PpoConfig::standard(era)
            .with_hidden(vec![16, 16])
            .with_num_steps(96)
            .with_num_minibatches(3)
            .with_update_epochs(3)
            .with_lr(1e-2)
    }

    /// The variants the comparison covers: ERA on and off; the log-std as a parameter or a head;
    /// δ constant or learned; clipped or plain value loss; an entropy bonus; each activation.
    fn variants() -> Vec<(&'static str, PpoConfig)> {
        let learned_delta = EraConfig::new().with_delta(0.3).with_delta_auto(true).with_h0_per_dim(-0.5);
        vec![
            ("ppo-era", config(true)),
            ("ppo", config(false)),
            (
                "ppo-era, head, learned δ, entropy bonus, ReLU",
                PpoConfig { era: learned_delta, ..config(true) }
                    .with_state_dependent_std(true)
                    .with_ent_coef(0.01)
                    .with_activation(Nonlinearity::Relu),
            ),
            (
                "ppo, head, plain value loss, ELU",
                config(false)
                    .with_state_dependent_std(true)
                    .with_clip_vloss(false)
                    .with_anneal_lr(false)
                    .with_activation(Nonlinearity::Elu),
            ),
        ]
    }

    /// A rollout acted by `act` (rows of `[action, log π, V]`) on made-up observations and rewards.
    fn rollout(
        act: &mut dyn FnMut(&[f32], &mut TrainRng) -> Vec<f32>,
        steps: usize,
        data: &mut TrainRng,
        rng: &mut TrainRng,
    ) -> Rollout {
        let mut ro = Rollout::default();
        for _ in 0..steps {
            let obs: Vec<f32> = (0..OBS).map(|_| data.random_range(-2.0f32..2.0)).collect();
            let out = act(&obs, rng);
            ro.actions.extend_from_slice(&out[..ACT]);
            ro.log_probs.push(out[ACT]);
            ro.values.push(out[ACT + 1]);
            ro.obs.extend(obs);
            ro.rewards.push(data.random_range(-1.0f32..1.0));
            ro.dones.push(data.random_range(0.0..1.0) < 0.05);
        }
        (ro.advantages, ro.returns) = gae(&ro, &[0.0], 1, 0.99, 0.95);
        ro
    }

    #[test]
    fn fast_ppo_follows_the_reference_update_by_update() {
        for (name, cfg) in variants() {
            let (mut rng_ref, mut rng_fast) = (TrainRng::seed_from_u64(5), TrainRng::seed_from_u64(5));
            let mut reference = Ppo::<B>::new(&cfg, OBS, ACT, 1, &mut rng_ref, &Default::default()).unwrap();
            let mut fast = fast::ppo::Ppo::new(&cfg, OBS, ACT, 1, &mut rng_fast).unwrap();
            let mut data = TrainRng::seed_from_u64(3);
            let (mut worst, mut clipped) = (0.0f32, 0.0f32);
            for r in 0..6 {
                // Both act on the reference's rollout; the fast agent's actions are compared on the way.
                let (mut acted_ref, mut acted_fast) = (Vec::new(), Vec::new());
                let ro = rollout(
                    &mut |obs, rng| {
                        let want = pollster::block_on(read(reference.act(obs, 1, false, rng))).unwrap();
                        acted_ref.extend_from_slice(&want);
                        want
                    },
                    cfg.num_steps,
                    &mut data,
                    &mut rng_ref,
                );
                for row in ro.obs.chunks(OBS) {
                    acted_fast.extend(fast.act(row, 1, false, &mut rng_fast));
                }
                let g = gap(&acted_fast, &acted_ref);
                assert!(g < TOLERANCE, "{name} rollout {r}: actions differ by {g}");
                let frac = 1.0 - r as f64 / 6.0;
                let want = pollster::block_on(read(reference.update(&cfg, &ro, frac, &mut rng_ref))).unwrap();
                let got = fast.update(&cfg, &ro, frac, &mut rng_fast);
                let g = gap(&got, &want);
                worst = worst.max(g);
                clipped = clipped.max(want[3]);
                assert!(g < TOLERANCE, "{name} rollout {r}: fast {got:?}\nreference {want:?}");
            }
            // The comparison means something only if the clip acted.
            assert!(clipped > 0.0, "{name}: the largest clip fraction was {clipped}");
            let probe: Vec<f32> = (0..4 * OBS).map(|i| (i as f32 * 0.7).sin()).collect();
            let want = pollster::block_on(read(reference.act(&probe, 4, true, &mut rng_ref))).unwrap();
            assert!(gap(&fast.act(&probe, 4, true, &mut rng_fast), &want) < TOLERANCE);
            eprintln!(
                "{name}: largest relative difference over 6 rollouts' updates {worst:.2e}, largest clip fraction {clipped}"
            );
        }
    }

    #[test]
    fn fast_ppo_is_deterministic_and_resumes_bit_for_bit() {
        for (name, cfg) in variants() {
            let run = |rollouts: std::ops::Range<usize>, from: Option<(&[Part], TrainRng)>| {
                let mut rng = TrainRng::seed_from_u64(7);
                let mut agent = fast::ppo::Ppo::new(&cfg, OBS, ACT, 1, &mut rng).unwrap();
                if let Some((parts, saved)) = from {
                    agent.load(parts).unwrap();
                    rng = saved;
                }
                let mut out = Vec::new();
                for r in rollouts {
                    let mut data = TrainRng::seed_from_u64(100 + r as u64);
                    let ro = rollout(&mut |obs, rng| agent.act(obs, 1, false, rng), cfg.num_steps, &mut data, &mut rng);
                    out.push(agent.update(&cfg, &ro, 1.0, &mut rng));
                }
                (agent, rng, out)
            };
            let (_, _, whole) = run(0..4, None);
            let (_, _, again) = run(0..4, None);
            assert_eq!(whole, again, "{name}: same seed, same numbers");
            let (first, rng, head) = run(0..2, None);
            let (_, _, tail) = run(2..4, Some((&first.save().unwrap(), rng)));
            assert_eq!([head, tail].concat(), whole, "{name}: save after 2 rollouts, load, continue: identical");
        }
    }

    #[test]
    fn a_ppo_checkpoint_that_does_not_fit_is_refused_with_the_tensor_named() {
        let mut rng = TrainRng::seed_from_u64(1);
        let small = fast::ppo::Ppo::new(&config(true), OBS, ACT, 1, &mut rng).unwrap();
        let mut wide = fast::ppo::Ppo::new(&config(true).with_hidden(vec![32, 32]), OBS, ACT, 1, &mut rng).unwrap();
        let err = wide.load(&small.save().unwrap()).unwrap_err().to_string();
        assert!(err.contains("tensor `actor`") && err.contains("needs"), "{err}");
        let err = wide.load(&[]).unwrap_err().to_string();
        assert!(err.contains("fast-ppo.safetensors") && err.contains("backend that wrote it"), "{err}");
    }

    /// The whole PPO loop on either engine (Pendulum-v1, four rollouts of 64 steps): the same
    /// episodes, statistics and evaluations up to rounding.
    #[test]
    fn the_ppo_trainer_on_the_fast_engine_follows_the_burn_engine() {
        for era in [true, false] {
            let agent = PpoConfig::standard(era).with_num_steps(64).with_num_minibatches(2).with_update_epochs(2);
            let config = ControlConfig::new("Pendulum-v1".into(), AgentConfig::Ppo(agent))
                .with_total_steps(256)
                .with_eval_every(128)
                .with_eval_episodes(1)
                .with_log_every(64);
            assert_engines_agree(&config, era_shared::metrics::APPROX_KL);
        }
    }
}
