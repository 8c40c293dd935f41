//! Checkpoint parts: named byte blobs (burn records, the loop state as JSON, safetensors) that a run
//! loop writes into a checkpoint directory and hands back on resume.

use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

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
    crate::panics::quietly(|| NamedMpkBytesRecorder::<FullPrecisionSettings>::default().load(bytes.to_vec(), device))
        .map_err(|_| TrainError::Checkpoint(format!("{name} is corrupt")))?
        .map_err(|e| TrainError::Checkpoint(format!("{name} does not fit this agent: {e:?}")))
}

/// `module` with the record in the part called `name` loaded into it. Burn loads a tensor of any
/// shape into a parameter, where a mismatch would only show as a panic in the next forward pass, so
/// every parameter must keep the shape `module` gave it.
pub(crate) fn load_module<B: Backend, M: Module<B>>(
    module: M,
    parts: &[Part],
    name: &str,
    device: &B::Device,
) -> Result<M, TrainError> {
    let want = shapes(&module);
    let loaded = module.load_record(load_record::<B, M::Record>(parts, name, device)?);
    let got = shapes(&loaded);
    if got.len() != want.len() {
        return Err(TrainError::Checkpoint(format!(
            "{name} holds {} parameters, this model {}",
            got.len(),
            want.len()
        )));
    }
    match want.iter().zip(&got).enumerate().find(|(_, (w, g))| w != g) {
        Some((i, (w, g))) => Err(TrainError::Checkpoint(format!(
            "{name}: parameter {i} has shape {g:?}, this model's {w:?} (a checkpoint of another model, or corrupt)"
        ))),
        None => Ok(loaded),
    }
}

/// The shape of each of `module`'s parameters, in the order burn visits them.
fn shapes<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<usize>> {
    struct Shapes(Vec<Vec<usize>>);
    impl<B: Backend> ModuleVisitor<B> for Shapes {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.lazy_shape().to_vec());
        }
        fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<B, D, Int>>) {
            self.0.push(param.lazy_shape().to_vec());
        }
        fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<B, D, Bool>>) {
            self.0.push(param.lazy_shape().to_vec());
        }
    }
    let mut v = Shapes(Vec::new());
    module.visit(&mut v);
    v.0
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::nn::{Linear, LinearConfig};

    #[test]
    fn a_record_of_other_shapes_is_refused_not_loaded() {
        let dev = Default::default();
        // 2 → 3 and 3 → 2 hold the same number of weights (6) in transposed shapes: burn would load
        // either into the other and the next forward pass would panic.
        let saved: Linear<NdArray> = LinearConfig::new(2, 3).init(&dev);
        // Burn initialises a parameter when first read, and a copy made before that draws its own.
        // Other tests in this process use NdArray<f64> on the same device, which can change the dtype
        // new tensors get there, and a record keeps f32: compare as f32.
        let weight = saved.weight.val().into_data().convert::<f32>();
        let parts = vec![record_bytes::<NdArray, _>(saved.clone().into_record(), "net.mpk").unwrap()];
        let other: Linear<NdArray> = LinearConfig::new(3, 2).init(&dev);
        let err = load_module(other, &parts, "net.mpk", &dev).unwrap_err().to_string();
        assert!(err.contains("net.mpk: parameter 0 has shape [2, 3], this model's [3, 2]"), "{err}");
        let same: Linear<NdArray> = LinearConfig::new(2, 3).init(&dev);
        let loaded = load_module(same, &parts, "net.mpk", &dev).unwrap();
        assert_eq!(loaded.weight.val().into_data().convert::<f32>(), weight);
    }
}
