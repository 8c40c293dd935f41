//! The control agents on every environment: smoke runs, determinism for a seed, exact continuation
//! from a checkpoint, and ERA's fixed Gaussian entropy.
#![allow(clippy::unwrap_used)]

use burn::backend::{Autodiff, NdArray};
use era_shared::control::AgentConfig;
use era_shared::control::mlp::Nonlinearity;
use era_shared::control::policy::EraConfig;
use era_shared::control::ppo::PpoConfig;
use era_shared::control::sac::SacConfig;
use era_shared::control::{ControlConfig, ControlTrainer};
use era_shared::env::ENV_IDS;
use era_shared::metrics;
use era_shared::train::{Logged, Trainer};

type B = Autodiff<NdArray<f32>>;

fn sac(era: bool) -> AgentConfig {
    AgentConfig::Sac(
        SacConfig::new(EraConfig::new().with_enabled(era))
            .with_hidden(vec![16, 16])
            .with_batch_size(8)
            .with_learning_starts(20)
            .with_activation(Nonlinearity::Elu),
    )
}

fn ppo(era: bool, state_dependent: bool) -> AgentConfig {
    AgentConfig::Ppo(
        PpoConfig::new(EraConfig::new().with_enabled(era))
            .with_hidden(vec![8])
            .with_num_steps(16)
            .with_num_minibatches(2)
            .with_update_epochs(2)
            .with_state_dependent_std(state_dependent),
    )
}

fn config(env: &str, agent: AgentConfig, steps: u64) -> ControlConfig {
    ControlConfig::new(env.to_string(), agent)
        .with_total_steps(steps)
        .with_eval_every(steps / 2)
        .with_eval_episodes(1)
        .with_log_every(10)
        .with_seed(3)
}

fn run(trainer: &mut ControlTrainer<B>) -> Vec<Logged> {
    let mut all = Vec::new();
    while !trainer.is_done() {
        all.extend(pollster::block_on(trainer.advance()).unwrap());
    }
    all
}

fn value(logged: &[Logged], key: &str) -> Vec<f64> {
    logged.iter().flat_map(|l| l.metrics.iter().filter(|(k, _)| *k == key).map(|(_, v)| *v)).collect()
}

#[test]
fn every_agent_runs_on_every_environment() {
    for env in ENV_IDS {
        for agent in [sac(true), sac(false), ppo(true, false), ppo(false, true)] {
            let name = format!("{env} {agent:?}");
            let mut t = ControlTrainer::<B>::new(config(env, agent, 64), &Default::default()).unwrap();
            let logged = run(&mut t);
            assert!(t.step() >= 64, "{name}");
            let evals = value(&logged, metrics::EVAL_RETURN);
            assert_eq!(evals.len(), 2, "{name}: evaluations at half-time and at the end");
            assert!(logged.iter().all(|l| l.metrics.iter().all(|(_, v)| v.is_finite())), "{name}: {logged:?}");
            assert!(!value(&logged, metrics::GAUSSIAN_ENTROPY).is_empty(), "{name}");
        }
    }
}

#[test]
fn era_fixes_the_gaussian_entropy_at_h0_plus_delta() {
    // TwoLinkReacher: D = 2, H₀ = 2 · 0.25 = 0.5; δ starts at 0 and is learned.
    let mut t = ControlTrainer::<B>::new(config("TwoLinkReacher-v0", sac(true), 120), &Default::default()).unwrap();
    let logged = run(&mut t);
    let h = value(&logged, metrics::GAUSSIAN_ENTROPY);
    let delta = value(&logged, metrics::DELTA);
    assert!(!h.is_empty() && h.len() == delta.len());
    for (h, d) in h.iter().zip(&delta) {
        assert!((h - (0.5 + d)).abs() < 1e-4, "Gaussian entropy {h} vs H0 + δ = {}", 0.5 + d);
    }
    // PPO-ERA: the same identity with the state-independent log-std.
    let mut t = ControlTrainer::<B>::new(config("FiveLinkArm-v0", ppo(true, false), 64), &Default::default()).unwrap();
    let logged = run(&mut t);
    let h = value(&logged, metrics::GAUSSIAN_ENTROPY);
    let delta = value(&logged, metrics::DELTA);
    assert!(!h.is_empty() && h.len() == delta.len());
    for (h, d) in h.iter().zip(&delta) {
        assert!((h - (5.0 * 0.25 + d)).abs() < 1e-4, "{h} vs {}", 1.25 + d);
    }
}

#[test]
fn same_seed_same_run_and_checkpoints_continue_exactly() {
    for agent in [sac(true), sac(false), ppo(true, false), ppo(false, false)] {
        let cfg = config("Pendulum-v1", agent, 96);
        let dev = Default::default();
        let full = run(&mut ControlTrainer::<B>::new(cfg.clone(), &dev).unwrap());
        let again = run(&mut ControlTrainer::<B>::new(cfg.clone(), &dev).unwrap());
        assert_eq!(full, again, "deterministic for a seed");

        // Stop after the step that crosses 40, save, and continue in a new trainer.
        let mut first = ControlTrainer::<B>::new(cfg.clone(), &dev).unwrap();
        let mut logged = Vec::new();
        while first.step() < 40 {
            logged.extend(pollster::block_on(first.advance()).unwrap());
        }
        let parts = first.save().unwrap();
        drop(first);
        let mut second = ControlTrainer::<B>::new(cfg.clone(), &dev).unwrap();
        second.load(&parts).unwrap();
        logged.extend(run(&mut second));
        assert_eq!(logged, full, "resumed run equals the uninterrupted one");
    }
}

#[test]
fn a_checkpoint_of_other_widths_or_copies_is_refused_not_loaded() {
    let dev = Default::default();
    let trained = |cfg: ControlConfig| {
        let mut t = ControlTrainer::<B>::new(cfg, &dev).unwrap();
        while t.step() < 30 {
            pollster::block_on(t.advance()).unwrap();
        }
        t.save().unwrap()
    };
    let narrow = AgentConfig::Sac(match sac(true) {
        AgentConfig::Sac(c) => c.with_hidden(vec![8, 8]),
        AgentConfig::Ppo(_) => unreachable!(),
    });
    // Burn would load the 8-wide layers into 16-wide ones; the first forward pass would panic.
    let parts = trained(config("Pendulum-v1", narrow, 96));
    let mut wide = ControlTrainer::<B>::new(config("Pendulum-v1", sac(true), 96), &dev).unwrap();
    let err = wide.load(&parts).unwrap_err().to_string();
    assert!(err.contains("nets.mpk: parameter 0 has shape [3, 8], this model's [3, 16]"), "{err}");
    // Two environment copies' loop state in a trainer of one.
    let parts = trained(config("Pendulum-v1", sac(true), 96).with_num_envs(2));
    let mut one = ControlTrainer::<B>::new(config("Pendulum-v1", sac(true), 96), &dev).unwrap();
    let err = one.load(&parts).unwrap_err().to_string();
    assert!(err.contains("loop.json: 6 observation values and 2/2 episode returns/lengths, expected 3 and 1"), "{err}");
}

#[test]
fn h0_changed_mid_run_moves_the_entropy_to_the_new_target() {
    for (env, agent, dims) in [("TwoLinkReacher-v0", sac(true), 2.0), ("FiveLinkArm-v0", ppo(true, false), 5.0)] {
        let mut t = ControlTrainer::<B>::new(config(env, agent, 400), &Default::default()).unwrap();
        let mut before = Vec::new();
        while t.step() < 100 {
            before.extend(pollster::block_on(t.advance()).unwrap());
        }
        t.set_h0(-1.0).unwrap();
        let after = run(&mut t);
        let (h, d) = (value(&after, metrics::GAUSSIAN_ENTROPY), value(&after, metrics::DELTA));
        assert!(!h.is_empty() && h.len() == d.len(), "{env}");
        for (h, d) in h.iter().zip(&d) {
            assert!((h - (-1.0 + d)).abs() < 1e-4, "{env}: {h} vs the new H0 + δ = {}", -1.0 + d);
        }
        for (h, d) in value(&before, metrics::GAUSSIAN_ENTROPY).iter().zip(value(&before, metrics::DELTA)) {
            assert!((h - (0.25 * dims + d)).abs() < 1e-4, "{env}: before the change");
        }
        assert!(t.set_h0(1e6).unwrap_err().to_string().contains("H0"));
    }
    let mut plain = ControlTrainer::<B>::new(config("Pendulum-v1", sac(false), 40), &Default::default()).unwrap();
    assert!(plain.set_h0(0.5).unwrap_err().to_string().contains("ERA on"));
}
