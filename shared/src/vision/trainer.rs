//! The image-classification training loop (features `burn` and `data`): SGD with momentum and weight
//! decay, a linear warm-up into a cosine schedule, per-batch prediction statistics, and top-1/top-5
//! evaluation at the end of every epoch.
//!
//! Everything random (the epoch's shuffle, a batch's crops and flips, a batch's dropout mask) is drawn
//! from generators derived from `(seed, what, index)`, so a run is the same for its seed and a resumed
//! run continues exactly where the checkpoint left it: the loop's whole position is the batch count.

use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::classifier::{ModelKind, Net, Regularizer, RowStats, row_stats};
use super::config::VisionConfig;
use super::learner::{self, Learner};
use crate::data::{ImageDataset, augment};
use crate::metrics;
use crate::runlog::EraTargets;
use crate::softmax_floor::SoftmaxFloor;
use crate::train::{Engine, Logged, Part, TrainError, TrainRng, check_records, loop_part, read_loop};
use crate::train::{Trainer, schedule};

/// Statistics over the batches since the last log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Window {
    loss_sum: f64,
    batches: u64,
    images: u64,
    correct: u64,
    entropy_sum: f64,
    entropy_min: Option<f64>,
}

impl Window {
    fn add(&mut self, loss: f64, rows: &[RowStats]) {
        self.loss_sum += loss;
        self.batches += 1;
        self.images += rows.len() as u64;
        self.correct += rows.iter().filter(|r| r.top1).count() as u64;
        self.entropy_sum += rows.iter().map(|r| r.entropy).sum::<f64>();
        let min = rows.iter().map(|r| r.entropy).fold(f64::INFINITY, f64::min);
        self.entropy_min = Some(self.entropy_min.map_or(min, |m| m.min(min)));
    }
}

/// What an evaluation measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy (without label smoothing).
    pub loss: f64,
    /// Share of images whose label scored highest.
    pub top1: f64,
    /// Share of images whose label is among the five highest.
    pub top5: f64,
    /// Mean entropy of the predictions.
    pub entropy_mean: f64,
    /// Smallest entropy of a prediction.
    pub entropy_min: f64,
    /// Images evaluated.
    pub images: usize,
}

/// The loop's position, saved as `loop.json` in checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LoopState {
    step: u64,
    window: Window,
}

/// What both engines of a vision run share: the settings, the data, the schedule, the batches and
/// the statistics between log records. Only the network and its optimiser differ between them.
pub struct Course {
    pub(crate) config: VisionConfig,
    pub(crate) floor: Option<SoftmaxFloor>,
    pub(crate) train: ImageDataset,
    pub(crate) test: ImageDataset,
    pub(crate) step: u64,
    order: (usize, Vec<usize>),
    window: Window,
}

/// Tags of the derived generators.
const SHUFFLE: u64 = 1;
const AUGMENT: u64 = 2;
const DROPOUT: u64 = 3;
const INIT: u64 = 4;

/// A seed for `(seed, tag, index)`: SplitMix64 over the three, so nearby inputs give unrelated streams.
fn derive(seed: u64, tag: u64, index: u64) -> u64 {
    let mut z = seed ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Course {
    /// Checks the settings against the data (a clear error for one that cannot work).
    pub(crate) fn new(config: VisionConfig, train: ImageDataset, test: ImageDataset) -> Result<Self, TrainError> {
        let classes = train.classes();
        config.validate(classes)?;
        if train.is_empty() || test.is_empty() {
            return Err(TrainError::Config("the dataset has no training or no test images".into()));
        }
        let shape = (train.channels, train.height, train.width);
        if shape != (test.channels, test.height, test.width) || test.classes() != classes {
            return Err(TrainError::Config(format!(
                "train images are {}×{}×{} with {classes} classes but test images {}×{}×{} with {}",
                shape.0,
                shape.1,
                shape.2,
                test.channels,
                test.height,
                test.width,
                test.classes()
            )));
        }
        if config.model == ModelKind::SmallCnn && (train.height < 4 || train.width < 4) {
            return Err(TrainError::Config(format!(
                "small-cnn needs images of at least 4×4, not {}×{}",
                shape.1, shape.2
            )));
        }
        let floor = match config.reg {
            Regularizer::Era => Some(SoftmaxFloor::new(classes, config.h0, config.tau, config.era_mode)?),
            _ => None,
        };
        // Room for the batch training and the one decoding, when images come from files.
        train.hold_at_least(2 * config.batch_size.min(train.len()));
        test.hold_at_least(2 * config.eval_batch_size.min(test.len()));
        Ok(Self { config, floor, train, test, step: 0, order: (usize::MAX, Vec::new()), window: Window::default() })
    }

    /// `[channels, height, width]` of the images.
    pub(crate) fn image_shape(&self) -> [usize; 3] {
        [self.train.channels, self.train.height, self.train.width]
    }

    /// The seed the network's initial weights are drawn from.
    pub(crate) fn init_seed(&self) -> u64 {
        derive(self.config.seed, INIT, 0)
    }

    /// Images per optimiser step (the batch size, or the whole training set when it is smaller).
    pub(crate) fn batch_size(&self) -> usize {
        self.config.batch_size.min(self.train.len())
    }

    /// Optimiser steps per epoch.
    pub(crate) fn steps_per_epoch(&self) -> u64 {
        (self.train.len() / self.batch_size()) as u64
    }

    /// Optimiser steps of the whole run.
    pub(crate) fn total_steps(&self) -> u64 {
        self.steps_per_epoch() * self.config.epochs as u64
    }

    /// The learning rate at optimiser step `step` (see [`VisionTrainer::learning_rate`]).
    pub(crate) fn learning_rate(&self, step: u64) -> f64 {
        let total = self.total_steps() as f64;
        let warmup = (self.config.warmup_epochs * self.steps_per_epoch() as f64).round().min(total);
        schedule::warmup_cosine(self.config.lr, step, warmup, total, 0.0)
    }

    /// Dropout's probability and the seed of the mask at `step`, when dropout is the regulariser.
    pub(crate) fn dropout(&self, step: u64) -> Option<(f64, u64)> {
        (self.config.reg == Regularizer::Dropout)
            .then(|| (self.config.strength, derive(self.config.seed, DROPOUT, step)))
    }

    /// Label smoothing's ε (0 unless it is the regulariser).
    pub(crate) fn smoothing(&self) -> f64 {
        if self.config.reg == Regularizer::LabelSmoothing { self.config.strength } else { 0.0 }
    }

    /// The images of the batch at `step`, normalised (and augmented when the dataset calls for it),
    /// `[batch, channels, height, width]`, with their labels.
    pub(crate) fn batch(&mut self, step: u64) -> Result<(Vec<f32>, Vec<u16>), TrainError> {
        let epoch = (step / self.steps_per_epoch()) as usize;
        if self.order.0 != epoch {
            let mut order: Vec<usize> = (0..self.train.len()).collect();
            order.shuffle(&mut TrainRng::seed_from_u64(derive(self.config.seed, SHUFFLE, epoch as u64)));
            self.order = (epoch, order);
        }
        let bs = self.batch_size();
        let start = (step % self.steps_per_epoch()) as usize * bs;
        let augment = self.config.augment && self.config.dataset.augmentable();
        let mut rng = TrainRng::seed_from_u64(derive(self.config.seed, AUGMENT, step));
        let norm = self.config.dataset.normalization();
        let d = &self.train;
        let indices = &self.order.1[start..start + bs];
        let bytes = d.gather(indices).map_err(|e| TrainError::Config(e.to_string()))?;
        // The next batch of this epoch decodes while this one trains.
        if start + 2 * bs <= self.order.1.len() {
            d.prefetch(&self.order.1[start + bs..start + 2 * bs]);
        }
        let mut pixels = Vec::with_capacity(bs * d.image_len());
        let mut labels = Vec::with_capacity(bs);
        for (k, &i) in indices.iter().enumerate() {
            let image = &bytes[k * d.image_len()..(k + 1) * d.image_len()];
            if augment {
                let pad = d.height.max(d.width) / 8;
                let crop = augment::random_crop_flip(image, d.channels, d.height, d.width, pad, &mut rng);
                norm.apply(&crop, d.channels, &mut pixels);
            } else {
                norm.apply(image, d.channels, &mut pixels);
            }
            labels.push(d.labels[i]);
        }
        Ok((pixels, labels))
    }

    /// Books the step just taken (its loss, and the output logits `z` of its batch with their
    /// labels) and returns the training record when one is due. Fails on a non-finite loss.
    pub(crate) fn finish_step(
        &mut self,
        loss: f64,
        z: &[f32],
        labels: &[u16],
        lr: f64,
    ) -> Result<Vec<Logged>, TrainError> {
        let step = self.step;
        if !loss.is_finite() {
            return Err(TrainError::Config(format!(
                "the training loss became {loss} at step {step}: lower --lr (now {})",
                self.config.lr
            )));
        }
        self.window.add(loss, &row_stats(z, labels, self.train.classes()));
        self.step += 1;
        let mut out = Vec::new();
        if self.step.is_multiple_of(self.config.log_every) || self.at_epoch_end() {
            let w = std::mem::take(&mut self.window);
            out.push(Logged {
                step: self.step,
                metrics: vec![
                    (metrics::TRAIN_LOSS, w.loss_sum / w.batches as f64),
                    (metrics::TRAIN_TOP1, w.correct as f64 / w.images as f64),
                    (metrics::PRED_ENTROPY_MEAN, w.entropy_sum / w.images as f64),
                    (metrics::PRED_ENTROPY_MIN, w.entropy_min.unwrap_or(f64::NAN)),
                    (metrics::LEARNING_RATE, lr),
                    (metrics::EPOCH, self.step as f64 / self.steps_per_epoch() as f64),
                ],
            });
        }
        Ok(out)
    }

    /// Whether the step count is at an epoch's end (evaluation and a checkpoint are due).
    pub(crate) fn at_epoch_end(&self) -> bool {
        self.step.is_multiple_of(self.steps_per_epoch())
    }

    /// The evaluation record at the current step.
    pub(crate) fn eval_record(&self, e: &Evaluation) -> Logged {
        Logged {
            step: self.step,
            metrics: vec![
                (metrics::EVAL_LOSS, e.loss),
                (metrics::EVAL_TOP1, e.top1),
                (metrics::EVAL_TOP5, e.top5),
                (metrics::EVAL_ENTROPY_MEAN, e.entropy_mean),
            ],
        }
    }

    /// The evaluation batches of `data`: normalised pixels and labels, `eval_batch_size` images each
    /// (the next one decoding while one is evaluated, when `data` comes from files).
    pub(crate) fn eval_batches<'a>(
        &self,
        data: &'a ImageDataset,
    ) -> impl Iterator<Item = Result<(Vec<f32>, Vec<u16>), TrainError>> + 'a {
        let norm = self.config.dataset.normalization();
        let indices: Vec<usize> = (0..data.len()).collect();
        let bs = self.config.eval_batch_size;
        (0..data.len().div_ceil(bs)).map(move |c| {
            let chunk = &indices[c * bs..((c + 1) * bs).min(data.len())];
            let next = &indices[((c + 1) * bs).min(data.len())..((c + 2) * bs).min(data.len())];
            let bytes = data.gather(chunk).map_err(|e| TrainError::Config(e.to_string()))?;
            data.prefetch(next);
            let mut pixels = Vec::with_capacity(chunk.len() * data.image_len());
            bytes.chunks_exact(data.image_len()).for_each(|image| norm.apply(image, data.channels, &mut pixels));
            Ok((pixels, chunk.iter().map(|&i| data.labels[i]).collect()))
        })
    }

    /// The loop's position, for `loop.json`.
    pub(crate) fn loop_part(&self) -> Result<Part, TrainError> {
        loop_part(&LoopState { step: self.step, window: self.window.clone() })
    }

    /// Restores the loop's position from a checkpoint's `loop.json`.
    pub(crate) fn load_loop(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        let state: LoopState = read_loop(parts, |s: &LoopState| s.step, Some(self.total_steps()))?;
        self.step = state.step;
        self.window = state.window;
        Ok(())
    }
}

/// Evaluation statistics summed over batches of output logits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EvalSum {
    loss_sum: f64,
    top1: usize,
    top5: usize,
    entropy_sum: f64,
    entropy_min: f64,
    images: usize,
}

impl EvalSum {
    /// Nothing yet.
    pub(crate) fn new() -> Self {
        Self { loss_sum: 0.0, top1: 0, top5: 0, entropy_sum: 0.0, entropy_min: f64::INFINITY, images: 0 }
    }

    /// Adds a batch's output logits `z` (`n` per row) and its labels.
    pub(crate) fn add(&mut self, z: &[f32], labels: &[u16], n: usize) {
        for (row, (s, &label)) in z.chunks_exact(n).zip(row_stats(z, labels, n).iter().zip(labels)) {
            // −log softmax(row)[label], computed stably.
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let lse = f64::from(max) + row.iter().map(|&v| f64::from(v - max).exp()).sum::<f64>().ln();
            self.loss_sum += lse - f64::from(row[usize::from(label)]);
            self.top1 += usize::from(s.top1);
            self.top5 += usize::from(s.top5);
            self.entropy_sum += s.entropy;
            self.entropy_min = self.entropy_min.min(s.entropy);
            self.images += 1;
        }
    }

    /// The means.
    pub(crate) fn finish(&self) -> Evaluation {
        let count = self.images.max(1) as f64;
        Evaluation {
            loss: self.loss_sum / count,
            top1: self.top1 as f64 / count,
            top5: self.top5 as f64 / count,
            entropy_mean: self.entropy_sum / count,
            entropy_min: self.entropy_min,
            images: self.images,
        }
    }
}

/// Trains one classifier: the course, with the network and its optimiser in a [`Learner`] of either
/// engine.
pub struct VisionTrainer<B: AutodiffBackend> {
    course: Course,
    learner: Box<dyn Learner<B>>,
}

impl<B: AutodiffBackend> VisionTrainer<B> {
    /// A fresh classifier for `train` (evaluated on `test`), trained on burn, or a clear error for a
    /// setting that cannot work with this data.
    pub fn new(
        config: VisionConfig,
        train: ImageDataset,
        test: ImageDataset,
        device: &B::Device,
    ) -> Result<Self, TrainError> {
        Self::with_engine(config, train, test, device, Engine::Burn)
    }

    /// [`VisionTrainer::new`] with its steps on `engine` (same initial weights for the seed).
    pub fn with_engine(
        config: VisionConfig,
        train: ImageDataset,
        test: ImageDataset,
        device: &B::Device,
        engine: Engine,
    ) -> Result<Self, TrainError> {
        let course = Course::new(config, train, test)?;
        let learner = learner::learner(engine, &course, device)?;
        Ok(Self { course, learner })
    }

    /// A trainer from a course and a learner built for it (the fast path's tests fix its shard count).
    #[cfg(all(test, feature = "fast"))]
    pub(crate) fn from_parts(course: Course, learner: Box<dyn Learner<B>>) -> Self {
        Self { course, learner }
    }

    /// The engine computing the steps.
    pub fn engine(&self) -> Engine {
        self.learner.engine()
    }

    /// The settings.
    pub fn config(&self) -> &VisionConfig {
        &self.course.config
    }

    /// Optimiser steps so far.
    pub fn step(&self) -> u64 {
        self.course.step
    }

    /// Images per optimiser step (the batch size, or the whole training set when it is smaller).
    pub fn batch_size(&self) -> usize {
        self.course.batch_size()
    }

    /// Optimiser steps per epoch.
    pub fn steps_per_epoch(&self) -> u64 {
        self.course.steps_per_epoch()
    }

    /// Optimiser steps of the whole run.
    pub fn total_steps(&self) -> u64 {
        self.course.total_steps()
    }

    /// Whether the run has made all its steps.
    pub fn is_done(&self) -> bool {
        self.step() >= self.total_steps()
    }

    /// Epochs completed.
    pub fn epoch(&self) -> u64 {
        self.step() / self.steps_per_epoch()
    }

    /// The learning rate at optimiser step `step`: linear from `lr/warm-up steps` to `lr` over the
    /// warm-up, then `lr·(1 + cos(π·t))/2` with `t` going from 0 to 1 over the remaining steps.
    pub fn learning_rate(&self, step: u64) -> f64 {
        self.course.learning_rate(step)
    }

    /// The network as it is now, as burn's model.
    pub fn net(&self) -> Net<B> {
        self.learner.net()
    }

    /// Top-1/top-5 accuracy, loss and prediction entropy on the test images (batch norm on its
    /// running statistics, no dropout).
    pub async fn evaluate(&mut self) -> Result<Evaluation, TrainError> {
        self.learner.evaluate(&self.course, &self.course.test).await
    }

    /// [`Self::evaluate`] on any images of the same shape and classes.
    pub async fn evaluate_on(&mut self, data: &ImageDataset) -> Result<Evaluation, TrainError> {
        self.learner.evaluate(&self.course, data).await
    }

    /// Restores only the network from a checkpoint (either engine's), for evaluation.
    pub fn load_net(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        check_records(parts)?;
        self.learner.load_net(parts)
    }
}

impl<B: AutodiffBackend> Trainer for VisionTrainer<B> {
    /// One optimiser step; returns the records to log (training statistics every `log_every` steps,
    /// evaluation at the end of each epoch).
    async fn advance(&mut self) -> Result<Vec<Logged>, TrainError> {
        if self.is_done() {
            return Ok(Vec::new());
        }
        let step = self.course.step;
        let (pixels, labels) = self.course.batch(step)?;
        let lr = self.learning_rate(step);
        let (loss, z) = self.learner.step(&self.course, &pixels, &labels, step, lr).await?;
        let mut out = self.course.finish_step(loss, &z, &labels, lr)?;
        if self.course.at_epoch_end() {
            let e = self.evaluate().await?;
            out.push(self.course.eval_record(&e));
        }
        Ok(out)
    }

    fn position(&self) -> u64 {
        self.course.step
    }

    fn total(&self) -> u64 {
        self.total_steps()
    }

    /// Every epoch's end.
    fn at_milestone(&self) -> bool {
        self.course.at_epoch_end()
    }

    /// The checkpoint parts: the network, the optimiser's momentum and the loop's position.
    fn save(&self) -> Result<Vec<Part>, TrainError> {
        let mut parts = self.learner.save()?;
        parts.push(self.course.loop_part()?);
        Ok(parts)
    }

    /// Restores what [`Self::save`] wrote (into a trainer built with the same settings and engine).
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        // Every record, the optimiser's too, before anything is changed.
        check_records(parts)?;
        self.learner.load(parts)?;
        self.course.load_loop(parts)
    }

    fn era_targets(&self) -> EraTargets {
        self.course.config.era_targets()
    }
}

#[cfg(test)]
/// Test data: `n` 8×8 one-channel images of 3 classes: class c has a bright band in rows 2c..2c+2.
pub(crate) fn bands(n: usize) -> ImageDataset {
    bands_of(n, 8)
}

/// Test data: `n` `side × side` one-channel images of 3 classes: class c is bright in its quarter
/// of the rows (`side/4·c..side/4·(c + 1)`), with pseudo-random texture everywhere.
#[cfg(test)]
pub(crate) fn bands_of(n: usize, side: usize) -> ImageDataset {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let c = i % 3;
        for y in 0..side {
            for x in 0..side {
                let on = y * 4 / side == c;
                let noise = ((x * 7 + y * 13 + i * 31) ^ (i * x + y)) % 50;
                images.push(if on { 200 + noise as u8 } else { noise as u8 });
            }
        }
        labels.push(c as u16);
    }
    ImageDataset {
        images: images.into(),
        labels,
        channels: 1,
        height: side,
        width: side,
        class_names: vec!["a".into(), "b".into(), "c".into()],
        files: None,
    }
}

#[cfg(test)]
mod tests {
    use super::bands;
    use super::*;
    use crate::data::DatasetKind;
    use burn::backend::{Autodiff, NdArray};

    type B = Autodiff<NdArray<f64>>;

    fn config(reg: Regularizer) -> VisionConfig {
        VisionConfig::new(DatasetKind::Mnist, ModelKind::SmallCnn)
            .with_reg(reg)
            .with_epochs(3)
            .with_batch_size(16)
            .with_log_every(2)
            .with_h0(0.5)
    }

    #[test]
    fn learns_bands_with_the_floor_holding_in_every_batch() {
        let dev = Default::default();
        let mut t = VisionTrainer::<B>::new(config(Regularizer::Era), bands(96), bands(30), &dev).unwrap();
        assert_eq!((t.steps_per_epoch(), t.total_steps()), (6, 18));
        let mut mins = Vec::new();
        let mut top1 = 0.0;
        while !t.is_done() {
            for l in pollster::block_on(t.advance()).unwrap() {
                for (k, v) in l.metrics {
                    if k == metrics::PRED_ENTROPY_MIN {
                        mins.push(v);
                    }
                    if k == metrics::EVAL_TOP1 {
                        top1 = v;
                    }
                }
            }
        }
        assert!(!mins.is_empty() && mins.iter().all(|&m| m >= 0.5 - 1e-4), "{mins:?}");
        assert!(top1 > 0.9, "top-1 {top1}");
        let e = pollster::block_on(t.evaluate()).unwrap();
        assert!(e.entropy_min >= 0.5 - 1e-4 && e.top5 == 1.0);
    }

    #[test]
    fn schedule_warms_up_then_follows_the_cosine() {
        let dev = Default::default();
        let c = config(Regularizer::None).with_epochs(10).with_warmup_epochs(1.0).with_lr(0.1);
        let t = VisionTrainer::<B>::new(c, bands(96), bands(30), &dev).unwrap();
        // 6 steps per epoch, 60 in all, 6 of warm-up: lr(0) = 0.1/6, lr(5) = 0.1, then
        // lr(6 + 27) = 0.1·(1 + cos(π/2))/2 = 0.05, lr(59) = 0.1·(1 + cos(53π/54))/2 ≈ 0.0000846.
        assert!((t.learning_rate(0) - 0.1 / 6.0).abs() < 1e-12);
        assert!((t.learning_rate(5) - 0.1).abs() < 1e-12);
        assert!((t.learning_rate(6) - 0.1).abs() < 1e-12);
        assert!((t.learning_rate(33) - 0.05).abs() < 1e-12);
        assert!((t.learning_rate(59) - 0.1 * 0.5 * (1.0 + (std::f64::consts::PI * 53.0 / 54.0).cos())).abs() < 1e-12);
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let dev = Default::default();
        let err = |c: VisionConfig| VisionTrainer::<B>::new(c, bands(12), bands(6), &dev).err().unwrap().to_string();
        assert!(err(config(Regularizer::Era).with_h0(5.0)).contains("H0 = 5 is outside its valid range"));
        assert!(err(config(Regularizer::Dropout).with_strength(1.0)).contains("--strength 1"));
        assert!(err(config(Regularizer::None).with_lr(-1.0)).contains("--lr"));
    }
}
