//! A vision run's settings: dataset, model, regulariser and its strength, the ERA floor, the
//! optimiser and its schedule; saved as the run's `config.json`.

use burn::config::Config;

use super::classifier::{ModelKind, Regularizer};
use crate::data::DatasetKind;
use crate::runlog::EraTargets;
use crate::softmax_floor::{DEFAULT_H0, DEFAULT_TAU, FloorMode, SoftmaxFloor};
use crate::train::TrainError;

/// Settings of a vision run; saved as `config.json` with every run. Defaults are the ones of
/// [`VisionConfig::standard`] for the embedded MNIST digits and the small CNN.
#[derive(Config, Debug, PartialEq)]
pub struct VisionConfig {
    /// The dataset.
    pub dataset: DatasetKind,
    /// The network.
    pub model: ModelKind,
    /// The regulariser.
    #[config(default = "Regularizer::Era")]
    pub reg: Regularizer,
    /// Label smoothing's ε or dropout's p (ignored by `none` and `era`).
    #[config(default = 0.1)]
    pub strength: f64,
    /// ERA: the entropy floor in nats (the authors' 0.6).
    #[config(default = "DEFAULT_H0")]
    pub h0: f64,
    /// ERA: τ > e (the authors' 4).
    #[config(default = "DEFAULT_TAU")]
    pub tau: f64,
    /// ERA: exact (floor guaranteed) or the authors' official approximation.
    #[config(default = "FloorMode::Exact")]
    pub era_mode: FloorMode,
    /// Passes over the training images.
    #[config(default = 8)]
    pub epochs: usize,
    /// Images per optimiser step (the last incomplete batch of an epoch is dropped).
    #[config(default = 64)]
    pub batch_size: usize,
    /// Peak learning rate, reached after the warm-up.
    #[config(default = 0.05)]
    pub lr: f64,
    /// SGD momentum.
    #[config(default = 0.9)]
    pub momentum: f64,
    /// L2 weight decay added to the gradients.
    #[config(default = 5e-4)]
    pub weight_decay: f64,
    /// Linear warm-up length, in epochs (fractions allowed).
    #[config(default = 0.5)]
    pub warmup_epochs: f64,
    /// Random crop (padding of 1/8 of the side) and horizontal flip, for natural-image datasets.
    #[config(default = true)]
    pub augment: bool,
    /// Side in pixels that image-folder images are resized to.
    #[config(default = 224)]
    pub image_size: u32,
    /// MiB of decoded image-folder images kept in memory; the others are decoded again when a batch
    /// needs them (image folders are decoded batch by batch, never all at once).
    #[config(default = 64.0)]
    pub cache_mb: f64,
    /// Decode an image folder whole into memory before training (on every core), instead of batch by
    /// batch: for folders that fit in memory and train for many epochs.
    #[config(default = false)]
    pub preload: bool,
    /// Seed of the initialisation, shuffles, augmentation and dropout.
    #[config(default = 0)]
    pub seed: u64,
    /// Log training statistics every this many optimiser steps (and at each epoch's end).
    #[config(default = 25)]
    pub log_every: u64,
    /// Images per evaluation batch.
    #[config(default = 500)]
    pub eval_batch_size: usize,
}

impl VisionConfig {
    /// The defaults for `dataset` and `model`: the small CNN trains at batch 64 and learning rate
    /// 0.05; ResNets at batch 128 and 0.1 (the usual CIFAR recipe). Epochs: 8 on the embedded digits
    /// (a few minutes on two cores), 20 on MNIST and Fashion-MNIST, 200 on CIFAR (the authors' budget),
    /// 90 on image folders (the ImageNet recipe).
    pub fn standard(dataset: DatasetKind, model: ModelKind) -> Self {
        let c = Self::new(dataset, model);
        let c = match model {
            ModelKind::SmallCnn => c,
            _ => c.with_batch_size(128).with_lr(0.1).with_warmup_epochs(1.0),
        };
        c.with_epochs(match dataset {
            DatasetKind::MnistEmbedded => 8,
            DatasetKind::Mnist | DatasetKind::FashionMnist => 20,
            DatasetKind::Cifar10 | DatasetKind::Cifar100 => 200,
            DatasetKind::Folder => 90,
        })
    }

    /// The algorithm's name in run logs and `era compare`, e.g. `small-cnn-era`, `resnet18-dropout-0.2`.
    pub fn algorithm_name(&self) -> String {
        match self.reg {
            Regularizer::None | Regularizer::Era => format!("{}-{}", self.model, self.reg),
            _ => format!("{}-{}-{}", self.model, self.reg, self.strength),
        }
    }

    /// The header's `era` object.
    pub fn era_targets(&self) -> EraTargets {
        if self.reg != Regularizer::Era {
            return EraTargets { enabled: false, ..Default::default() };
        }
        EraTargets {
            enabled: true,
            h0: Some(self.h0),
            tau: Some(self.tau),
            mode: Some(self.era_mode),
            ..Default::default()
        }
    }

    /// Fails with the setting's name and valid range when a setting cannot work.
    pub fn validate(&self, classes: usize) -> Result<(), TrainError> {
        let bad = |what: String| Err(TrainError::Config(what));
        if self.epochs == 0 || self.batch_size == 0 || self.eval_batch_size == 0 || self.log_every == 0 {
            return bad("--epochs, --batch-size, eval_batch_size and log_every must be ≥ 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("--lr {}: must be > 0", self.lr));
        }
        let non_negative = |x: f64| x.is_finite() && x >= 0.0;
        if !non_negative(self.cache_mb) {
            return bad(format!("--cache-mb {}: must be a size in MiB, ≥ 0", self.cache_mb));
        }
        if !(0.0..1.0).contains(&self.momentum) || !non_negative(self.weight_decay) || !non_negative(self.warmup_epochs)
        {
            return bad(format!(
                "momentum {} must be in [0, 1), weight decay {} and warm-up {} ≥ 0",
                self.momentum, self.weight_decay, self.warmup_epochs
            ));
        }
        match self.reg {
            Regularizer::LabelSmoothing | Regularizer::Dropout if !(0.0..1.0).contains(&self.strength) => {
                bad(format!("--strength {}: {} needs a value in [0, 1)", self.strength, self.reg))
            }
            Regularizer::Era => {
                SoftmaxFloor::new(classes, self.h0, self.tau, self.era_mode).map(|_| ()).map_err(Into::into)
            }
            _ => Ok(()),
        }
    }
}
