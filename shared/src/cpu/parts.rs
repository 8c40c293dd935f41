//! The fast path's checkpoint format: an agent's parameter vectors and optimiser states as one
//! safetensors part.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::Adam;
use crate::train::{Part, TrainError, from_le_bytes, le_bytes};

/// An agent's state as its checkpoint part holds it: named parameter vectors, and named optimisers
/// (stored as `{name}.adam.m` and `.v` tensors and the step count `{name}.adam.t` in the metadata).
/// An agent describes itself once with this and both [`write_part`] and [`read_part`] follow it.
#[derive(Debug, Default)]
pub struct State<'a> {
    /// Parameter vectors (a scalar as a one-element slice).
    pub values: Vec<(String, &'a [f32])>,
    /// Optimiser states.
    pub adams: Vec<(String, &'a Adam)>,
}

impl<'a> State<'a> {
    /// Adds a parameter vector.
    pub fn value(mut self, name: impl Into<String>, values: &'a [f32]) -> Self {
        self.values.push((name.into(), values));
        self
    }

    /// Adds an optimiser.
    pub fn adam(mut self, name: impl Into<String>, adam: &'a Adam) -> Self {
        self.adams.push((name.into(), adam));
        self
    }

    /// Every tensor the part holds, named: the values, then each optimiser's moments.
    fn tensors(&self) -> Vec<(String, &'a [f32])> {
        let moments = self.adams.iter().flat_map(|(name, adam)| {
            [(format!("{name}.adam.m"), &adam.m[..]), (format!("{name}.adam.v"), &adam.v[..])]
        });
        self.values.iter().cloned().chain(moments).collect()
    }
}

/// Writes `state` as one safetensors checkpoint part called `part`.
pub fn write_part(part: &str, state: &State<'_>) -> Result<Part, TrainError> {
    let bad = |e: safetensors::SafeTensorError| TrainError::Checkpoint(format!("{part}: {e}"));
    let tensors = state.tensors();
    let bytes: Vec<_> = tensors.iter().map(|(_, values)| le_bytes(values)).collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, values), b)| Ok((name.as_str(), TensorView::new(Dtype::F32, vec![values.len()], b)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(bad)?;
    let meta = state.adams.iter().map(|(name, adam)| (format!("{name}.adam.t"), adam.t.to_string())).collect();
    Ok((part.to_string(), safetensors::serialize(views, Some(meta)).map_err(bad)?))
}

/// What [`read_part`] found: every tensor of the state, of the length the agent has, and the step counts.
#[derive(Debug)]
pub struct ReadPart {
    part: String,
    values: HashMap<String, Vec<f32>>,
    meta: HashMap<String, String>,
}

impl ReadPart {
    /// The parameter vector called `name`; an error if the agent's [`State`] has no such vector (or
    /// it was taken already), rather than an empty one.
    pub fn take(&mut self, name: &str) -> Result<Vec<f32>, TrainError> {
        self.values
            .remove(name)
            .ok_or_else(|| TrainError::Checkpoint(format!("{}: `{name}` is not part of this agent's state", self.part)))
    }

    /// The optimiser called `name`, keeping `like`'s ε and weight decay (settings, not state).
    pub fn adam(&mut self, name: &str, like: &Adam) -> Result<Adam, TrainError> {
        let key = format!("{name}.adam.t");
        let t = self.meta.get(&key).and_then(|v| v.parse().ok());
        let t = t.ok_or_else(|| TrainError::Checkpoint(format!("{}: metadata `{key}` missing", self.part)))?;
        Ok(Adam {
            m: self.take(&format!("{name}.adam.m"))?,
            v: self.take(&format!("{name}.adam.v"))?,
            t,
            epsilon: like.epsilon,
            weight_decay: like.weight_decay,
        })
    }
}

/// Reads the part `part` that [`write_part`] wrote, checking that it holds every tensor of `state`
/// (the agent's current state) with the same number of values: a checkpoint of other network sizes
/// is refused, naming the tensor.
pub fn read_part(parts: &[Part], part: &str, state: &State<'_>) -> Result<ReadPart, TrainError> {
    let bytes = crate::train::part(parts, part).map_err(|_| {
        TrainError::Checkpoint(format!(
            "part `{part}` is missing: the checkpoint was not written by the fast CPU path (resume it with the backend that wrote it)"
        ))
    })?;
    let bad = |what: String| TrainError::Checkpoint(format!("{part}: {what}"));
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
    let mut values = HashMap::new();
    for (name, want) in state.tensors() {
        let t = st.tensor(&name).map_err(|_| bad(format!("tensor `{name}` is missing")))?;
        if t.dtype() != Dtype::F32 || t.data().len() != want.len() * 4 {
            return Err(bad(format!(
                "tensor `{name}` has {} values of {:?}, this agent needs {} of F32 (different network sizes?)",
                t.data().len() / 4,
                t.dtype(),
                want.len()
            )));
        }
        values.insert(name, from_le_bytes(t.data()));
    }
    Ok(ReadPart { part: part.to_string(), values, meta: meta.metadata().clone().unwrap_or_default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_part_round_trips_and_names_what_does_not_fit() {
        let (w, mut adam) = (vec![1.0, -2.0, 3.5], Adam::with_epsilon(3, 1e-5));
        adam.step(&mut w.clone(), &[0.5, 0.5, 0.5], 0.1);
        let part = write_part("p", &State::default().value("w", &w).adam("w", &adam)).unwrap();
        let parts = [part];
        let like = State::default().value("w", &w).adam("w", &adam);
        let mut read = read_part(&parts, "p", &like).unwrap();
        assert_eq!(read.take("w").unwrap(), w);
        let back = read.adam("w", &adam).unwrap();
        assert_eq!((back.m, back.v, back.t, back.epsilon), (adam.m.clone(), adam.v.clone(), 1, 1e-5));
        // A name the state does not hold, or one taken twice, is an error naming it, not an empty vector.
        let err = read.take("w").unwrap_err().to_string();
        assert!(err.contains("`w`"), "{err}");
        // Another agent's sizes: refused, naming the tensor.
        let bigger = vec![0.0; 4];
        let err = read_part(&parts, "p", &State::default().value("w", &bigger)).unwrap_err().to_string();
        assert!(err.contains("tensor `w` has 3 values") && err.contains("needs 4"), "{err}");
    }
}
