//! The fast CPU path for image classifiers (features `fast` and `data`): the small CNN and
//! ResNet-18/34/50 trained with hand-written forward and backward passes on the `gemm` crate's
//! AVX-512/AVX2 kernels, the batch split into one shard per thread, buffers reused between steps.
//!
//! It computes what the burn trainer computes, from the same initial weights (drawn by burn's model
//! from the seed, then imported), with the same batches, augmentation and dropout draws, the same
//! ERA floor ([`crate::softmax_floor`], in `f64` per row) and the same SGD: the tests follow both for
//! 20 steps. It differs by rounding only (sums in another order, batch-norm statistics in `f64`).
//! Checkpoints hold the network in burn's format (`net.mpk`), so `era eval vision` reads them on any
//! backend, plus the momentum (`momentum.safetensors`); a run is deterministic for its seed and
//! thread count and resumes bit for bit.
//!
//! - [`layers`]: convolution (im2col), batch norm, ReLU, max-pool, forward and backward;
//! - [`net`]: the architectures as layer lists, their passes over the shards, weights to and from burn;
//! - [`loss`]: the ERA floor and cross-entropy with their gradient;
//! - [`learner`]: SGD on them, as the vision loop's learner.

pub mod layers;
pub mod learner;
pub mod loss;
pub mod net;

pub use learner::FastLearner;
pub use net::{FastNet, Workspace};
