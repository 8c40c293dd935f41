//! Qwen2 / Qwen2.5 checkpoints as Hugging Face ships them, read from a local directory (feature `burn`):
//!
//! ```text
//! DIR/config.json                      the architecture ([`Qwen2Config`])
//! DIR/model.safetensors                the weights, or shards listed in
//! DIR/model.safetensors.index.json     {"weight_map": {"model.norm.weight": "model-00002-of-00002.safetensors", …}}
//! DIR/tokenizer.json                   the tokenizer
//! ```
//!
//! Weight names are the checkpoint's own (`model.layers.0.self_attn.q_proj.weight`, …). Every tensor
//! the config implies is checked before anything is built: a missing one, or one whose shape does not
//! fit, is an error naming the tensor, its file and both shapes. `f32`, `bf16` and `f16` are read and
//! widened to `f32`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::Deserialize;
use thiserror::Error;

use super::qwen2::Qwen2Config;

/// Why a checkpoint could not be read.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// A file that cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file whose content is not what it should be.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tensor the config needs is not in the checkpoint.
    #[error("{}: tensor `{name}` is missing (config.json implies it)", dir.display())]
    Missing {
        /// The checkpoint directory.
        dir: PathBuf,
        /// The tensor's name.
        name: String,
    },
    /// A tensor whose shape does not fit the config.
    #[error("{}: tensor `{name}` has shape {found:?} but config.json implies {expected:?}", file.display())]
    Shape {
        /// The file holding it.
        file: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its shape in the file.
        found: Vec<usize>,
        /// The shape the config implies.
        expected: Vec<usize>,
    },
}

/// A tensor read from a checkpoint, widened to `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// The weights of a checkpoint, by name, checked against its config.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    tensors: HashMap<String, HostTensor>,
}

/// Which file holds each tensor: the shard index, or the one `model.safetensors`.
fn weight_files(dir: &Path) -> Result<Option<BTreeMap<String, String>>, CheckpointError> {
    let index = dir.join("model.safetensors.index.json");
    if !index.is_file() {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct Index {
        weight_map: BTreeMap<String, String>,
    }
    let text = std::fs::read_to_string(&index).map_err(|source| CheckpointError::Io { path: index.clone(), source })?;
    let parsed: Index = serde_json::from_str(&text)
        .map_err(|e| CheckpointError::Format { path: index.clone(), reason: format!("not a shard index: {e}") })?;
    Ok(Some(parsed.weight_map))
}

fn widen(dtype: Dtype, bytes: &[u8]) -> Result<Vec<f32>, String> {
    Ok(match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::BF16 => bytes.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::F16 => bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        other => return Err(format!("dtype {other:?} is not supported (f32, bf16, f16 are)")),
    })
}

impl Weights {
    /// Reads every tensor `config` implies from `dir` (one `model.safetensors`, or the shards its
    /// index names), checking names and shapes.
    pub fn from_dir(dir: &Path, config: &Qwen2Config) -> Result<Self, CheckpointError> {
        let map = weight_files(dir)?;
        let mut by_file: BTreeMap<String, Vec<(String, Vec<usize>)>> = BTreeMap::new();
        for (name, shape) in config.tensors() {
            let file = match &map {
                Some(m) => m
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| CheckpointError::Missing { dir: dir.to_path_buf(), name: name.clone() })?,
                None => "model.safetensors".to_string(),
            };
            by_file.entry(file).or_default().push((name, shape));
        }
        let mut tensors = HashMap::new();
        for (file, wanted) in by_file {
            let path = dir.join(&file);
            let bytes = std::fs::read(&path).map_err(|source| CheckpointError::Io { path: path.clone(), source })?;
            let st = SafeTensors::deserialize(&bytes).map_err(|e| CheckpointError::Format {
                path: path.clone(),
                reason: format!("not a safetensors file: {e}"),
            })?;
            for (name, expected) in wanted {
                let view = st.tensor(&name).map_err(|_| CheckpointError::Missing {
                    dir: dir.to_path_buf(),
                    name: format!("{name}` (in {file})"),
                })?;
                if view.shape() != expected.as_slice() {
                    return Err(CheckpointError::Shape {
                        file: path.clone(),
                        name,
                        found: view.shape().to_vec(),
                        expected,
                    });
                }
                let values = widen(view.dtype(), view.data()).map_err(|reason| CheckpointError::Format {
                    path: path.clone(),
                    reason: format!("{name}: {reason}"),
                })?;
                tensors.insert(name, HostTensor { shape: expected, values });
            }
        }
        Ok(Self { tensors })
    }

    /// Weights from named tensors (no check: [`Self::from_dir`] checks what a file holds).
    pub fn from_tensors(tensors: Vec<(String, HostTensor)>) -> Self {
        Self { tensors: tensors.into_iter().collect() }
    }

    /// Every tensor, by name, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &HostTensor)> {
        let mut all: Vec<_> = self.tensors.iter().collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }

    /// The tensors as one `model.safetensors` file, `f32`, in name order.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, CheckpointError> {
        let names: Vec<&String> = self.iter().map(|(n, _)| n).collect();
        self.serialize(&names, Dtype::F32, "model.safetensors")
    }

    /// The named tensors as a safetensors file in `dtype` (`F32`, `BF16` or `F16`).
    fn serialize(&self, names: &[&String], dtype: Dtype, file: &str) -> Result<Vec<u8>, CheckpointError> {
        let err = |reason: String| CheckpointError::Format { path: file.into(), reason };
        let mut bytes = Vec::with_capacity(names.len());
        for &n in names {
            let t = self.tensors.get(n).ok_or_else(|| err(format!("no tensor `{n}`")))?;
            let b: Vec<u8> = match dtype {
                Dtype::F32 => t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                Dtype::BF16 => t.values.iter().flat_map(|&v| half::bf16::from_f32(v).to_le_bytes()).collect(),
                Dtype::F16 => t.values.iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect(),
                other => return Err(err(format!("dtype {other:?} is not supported for writing (f32, bf16, f16 are)"))),
            };
            bytes.push((n, t.shape.clone(), b));
        }
        let views = bytes
            .iter()
            .map(|(n, shape, b)| TensorView::new(dtype, shape.clone(), b).map(|v| ((*n).clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|views| safetensors::serialize(views, None));
        views.map_err(|e| err(e.to_string()))
    }

    /// The tensor called `name`, if the config implies it.
    pub fn get(&self, name: &str) -> Option<&HostTensor> {
        self.tensors.get(name)
    }

    /// How many tensors were read.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether no tensor was read.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }
}

/// Writes a Hugging Face checkpoint directory: `config.json`, the weights in `dtype` as one
/// `model.safetensors` or as `shards` files with `model.safetensors.index.json`, and `tokenizer.json`.
pub fn write_dir(
    dir: &Path,
    config: &Qwen2Config,
    weights: &Weights,
    tokenizer_json: &str,
    dtype: Dtype,
    shards: usize,
) -> Result<(), CheckpointError> {
    let io = |path: PathBuf| move |source| CheckpointError::Io { path, source };
    std::fs::create_dir_all(dir).map_err(io(dir.to_path_buf()))?;
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).map_err(io(dir.join(name)));
    let json = serde_json::to_vec_pretty(&config.to_hf_json())
        .map_err(|e| CheckpointError::Format { path: dir.join("config.json"), reason: e.to_string() })?;
    write("config.json", &json)?;
    write("tokenizer.json", tokenizer_json.as_bytes())?;
    let names: Vec<&String> = weights.iter().map(|(n, _)| n).collect();
    let shards = shards.clamp(1, names.len().max(1));
    if shards == 1 {
        return write("model.safetensors", &weights.serialize(&names, dtype, "model.safetensors")?);
    }
    let mut map = BTreeMap::new();
    for (s, chunk) in names.chunks(names.len().div_ceil(shards)).enumerate() {
        let file = format!("model-{:05}-of-{shards:05}.safetensors", s + 1);
        write(&file, &weights.serialize(chunk, dtype, &file)?)?;
        map.extend(chunk.iter().map(|n| ((*n).clone(), file.clone())));
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    write("model.safetensors.index.json", index.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_claiming_billions_of_layers_is_refused_before_listing_them() {
        // Found by `era fuzz`: num_hidden_layers = 2147483647 made the tensor list exhaust memory.
        let (mut c, _) = crate::llm::source::tiny_model();
        c.num_hidden_layers = 2_147_483_647;
        let e = c.check().unwrap_err();
        assert!(e.contains("num_hidden_layers = 2147483647 is past 1024"), "{e}");
    }

    /// The shared test model at half its width (head size 2), so that every weight is a few values.
    fn tiny() -> Qwen2Config {
        Qwen2Config { vocab_size: 11, hidden_size: 8, intermediate_size: 12, ..crate::llm::qwen2::test_config(false) }
    }

    /// Writes `config` and its tensors (value `k·0.5` for the k-th element, in `dtype`) into `dir`,
    /// split into `shards` files with an index when `shards > 1`.
    fn write(dir: &Path, config: &Qwen2Config, dtype: Dtype, shards: usize, skip: Option<&str>, reshape: Option<&str>) {
        std::fs::write(dir.join("config.json"), serde_json::to_string(config).unwrap()).unwrap();
        let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = config
            .tensors()
            .into_iter()
            .filter(|(n, _)| Some(n.as_str()) != skip)
            .map(|(n, mut shape)| {
                if Some(n.as_str()) == reshape {
                    shape[0] += 1;
                }
                let count: usize = shape.iter().product();
                let values = (0..count).map(|k| k as f32 * 0.5);
                let bytes = match dtype {
                    Dtype::BF16 => values.flat_map(|v| half::bf16::from_f32(v).to_le_bytes()).collect(),
                    Dtype::F16 => values.flat_map(|v| half::f16::from_f32(v).to_le_bytes()).collect(),
                    _ => values.flat_map(f32::to_le_bytes).collect(),
                };
                (n, shape, bytes)
            })
            .collect();
        let per = tensors.len().div_ceil(shards);
        let mut map = BTreeMap::new();
        for (s, chunk) in tensors.chunks(per).enumerate() {
            let file = if shards > 1 {
                format!("model-{:05}-of-{shards:05}.safetensors", s + 1)
            } else {
                "model.safetensors".into()
            };
            let views: Vec<(String, TensorView)> = chunk
                .iter()
                .map(|(n, shape, b)| (n.clone(), TensorView::new(dtype, shape.clone(), b).unwrap()))
                .collect();
            std::fs::write(dir.join(&file), safetensors::serialize(views, None).unwrap()).unwrap();
            for (n, _, _) in chunk {
                map.insert(n.clone(), file.clone());
            }
        }
        if shards > 1 {
            let index = serde_json::json!({"metadata": {}, "weight_map": map});
            std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).unwrap();
        }
    }

    #[test]
    fn reads_single_and_sharded_checkpoints_in_every_dtype() {
        for (dtype, shards) in [(Dtype::F32, 1), (Dtype::BF16, 3), (Dtype::F16, 2)] {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), &tiny(), dtype, shards, None, None);
            let c = Qwen2Config::from_dir(dir.path()).unwrap();
            assert_eq!((c.head_dim(), c.tensors().len()), (2, 1 + 2 * 12 + 2));
            let w = Weights::from_dir(dir.path(), &c).unwrap();
            assert_eq!(w.len(), 27);
            let q = w.get("model.layers.1.self_attn.q_proj.weight").unwrap();
            assert_eq!(q.shape, vec![8, 8]);
            // 0.5·k is exact in bf16 and f16 for these small k (k ≤ 63 needs 6 bits of mantissa).
            assert_eq!(q.values[..4], [0.0, 0.5, 1.0, 1.5], "{dtype:?}");
        }
    }

    #[test]
    fn names_missing_and_misshapen_tensors_and_bad_configs() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &tiny(), Dtype::F32, 1, Some("model.layers.1.mlp.up_proj.weight"), None);
        let e = Weights::from_dir(dir.path(), &tiny()).unwrap_err().to_string();
        assert!(e.contains("`model.layers.1.mlp.up_proj.weight"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &tiny(), Dtype::F32, 2, None, Some("model.layers.0.self_attn.k_proj.weight"));
        let e = Weights::from_dir(dir.path(), &tiny()).unwrap_err().to_string();
        assert!(
            e.contains("model.layers.0.self_attn.k_proj.weight` has shape [5, 8] but config.json implies [4, 8]"),
            "{e}"
        );
        // A tied model has no lm_head; an untied config finds none in a tied checkpoint.
        let tied = Qwen2Config { tie_word_embeddings: true, ..tiny() };
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &tied, Dtype::F32, 1, None, None);
        assert!(Weights::from_dir(dir.path(), &tied).is_ok());
        assert!(Weights::from_dir(dir.path(), &tiny()).unwrap_err().to_string().contains("`lm_head.weight"));
        std::fs::write(dir.path().join("model.safetensors"), b"\x08\x00\x00\x00\x00\x00\x00\x00{}").unwrap();
        assert!(Weights::from_dir(dir.path(), &tied).unwrap_err().to_string().contains("model.safetensors"));
        let bad = Qwen2Config { num_key_value_heads: 3, ..tiny() };
        assert!(bad.check().unwrap_err().contains("num_key_value_heads 3"));
        std::fs::write(dir.path().join("config.json"), "{\"hidden_size\": 8}").unwrap();
        assert!(Qwen2Config::from_dir(dir.path()).unwrap_err().to_string().contains("config.json: not a Qwen2 config"));
    }
}
