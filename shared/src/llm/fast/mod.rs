//! The fast CPU path for the LLM update (feature `fast`): the Qwen2 decoder's forward and backward
//! written by hand on the `gemm` crate's kernels, the rows of a batch split into one shard per thread,
//! buffers kept between steps.
//!
//! It computes what the burn model and [`super::grpo`] compute, from the same weights and rows: the
//! clipped token-mean GRPO loss on ERA's scaled log-probabilities (or the warm-up's likelihood), its
//! gradient, burn's per-tensor gradient clipping and AdamW. The tests compare logits, gradients and a
//! whole update with burn's. Generation stays on burn (a KV-cached sampler, not the hot path of an update).
//!
//! - [`model`]: the decoder as flat weights in the checkpoint's names and layouts, forward and backward;
//! - [`update`]: the token losses on logits with their gradient, and the optimiser step.

pub mod model;
pub mod update;

pub use model::FastQwen2;
pub use update::{FastUpdate, Objective, Rows, StepStats, scaled_log_probs};
