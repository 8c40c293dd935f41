//! Burn records (named MessagePack, the `.mpk` parts of a checkpoint) inspected before burn reads
//! them: burn and ndarray panic on some corrupt records, and load others that only fail (or silently
//! misbehave) at the next forward pass or optimiser update. Records are decoded borrowing their
//! bytes (`ValueRef`): a tensor's values are read where they lie, never copied, so checking a large
//! model's checkpoint costs its structure, not a second copy of its weights.

use rmpv::ValueRef as Value;

use super::{Part, TrainError};

/// The first non-finite value in a checkpoint's parts, named by part and tensor (burn records in
/// MessagePack, safetensors); `None` when every float is finite. A checkpoint holding one would make
/// every resume diverge, so it is never written.
pub fn non_finite(parts: &[Part]) -> Option<String> {
    parts.iter().find_map(|(name, bytes)| {
        if name.ends_with(".safetensors") {
            let tensors = safetensors::SafeTensors::deserialize(bytes).ok()?;
            tensors.iter().find_map(|(tensor, view)| {
                (view.dtype() == safetensors::Dtype::F32 && !all_finite_f32(view.data()))
                    .then(|| format!("{name}: tensor `{tensor}`"))
            })
        } else if name.ends_with(".mpk") {
            let value = rmpv::decode::read_value_ref(&mut &bytes[..]).ok()?;
            let mut path = Vec::new();
            // Burn nests a record under `item` and each parameter's tensor under `param`.
            non_finite_in(&value, &mut path)
                .map(|at| format!("{name}: `{}`", at.trim_start_matches("item.").trim_end_matches(".param")))
        } else {
            None
        }
    })
}

/// Decodes a burn record part (MessagePack) and checks it before burn reads it: burn and ndarray
/// panic on some corrupt records (a parameter id that is not one, a tensor whose bytes do not fill
/// its shape).
fn decode_record(bytes: &[u8]) -> Result<Value<'_>, String> {
    let value = rmpv::decode::read_value_ref(&mut &bytes[..]).map_err(|e| format!("not a MessagePack record: {e}"))?;
    check_value(&value)?;
    Ok(value)
}

/// Checks a checkpoint's burn records (its `.mpk` parts) before burn reads them: each on its own
/// (ids, byte counts), then every optimiser state against its parameter. An optimiser record keys
/// each parameter's state (Adam's moments, a momentum) by the parameter's id; a state of another
/// shape than its parameter is not caught by burn and makes the next update panic. Every trainer's
/// `load` calls this first; the error names the part and what is wrong.
pub fn check_records(parts: &[Part]) -> Result<(), TrainError> {
    find_fault(parts).map_err(|(part, why)| TrainError::Checkpoint(format!("{part}: {why}")))
}

/// [`check_records`]' check: the part at fault and what is wrong with it.
fn find_fault(parts: &[Part]) -> Result<(), (String, String)> {
    let records = parts
        .iter()
        .filter(|(n, _)| n.ends_with(".mpk"))
        .map(|(n, b)| decode_record(b).map(|v| (n, v)).map_err(|e| (n.clone(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    // A module's record holds each parameter as `{id, param: {bytes, shape, dtype}}`. One id may
    // name several tensors (a target network is a copy of its network), all of one shape.
    let mut params: Vec<(&str, Vec<u64>)> = Vec::new();
    for (name, v) in &records {
        let mut wrong = None;
        visit_maps(v, &mut |map| {
            let (Some(id), Some(shape)) = (field(map, "id").and_then(text), field(map, "param").and_then(tensor_shape))
            else {
                return;
            };
            match params.iter().find(|(p, _)| *p == id) {
                None => params.push((id, shape)),
                Some((_, first)) if *first != shape && wrong.is_none() => {
                    wrong = Some(format!("parameter id `{id}` is given to tensors of shapes {first:?} and {shape:?}"));
                }
                Some(_) => {}
            }
        });
        if let Some(why) = wrong {
            return Err(((*name).clone(), why));
        }
    }
    for (name, v) in &records {
        let mut wrong = None;
        visit_entries(v, &mut |key, state| {
            let Some((id, want)) = text(key).and_then(|k| params.iter().find(|(p, _)| *p == k)) else { return };
            // Burn tags a state with its rank (`Rank2`) and panics if it is not the parameter's.
            visit_entries(state, &mut |tag, _| {
                if let Some(rank) = text(tag).and_then(|t| t.strip_prefix("Rank"))
                    && rank != want.len().to_string()
                    && wrong.is_none()
                {
                    wrong = Some(format!(
                        "the optimiser state of parameter `{id}` is of rank {rank}, the parameter of rank {}",
                        want.len()
                    ));
                }
            });
            visit_maps(state, &mut |map| {
                if wrong.is_none()
                    && let Some(shape) = tensor_shape_of(map)
                    && shape != *want
                {
                    wrong = Some(format!(
                        "the optimiser state of parameter `{id}` holds a tensor of shape {shape:?}, the parameter {want:?}"
                    ));
                }
            });
        });
        if let Some(why) = wrong {
            return Err(((*name).clone(), why));
        }
    }
    Ok(())
}

/// A MessagePack string's text (`None` for other values or invalid UTF-8).
fn text<'a>(value: &'a Value<'_>) -> Option<&'a str> {
    match value {
        Value::String(s) => s.as_str(),
        _ => None,
    }
}

/// A MessagePack map's entries.
type Entries<'b> = [(Value<'b>, Value<'b>)];

/// The value of the entry keyed `key`.
fn field<'a, 'b>(map: &'a Entries<'b>, key: &str) -> Option<&'a Value<'b>> {
    map.iter().find(|(k, _)| text(k) == Some(key)).map(|(_, v)| v)
}

/// Calls `f` with the entries of every map in `value`, outermost first.
fn visit_maps<'a, 'b>(value: &'a Value<'b>, f: &mut dyn FnMut(&'a Entries<'b>)) {
    match value {
        Value::Map(entries) => {
            f(entries);
            entries.iter().for_each(|(_, v)| visit_maps(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| visit_maps(v, f)),
        _ => {}
    }
}

/// Calls `f` with every key and value of every map in `value`.
fn visit_entries<'a, 'b>(value: &'a Value<'b>, f: &mut dyn FnMut(&'a Value<'b>, &'a Value<'b>)) {
    match value {
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            f(k, v);
            visit_entries(v, f);
        }),
        Value::Array(items) => items.iter().for_each(|v| visit_entries(v, f)),
        _ => {}
    }
}

/// The shape of a tensor record `{bytes, shape, dtype}`.
fn tensor_shape(value: &Value<'_>) -> Option<Vec<u64>> {
    let Value::Map(entries) = value else { return None };
    tensor_shape_of(entries)
}

fn tensor_shape_of(map: &Entries<'_>) -> Option<Vec<u64>> {
    field(map, "bytes")?;
    field(map, "dtype")?;
    field(map, "shape")?.as_array()?.iter().map(Value::as_u64).collect()
}

fn check_value(value: &Value<'_>) -> Result<(), String> {
    match value {
        Value::Array(items) => items.iter().try_for_each(check_value),
        Value::Map(entries) => {
            // Optimiser records are maps keyed by parameter id: burn panics on a key that decodes to
            // more than 8 bytes (15 or more base-32 characters).
            let base32 = |k: &str| k.len() >= 15 && k.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v'));
            if let Some(k) = entries.iter().filter_map(|(k, _)| text(k)).find(|k| base32(k)) {
                return Err(format!("`{k}` is not a parameter id"));
            }
            let get = |key: &str| field(entries, key);
            if let Some(id) = get("id").and_then(text) {
                // Burn's ids are 13 base-32 characters (8 bytes) or, from older versions, a UUID.
                let ok = (id.len() <= 13 || id.len() == 36) && burn::module::ParamId::try_deserialize(id).is_some();
                if !ok {
                    return Err(format!("`{id}` is not a parameter id"));
                }
            }
            if let (Some(Value::Binary(data)), Some(shape)) = (get("bytes"), get("shape")) {
                let dims: Option<Vec<u64>> = shape.as_array().and_then(|a| a.iter().map(Value::as_u64).collect());
                let size = match get("dtype").and_then(text) {
                    Some("F64" | "I64" | "U64") => 8,
                    Some("F32" | "I32" | "U32") => 4,
                    Some("F16" | "BF16" | "I16" | "U16") => 2,
                    Some("I8" | "U8" | "Bool") => 1,
                    other => return Err(format!("tensor of dtype {other:?}")),
                };
                let len = dims.as_ref().and_then(|d| d.iter().try_fold(size, |n: u64, &x| n.checked_mul(x)));
                if len != Some(data.len() as u64) {
                    return Err(format!("a tensor of shape {shape} holds {} bytes", data.len()));
                }
            }
            entries.iter().try_for_each(|(_, v)| check_value(v))
        }
        _ => Ok(()),
    }
}

/// Whether every little-endian `f32` in `bytes` is finite.
fn all_finite_f32(bytes: &[u8]) -> bool {
    bytes.chunks_exact(4).all(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite())
}

/// The path to the first tensor with a non-finite value in a burn record decoded from MessagePack:
/// a map with `bytes` (little-endian values) and `dtype` (`F32`, `F64`).
fn non_finite_in<'a>(value: &'a Value<'_>, path: &mut Vec<&'a str>) -> Option<String> {
    let Value::Map(entries) = value else {
        if let Value::Array(items) = value {
            return items.iter().find_map(|v| non_finite_in(v, path));
        }
        return None;
    };
    let get = |key: &str| field(entries, key);
    if let (Some(Value::Binary(bytes)), Some(dtype)) = (get("bytes"), get("dtype")) {
        let finite = match text(dtype) {
            Some("F32") => all_finite_f32(bytes),
            Some("F64") => {
                bytes.chunks_exact(8).all(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])).is_finite())
            }
            _ => true,
        };
        return (!finite).then(|| path.join("."));
    }
    entries.iter().find_map(|(k, v)| {
        path.push(text(k).unwrap_or("?"));
        let found = non_finite_in(v, path);
        path.pop();
        found
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::record_bytes;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::{Module, ModuleMapper, Param};
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamConfig, GradientsParams, Optimizer};
    use burn::tensor::Tensor;
    use burn::tensor::backend::Backend;

    type Ad = Autodiff<NdArray>;

    #[test]
    fn finds_a_non_finite_weight_in_a_burn_record_and_in_safetensors() {
        let net: Linear<NdArray> = LinearConfig::new(3, 2).init(&Default::default());
        let good = record_bytes::<NdArray, _>(net.clone().into_record(), "nets.mpk").unwrap();
        assert_eq!(non_finite(&[good]), None);
        let bad = record_bytes::<NdArray, _>(net.map(&mut NanBias).into_record(), "nets.mpk").unwrap();
        assert_eq!(non_finite(&[bad]).as_deref(), Some("nets.mpk: `bias`"));

        let values = [1.0f32, f32::INFINITY];
        let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &bytes).unwrap();
        let file = safetensors::serialize([("q1.w", view)], None).unwrap();
        assert_eq!(
            non_finite(&[("nets.safetensors".into(), file)]).as_deref(),
            Some("nets.safetensors: tensor `q1.w`")
        );
    }

    #[test]
    fn an_optimiser_state_of_another_shape_than_its_parameter_is_refused() {
        let (net, nets, optim) = stepped_linear(3);
        check_records(&[nets.clone(), optim]).unwrap();
        // The states of a 2 → 1 layer (weight [2, 1], bias [1]) keyed by this 2 → 3 layer's ids: each
        // record is well formed on its own, and burn would load them.
        let (other, _, (_, other_optim)) = stepped_linear(1);
        let bad = replaced(&other_optim, &other.weight.id.serialize(), &net.weight.id.serialize());
        let bad = replaced(&bad, &bias_id(&other), &bias_id(&net));
        let err = check_records(&[nets, ("optim.mpk".into(), bad)]).unwrap_err().to_string();
        assert!(err.contains("optim.mpk: the optimiser state of parameter `"), "{err}");
        assert!(
            err.contains("holds a tensor of shape [2, 1], the parameter [2, 3]")
                || err.contains("shape [1], the parameter [3]"),
            "{err}"
        );
    }

    #[test]
    fn a_parameter_id_moved_to_a_tensor_of_another_rank_is_refused() {
        let (net, (_, nets), optim) = stepped_linear(3);
        let (weight, bias) = (net.weight.id.serialize(), bias_id(&net));
        // The bias given the weight's id: Adam would hand the weight's rank-2 state to the rank-1 bias.
        let moved = replaced(&nets, &bias, &weight);
        let err = check_records(&[("nets.mpk".into(), moved), optim.clone()]).unwrap_err().to_string();
        assert!(
            err.contains(&format!("nets.mpk: parameter id `{weight}` is given to tensors of shapes [2, 3] and [3]")),
            "{err}"
        );
        // The bias's state tagged rank 2 (one flipped byte; the bias is the only rank-1 parameter):
        // burn panics on the first update.
        let retagged = replaced(&optim.1, "Rank1", "Rank2");
        let err = check_records(&[("nets.mpk".into(), nets), ("optim.mpk".into(), retagged)]).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "optim.mpk: the optimiser state of parameter `{bias}` is of rank 2, the parameter of rank 1"
            )),
            "{err}"
        );
    }

    #[test]
    fn a_record_whose_bytes_do_not_fill_its_shape_or_whose_id_is_not_one_is_refused() {
        let (net, (_, nets), _) = stepped_linear(3);
        // A 13-character id of characters outside base 32 is not an id burn could have written.
        let err = check_records(&[("nets.mpk".into(), replaced(&nets, &bias_id(&net), "zzzzzzzzzzzzz"))]).unwrap_err();
        assert!(err.to_string().contains("nets.mpk: `zzzzzzzzzzzzz` is not a parameter id"), "{err}");
        let err = check_records(&[("nets.mpk".into(), nets[..nets.len() - 1].to_vec())]).unwrap_err();
        assert!(err.to_string().contains("nets.mpk: not a MessagePack record"), "{err}");
    }

    /// A 2 → `out` linear layer after one Adam step (so that the optimiser holds a state per parameter:
    /// weight [2, out], bias [out]), with its record and the optimiser's as `nets.mpk` and `optim.mpk`.
    fn stepped_linear(out: usize) -> (Linear<Ad>, Part, Part) {
        let dev = Default::default();
        let net: Linear<Ad> = LinearConfig::new(2, out).init(&dev);
        let mut adam = AdamConfig::new().init::<Ad, Linear<Ad>>();
        let loss = net.forward(Tensor::<Ad, 2>::ones([1, 2], &dev)).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let net = adam.step(1e-3, net, grads);
        let nets = record_bytes::<Ad, _>(net.clone().into_record(), "nets.mpk").unwrap();
        let optim = record_bytes::<Ad, _>(adam.to_record(), "optim.mpk").unwrap();
        (net, nets, optim)
    }

    fn bias_id<B: Backend>(net: &Linear<B>) -> String {
        net.bias.as_ref().map(|b| b.id.serialize()).unwrap()
    }

    /// `bytes` with every occurrence of `from` replaced by `to`, of the same length (so a MessagePack
    /// string keeps its header); at least one must occur.
    fn replaced(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let (from, to) = (from.as_bytes(), to.as_bytes());
        let mut out = bytes.to_vec();
        let mut found = false;
        let mut i = 0;
        while i + from.len() <= out.len() {
            if &out[i..i + from.len()] == from {
                out[i..i + from.len()].copy_from_slice(to);
                found = true;
                i += from.len();
            } else {
                i += 1;
            }
        }
        assert!(found, "{} does not occur", String::from_utf8_lossy(from));
        out
    }

    /// Sets every one-dimensional parameter (a bias) to NaN.
    struct NanBias;

    impl<B: Backend> ModuleMapper<B> for NanBias {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            if D == 1 { param.map(|t| t.mul_scalar(f32::NAN)) } else { param }
        }
    }
}
