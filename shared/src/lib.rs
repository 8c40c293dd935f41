//! The ERA math and the era run-log contract, shared by the `era` trainer and the browser explorer.
//!
//! ERA (*Entropy Regularizing Activation*, Kang, Liao, Xu, Xu 2025, arXiv 2510.08549) keeps a policy's
//! sampling entropy above a floor with an activation on the model's outputs instead of an entropy
//! bonus in the loss. Each activation's formula lives once, here:
//!
//! - [`gaussian`]: continuous control, the log-std activation that fixes a Gaussian's entropy at `H₀ + δ`;
//! - [`softmax_floor`]: classification, logits whose softmax entropy is provably `≥ H₀`;
//! - [`llm_scaling`]: GRPO, logit and advantage scaling when a response's entropy leaves `[ω_low, ω_high]`.
//!
//! The default build is pure Rust (it also targets `wasm32`); the `burn` feature adds differentiable
//! tensor versions of the same formulas in [`tensor`], generic over `B: Backend`.
//!
//! [`runlog`] and [`metrics`] define the run-log format that the trainer writes and the explorer reads.

pub mod choice;
#[cfg(feature = "burn")]
pub mod control;
#[cfg(feature = "fast")]
pub mod cpu;
#[cfg(feature = "data")]
pub mod data;
pub mod env;
pub mod error;
pub mod examples;
pub mod gaussian;
pub mod labels;
pub mod lambert;
#[cfg(feature = "llm")]
pub mod llm;
pub mod llm_scaling;
pub mod metrics;
pub mod panics;
pub mod prob;
pub mod real;
pub mod runlog;
pub mod softmax_floor;
pub mod stats;
#[cfg(feature = "burn")]
pub mod tensor;
#[cfg(feature = "burn")]
pub mod train;
#[cfg(feature = "burn")]
pub mod vision;

pub use error::EraError;
pub use gaussian::GaussianEra;
pub use llm_scaling::{LlmEra, Regime};
pub use real::Real;
pub use softmax_floor::{FloorMode, SoftmaxFloor};

/// This crate's version, written into every run log's header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
