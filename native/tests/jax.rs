//! `era bench control --against jax`: the fast path's SAC update beside the same update in JAX.
//! Needs `eval "$(scripts/setup-jax.sh)"` (JAX 0.10.2 from PyPI) and `--features jax`.
#![allow(clippy::unwrap_used)]

mod common;

use common::era;

#[test]
fn the_fast_sac_update_is_measured_beside_jax() {
    let python = std::env::var("ERA_JAX_PYTHON")
        .expect("ERA_JAX_PYTHON is not set: run `eval \"$(scripts/setup-jax.sh)\"` first");
    let args = ["bench", "control", "--algo", "sac", "--backend", "fast", "--against", "jax"];
    let out = era(&[&args[..], &["--width", "16", "--updates", "20", "--repeats", "1", "--python", &python]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("beside JAX 0.10.2"), "{text}");
    for variant in ["sac-era", "sac "] {
        let line =
            text.lines().find(|l| l.trim_start().starts_with(variant)).unwrap_or_else(|| panic!("{variant}: {text}"));
        // `<variant> <fast> <jax> <ratio>×`: both rates measured, and the ratio is theirs.
        let numbers: Vec<f64> =
            line.split_whitespace().skip(1).map(|v| v.trim_end_matches('×').parse().unwrap()).collect();
        let [fast, jax, ratio] = numbers[..] else { panic!("{line}") };
        assert!(fast > 0.0 && jax > 0.0, "{line}");
        assert!((ratio - fast / jax).abs() <= 0.01, "{line}");
    }
}

/// The update as the authors released it, transcribed in `native/peers/jax_sac_update.py --parity`, and
/// era's on both engines: the same initial parameters, batches and uniform noise; after 20 updates
/// every parameter tensor agrees within 10⁻⁴ of its largest magnitude (f32), LayerNorm critics,
/// AdamW, ELU and orthogonal initialisation included. SAC on the same networks is checked too.
#[test]
fn the_released_sac_era_update_matches_jax_parameter_by_parameter() {
    use burn::backend::{Autodiff, NdArray};
    use era_shared::control::fast;
    use era_shared::control::replay::{Batch, ReplayBuffer};
    use era_shared::control::sac::{Sac, SacConfig, draw_noise};
    use era_shared::train::TrainRng;
    use rand::SeedableRng;
    use safetensors::tensor::{Dtype, SafeTensors, TensorView};
    use std::collections::HashMap;

    type B = Autodiff<NdArray<f32>>;
    const OBS: usize = 5;
    const ACT: usize = 3;
    const UPDATES: usize = 20;
    /// Measured: SAC-ERA 2.1·10⁻⁶ of a tensor's scale on both engines, SAC 3.6·10⁻⁶ (fast) and 3.4·10⁻⁶ (burn).
    const TOLERANCE: f32 = 1e-4;

    let python = std::env::var("ERA_JAX_PYTHON")
        .expect("ERA_JAX_PYTHON is not set: run `eval \"$(scripts/setup-jax.sh)\"` first");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/jax_sac_update.py");

    let mut data = TrainRng::seed_from_u64(11);
    let buffer = ReplayBuffer::random(500, OBS, ACT, 0.1, &mut data);
    let batches: Vec<Batch> = (0..UPDATES).map(|_| buffer.sample(64, &mut data)).collect();

    for era in [true, false] {
        let cfg = SacConfig::standard(era).with_hidden(vec![64, 64]);
        // Each engine from the same seed: same initial parameters, same noise per update.
        // (initial parameters, final parameters, the noise of each update).
        type Params = Vec<(String, Vec<f32>)>;
        let run = |fast_engine: bool| -> (Params, Params, Vec<Vec<f32>>) {
            let mut rng = TrainRng::seed_from_u64(5);
            let mut noise = Vec::new();
            let mut record = |rng: &TrainRng| {
                let mut r = rng.clone();
                let n = 64 * ACT;
                noise.push(draw_noise(era, n, &mut r));
                noise.push(draw_noise(era, n, &mut r));
            };
            if fast_engine {
                let mut agent = fast::sac::Sac::new(&cfg, OBS, ACT, &mut rng).unwrap();
                let initial = agent.parameters();
                for b in &batches {
                    record(&rng);
                    agent.update(&cfg, b, &mut rng, false);
                }
                (initial, agent.parameters(), noise)
            } else {
                let mut agent = Sac::<B>::new(&cfg, OBS, ACT, &mut rng, &Default::default()).unwrap();
                let initial = agent.parameters();
                for b in &batches {
                    record(&rng);
                    agent.update(&cfg, b, &mut rng, false);
                }
                (initial, agent.parameters(), noise)
            }
        };
        let (initial, fast_final, noise) = run(true);
        let (burn_initial, burn_final, burn_noise) = run(false);
        assert_eq!(initial, burn_initial, "both engines start from the same parameters");
        assert_eq!(noise, burn_noise, "and draw the same noise");

        // The parity file: metadata, initial parameters, and per update its batch and noise.
        let mut tensors: Vec<(String, Vec<f32>, Vec<usize>)> =
            initial.iter().map(|(n, v)| (n.clone(), v.clone(), vec![v.len()])).collect();
        for (i, b) in batches.iter().enumerate() {
            let n = b.rewards.len();
            let masks = b.terminated.iter().map(|d| 1.0 - d).collect();
            for (key, values, shape) in [
                ("obs", b.obs.clone(), vec![n, OBS]),
                ("actions", b.actions.clone(), vec![n, ACT]),
                ("rewards", b.rewards.clone(), vec![n]),
                ("next_obs", b.next_obs.clone(), vec![n, OBS]),
                ("masks", masks, vec![n]),
                ("noise_next", noise[2 * i].clone(), vec![n, ACT]),
                ("noise", noise[2 * i + 1].clone(), vec![n, ACT]),
            ] {
                tensors.push((format!("{key}.{i}"), values, shape));
            }
        }
        let bytes: Vec<Vec<u8>> =
            tensors.iter().map(|(_, v, _)| v.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
        let views: Vec<(&str, TensorView<'_>)> = tensors
            .iter()
            .zip(&bytes)
            .map(|((name, _, shape), b)| (name.as_str(), TensorView::new(Dtype::F32, shape.clone(), b).unwrap()))
            .collect();
        let meta: HashMap<String, String> = [
            ("obs_dim", OBS.to_string()),
            ("act_dim", ACT.to_string()),
            ("hidden", "[64, 64]".to_string()),
            ("era", era.to_string()),
            ("critic_norm", cfg.critic_norm.to_string()),
            ("updates", UPDATES.to_string()),
            ("h0", cfg.era.target(ACT).to_string()),
            ("gamma", cfg.gamma.to_string()),
            ("tau", cfg.tau.to_string()),
            ("actor_lr", cfg.actor_lr.to_string()),
            ("critic_lr", cfg.critic_lr.to_string()),
            ("critic_weight_decay", cfg.critic_weight_decay.to_string()),
            ("alpha_lr", cfg.alpha_lr.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("in.safetensors"), dir.path().join("out.safetensors"));
        std::fs::write(&src, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
        let out = std::process::Command::new(&python).args([script, "--parity"]).arg(&src).arg(&dst).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let bytes = std::fs::read(&dst).unwrap();
        let jax = SafeTensors::deserialize(&bytes).unwrap();

        for (engine, params) in [("fast", &fast_final), ("burn", &burn_final)] {
            let mut worst = (0.0f32, String::new());
            for (name, got) in params {
                let want: Vec<f32> = jax
                    .tensor(name)
                    .unwrap()
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                assert_eq!(got.len(), want.len(), "{name}");
                let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
                let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max) / scale;
                // The parameters moved: a comparison of untouched initial values would prove nothing.
                let initial_values = &initial.iter().find(|(n, _)| n == name).unwrap().1;
                if name != "scalar" || !era {
                    assert!(initial_values != got, "era {era} {engine} {name}: unchanged by 20 updates");
                }
                assert!(diff <= TOLERANCE, "era {era} {engine} {name}: differs from JAX by {diff:.2e} of its scale");
                if diff > worst.0 {
                    worst = (diff, name.clone());
                }
            }
            eprintln!("era {era} {engine}: largest difference from JAX {:.2e} of the scale of `{}`", worst.0, worst.1);
        }
    }
}
