//! ERA's cost where it is paid, against the same computation without ERA (forward + backward, CPU).
//!
//! `cargo bench -p era-native --bench overhead` runs every case and then prints, per case, the ratio
//! of each ERA variant's median time to its plain counterpart's, measured in the same run.
//! `cargo bench -p era-native --bench overhead -- policy` runs only the cases matching `policy`.

use std::time::Duration;

use burn::backend::{Autodiff, NdArray};
use burn::tensor::{Distribution, Int, Tensor, activation, backend::Backend};
use criterion::{BenchmarkId, Criterion};
use era_shared::softmax_floor::{DEFAULT_H0, DEFAULT_TAU};
use era_shared::tensor::{gaussian_era_log_std, scaled_token_log_probs, softmax_floor, token_entropy, token_log_probs};
use era_shared::{FloorMode, GaussianEra, SoftmaxFloor};

type Cpu = NdArray<f32>;
type Ad = Autodiff<Cpu>;

fn uniform<B: Backend, const N: usize>(shape: [usize; N], scale: f64) -> Tensor<B, N> {
    Tensor::random(shape, Distribution::Uniform(-scale, scale), &Default::default())
}

fn labels<B: Backend>(n: usize, classes: usize) -> Tensor<B, 1, Int> {
    Tensor::<B, 1>::random([n], Distribution::Uniform(0.0, classes as f64 - 1e-3), &Default::default()).int()
}

/// Mean cross-entropy of `logits` `[N, C]` against `y`.
fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, y: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let n = y.dims()[0];
    activation::log_softmax(logits, 1).gather(1, y.reshape([n, 1])).mean().neg()
}

/// A benchmark group: its baseline and the ERA variants whose time ratios to it are printed at the end.
struct Comparison {
    group: String,
    baseline: &'static str,
    variants: Vec<&'static str>,
}

impl Comparison {
    fn new(group: String, baseline: &'static str, variants: &[&'static str]) -> Self {
        Self { group, baseline, variants: variants.to_vec() }
    }
}

/// fc → (ERA floor) → cross-entropy, forward and backward.
fn classifier_head(c: &mut Criterion, batch: usize, features: usize, classes: usize) -> Comparison {
    let name = format!("classifier_head/{batch}x{features}->{classes}");
    let mut g = c.benchmark_group(&name);
    let x: Tensor<Ad, 2> = uniform([batch, features], 1.0);
    let w: Tensor<Ad, 2> = uniform::<Ad, 2>([features, classes], 1.0 / (features as f64).sqrt()).require_grad();
    let y = labels::<Ad>(batch, classes);
    let floor = |mode| Some(SoftmaxFloor::new(classes, DEFAULT_H0, DEFAULT_TAU, mode).expect("H0 = 0.6 is valid"));
    let variants =
        [("plain", None), ("era_exact", floor(FloorMode::Exact)), ("era_official", floor(FloorMode::Official))];
    for (label, floor) in variants {
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                let logits = x.clone().matmul(w.clone());
                let logits = match &floor {
                    Some(f) => softmax_floor(logits, f),
                    None => logits,
                };
                cross_entropy(logits, y.clone()).backward()
            })
        });
    }
    g.finish();
    Comparison::new(name, "plain", &["era_exact", "era_official"])
}

/// linear → (Gaussian ERA | clip) log-stds → Gaussian log-likelihood of fixed actions, forward and backward.
fn policy_head(c: &mut Criterion) -> Comparison {
    let (batch, width, dims) = (4096, 256, 17);
    let name = format!("policy_head/{batch}x{width}->{dims}");
    let mut g = c.benchmark_group(&name);
    let x: Tensor<Ad, 2> = uniform([batch, width], 1.0);
    let w: Tensor<Ad, 2> = uniform::<Ad, 2>([width, 2 * dims], 1.0 / (width as f64).sqrt()).require_grad();
    let a: Tensor<Ad, 2> = uniform([batch, dims], 1.0);
    let era = GaussianEra::new(dims, 0.25 * dims as f64, 0.0, -8.0, 0.0).expect("0.25 nats per dimension is valid");
    let variants = [("plain_clip", None), ("era", Some(era))];
    for (label, era) in variants {
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                let out = x.clone().matmul(w.clone());
                let mu = out.clone().slice([0..batch, 0..dims]);
                let raw = out.slice([0..batch, dims..2 * dims]);
                let log_std = match &era {
                    Some(e) => gaussian_era_log_std(raw, e),
                    None => raw.clamp(-8.0, 0.0),
                };
                let z = a.clone().sub(mu).div(log_std.clone().exp());
                z.square().mul_scalar(0.5).add(log_std).mean().backward()
            })
        });
    }
    g.finish();
    Comparison::new(name, "plain_clip", &["era"])
}

/// The sampling temperature both GRPO variants divide by.
const TEMPERATURE: f64 = 1.0;

/// GRPO token log-probs over a Qwen-sized vocabulary, with and without ERA's scaling.
fn grpo_log_probs(c: &mut Criterion) -> Comparison {
    let (tokens, vocab) = (64, 151_936);
    let name = format!("grpo_log_probs/{tokens}x{vocab}");
    let mut g = c.benchmark_group(&name);
    let logits: Tensor<Ad, 3> = uniform::<Ad, 3>([1, tokens, vocab], 5.0).require_grad();
    let ids: Tensor<Ad, 2, Int> = labels::<Ad>(tokens, vocab).reshape([1, tokens]);
    let adv: Tensor<Ad, 2> = uniform([1, tokens], 1.0);
    // The sharpen factor k = 2 (the authors' setting).
    let two: Tensor<Ad, 1> = Tensor::full([1], 2.0, &Default::default());
    // Plain GRPO divides the logits by the sampling temperature (1 here) before the log-softmax, as
    // verl does; ERA's factor takes the place of that multiply. Without it the baseline would also be
    // slower for a reason unrelated to ERA: burn-ndarray works in place only on tensors it owns alone,
    // and the benchmark's leaf `logits` is shared (measured 0.81× for ERA against a bare log-softmax).
    // `era_scaled` adds the logit scale; `era_with_entropy` also computes the token entropies for H_resp.
    for (label, scale, entropy) in
        [("plain", None, false), ("era_scaled", Some(two.clone()), false), ("era_with_entropy", Some(two), true)]
    {
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                if entropy {
                    let _ = token_entropy(logits.clone().detach());
                }
                let lp = match &scale {
                    Some(s) => scaled_token_log_probs(logits.clone(), ids.clone(), s.clone()),
                    None => token_log_probs(logits.clone().div_scalar(TEMPERATURE), ids.clone()),
                };
                lp.mul(adv.clone()).mean().neg().backward()
            })
        });
    }
    g.finish();
    Comparison::new(name, "plain", &["era_scaled", "era_with_entropy"])
}

/// The bare operations, forward only: the kernel cost of each activation against its plain counterpart.
fn bare_ops(c: &mut Criterion) -> [Comparison; 2] {
    let mut g = c.benchmark_group("bare/4096x1000");
    let z: Tensor<Cpu, 2> = uniform([4096, 1000], 5.0);
    g.bench_function("softmax", |b| b.iter(|| activation::softmax(z.clone(), 1)));
    for (label, mode) in [("floor_exact", FloorMode::Exact), ("floor_official", FloorMode::Official)] {
        let f = SoftmaxFloor::new(1000, DEFAULT_H0, DEFAULT_TAU, mode).expect("H0 = 0.6 is valid");
        g.bench_function(label, |b| b.iter(|| softmax_floor(z.clone(), &f)));
    }
    g.finish();
    let mut g = c.benchmark_group("bare/4096x17");
    let s: Tensor<Cpu, 2> = uniform([4096, 17], 5.0);
    g.bench_function("clip", |b| b.iter(|| s.clone().clamp(-8.0, 0.0)));
    let era = GaussianEra::new(17, 4.25, 0.0, -8.0, 0.0).expect("0.25 nats per dimension is valid");
    g.bench_function("gaussian_era", |b| b.iter(|| gaussian_era_log_std(s.clone(), &era)));
    g.finish();
    [
        Comparison::new("bare/4096x1000".into(), "softmax", &["floor_exact", "floor_official"]),
        Comparison::new("bare/4096x17".into(), "clip", &["gaussian_era"]),
    ]
}

/// Reads criterion's median estimates back and prints each variant's ratio to its group's baseline,
/// for the groups measured by this process (written after `started`; a filter may skip some).
fn print_ratios(comparisons: &[Comparison], started: std::time::SystemTime) {
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion");
    let median = |group: &str, f: &str| -> Option<f64> {
        let dir = group.replace(['/', '>'], "_");
        let path = root.join(dir).join(f).join("new/estimates.json");
        if std::fs::metadata(&path).and_then(|m| m.modified()).ok()? < started {
            return None;
        }
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str::<serde_json::Value>(&text).ok()?["median"]["point_estimate"].as_f64()
    };
    println!("\nERA overhead (median time ratio to the baseline, same run):");
    for Comparison { group, baseline, variants } in comparisons {
        let Some(b) = median(group, baseline) else { continue };
        for v in variants {
            if let Some(t) = median(group, v) {
                println!("  {group:<34} {v:<18} {:>6.3}×  ({:.3} ms vs {:.3} ms)", t / b, t / 1e6, b / 1e6);
            }
        }
    }
}

fn main() {
    let started = std::time::SystemTime::now();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let mut comparisons = Vec::from(bare_ops(&mut c));
    comparisons.push(policy_head(&mut c));
    comparisons.push(classifier_head(&mut c, 4096, 512, 1000));
    comparisons.push(classifier_head(&mut c, 256, 1024, 50_000));
    comparisons.push(grpo_log_probs(&mut c));
    c.final_summary();
    print_ratios(&comparisons, started);
}
