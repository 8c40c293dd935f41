//! Checkpoint parts: named byte blobs (burn records, the loop state as JSON, safetensors) that a run
//! loop writes into a checkpoint directory and hands back on resume.

use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;

use super::TrainError;

/// A named part of a checkpoint (e.g. `nets.mpk`, `replay.safetensors`) and its bytes.
pub type Part = (String, Vec<u8>);

/// A record as burn's named MessagePack bytes, at full precision.
pub(crate) fn record_bytes<B: Backend, R: Record<B>>(record: R, name: &str) -> Result<Part, TrainError> {
    let bytes = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .record(record, ())
        .map_err(|e| TrainError::Checkpoint(format!("{name}: {e:?}")))?;
    Ok((name.to_string(), bytes))
}

/// The part called `name` of a checkpoint, decoded as a record.
pub(crate) fn load_record<B: Backend, R: Record<B>>(
    parts: &[Part],
    name: &str,
    device: &B::Device,
) -> Result<R, TrainError> {
    let bytes = part(parts, name)?;
    // burn (and ndarray below it) panic on some corrupt records instead of returning an error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        NamedMpkBytesRecorder::<FullPrecisionSettings>::default().load(bytes.to_vec(), device)
    }))
    .map_err(|_| TrainError::Checkpoint(format!("{name} is corrupt")))?
    .map_err(|e| TrainError::Checkpoint(format!("{name} does not fit this agent: {e:?}")))
}

/// The checkpoint part holding a trainer's loop state (position, generator, …) as JSON.
pub const LOOP_PART: &str = "loop.json";

/// `state` as the [`LOOP_PART`] of a checkpoint.
pub(crate) fn loop_part<T: serde::Serialize>(state: &T) -> Result<Part, TrainError> {
    let json = serde_json::to_vec_pretty(state).map_err(|e| TrainError::Checkpoint(format!("{LOOP_PART}: {e}")))?;
    Ok((LOOP_PART.to_string(), json))
}

/// The loop state in a checkpoint's [`LOOP_PART`]; with `total`, a step past it is refused
/// (the checkpoint belongs to a longer run).
pub(crate) fn read_loop<T: serde::de::DeserializeOwned>(
    parts: &[Part],
    step_of: impl Fn(&T) -> u64,
    total: Option<u64>,
) -> Result<T, TrainError> {
    let state: T = serde_json::from_slice(part(parts, LOOP_PART)?)
        .map_err(|e| TrainError::Checkpoint(format!("{LOOP_PART}: {e}")))?;
    if let Some(total) = total
        && step_of(&state) > total
    {
        return Err(TrainError::Checkpoint(format!(
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
pub(crate) fn part<'a>(parts: &'a [Part], name: &str) -> Result<&'a [u8], TrainError> {
    parts
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .ok_or_else(|| TrainError::Checkpoint(format!("part `{name}` is missing")))
}
