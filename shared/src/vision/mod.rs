//! Image classifiers (feature `burn`): a small CNN for quick CPU runs and ResNet-18/34/50.
//!
//! Every model maps `[batch, channels, height, width]` to logits `[batch, classes]`; the ERA softmax
//! floor ([`crate::tensor::softmax_floor`]) is applied to those logits by the trainer, so the models
//! stay the architectures the field knows. Dropout, when asked for, sits before the last linear layer.
//!
//! - [`classifier`]: the model choice, the regularisers and the losses;
//! - [`config`] (feature `data` too): a run's settings;
//! - [`trainer`] (feature `data` too): the training loop shared by `era train vision` and its tests;
//! - [`learner`] (feature `data` too): the network and its optimiser on burn, behind the trait the
//!   loop drives either engine through;
//! - [`fast`] (features `fast` and `data`): the same learner on hand-written CPU kernels.

pub mod classifier;
#[cfg(feature = "data")]
pub mod config;
pub mod conv;
#[cfg(all(feature = "fast", feature = "data"))]
pub mod fast;
#[cfg(feature = "data")]
pub mod learner;
pub mod resnet;
pub mod small_cnn;
#[cfg(feature = "data")]
pub mod trainer;

pub use classifier::{ModelKind, Net, Regularizer};

pub use resnet::{ResNet, ResNetDepth, Stem};
pub use small_cnn::SmallCnn;
