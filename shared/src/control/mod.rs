//! Continuous-control agents with and without ERA, and the training loop they share (feature `burn`).
//!
//! - [`sac`]: SAC-ERA as the authors built it (truncated normal on `[−1, 1]` with `loc = tanh μ`, the
//!   ERA log-std head, no temperature) and SAC as the field knows it (tanh-squashed Gaussian, learned α);
//! - [`ppo`]: PPO and PPO-ERA (the log-std, a parameter or a head, passes through the ERA activation);
//! - [`trainer`]: the loop that steps environments, fills buffers, updates, evaluates and reports
//!   metrics, identical on the command line and in the browser.
//!
//! # Reading values from the device
//! On WebGPU every read of a tensor is asynchronous. The agents therefore keep an update's data on the
//! device and hand back tensors; the only reads (an action to step the environment, a row of logged
//! scalars, a rollout's log-probabilities) go through [`read`], an `async fn`. The command line blocks on
//! it; the browser awaits it between animation frames.

#[cfg(feature = "fast")]
pub mod fast;
pub mod mlp;
pub mod normalize;
pub mod policy;
pub mod ppo;
pub mod replay;
pub mod sac;
pub mod trainer;

use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::{Tensor, backend::Backend};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

pub use trainer::{Algo, ControlConfig, ControlTrainer, Logged};

/// The agents' random generator: seeded per run, portable, serialisable for checkpoints.
pub type AgentRng = ChaCha8Rng;

/// Why an agent could not be built, run, saved or restored.
#[derive(Debug, Error)]
pub enum AgentError {
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
    /// A checkpoint that cannot be written or does not fit this agent.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

/// Reads a tensor's values as `f32`. The one path by which agents and the trainer read the device:
/// `await` it in the browser, block on it natively (`pollster::block_on`).
pub async fn read<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Result<Vec<f32>, AgentError> {
    let data = tensor.into_data_async().await.map_err(|e| AgentError::Device(format!("{e:?}")))?;
    data.convert::<f32>().into_vec::<f32>().map_err(|e| AgentError::Device(format!("{e:?}")))
}

/// A named part of a checkpoint (e.g. `nets.mpk`, `replay.safetensors`) and its bytes.
pub type Part = (String, Vec<u8>);

/// A record as burn's named MessagePack bytes, at full precision.
pub(crate) fn record_bytes<B: Backend, R: Record<B>>(record: R, name: &str) -> Result<Part, AgentError> {
    let bytes = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .record(record, ())
        .map_err(|e| AgentError::Checkpoint(format!("{name}: {e:?}")))?;
    Ok((name.to_string(), bytes))
}

/// The part called `name` of a checkpoint, decoded as a record.
pub(crate) fn load_record<B: Backend, R: Record<B>>(
    parts: &[Part],
    name: &str,
    device: &B::Device,
) -> Result<R, AgentError> {
    let bytes = part(parts, name)?;
    NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .load(bytes.to_vec(), device)
        .map_err(|e| AgentError::Checkpoint(format!("{name} does not fit this agent: {e:?}")))
}

/// The checkpoint part holding a trainer's loop state (position, generator, …) as JSON.
pub const LOOP_PART: &str = "loop.json";

/// `state` as the [`LOOP_PART`] of a checkpoint.
pub(crate) fn loop_part<T: serde::Serialize>(state: &T) -> Result<Part, AgentError> {
    let json = serde_json::to_vec_pretty(state).map_err(|e| AgentError::Checkpoint(format!("{LOOP_PART}: {e}")))?;
    Ok((LOOP_PART.to_string(), json))
}

/// The loop state in a checkpoint's [`LOOP_PART`]; with `total`, a step past it is refused
/// (the checkpoint belongs to a longer run).
pub(crate) fn read_loop<T: serde::de::DeserializeOwned>(
    parts: &[Part],
    step_of: impl Fn(&T) -> u64,
    total: Option<u64>,
) -> Result<T, AgentError> {
    let state: T = serde_json::from_slice(part(parts, LOOP_PART)?)
        .map_err(|e| AgentError::Checkpoint(format!("{LOOP_PART}: {e}")))?;
    if let Some(total) = total
        && step_of(&state) > total
    {
        return Err(AgentError::Checkpoint(format!(
            "{LOOP_PART}: step {} is past this run's {total} steps",
            step_of(&state)
        )));
    }
    Ok(state)
}

/// `values` as little-endian bytes: borrowed where the machine is little-endian (a 1M-transition
/// replay buffer is hundreds of MB; a copy would double a checkpoint's peak memory), copied elsewhere.
pub(crate) fn le_bytes(values: &[f32]) -> std::borrow::Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        std::borrow::Cow::Borrowed(bytemuck::cast_slice(values))
    } else {
        std::borrow::Cow::Owned(values.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}

/// `f32` values from their little-endian bytes (a safetensors tensor's data).
pub(crate) fn from_le_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// The bytes of the part called `name`.
pub(crate) fn part<'a>(parts: &'a [Part], name: &str) -> Result<&'a [u8], AgentError> {
    parts
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .ok_or_else(|| AgentError::Checkpoint(format!("part `{name}` is missing")))
}

/// A float tensor from `f32` host values.
pub(crate) fn upload<B: Backend, const D: usize>(
    values: &[f32],
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    Tensor::from_data(burn::tensor::TensorData::new(values.to_vec(), shape).convert::<B::FloatElem>(), device)
}
