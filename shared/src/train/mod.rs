//! What training in every domain shares (feature `burn`): the error type, the seeded generator, the
//! records a step logs, reading and uploading device values, checkpoint parts, learning-rate schedules
//! and the [`Trainer`] interface through which one run loop (the command line's, or the browser's)
//! drives control, vision and LLM training alike.
//!
//! # Reading values from the device
//! On WebGPU every read of a tensor is asynchronous. Trainers therefore keep an update's data on the
//! device and hand back tensors; the only reads (an action to step an environment, a row of logged
//! scalars, a rollout's log-probabilities) go through [`read`], an `async fn`. The command line blocks
//! on it; the browser awaits it between animation frames.

pub mod device;
pub mod parts;
pub mod records;
pub mod schedule;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

pub use device::{read, upload};
pub use parts::{LOOP_PART, Part};
pub(crate) use parts::{from_le_bytes, le_bytes, load_module, load_record, loop_part, part, read_loop, record_bytes};
pub use records::check_records;

use crate::runlog::EraTargets;

/// Which implementation computes a trainer's updates, in every domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// burn modules on the trainer's backend, any device.
    #[default]
    Burn,
    /// The fast CPU path (feature `fast`): the same updates with hand-written gradients on
    /// [`crate::cpu`]'s kernels.
    Fast,
}

/// A result a learner computes later (a device read on the way): what its asynchronous methods
/// return, so that the learner traits stay object-safe.
pub type Pending<'a, T> = std::pin::Pin<Box<dyn Future<Output = Result<T, TrainError>> + 'a>>;

/// Values a learner computed: on the device (burn) or already on the host (fast path).
pub enum Readback<B: Backend, const D: usize> {
    /// Still on the device.
    Device(Tensor<B, D>),
    /// On the host.
    Host(Vec<f32>),
}

impl<B: Backend, const D: usize> Readback<B, D> {
    /// The values, row-major, reading the device if they are there.
    pub async fn read(self) -> Result<Vec<f32>, TrainError> {
        match self {
            Self::Device(t) => read(t).await,
            Self::Host(v) => Ok(v),
        }
    }
}

impl TrainError {
    /// [`Engine::Fast`] asked of a build without the feature `fast`.
    pub fn no_fast_path() -> Self {
        Self::Config("this build has no fast CPU path (feature `fast`)".into())
    }
}

/// The trainers' random generator: seeded per run, portable, serialisable for checkpoints.
pub type TrainRng = ChaCha8Rng;

/// Why a trainer could not be built, run, saved or restored.
#[derive(Debug, Error)]
pub enum TrainError {
    /// An ERA setting outside its valid range.
    #[error(transparent)]
    Era(#[from] crate::EraError),
    /// An environment error.
    #[error(transparent)]
    Env(#[from] crate::env::EnvError),
    /// A setting that cannot work, with the reason.
    #[error("{0}")]
    Config(String),
    /// Reading a tensor back from the device failed.
    #[error("reading from the device failed: {0}")]
    Device(String),
    /// A checkpoint that cannot be written or does not fit this trainer.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// Training produced a NaN or an infinity: what, and where.
    #[error("diverged: {0}")]
    Diverged(String),
}

/// Metrics to log at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    /// The trainer's position (its [`Trainer::position`] unit) the values belong to.
    pub step: u64,
    /// `(key, value)` pairs, keys from [`crate::metrics`].
    pub metrics: Vec<(&'static str, f64)>,
}

/// A trainer of any domain, as a run loop drives it: advance, log, checkpoint, resume.
///
/// The loop calls [`advance`](Trainer::advance) until [`is_done`](Trainer::is_done), writes every
/// [`Logged`] it returns to the run log, and checkpoints with [`save`](Trainer::save) at its cadence
/// and at every [`at_milestone`](Trainer::at_milestone); `--resume` builds the trainer from the same
/// settings and calls [`load`](Trainer::load) with the newest checkpoint.
pub trait Trainer {
    /// Trains one unit (an environment step, an optimiser step, a GRPO step, or more) and returns
    /// the records it logged, in order.
    fn advance(&mut self) -> impl Future<Output = Result<Vec<Logged>, TrainError>>;
    /// How far training is, in the unit of the run log's `step`.
    fn position(&self) -> u64;
    /// The position at which training is complete.
    fn total(&self) -> u64;
    /// Whether training is complete.
    fn is_done(&self) -> bool {
        self.position() >= self.total()
    }
    /// Whether the position is one where a checkpoint is due whatever the cadence (the end of an
    /// epoch, of a warm-up).
    fn at_milestone(&self) -> bool {
        false
    }
    /// Everything needed to continue bit for bit: networks, optimisers, loop state.
    fn save(&self) -> Result<Vec<Part>, TrainError>;
    /// Restores what [`save`](Trainer::save) wrote.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError>;
    /// The ERA targets in force, for the run log's header.
    fn era_targets(&self) -> EraTargets;
}
