//! What ERA changes in a control policy: its log-std head and the compensation δ.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::gaussian::{DEFAULT_LOG_STD_MAX, DEFAULT_LOG_STD_MIN, GaussianEra};
use crate::runlog::EraTargets;
use crate::tensor::{diag_gaussian_entropy, gaussian_era_log_std_learned};

/// ERA settings of a control agent. `H₀ = h0` if given, else `D · h0_per_dim`; the Gaussian's entropy
/// is `H₀ + δ`.
#[derive(Config, Debug, PartialEq)]
pub struct EraConfig {
    /// Whether the log-std passes through the ERA activation (off: the baseline algorithm).
    #[config(default = true)]
    pub enabled: bool,
    /// Target entropy per action dimension, in nats (the authors' training script uses 0.25).
    #[config(default = 0.25)]
    pub h0_per_dim: f64,
    /// Target entropy of the whole action, in nats; overrides `h0_per_dim`.
    pub h0: Option<f64>,
    /// Compensation δ ≥ 0 for the entropy lost by bounding actions (its start value when auto-tuned).
    #[config(default = 0.0)]
    pub delta: f64,
    /// Learn δ by minimising `δ · (H[π] − H₀)`, `H[π]` estimated by `−log π(a|s)` of sampled actions
    /// (the paper's option; the authors' released code keeps δ ≡ 0).
    #[config(default = false)]
    pub delta_auto: bool,
    /// Adam learning rate of δ.
    #[config(default = 3e-4)]
    pub delta_lr: f64,
    /// Lower log-std clip (the authors: −8).
    #[config(default = "DEFAULT_LOG_STD_MIN")]
    pub log_std_min: f64,
    /// Upper log-std clip (the authors: 0).
    #[config(default = "DEFAULT_LOG_STD_MAX")]
    pub log_std_max: f64,
}

impl EraConfig {
    /// `H₀` for `dims` action dimensions.
    pub fn target(&self, dims: usize) -> f64 {
        self.h0.unwrap_or(self.h0_per_dim * dims as f64)
    }

    /// The activation for `dims` action dimensions, or `None` when ERA is off. Fails, naming the valid
    /// range, when `H₀ + δ` is outside it.
    pub fn build(&self, dims: usize) -> Result<Option<EraHead>, crate::EraError> {
        if !self.enabled {
            return Ok(None);
        }
        let h0 = self.target(dims);
        // Validates H₀ + δ (the error names the range); δ itself is then carried as a tensor.
        GaussianEra::new(dims, h0, self.delta, self.log_std_min, self.log_std_max)?;
        if self.delta < 0.0 {
            return Err(crate::EraError::OutOfRange {
                what: "delta",
                value: self.delta,
                range: "[0, ∞)".into(),
                context: "the compensation only adds entropy".into(),
            });
        }
        let era = GaussianEra::new(dims, h0, 0.0, self.log_std_min, self.log_std_max)?;
        let (_, upper) = GaussianEra::valid_range(dims, self.log_std_min, self.log_std_max);
        Ok(Some(EraHead { era, delta_max: upper - h0, delta_auto: self.delta_auto }))
    }

    /// Moves the target to `h0` nats (whole action), a mid-run change of `H₀`, and returns the new
    /// head for `dims` action dimensions. Fails, naming the valid range, when `h0` cannot be reached,
    /// or when ERA is off; the config is then unchanged.
    pub fn retarget(&mut self, h0: f64, dims: usize) -> Result<EraHead, crate::train::TrainError> {
        let era = Self { h0: Some(h0), ..self.clone() };
        let head = era
            .build(dims)?
            .ok_or_else(|| crate::train::TrainError::Config("H₀ can only be changed with ERA on".into()))?;
        *self = era;
        Ok(head)
    }

    /// The header's `era` object for a run with `dims` action dimensions.
    pub fn targets(&self, dims: usize) -> EraTargets {
        if !self.enabled {
            return EraTargets { enabled: false, ..Default::default() };
        }
        EraTargets {
            enabled: true,
            h0: Some(self.target(dims)),
            h0_per_dim: self.h0.is_none().then_some(self.h0_per_dim),
            delta: Some(self.delta),
            delta_auto: Some(self.delta_auto),
            log_std_min: Some(self.log_std_min),
            log_std_max: Some(self.log_std_max),
            ..Default::default()
        }
    }
}

/// The ERA log-std head: the activation at δ = 0 and the range δ is kept in.
#[derive(Debug, Clone, PartialEq)]
pub struct EraHead {
    /// The activation with `δ = 0`; the learned δ is added on the device.
    pub era: GaussianEra,
    /// The largest δ for which `H₀ + δ` stays reachable (above it the upper clip would act).
    pub delta_max: f64,
    /// Whether δ is learned.
    pub delta_auto: bool,
}

impl EraHead {
    /// `log σ′` from raw scores `[batch, D]` with compensation `clamp(δ, 0, δ_max)`.
    pub fn log_std<B: Backend>(&self, raw: Tensor<B, 2>, delta: Tensor<B, 1>) -> Tensor<B, 2> {
        gaussian_era_log_std_learned(raw, &self.era, delta.clamp(0.0, self.delta_max))
    }

    /// δ as the policy uses it, on the host: clamped into `[0, δ_max]`.
    pub fn delta_in_range(&self, delta: f32) -> f32 {
        delta.clamp(0.0, self.delta_max as f32)
    }
}

/// One learned scalar (SAC's `log α`, ERA's δ).
#[derive(Module, Debug)]
pub struct Scalar<B: Backend> {
    /// The value, shape `[1]`.
    pub value: Param<Tensor<B, 1>>,
}

impl<B: Backend> Scalar<B> {
    /// A scalar starting at `value`.
    pub fn new(value: f64, device: &B::Device) -> Self {
        Self { value: Param::from_tensor(crate::tensor::from_f64(vec![value], [1], device)) }
    }

    /// Its value as a `[1]` tensor.
    pub fn get(&self) -> Tensor<B, 1> {
        self.value.val()
    }
}

impl<B: AutodiffBackend> Scalar<B> {
    /// The same parameter clamped to `[low, high]` (a projection after an optimiser step), still a
    /// trainable leaf.
    pub fn clamped(self, low: f64, high: f64) -> Self {
        Self { value: self.value.map(|t| Tensor::from_inner(t.inner().clamp(low, high)).require_grad()) }
    }
}

/// `[H_gauss, σ_mean, σ_min, σ_max]` averaged over a batch of log-stds `[batch, D]`: the Gaussian's
/// entropy, the mean σ, and the smallest and largest σ over dimensions.
pub fn std_stats<B: Backend>(log_std: Tensor<B, 2>) -> Tensor<B, 1> {
    let std = log_std.clone().exp();
    Tensor::cat(
        vec![
            diag_gaussian_entropy(log_std).mean(),
            std.clone().mean(),
            std.clone().min_dim(1).mean(),
            std.max_dim(1).mean(),
        ],
        0,
    )
}
