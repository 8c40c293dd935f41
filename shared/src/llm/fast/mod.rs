//! The fast CPU path for the LLM update (feature `fast`): the Qwen2 decoder's forward and backward
//! written by hand on the `gemm` crate's kernels, the rows of a batch split into one shard per thread,
//! buffers kept between steps.
//!
//! It computes what the burn model and [`super::grpo`] compute, from the same weights and rows: the
//! clipped token-mean GRPO loss on ERA's scaled log-probabilities (or the warm-up's likelihood), its
//! gradient, burn's per-tensor gradient clipping and AdamW, and samples with a KV cache. The tests compare
//! logits, gradients, a whole update and sampled responses with burn's.
//!
//! - [`model`]: the decoder as flat weights in the checkpoint's names and layouts, forward and backward;
//! - [`update`]: the token losses on logits with their gradient, and the optimiser step;
//! - [`decode`]: sampling with a KV cache and forward passes without a gradient;
//! - [`rows`]: a batch's packed rows and their split into one shard per thread;
//! - [`learner`]: all of it as the LLM loop's learner.

pub mod decode;
pub mod learner;
pub mod model;
pub mod rows;
pub mod update;

pub use decode::FastDecoder;
pub use learner::FastLearner;
pub use model::FastQwen2;
pub use rows::Rows;
pub use update::{FastUpdate, Objective, StepStats, scaled_log_probs};

/// Small models and batches the fast path's tests share.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::Rows;
    use crate::llm::hf_weights::{HostTensor, Weights};
    use crate::llm::packing::Packed;
    use crate::llm::qwen2::Qwen2Config;
    use crate::llm::qwen2::random_weights;

    pub(crate) use crate::llm::qwen2::test_config as config;

    /// Random weights far from initialisation (std 0.3, norms and biases not at 1 and 0), so that
    /// attention is not uniform and every term matters.
    pub fn weights(config: &Qwen2Config) -> Weights {
        let base = random_weights(config, 7);
        let mut k = 0u32;
        let mut jitter = || {
            k += 1;
            ((k.wrapping_mul(2_654_435_761) >> 8) % 1000) as f32 / 1000.0 - 0.5
        };
        let tensors = base
            .iter()
            .map(|(name, t)| {
                let values = t
                    .values
                    .iter()
                    .map(|&v| {
                        if name.ends_with("norm.weight") {
                            1.0 + 0.4 * jitter()
                        } else if name.ends_with(".bias") {
                            0.2 * jitter()
                        } else {
                            15.0 * v
                        }
                    })
                    .collect();
                (name.clone(), HostTensor { shape: t.shape.clone(), values })
            })
            .collect();
        Weights::from_tensors(tensors)
    }

    /// Five rows with different prompt and response lengths (so left and right padding both occur).
    pub fn batch() -> Packed {
        let prompts: Vec<Vec<u32>> = vec![vec![3, 4, 5], vec![6, 7], vec![8, 9, 10, 11], vec![12], vec![2, 3, 4, 5, 6]];
        let responses: Vec<Vec<u32>> =
            vec![vec![7, 8, 1], vec![9, 10, 11, 12, 1], vec![2, 1], vec![5, 6, 7, 1], vec![1]];
        Packed::new(&prompts, &responses, 0)
    }

    pub fn rows(p: &Packed) -> Rows<'_> {
        Rows { ids: &p.ids, pads: &p.pads, width: p.width, mask: &p.mask }
    }

    /// `max |a − b| / max |b|`.
    pub fn rel(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        let d = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        d / b.iter().map(|y| y.abs()).fold(1e-12, f32::max)
    }
}
