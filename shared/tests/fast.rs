//! The fast CPU path against the reference (burn) agents: same seed, same batches, same numbers up to
//! floating-point rounding; and its own determinism and exact resume.
#![allow(clippy::unwrap_used)]

use burn::backend::{Autodiff, NdArray};
use era_shared::control::mlp::Activation;
use era_shared::control::policy::EraConfig;
use era_shared::control::replay::{Batch, ReplayBuffer};
use era_shared::control::sac::{Sac, SacConfig};
use era_shared::control::{AgentRng, Part, fast, read};
use rand::{Rng, SeedableRng};

type B = Autodiff<NdArray<f32>>;

const OBS: usize = 5;
const ACT: usize = 3;

fn config(era: bool, activation: Activation) -> SacConfig {
    SacConfig::new(EraConfig::new().with_enabled(era)).with_hidden(vec![32, 32]).with_activation(activation)
}

fn batches(count: usize) -> Vec<Batch> {
    let mut data = AgentRng::seed_from_u64(11);
    let mut buffer = ReplayBuffer::new(1000, OBS, ACT);
    for _ in 0..500 {
        let mut v = |n: usize| -> Vec<f32> { (0..n).map(|_| data.random_range(-1.0f32..1.0)).collect() };
        let (o, a, n) = (v(OBS), v(ACT), v(OBS));
        let (r, done) = (data.random_range(-1.0..1.0), data.random_range(0.0..1.0) < 0.1);
        buffer.push(&o, &a, r, &n, done);
    }
    (0..count).map(|_| buffer.sample(64, &mut data)).collect()
}

/// Largest relative difference `|a − b| / (1 + |b|)`.
fn gap(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(a, b)| (a - b).abs() / (1.0 + b.abs())).fold(0.0, f32::max)
}

/// Tolerance of the comparison, relative: over 30 updates the two paths' statistics and actions
/// agreed to 7.6·10⁻⁶ (ELU, SAC-ERA) and 1.8·10⁻⁷ (SAC) when measured; 10⁻⁴ leaves room for other
/// kernels (AVX2 instead of AVX-512 sums in another order) without hiding a wrong gradient, which
/// shows up at 10⁻² or more within a few updates.
const TOLERANCE: f32 = 1e-4;

#[test]
fn fast_sac_follows_the_reference_update_by_update() {
    for (era, activation) in
        [(true, Activation::Relu), (false, Activation::Relu), (true, Activation::Elu), (false, Activation::Elu)]
    {
        let cfg = config(era, activation);
        let (mut rng_ref, mut rng_fast) = (AgentRng::seed_from_u64(5), AgentRng::seed_from_u64(5));
        let mut reference = Sac::<B>::new(cfg.clone(), OBS, ACT, &mut rng_ref, &Default::default()).unwrap();
        let mut fast = fast::sac::Sac::new(cfg, OBS, ACT, &mut rng_fast).unwrap();
        let probe: Vec<f32> = (0..4 * OBS).map(|i| (i as f32 * 0.7).sin()).collect();
        let mut worst = 0.0f32;
        for (i, batch) in batches(30).iter().enumerate() {
            let want = pollster::block_on(read(reference.update(batch, &mut rng_ref, true).unwrap())).unwrap();
            let got = fast.update(batch, &mut rng_fast, true).unwrap();
            let g = gap(&got, &want);
            worst = worst.max(g);
            assert!(g < TOLERANCE, "era {era} {activation:?} update {i}: fast {got:?}\nreference {want:?}");
        }
        // The policies themselves: deterministic and sampled actions (the generators stay in step).
        let want = pollster::block_on(read(reference.act(&probe, 4, true, &mut rng_ref))).unwrap();
        assert!(gap(&fast.act(&probe, 4, true, &mut rng_fast), &want) < TOLERANCE);
        let want = pollster::block_on(read(reference.act(&probe, 4, false, &mut rng_ref))).unwrap();
        assert!(gap(&fast.act(&probe, 4, false, &mut rng_fast), &want) < TOLERANCE);
        eprintln!("era {era} {activation:?}: largest relative difference over 30 updates {worst:.2e}");
    }
}

#[test]
fn fast_sac_is_deterministic_and_resumes_bit_for_bit() {
    for era in [true, false] {
        let run = |updates: &[Batch], from: Option<(&[Part], AgentRng)>| {
            let mut rng = AgentRng::seed_from_u64(7);
            let mut agent = fast::sac::Sac::new(config(era, Activation::Relu), OBS, ACT, &mut rng).unwrap();
            if let Some((parts, saved)) = from {
                agent.load(parts).unwrap();
                rng = saved;
            }
            let stats: Vec<Vec<f32>> = updates.iter().map(|b| agent.update(b, &mut rng, true).unwrap()).collect();
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
    let mut rng = AgentRng::seed_from_u64(1);
    let small = fast::sac::Sac::new(config(true, Activation::Relu), OBS, ACT, &mut rng).unwrap();
    let mut wide =
        fast::sac::Sac::new(config(true, Activation::Relu).with_hidden(vec![64, 64]), OBS, ACT, &mut rng).unwrap();
    let err = wide.load(&small.save().unwrap()).unwrap_err().to_string();
    assert!(err.contains("tensor `actor`") && err.contains("needs"), "{err}");
    let err = wide.load(&[]).unwrap_err().to_string();
    assert!(err.contains("fast-sac.safetensors") && err.contains("backend that wrote it"), "{err}");
}

/// The whole training loop on either engine: the same episodes, statistics and evaluations, up to
/// rounding, for a short SAC-ERA run on Pendulum-v1 (150 updates).
#[test]
fn the_trainer_on_the_fast_engine_follows_the_burn_engine() {
    use era_shared::control::trainer::{AgentConfig, Engine};
    use era_shared::control::{ControlConfig, ControlTrainer, Logged};
    let config = ControlConfig::new(
        "Pendulum-v1".into(),
        AgentConfig::Sac(config(true, Activation::Relu).with_batch_size(32).with_learning_starts(100)),
    )
    .with_total_steps(200)
    .with_eval_every(100)
    .with_eval_episodes(1)
    .with_log_every(50);
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
    assert!(reference.iter().any(|l| l.metrics.iter().any(|(k, _)| *k == era_shared::metrics::CRITIC_LOSS)));
    for (r, f) in reference.iter().zip(&fast) {
        assert_eq!(r.step, f.step);
        for ((kr, vr), (kf, vf)) in r.metrics.iter().zip(&f.metrics) {
            assert_eq!(kr, kf);
            assert!((vr - vf).abs() <= 1e-3 * (1.0 + vr.abs()), "step {} {kr}: burn {vr} vs fast {vf}", r.step);
        }
    }
}
