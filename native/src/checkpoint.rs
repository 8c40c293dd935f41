//! Checkpoints: one directory per checkpoint, written atomically, in a layout every domain shares.
//!
//! ```text
//! RUN_DIR/checkpoints/step-000020000/
//!     meta.json          {"format": "era-checkpoint", "version": 1, "step": …, "wall_s": …,
//!                         "algorithm": …, "parts": ["nets.mpk", …]}
//!     nets.mpk           networks (burn's named MessagePack record, full precision)
//!     optim-*.mpk        optimiser states (same format)
//!     loop.json          the training loop's position: step, RNG states, environment states, …
//!     replay.safetensors the replay buffer (off-policy agents)
//! ```
//!
//! A checkpoint is written into a temporary directory, each file synced, then renamed into place, so
//! a crash leaves either the previous checkpoints or the complete new one. The newest [`KEEP`] are kept.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use era_shared::runlog::CHECKPOINT_DIR;
use era_shared::train::Part;
use serde::{Deserialize, Serialize};

/// The format name in every `meta.json`.
pub const FORMAT: &str = "era-checkpoint";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// How many checkpoints are kept per run.
pub const KEEP: usize = 2;
const META: &str = "meta.json";

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version.
    pub version: u32,
    /// The step the checkpoint was taken at.
    pub step: u64,
    /// Wall-clock seconds of the run at that step.
    pub wall_s: f64,
    /// The algorithm that wrote it.
    pub algorithm: String,
    /// The files besides `meta.json`.
    pub parts: Vec<String>,
}

/// A checkpoint read back.
#[derive(Debug)]
pub struct Checkpoint {
    /// Its directory.
    pub dir: PathBuf,
    /// Its `meta.json`.
    pub meta: Meta,
    /// Its parts.
    pub parts: Vec<Part>,
}

fn step_dir(run_dir: &Path, step: u64) -> PathBuf {
    run_dir.join(CHECKPOINT_DIR).join(format!("step-{step:012}"))
}

/// Writes a checkpoint of `run_dir` at `step` atomically and prunes old ones; returns its directory.
pub fn write(run_dir: &Path, step: u64, wall_s: f64, algorithm: &str, parts: &[Part]) -> anyhow::Result<PathBuf> {
    let root = run_dir.join(CHECKPOINT_DIR);
    fs::create_dir_all(&root).with_context(|| format!("{}: cannot create the checkpoint folder", root.display()))?;
    // Temporary folders left by a process killed mid-write are never complete: clear them.
    if let Ok(entries) = fs::read_dir(&root) {
        for e in entries.filter_map(Result::ok) {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = root.join(format!(".tmp-step-{step:012}-{}", std::process::id()));
    fs::create_dir(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
    let save = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = tmp.join(name);
        let mut f = fs::File::create(&path).with_context(|| format!("{}: cannot create", path.display()))?;
        f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("{}: cannot write", path.display()))
    };
    let meta = Meta {
        format: FORMAT.into(),
        version: VERSION,
        step,
        wall_s,
        algorithm: algorithm.into(),
        parts: parts.iter().map(|(n, _)| n.clone()).collect(),
    };
    let saved = parts
        .iter()
        .try_for_each(|(name, bytes)| save(name, bytes))
        .and_then(|()| save(META, &serde_json::to_vec_pretty(&meta)?));
    if let Err(e) = saved {
        // A full disk: free what the incomplete checkpoint took; the previous ones stay as they were.
        let _ = fs::remove_dir_all(&tmp);
        return Err(e.context("the checkpoint was not written; the previous ones are intact"));
    }
    let dest = step_dir(run_dir, step);
    if dest.exists() {
        fs::remove_dir_all(&dest).with_context(|| format!("{}: cannot replace", dest.display()))?;
    }
    fs::rename(&tmp, &dest).with_context(|| format!("{}: cannot move into place", dest.display()))?;
    if let Ok(d) = fs::File::open(&root) {
        let _ = d.sync_all();
    }
    let mut all = list(run_dir);
    while all.len() > KEEP {
        let (_, old) = all.remove(0);
        let _ = fs::remove_dir_all(old);
    }
    Ok(dest)
}

/// Complete checkpoints of a run, oldest first, as `(step, dir)`.
fn list(run_dir: &Path) -> Vec<(u64, PathBuf)> {
    let root = run_dir.join(CHECKPOINT_DIR);
    let Ok(entries) = fs::read_dir(&root) else { return Vec::new() };
    let mut out: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix("step-")?.parse().ok()?;
            e.path().join(META).is_file().then(|| (step, e.path()))
        })
        .collect();
    out.sort();
    out
}

/// The steps of a run's complete checkpoints, oldest first.
pub fn steps(run_dir: &Path) -> Vec<u64> {
    list(run_dir).into_iter().map(|(s, _)| s).collect()
}

/// The checkpoint at `step`, made the newest: newer ones are renamed `superseded-step-…` (kept, but
/// no longer read), so that a later plain `--resume` continues this line of training, not the old one.
pub fn rewind_to(run_dir: &Path, step: u64) -> anyhow::Result<Checkpoint> {
    let all = list(run_dir);
    let Some((_, dir)) = all.iter().find(|(s, _)| *s == step) else {
        let have: Vec<String> = all.iter().map(|(s, _)| s.to_string()).collect();
        bail!(
            "{}: --from-step {step}: no checkpoint at that step (checkpoints at steps: {})",
            run_dir.display(),
            if have.is_empty() { "none".to_string() } else { have.join(", ") }
        );
    };
    let ckpt = read(dir)?;
    for (s, newer) in all.iter().filter(|(s, _)| *s > step) {
        let aside = run_dir.join(CHECKPOINT_DIR).join(format!("superseded-step-{s:012}"));
        if aside.exists() {
            fs::remove_dir_all(&aside).with_context(|| format!("{}: cannot replace", aside.display()))?;
        }
        fs::rename(newer, &aside).with_context(|| format!("{}: cannot set aside", newer.display()))?;
    }
    Ok(ckpt)
}

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
            let value = rmpv::decode::read_value(&mut &bytes[..]).ok()?;
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
fn decode_record(bytes: &[u8]) -> Result<rmpv::Value, String> {
    let value = rmpv::decode::read_value(&mut &bytes[..]).map_err(|e| format!("not a MessagePack record: {e}"))?;
    check_value(&value)?;
    Ok(value)
}

/// Checks a checkpoint's burn records (its `.mpk` parts) before burn reads them: each on its own
/// (ids, byte counts), then every optimiser state against its parameter. An optimiser record keys
/// each parameter's state (Adam's moments, a momentum) by the parameter's id; a state of another
/// shape than its parameter is not caught by burn and makes the next update panic. On failure,
/// returns the part's name and what is wrong.
pub fn check_records(parts: &[Part]) -> Result<(), (String, String)> {
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
            let (Some(id), Some(shape)) =
                (field(map, "id").and_then(rmpv::Value::as_str), field(map, "param").and_then(tensor_shape))
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
            let Some((id, want)) = key.as_str().and_then(|k| params.iter().find(|(p, _)| *p == k)) else { return };
            // Burn tags a state with its rank (`Rank2`) and panics if it is not the parameter's.
            visit_entries(state, &mut |tag, _| {
                if let Some(rank) = tag.as_str().and_then(|t| t.strip_prefix("Rank"))
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

/// A MessagePack map's entries.
type Entries = [(rmpv::Value, rmpv::Value)];

/// The value of the entry keyed `key`.
fn field<'a>(map: &'a Entries, key: &str) -> Option<&'a rmpv::Value> {
    map.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
}

/// Calls `f` with the entries of every map in `value`, outermost first.
fn visit_maps<'a>(value: &'a rmpv::Value, f: &mut dyn FnMut(&'a Entries)) {
    match value {
        rmpv::Value::Map(entries) => {
            f(entries);
            entries.iter().for_each(|(_, v)| visit_maps(v, f));
        }
        rmpv::Value::Array(items) => items.iter().for_each(|v| visit_maps(v, f)),
        _ => {}
    }
}

/// Calls `f` with every key and value of every map in `value`.
fn visit_entries<'a>(value: &'a rmpv::Value, f: &mut dyn FnMut(&'a rmpv::Value, &'a rmpv::Value)) {
    match value {
        rmpv::Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            f(k, v);
            visit_entries(v, f);
        }),
        rmpv::Value::Array(items) => items.iter().for_each(|v| visit_entries(v, f)),
        _ => {}
    }
}

/// The shape of a tensor record `{bytes, shape, dtype}`.
fn tensor_shape(value: &rmpv::Value) -> Option<Vec<u64>> {
    let rmpv::Value::Map(entries) = value else { return None };
    tensor_shape_of(entries)
}

fn tensor_shape_of(map: &Entries) -> Option<Vec<u64>> {
    field(map, "bytes")?;
    field(map, "dtype")?;
    field(map, "shape")?.as_array()?.iter().map(rmpv::Value::as_u64).collect()
}

fn check_value(value: &rmpv::Value) -> Result<(), String> {
    match value {
        rmpv::Value::Array(items) => items.iter().try_for_each(check_value),
        rmpv::Value::Map(entries) => {
            // Optimiser records are maps keyed by parameter id: burn panics on a key that decodes to
            // more than 8 bytes (15 or more base-32 characters).
            let base32 = |k: &str| k.len() >= 15 && k.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v'));
            if let Some(k) = entries.iter().filter_map(|(k, _)| k.as_str()).find(|k| base32(k)) {
                return Err(format!("`{k}` is not a parameter id"));
            }
            let get = |key: &str| field(entries, key);
            if let Some(id) = get("id").and_then(rmpv::Value::as_str) {
                // Burn's ids are 13 base-32 characters (8 bytes) or, from older versions, a UUID.
                let ok = (id.len() <= 13 || id.len() == 36) && burn::module::ParamId::try_deserialize(id).is_some();
                if !ok {
                    return Err(format!("`{id}` is not a parameter id"));
                }
            }
            if let (Some(rmpv::Value::Binary(data)), Some(shape)) = (get("bytes"), get("shape")) {
                let dims: Option<Vec<u64>> = shape.as_array().and_then(|a| a.iter().map(rmpv::Value::as_u64).collect());
                let size = match get("dtype").and_then(rmpv::Value::as_str) {
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
fn non_finite_in<'a>(value: &'a rmpv::Value, path: &mut Vec<&'a str>) -> Option<String> {
    let rmpv::Value::Map(entries) = value else {
        if let rmpv::Value::Array(items) = value {
            return items.iter().find_map(|v| non_finite_in(v, path));
        }
        return None;
    };
    let get = |key: &str| field(entries, key);
    if let (Some(rmpv::Value::Binary(bytes)), Some(dtype)) = (get("bytes"), get("dtype")) {
        let finite = match dtype.as_str() {
            Some("F32") => all_finite_f32(bytes),
            Some("F64") => {
                bytes.chunks_exact(8).all(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])).is_finite())
            }
            _ => true,
        };
        return (!finite).then(|| path.join("."));
    }
    entries.iter().find_map(|(k, v)| {
        path.push(k.as_str().unwrap_or("?"));
        let found = non_finite_in(v, path);
        path.pop();
        found
    })
}

/// Reads the checkpoint in `dir`.
pub fn read(dir: &Path) -> anyhow::Result<Checkpoint> {
    let meta_path = dir.join(META);
    let text = fs::read_to_string(&meta_path).with_context(|| format!("{}: cannot read", meta_path.display()))?;
    let meta: Meta = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a checkpoint description", meta_path.display()))?;
    if meta.format != FORMAT || meta.version != VERSION {
        bail!(
            "{}: format {} version {} (this era reads {FORMAT} version {VERSION})",
            meta_path.display(),
            meta.format,
            meta.version
        );
    }
    let parts = meta
        .parts
        .iter()
        .map(|name| {
            let p = dir.join(name);
            fs::read(&p).map(|b| (name.clone(), b)).with_context(|| format!("{}: cannot read", p.display()))
        })
        .collect::<anyhow::Result<Vec<Part>>>()?;
    check_records(&parts).map_err(|(name, e)| anyhow::anyhow!("{}: corrupt: {e}", dir.join(name).display()))?;
    Ok(Checkpoint { dir: dir.to_path_buf(), meta, parts })
}

/// The newest complete checkpoint of a run, if any.
pub fn latest(run_dir: &Path) -> anyhow::Result<Option<Checkpoint>> {
    match list(run_dir).pop() {
        Some((_, dir)) => read(&dir).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_keeps_the_newest_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        for step in [10, 20, 30] {
            write(dir.path(), step, step as f64, "sac", &[("a.bin".into(), vec![step as u8; 3])]).unwrap();
        }
        let steps: Vec<u64> = list(dir.path()).into_iter().map(|(s, _)| s).collect();
        assert_eq!(steps, vec![20, 30]);
        // A half-written checkpoint (no meta.json) is ignored; a killed writer's temporary folder is cleared.
        fs::create_dir_all(step_dir(dir.path(), 40)).unwrap();
        let stale = dir.path().join(CHECKPOINT_DIR).join(".tmp-step-000000000050-1");
        fs::create_dir_all(&stale).unwrap();
        write(dir.path(), 30, 30.0, "sac", &[("a.bin".into(), vec![30u8; 3])]).unwrap();
        assert!(!stale.exists());
        let c = latest(dir.path()).unwrap().unwrap();
        assert_eq!(c.meta.step, 30);
        assert_eq!(c.parts, vec![("a.bin".to_string(), vec![30u8; 3])]);
        fs::remove_file(c.dir.join("a.bin")).unwrap();
        assert!(read(&c.dir).unwrap_err().to_string().contains("a.bin"));
    }

    #[test]
    fn rewinding_sets_newer_checkpoints_aside() {
        let dir = tempfile::tempdir().unwrap();
        for step in [10, 20] {
            write(dir.path(), step, 0.0, "sac", &[("a.bin".into(), vec![step as u8])]).unwrap();
        }
        assert!(rewind_to(dir.path(), 15).unwrap_err().to_string().contains("checkpoints at steps: 10, 20"));
        assert_eq!(rewind_to(dir.path(), 10).unwrap().parts, vec![("a.bin".to_string(), vec![10u8])]);
        assert_eq!(steps(dir.path()), vec![10]);
        assert!(dir.path().join(CHECKPOINT_DIR).join("superseded-step-000000000020").join(META).is_file());
    }

    #[test]
    fn finds_a_non_finite_weight_in_a_burn_record_and_in_safetensors() {
        use burn::backend::NdArray;
        use burn::module::Module;
        use burn::nn::{Linear, LinearConfig};
        let device = Default::default();
        let net: Linear<NdArray> = LinearConfig::new(3, 2).init(&device);
        let good = mpk(net.clone());
        assert_eq!(non_finite(&[good]), None);
        let bad_net = net.map(&mut NanBias);
        let bad = mpk(bad_net);
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

    /// A network as the checkpoint part `nets.mpk`, recorded as the trainers record them.
    #[test]
    fn an_optimiser_state_of_another_shape_than_its_parameter_is_refused() {
        let (net, nets, (_, optim)) = stepped_linear();
        assert_eq!(check_records(&[nets.clone(), ("optim.mpk".into(), optim.clone())]), Ok(()));
        // The bias's first moment cut to one value and its shape to [1] (the bytes still fill the
        // shape, so the record on its own is well formed).
        let mut v = rmpv::decode::read_value(&mut &optim[..]).unwrap();
        let bias = net.bias.as_ref().unwrap().id.serialize();
        let mut cut = false;
        visit_entries_mut(&mut v, &mut |key, state| {
            if key.as_str() == Some(bias.as_str()) {
                cut = shrink_first_tensor(state);
            }
        });
        assert!(cut);
        let mut bad = Vec::new();
        rmpv::encode::write_value(&mut bad, &v).unwrap();
        let (part, why) = check_records(&[nets, ("optim.mpk".into(), bad)]).unwrap_err();
        assert_eq!(part, "optim.mpk");
        assert!(why.contains(&format!("parameter `{bias}` holds a tensor of shape [1], the parameter [3]")), "{why}");
    }

    #[test]
    fn a_parameter_id_moved_to_a_tensor_of_another_rank_is_refused() {
        let (net, nets, optim) = stepped_linear();
        let (weight, bias) = (net.weight.id.serialize(), net.bias.as_ref().unwrap().id.serialize());
        let encode = |v: &rmpv::Value| {
            let mut out = Vec::new();
            rmpv::encode::write_value(&mut out, v).unwrap();
            out
        };
        // The bias given the weight's id: Adam would hand the weight's rank-2 state to the rank-1 bias.
        let mut v = rmpv::decode::read_value(&mut &nets.1[..]).unwrap();
        visit_entries_mut(&mut v, &mut |key, value| {
            if key.as_str() == Some("id") && value.as_str() == Some(bias.as_str()) {
                *value = weight.as_str().into();
            }
        });
        let (part, why) = check_records(&[("nets.mpk".into(), encode(&v)), optim.clone()]).unwrap_err();
        assert_eq!(part, "nets.mpk");
        assert!(
            why.contains(&format!("parameter id `{weight}` is given to tensors of shapes [2, 3] and [3]")),
            "{why}"
        );
        // The bias's state tagged rank 2 (one flipped byte): burn panics on the first update.
        let mut v = rmpv::decode::read_value(&mut &optim.1[..]).unwrap();
        let mut retagged = false;
        visit_entries_mut(&mut v, &mut |key, state| {
            if key.as_str() == Some(bias.as_str()) {
                visit_entries_mut(state, &mut |_, inner| {
                    if let rmpv::Value::Map(entries) = inner
                        && let Some((tag, _)) = entries.iter_mut().find(|(k, _)| k.as_str() == Some("Rank1"))
                    {
                        *tag = "Rank2".into();
                        retagged = true;
                    }
                });
            }
        });
        assert!(retagged);
        let (part, why) = check_records(&[nets, ("optim.mpk".into(), encode(&v))]).unwrap_err();
        assert_eq!(part, "optim.mpk");
        assert!(why.contains(&format!("parameter `{bias}` is of rank 2, the parameter of rank 1")), "{why}");
    }

    type Ad = burn::backend::Autodiff<burn::backend::NdArray>;

    /// A 2 → 3 linear layer after one Adam step (so that the optimiser holds a state per parameter:
    /// weight [2, 3], bias [3]), with its record and the optimiser's as `nets.mpk` and `optim.mpk`.
    fn stepped_linear() -> (burn::nn::Linear<Ad>, Part, Part) {
        use burn::module::Module;
        use burn::optim::{AdamConfig, GradientsParams, Optimizer};
        use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
        let dev = Default::default();
        let net: burn::nn::Linear<Ad> = burn::nn::LinearConfig::new(2, 3).init(&dev);
        let mut adam = AdamConfig::new().init::<Ad, burn::nn::Linear<Ad>>();
        let loss = net.forward(burn::tensor::Tensor::<Ad, 2>::ones([1, 2], &dev)).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let net = adam.step(1e-3, net, grads);
        let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
        let nets = ("nets.mpk".to_string(), recorder.record(net.clone().into_record(), ()).unwrap());
        let optim = ("optim.mpk".to_string(), recorder.record(adam.to_record(), ()).unwrap());
        (net, nets, optim)
    }

    fn visit_entries_mut(value: &mut rmpv::Value, f: &mut dyn FnMut(&rmpv::Value, &mut rmpv::Value)) {
        match value {
            rmpv::Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                f(k, v);
                visit_entries_mut(v, f);
            }),
            rmpv::Value::Array(items) => items.iter_mut().for_each(|v| visit_entries_mut(v, f)),
            _ => {}
        }
    }

    /// Cuts the first tensor record `{bytes, shape, dtype}` in `value` to its first f32, shape [1].
    fn shrink_first_tensor(value: &mut rmpv::Value) -> bool {
        match value {
            rmpv::Value::Map(entries) => {
                let has = |k: &str| entries.iter().any(|(key, _)| key.as_str() == Some(k));
                if has("bytes") && has("shape") {
                    for (k, v) in entries.iter_mut() {
                        match (k.as_str(), v) {
                            (Some("bytes"), rmpv::Value::Binary(b)) => b.truncate(4),
                            (Some("shape"), v) => *v = rmpv::Value::Array(vec![1.into()]),
                            _ => {}
                        }
                    }
                    return true;
                }
                entries.iter_mut().any(|(_, v)| shrink_first_tensor(v))
            }
            rmpv::Value::Array(items) => items.iter_mut().any(shrink_first_tensor),
            _ => false,
        }
    }

    fn mpk(net: burn::nn::Linear<burn::backend::NdArray>) -> Part {
        use burn::module::Module;
        use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
        let bytes = NamedMpkBytesRecorder::<FullPrecisionSettings>::default().record(net.into_record(), ()).unwrap();
        ("nets.mpk".into(), bytes)
    }

    /// Sets every one-dimensional parameter (a bias) to NaN.
    struct NanBias;

    impl<B: burn::tensor::backend::Backend> burn::module::ModuleMapper<B> for NanBias {
        fn map_float<const D: usize>(
            &mut self,
            param: burn::module::Param<burn::tensor::Tensor<B, D>>,
        ) -> burn::module::Param<burn::tensor::Tensor<B, D>> {
            if D == 1 { param.map(|t| t.mul_scalar(f32::NAN)) } else { param }
        }
    }
}
