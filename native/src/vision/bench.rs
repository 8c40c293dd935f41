//! `era bench vision`: what the ERA softmax floor costs in training and inference.
//!
//! The floored and plain classifiers start from the same weights (same seed) and see the same
//! synthetic images, on the same backend; measurements alternate between them and the median of each
//! is reported with the ratio, because these machines are shared and noisy.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use era_shared::data::{DatasetKind, ImageDataset};
use era_shared::train::{Engine, TrainError, Trainer};
use era_shared::vision::config::VisionConfig;
use era_shared::vision::trainer::VisionTrainer;
use era_shared::vision::{ModelKind, Regularizer};
use rand::{Rng, SeedableRng};

use super::args::BenchVisionArgs;
use crate::backend::{self, Compute, Task};
use crate::bench_record::BenchRecord;
use era_shared::stats::median;

/// Runs `era bench vision`.
pub fn run(args: &BenchVisionArgs) -> anyhow::Result<()> {
    let models = match args.model.as_str() {
        "all" => vec![ModelKind::SmallCnn, ModelKind::Resnet18],
        m => vec![m.parse::<ModelKind>().map_err(|e| anyhow::anyhow!("--model: {e} or all"))?],
    };
    if args.batch_size == 0 || args.steps == 0 {
        anyhow::bail!("--batch-size and --steps must be ≥ 1");
    }
    let record = backend::run(args.backend, Bench { args, models })??;
    record.write(args.peer.json.as_deref())?;
    anyhow::ensure!(record.all_held(), "a check failed: {:?}", record.checks);
    Ok(())
}

struct Bench<'a> {
    args: &'a BenchVisionArgs,
    models: Vec<ModelKind>,
}

/// Microseconds the ERA floor adds to the loss and its gradient for a batch of `batch` rows of 10
/// logits: the median over 5 rounds of 200 evaluations with the floor minus 200 without.
fn floor_cost(batch: usize, h0: f64) -> f64 {
    use era_shared::softmax_floor::{FloorMode, SoftmaxFloor};
    use era_shared::vision::fast::loss::loss_and_grad;
    let mut rng = era_shared::train::TrainRng::seed_from_u64(1);
    let z: Vec<f32> = (0..batch * 10).map(|_| rng.random_range(-5.0..5.0)).collect();
    let labels: Vec<u16> = (0..batch).map(|_| rng.random_range(0..10)).collect();
    let Ok(floor) = SoftmaxFloor::new(10, h0, era_shared::softmax_floor::DEFAULT_TAU, FloorMode::Exact) else {
        return f64::NAN;
    };
    let time = |f: Option<&SoftmaxFloor>| {
        let start = Instant::now();
        for _ in 0..200 {
            std::hint::black_box(loss_and_grad(std::hint::black_box(&z), &labels, 10, f, 0.0));
        }
        start.elapsed().as_secs_f64() * 1e6 / 200.0
    };
    median((0..5).map(|_| time(Some(&floor)) - time(None)).collect())
}

/// `n` images of `shape` with random pixels and labels over 10 classes.
fn synthetic(n: usize, [c, h, w]: [usize; 3]) -> ImageDataset {
    let mut rng = era_shared::train::TrainRng::seed_from_u64(0);
    ImageDataset {
        images: (0..n * c * h * w).map(|_| rng.random()).collect::<Vec<u8>>().into(),
        labels: (0..n).map(|_| rng.random_range(0..10)).collect(),
        channels: c,
        height: h,
        width: w,
        class_names: (0..10).map(|i| i.to_string()).collect(),
        files: None,
    }
}

impl Task for Bench<'_> {
    type Output = anyhow::Result<BenchRecord>;
    const FAST: bool = true;

    fn run<B: AutodiffBackend>(self, device: B::Device, compute: Compute) -> anyhow::Result<BenchRecord> {
        let a = self.args;
        let mut record = BenchRecord::new("bench vision", compute);
        let peers = a.peer.peers();
        // On a GPU backend PyTorch takes its own default device (CUDA where it has one); else the CPU.
        let peer_device = if record.gpu { "default" } else { "cpu" };
        for p in &peers {
            record.setting(p.name, format!("{} ({}, {})", p.version()?, peer_device, p.mode));
        }
        record.setting("batch_size", a.batch_size);
        record.setting("steps", a.steps);
        record.setting("repeats", a.repeats);
        for &model in &self.models {
            // The shapes each model is used with: MNIST digits for the small CNN, CIFAR images for ResNet-18.
            let (dataset, shape) = match model {
                ModelKind::SmallCnn => (DatasetKind::Mnist, [1, 28, 28]),
                _ => (DatasetKind::Cifar10, [3, 32, 32]),
            };
            let train_len = a.batch_size * (a.steps * a.repeats.max(1) + 2);
            let config = |reg| {
                VisionConfig::new(dataset, model)
                    .with_reg(reg)
                    .with_epochs(1)
                    .with_batch_size(a.batch_size)
                    .with_log_every(u64::MAX)
                    .with_eval_batch_size(a.batch_size)
            };
            let data = || (synthetic(train_len, shape), synthetic(a.batch_size * a.steps, shape));
            let trainer = |reg| -> Result<VisionTrainer<B>, TrainError> {
                let (train, test) = data();
                VisionTrainer::<B>::with_engine(config(reg), train, test, &device, compute.engine())
            };
            let h0 = VisionConfig::new(dataset, model).h0;
            let mut on = trainer(Regularizer::Era)?;
            let mut off = trainer(Regularizer::None)?;
            // One step each first: allocations and caches warm up outside the measurement.
            for t in [&mut on, &mut off] {
                pollster::block_on(t.advance())?;
            }
            let train_rate = |t: &mut VisionTrainer<B>| -> Result<f64, TrainError> {
                let start = Instant::now();
                for _ in 0..a.steps {
                    pollster::block_on(t.advance())?;
                }
                Ok((a.steps * a.batch_size) as f64 / start.elapsed().as_secs_f64())
            };
            // Images/s, and the smallest prediction entropy of that evaluation.
            let infer_rate = |t: &mut VisionTrainer<B>| -> Result<(f64, f64), TrainError> {
                let start = Instant::now();
                let e = pollster::block_on(t.evaluate())?;
                Ok((e.images as f64 / start.elapsed().as_secs_f64(), e.entropy_min))
            };
            let (mut train, mut infer) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
            let mut peer_train = vec![Vec::new(); peers.len()];
            // The floor, on the floored classifier's predictions after each round of training, as
            // `pred/entropy_min` checks it in a run.
            let mut floor_min = f64::INFINITY;
            let (name, batch, steps) = (model.to_string(), a.batch_size.to_string(), a.steps.to_string());
            let mut peer_args = vec![name.as_str(), "--batch", &batch, "--steps", &steps, "--repeats", "1"];
            if peer_device == "cpu" {
                peer_args.extend(["--device", "cpu"]);
            }
            for round in 0..a.repeats.max(1) {
                // Which goes first alternates between rounds, so neither always follows an evaluation.
                if round % 2 == 0 {
                    train[0].push(train_rate(&mut on)?);
                    train[1].push(train_rate(&mut off)?);
                } else {
                    train[1].push(train_rate(&mut off)?);
                    train[0].push(train_rate(&mut on)?);
                }
                let (rate, entropy_min) = infer_rate(&mut on)?;
                infer[0].push(rate);
                floor_min = floor_min.min(entropy_min);
                infer[1].push(infer_rate(&mut off)?.0);
                for (p, times) in peers.iter().zip(&mut peer_train) {
                    times.push(p.measure(&peer_args, "images/s")?);
                }
            }
            let holds = floor_min >= h0 - 1e-4;
            let [t_on, t_off] = train.map(median);
            let [i_on, i_off] = infer.map(median);
            println!(
                "{model} ({}×{}×{} images, 10 classes, batch {}, {compute}), median of {}:",
                shape[0], shape[1], shape[2], a.batch_size, a.repeats
            );
            println!(
                "  training   ERA {t_on:>9.1} images/s   plain {t_off:>9.1} images/s   ERA overhead {:.3}×",
                t_off / t_on
            );
            println!(
                "  inference  ERA {i_on:>9.1} images/s   plain {i_off:>9.1} images/s   ERA overhead {:.3}×",
                i_off / i_on
            );
            for (p, times) in peers.iter().zip(peer_train) {
                let (torch, name) = (median(times), p.name);
                println!(
                    "  PyTorch    training {torch:>9.1} images/s ({}, plain)   era plain / PyTorch {:.3}×   era ERA / PyTorch {:.3}×",
                    p.mode,
                    t_off / torch,
                    t_on / torch
                );
                record.figure(&format!("{model}/train_{name}"), torch, "images/s");
                record.figure(&format!("{model}/train_plain_vs_{name}"), t_off / torch, "×");
                record.figure(&format!("{model}/train_era_vs_{name}"), t_on / torch, "×");
            }
            println!(
                "  floor      smallest prediction entropy {floor_min:.5} nats, H0 {h0:.5}: {}",
                if holds { "holds" } else { "VIOLATED" }
            );
            for (name, value) in
                [("train_era", t_on), ("train_plain", t_off), ("infer_era", i_on), ("infer_plain", i_off)]
            {
                record.figure(&format!("{model}/{name}"), value, "images/s");
            }
            record.figure(&format!("{model}/train_era_overhead"), t_off / t_on, "×");
            // The fast path's floor work per step (forward and backward on the batch's logits), timed
            // alone: microseconds, far below what alternating whole steps can resolve on a shared
            // machine. burn's floor is tensor operations inside its graph; it is not timed this way.
            if compute.engine() == Engine::Fast {
                let floor_us = floor_cost(a.batch_size, h0);
                let step_us = 1e6 * a.batch_size as f64 / t_off;
                println!(
                    "  floor cost {floor_us:.1} µs per step (loss and gradient with the floor minus without), {:.3} % of a plain step",
                    100.0 * floor_us / step_us
                );
                record.figure(&format!("{model}/floor_us_per_step"), floor_us, "µs");
            }
            record.check(
                &format!("{model}/floor_holds"),
                holds,
                format!("smallest prediction entropy {floor_min} ≥ H0 − 1e-4 = {}", h0 - 1e-4),
            );
        }
        Ok(record)
    }
}
