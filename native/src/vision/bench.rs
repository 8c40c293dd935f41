//! `era bench vision`: what the ERA softmax floor costs in training and inference.
//!
//! The floored and plain classifiers start from the same weights (same seed) and see the same
//! synthetic images, on the same backend; measurements alternate between them and the median of each
//! is reported with the ratio, because these machines are shared and noisy.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use era_shared::data::{DatasetKind, ImageDataset};
use era_shared::train::TrainError;
use era_shared::vision::config::VisionConfig;
use era_shared::vision::trainer::VisionTrainer;
use era_shared::vision::{ModelKind, Regularizer};
use rand::{Rng, SeedableRng};

use super::args::BenchVisionArgs;
use crate::backend::{self, Task};
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
    backend::run(args.backend, Bench { args, models })?
}

struct Bench<'a> {
    args: &'a BenchVisionArgs,
    models: Vec<ModelKind>,
}

/// `n` images of `shape` with random pixels and labels over 10 classes.
fn synthetic(n: usize, [c, h, w]: [usize; 3]) -> ImageDataset {
    let mut rng = era_shared::train::TrainRng::seed_from_u64(0);
    ImageDataset {
        images: (0..n * c * h * w).map(|_| rng.random()).collect(),
        labels: (0..n).map(|_| rng.random_range(0..10)).collect(),
        channels: c,
        height: h,
        width: w,
        class_names: (0..10).map(|i| i.to_string()).collect(),
    }
}

impl Task for Bench<'_> {
    type Output = anyhow::Result<()>;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &str) -> anyhow::Result<()> {
        let a = self.args;
        for &model in &self.models {
            // The shapes each model is used with: MNIST digits for the small CNN, CIFAR images for ResNet-18.
            let (dataset, shape) = match model {
                ModelKind::SmallCnn => (DatasetKind::Mnist, [1, 28, 28]),
                _ => (DatasetKind::Cifar10, [3, 32, 32]),
            };
            let train_len = a.batch_size * (a.steps * a.repeats.max(1) + 2);
            let trainer = |reg| {
                let c = VisionConfig::new(dataset, model)
                    .with_reg(reg)
                    .with_epochs(1)
                    .with_batch_size(a.batch_size)
                    .with_log_every(u64::MAX)
                    .with_eval_batch_size(a.batch_size);
                VisionTrainer::<B>::new(
                    c,
                    synthetic(train_len, shape),
                    synthetic(a.batch_size * a.steps, shape),
                    &device,
                )
            };
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
            let infer_rate = |t: &VisionTrainer<B>| -> Result<f64, TrainError> {
                let start = Instant::now();
                let e = pollster::block_on(t.evaluate())?;
                Ok(e.images as f64 / start.elapsed().as_secs_f64())
            };
            let (mut train, mut infer) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
            for _ in 0..a.repeats.max(1) {
                train[0].push(train_rate(&mut on)?);
                train[1].push(train_rate(&mut off)?);
                infer[0].push(infer_rate(&on)?);
                infer[1].push(infer_rate(&off)?);
            }
            let [t_on, t_off] = train.map(median);
            let [i_on, i_off] = infer.map(median);
            println!(
                "{model} ({}×{}×{} images, 10 classes, batch {}, {backend}), median of {}:",
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
        }
        Ok(())
    }
}
