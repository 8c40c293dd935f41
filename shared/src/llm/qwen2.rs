//! The Qwen2 / Qwen2.5 decoder, generic over the burn backend.
//!
//! ```text
//! h₀ = embed_tokens[x]
//! for each layer:  h += o_proj(attention(rope(q_proj(n)), rope(k_proj(n)), v_proj(n)))   n = input_layernorm(h)
//!                  h += down_proj(silu(gate_proj(n)) ⊙ up_proj(n))                        n = post_attention_layernorm(h)
//! logits = lm_head(norm(h))            (lm_head = embed_tokensᵀ when tie_word_embeddings)
//! ```
//!
//! RMSNorm `x / √(mean x² + ε) · γ`; rotary embeddings on `(x₁, x₂)` halves of each head,
//! `x·cos + (−x₂, x₁)·sin` with angles `pos · θ^(−2i/d)`; grouped-query attention (query head `h` reads
//! key/value head `h / (heads / kv_heads)`), q/k/v with biases, o_proj without. Weight names and
//! layouts follow the Hugging Face checkpoint (linear weights stored `[out, in]`, transposed on load).
//!
//! Batches are left-padded: row `b` starts with `pad[b]` padding tokens that no position attends to,
//! and its real tokens take positions `0, 1, …`. Right padding (after a response ended) needs no mask:
//! causal attention never looks ahead, and the loss ignores those positions.

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::{Embedding, Linear, RmsNorm};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData, activation};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::hf_weights::{CheckpointError, HostTensor, Weights};
use crate::train::{TrainError, TrainRng, upload};

/// The architecture, as `config.json` gives it (fields the model does not use are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qwen2Config {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Width of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention: each serves `heads / kv_heads` query heads).
    pub num_key_value_heads: usize,
    /// Longest sequence the rotary table covers.
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
    /// RMSNorm's ε.
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    /// Rotary embedding base θ.
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    /// Whether the output projection is the token embedding (no `lm_head.weight`).
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// End-of-sequence token id(s), when given.
    #[serde(default)]
    pub eos_token_id: Option<serde_json::Value>,
}

fn default_max_positions() -> usize {
    32_768
}
fn default_eps() -> f64 {
    1e-6
}
fn default_theta() -> f64 {
    10_000.0
}

impl Qwen2Config {
    /// The `config.json` era writes: these sizes with the names `transformers` dispatches on
    /// (`model_type` `qwen2`, `architectures` `[Qwen2ForCausalLM]`) and the activation the
    /// architecture fixes (`hidden_act` `silu`), so that `AutoConfig` and `AutoModelForCausalLM`
    /// recognise a checkpoint era wrote.
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|e| unreachable!("a Qwen2 config serialises: {e}"));
        if let Some(map) = v.as_object_mut() {
            map.insert("model_type".into(), "qwen2".into());
            map.insert("architectures".into(), serde_json::json!(["Qwen2ForCausalLM"]));
            map.insert("hidden_act".into(), "silu".into());
        }
        v
    }

    /// Reads and checks `DIR/config.json`.
    pub fn from_dir(dir: &Path) -> Result<Self, CheckpointError> {
        let path = dir.join("config.json");
        let text =
            std::fs::read_to_string(&path).map_err(|source| CheckpointError::Io { path: path.clone(), source })?;
        let c: Self = serde_json::from_str(&text)
            .map_err(|e| CheckpointError::Format { path: path.clone(), reason: format!("not a Qwen2 config: {e}") })?;
        c.check().map_err(|reason| CheckpointError::Format { path, reason })?;
        Ok(c)
    }

    /// Fails, naming the fields, when the sizes cannot form the architecture.
    pub fn check(&self) -> Result<(), String> {
        let sizes = [self.vocab_size, self.hidden_size, self.intermediate_size, self.num_hidden_layers];
        if sizes.contains(&0) || self.num_attention_heads == 0 || self.num_key_value_heads == 0 {
            return Err(
                "vocab_size, hidden_size, intermediate_size, num_hidden_layers and the head counts must be ≥ 1".into(),
            );
        }
        // Bounds well past any released Qwen2 (72B: 80 layers, width 8 192, vocabulary 152 064), so
        // that a corrupt config is refused before the tensors it implies are listed or allocated.
        for (name, value, max) in [
            ("vocab_size", self.vocab_size, 1 << 22),
            ("hidden_size", self.hidden_size, 1 << 16),
            ("intermediate_size", self.intermediate_size, 1 << 18),
            ("num_hidden_layers", self.num_hidden_layers, 1 << 10),
            ("num_attention_heads", self.num_attention_heads, 1 << 10),
            ("num_key_value_heads", self.num_key_value_heads, 1 << 10),
            ("max_position_embeddings", self.max_position_embeddings, 1 << 24),
        ] {
            if value > max {
                return Err(format!("{name} = {value} is past {max}: not a checkpoint era can hold"));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !self.num_attention_heads.is_multiple_of(self.num_key_value_heads) {
            return Err(format!(
                "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                self.num_attention_heads, self.num_key_value_heads
            ));
        }
        if !self.head_dim().is_multiple_of(2) {
            return Err(format!("head size {} is odd: rotary embeddings need pairs", self.head_dim()));
        }
        if !(self.rms_norm_eps > 0.0 && self.rope_theta > 0.0) {
            return Err("rms_norm_eps and rope_theta must be > 0".into());
        }
        Ok(())
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Every tensor the config implies, with its shape, in the checkpoint's names and layout
    /// (linear weights are `[out, in]`).
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let (h, i, v) = (self.hidden_size, self.intermediate_size, self.vocab_size);
        let (q, kv) = (self.num_attention_heads * self.head_dim(), self.num_key_value_heads * self.head_dim());
        let mut t = vec![("model.embed_tokens.weight".to_string(), vec![v, h])];
        for l in 0..self.num_hidden_layers {
            let p = format!("model.layers.{l}");
            t.extend([
                (format!("{p}.input_layernorm.weight"), vec![h]),
                (format!("{p}.self_attn.q_proj.weight"), vec![q, h]),
                (format!("{p}.self_attn.q_proj.bias"), vec![q]),
                (format!("{p}.self_attn.k_proj.weight"), vec![kv, h]),
                (format!("{p}.self_attn.k_proj.bias"), vec![kv]),
                (format!("{p}.self_attn.v_proj.weight"), vec![kv, h]),
                (format!("{p}.self_attn.v_proj.bias"), vec![kv]),
                (format!("{p}.self_attn.o_proj.weight"), vec![h, q]),
                (format!("{p}.post_attention_layernorm.weight"), vec![h]),
                (format!("{p}.mlp.gate_proj.weight"), vec![i, h]),
                (format!("{p}.mlp.up_proj.weight"), vec![i, h]),
                (format!("{p}.mlp.down_proj.weight"), vec![h, i]),
            ]);
        }
        t.push(("model.norm.weight".to_string(), vec![h]));
        if !self.tie_word_embeddings {
            t.push(("lm_head.weight".to_string(), vec![v, h]));
        }
        t
    }
}

/// Added to the scores of keys a query may not see (finite, so a fully masked padding row stays finite).
const MASKED: f32 = -1e9;

/// The sizes attention needs at run time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Heads {
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Rotary base θ.
    pub rope_theta: f64,
}

/// One self-attention block with grouped-query heads.
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    /// `q_proj` (with bias).
    pub q_proj: Linear<B>,
    /// `k_proj` (with bias).
    pub k_proj: Linear<B>,
    /// `v_proj` (with bias).
    pub v_proj: Linear<B>,
    /// `o_proj` (no bias).
    pub o_proj: Linear<B>,
}

/// The SwiGLU feed-forward block.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    /// `gate_proj`.
    pub gate_proj: Linear<B>,
    /// `up_proj`.
    pub up_proj: Linear<B>,
    /// `down_proj`.
    pub down_proj: Linear<B>,
}

/// One decoder layer.
#[derive(Module, Debug)]
pub struct DecoderLayer<B: Backend> {
    /// Norm before attention.
    pub input_layernorm: RmsNorm<B>,
    /// Self-attention.
    pub self_attn: Attention<B>,
    /// Norm before the MLP.
    pub post_attention_layernorm: RmsNorm<B>,
    /// The MLP.
    pub mlp: Mlp<B>,
}

/// The whole decoder with its output projection.
#[derive(Module, Debug)]
pub struct Qwen2<B: Backend> {
    /// `model.embed_tokens`.
    pub embed_tokens: Embedding<B>,
    /// `model.layers.*`.
    pub layers: Vec<DecoderLayer<B>>,
    /// `model.norm`.
    pub norm: RmsNorm<B>,
    /// `lm_head`, absent when tied to the embedding.
    pub lm_head: Option<Linear<B>>,
    /// Head sizes and the rotary base.
    #[module(skip)]
    pub shape: Heads,
}

/// Keys and values of every layer for the tokens seen so far, `[batch, kv_heads, len, head_dim]`.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    layers: Vec<Option<(Tensor<B, 4>, Tensor<B, 4>)>>,
    len: usize,
}

impl<B: Backend> KvCache<B> {
    /// An empty cache for a model with `layers` layers.
    pub fn new(layers: usize) -> Self {
        Self { layers: vec![None; layers], len: 0 }
    }

    /// Tokens cached per row (padding included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is cached yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Seeded `N(0, 0.02)` weights (Qwen2's `initializer_range`), zero biases and unit norms for `config`,
/// in the checkpoint's names and layouts: a model trained from scratch starts here.
pub fn random_weights(config: &Qwen2Config, seed: u64) -> Weights {
    let mut rng = TrainRng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 0.02).unwrap_or_else(|_| unreachable!("0.02 is a valid std"));
    let tensors = config.tensors().into_iter().map(|(name, shape)| {
        let n: usize = shape.iter().product();
        let values = if name.ends_with("norm.weight") {
            vec![1.0; n]
        } else if name.ends_with(".bias") {
            vec![0.0; n]
        } else {
            (0..n).map(|_| normal.sample(&mut rng)).collect()
        };
        (name, HostTensor { shape, values })
    });
    Weights::from_tensors(tensors.collect())
}

impl<B: Backend> Qwen2<B> {
    /// Builds the model from checked weights (see [`Weights::from_dir`] and [`random_weights`]).
    pub fn from_weights(config: &Qwen2Config, weights: &Weights, device: &B::Device) -> Result<Self, TrainError> {
        let get = |name: &str| -> Result<&HostTensor, TrainError> {
            weights.get(name).ok_or_else(|| TrainError::Checkpoint(format!("tensor `{name}` is missing")))
        };
        let matrix = |name: &str| -> Result<Tensor<B, 2>, TrainError> {
            let t = get(name)?;
            Ok(upload::<B, 2>(&t.values, [t.shape[0], t.shape[1]], device))
        };
        let vector = |name: &str| -> Result<Tensor<B, 1>, TrainError> {
            let t = get(name)?;
            Ok(upload::<B, 1>(&t.values, [t.shape[0]], device))
        };
        // Checkpoints store `[out, in]`; burn's Linear multiplies by `[in, out]`.
        let linear = |prefix: &str, bias: bool| -> Result<Linear<B>, TrainError> {
            Ok(Linear {
                weight: Param::from_tensor(matrix(&format!("{prefix}.weight"))?.transpose()),
                bias: if bias { Some(Param::from_tensor(vector(&format!("{prefix}.bias"))?)) } else { None },
            })
        };
        let norm = |name: &str| -> Result<RmsNorm<B>, TrainError> {
            Ok(RmsNorm { gamma: Param::from_tensor(vector(name)?), epsilon: config.rms_norm_eps })
        };
        let layers = (0..config.num_hidden_layers)
            .map(|l| {
                let p = format!("model.layers.{l}");
                Ok(DecoderLayer {
                    input_layernorm: norm(&format!("{p}.input_layernorm.weight"))?,
                    self_attn: Attention {
                        q_proj: linear(&format!("{p}.self_attn.q_proj"), true)?,
                        k_proj: linear(&format!("{p}.self_attn.k_proj"), true)?,
                        v_proj: linear(&format!("{p}.self_attn.v_proj"), true)?,
                        o_proj: linear(&format!("{p}.self_attn.o_proj"), false)?,
                    },
                    post_attention_layernorm: norm(&format!("{p}.post_attention_layernorm.weight"))?,
                    mlp: Mlp {
                        gate_proj: linear(&format!("{p}.mlp.gate_proj"), false)?,
                        up_proj: linear(&format!("{p}.mlp.up_proj"), false)?,
                        down_proj: linear(&format!("{p}.mlp.down_proj"), false)?,
                    },
                })
            })
            .collect::<Result<Vec<_>, TrainError>>()?;
        Ok(Self {
            embed_tokens: Embedding { weight: Param::from_tensor(matrix("model.embed_tokens.weight")?) },
            layers,
            norm: norm("model.norm.weight")?,
            lm_head: if config.tie_word_embeddings { None } else { Some(linear("lm_head", false)?) },
            shape: Heads {
                heads: config.num_attention_heads,
                kv_heads: config.num_key_value_heads,
                head_dim: config.head_dim(),
                rope_theta: config.rope_theta,
            },
        })
    }

    /// Every weight in the checkpoint's names and layouts (`[out, in]` for linear weights), read from
    /// the device: what [`super::hf_weights::write_dir`] stores.
    pub fn to_weights(&self) -> Result<Weights, TrainError> {
        fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Result<HostTensor, TrainError> {
            let shape = t.dims().to_vec();
            let values =
                t.into_data().convert::<f32>().into_vec::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))?;
            Ok(HostTensor { shape, values })
        }
        let mut out = Vec::new();
        let mut linear = |name: &str, l: &Linear<B>| -> Result<(), TrainError> {
            out.push((format!("{name}.weight"), host(l.weight.val().transpose())?));
            if let Some(b) = &l.bias {
                out.push((format!("{name}.bias"), host(b.val())?));
            }
            Ok(())
        };
        for (i, layer) in self.layers.iter().enumerate() {
            let p = format!("model.layers.{i}");
            let a = &layer.self_attn;
            linear(&format!("{p}.self_attn.q_proj"), &a.q_proj)?;
            linear(&format!("{p}.self_attn.k_proj"), &a.k_proj)?;
            linear(&format!("{p}.self_attn.v_proj"), &a.v_proj)?;
            linear(&format!("{p}.self_attn.o_proj"), &a.o_proj)?;
            linear(&format!("{p}.mlp.gate_proj"), &layer.mlp.gate_proj)?;
            linear(&format!("{p}.mlp.up_proj"), &layer.mlp.up_proj)?;
            linear(&format!("{p}.mlp.down_proj"), &layer.mlp.down_proj)?;
        }
        if let Some(head) = &self.lm_head {
            linear("lm_head", head)?;
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let p = format!("model.layers.{i}");
            out.push((format!("{p}.input_layernorm.weight"), host(layer.input_layernorm.gamma.val())?));
            out.push((
                format!("{p}.post_attention_layernorm.weight"),
                host(layer.post_attention_layernorm.gamma.val())?,
            ));
        }
        out.push(("model.norm.weight".into(), host(self.norm.gamma.val())?));
        out.push(("model.embed_tokens.weight".into(), host(self.embed_tokens.weight.val())?));
        Ok(Weights::from_tensors(out))
    }

    /// Decoder layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Final hidden states `[batch, len, hidden]` of `tokens` `[batch, len]`, continuing `cache` when
    /// given (its keys and values are extended). `pad[b]` is row `b`'s count of left-padding tokens.
    pub fn hidden(&self, tokens: Tensor<B, 2, Int>, pad: &[usize], mut cache: Option<&mut KvCache<B>>) -> Tensor<B, 3> {
        let len = tokens.dims()[1];
        let device = tokens.device();
        let start = cache.as_ref().map_or(0, |c| c.len);
        let (cos, sin) = rope_tables::<B>(&self.shape, pad, start, len, &device);
        let mask = attention_mask::<B>(pad, start, len, &device);
        let mut h = self.embed_tokens.forward(tokens);
        for (l, layer) in self.layers.iter().enumerate() {
            let cached = cache.as_mut().map(|c| &mut c.layers[l]);
            let attn = layer.self_attn.forward(
                layer.input_layernorm.forward(h.clone()),
                &self.shape,
                (&cos, &sin),
                &mask,
                cached,
            );
            h = h + attn;
            let mlp = layer.mlp.forward(layer.post_attention_layernorm.forward(h.clone()));
            h = h + mlp;
        }
        if let Some(c) = cache {
            c.len += len;
        }
        self.norm.forward(h)
    }

    /// Logits `[batch, len, vocab]` of hidden states.
    pub fn logits(&self, hidden: Tensor<B, 3>) -> Tensor<B, 3> {
        match &self.lm_head {
            Some(head) => head.forward(hidden),
            None => burn::tensor::module::linear(hidden, self.embed_tokens.weight.val().transpose(), None),
        }
    }

    /// Logits `[batch, len, vocab]` of `tokens` (see [`Self::hidden`]).
    pub fn forward(&self, tokens: Tensor<B, 2, Int>, pad: &[usize], cache: Option<&mut KvCache<B>>) -> Tensor<B, 3> {
        let h = self.hidden(tokens, pad, cache);
        self.logits(h)
    }
}

impl<B: Backend> Attention<B> {
    fn forward(
        &self,
        x: Tensor<B, 3>,
        s: &Heads,
        (cos, sin): (&Tensor<B, 4>, &Tensor<B, 4>),
        mask: &Tensor<B, 4>,
        cache: Option<&mut Option<(Tensor<B, 4>, Tensor<B, 4>)>>,
    ) -> Tensor<B, 3> {
        let [b, t, _] = x.dims();
        let split = |y: Tensor<B, 3>, heads: usize| y.reshape([b, t, heads, s.head_dim]).swap_dims(1, 2);
        let q = rope(split(self.q_proj.forward(x.clone()), s.heads), cos, sin);
        let mut k = rope(split(self.k_proj.forward(x.clone()), s.kv_heads), cos, sin);
        let mut v = split(self.v_proj.forward(x), s.kv_heads);
        if let Some(slot) = cache {
            if let Some((k0, v0)) = slot.take() {
                k = Tensor::cat(vec![k0, k], 2);
                v = Tensor::cat(vec![v0, v], 2);
            }
            *slot = Some((k.clone(), v.clone()));
        }
        let tk = k.dims()[2];
        let group = s.heads / s.kv_heads;
        // Query head h reads key/value head h / group: repeat each kv head `group` times in place.
        let repeat = |y: Tensor<B, 4>| {
            if group == 1 {
                y
            } else {
                y.unsqueeze_dim::<5>(2)
                    .expand([b, s.kv_heads, group, tk, s.head_dim])
                    .reshape([b, s.heads, tk, s.head_dim])
            }
        };
        let scores = q.matmul(repeat(k).swap_dims(2, 3)).div_scalar((s.head_dim as f64).sqrt()) + mask.clone();
        let out = activation::softmax(scores, 3).matmul(repeat(v));
        self.o_proj.forward(out.swap_dims(1, 2).reshape([b, t, s.heads * s.head_dim]))
    }
}

impl<B: Backend> Mlp<B> {
    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let gate = activation::silu(self.gate_proj.forward(x.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(x))
    }
}

/// `x·cos + rotate_half(x)·sin` with `rotate_half(x₁, x₂) = (−x₂, x₁)` over the head dimension.
fn rope<B: Backend>(x: Tensor<B, 4>, cos: &Tensor<B, 4>, sin: &Tensor<B, 4>) -> Tensor<B, 4> {
    let [b, h, t, d] = x.dims();
    let x1 = x.clone().slice([0..b, 0..h, 0..t, 0..d / 2]);
    let x2 = x.clone().slice([0..b, 0..h, 0..t, d / 2..d]);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    x * cos.clone() + rotated * sin.clone()
}

/// The position of token `i` of row `b` (padding shares position 0; it is never attended to).
fn position(pad: usize, i: usize) -> usize {
    i.saturating_sub(pad)
}

/// Rotary `cos` and `sin`, `[batch, 1, len, head_dim]`, for tokens `start..start + len` of each row.
fn rope_tables<B: Backend>(
    s: &Heads,
    pad: &[usize],
    start: usize,
    len: usize,
    device: &B::Device,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let half = s.head_dim / 2;
    // As the reference implementation: inverse frequencies and angles in f32.
    let inv: Vec<f32> =
        (0..half).map(|i| 1.0 / (s.rope_theta as f32).powf(2.0 * i as f32 / s.head_dim as f32)).collect();
    let n = pad.len() * len * s.head_dim;
    let (mut cos, mut sin) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for &p in pad {
        for i in start..start + len {
            let pos = position(p, i) as f32;
            for _ in 0..2 {
                for f in &inv {
                    let angle = pos * f;
                    cos.push(angle.cos());
                    sin.push(angle.sin());
                }
            }
        }
    }
    let shape = [pad.len(), 1, len, s.head_dim];
    (upload::<B, 4>(&cos, shape, device), upload::<B, 4>(&sin, shape, device))
}

/// Additive mask `[batch, 1, len, start + len]`: query `i` sees key `j` when `pad[b] ≤ j ≤ i`.
fn attention_mask<B: Backend>(pad: &[usize], start: usize, len: usize, device: &B::Device) -> Tensor<B, 4> {
    let keys = start + len;
    let mut m = Vec::with_capacity(pad.len() * len * keys);
    for &p in pad {
        for i in start..start + len {
            m.extend((0..keys).map(|j| if j >= p && j <= i { 0.0 } else { MASKED }));
        }
    }
    Tensor::from_data(TensorData::new(m, [pad.len(), 1, len, keys]).convert::<B::FloatElem>(), device)
}

/// A two-layer model small enough for exact tests (13 tokens, width 16, grouped-query attention
/// with 4 heads over 2 key/value heads), with or without tied embeddings.
#[cfg(test)]
pub(crate) fn test_config(tied: bool) -> Qwen2Config {
    Qwen2Config {
        vocab_size: 13,
        hidden_size: 16,
        intermediate_size: 24,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        max_position_embeddings: 64,
        rms_norm_eps: 1e-6,
        rope_theta: 10_000.0,
        tie_word_embeddings: tied,
        eos_token_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    type B = NdArray<f32>;

    fn ids(rows: &[Vec<i64>]) -> Tensor<B, 2, Int> {
        let t = rows[0].len();
        Tensor::from_data(TensorData::new(rows.concat(), [rows.len(), t]), &Default::default())
    }

    fn model(tied: bool) -> Qwen2<B> {
        let c = test_config(tied);
        // A larger init than 0.02 so the layers do something measurable.
        let w = random_weights(&c, 3);
        let scaled = Weights::from_tensors(
            w.iter()
                .map(|(n, t)| {
                    let f = if n.ends_with("norm.weight") { 1.0 } else { 25.0 };
                    (n.clone(), HostTensor { shape: t.shape.clone(), values: t.values.iter().map(|v| v * f).collect() })
                })
                .collect(),
        );
        Qwen2::from_weights(&c, &scaled, &Default::default()).unwrap()
    }

    fn values<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
        // Other tests in this process use NdArray<f64> on the same device, which can change the
        // dtype new tensors get there; compare values whatever it is.
        t.into_data().convert::<f32>().into_vec::<f32>().unwrap()
    }

    #[test]
    fn weights_round_trip_through_the_model() {
        for tied in [false, true] {
            let c = test_config(tied);
            let w = random_weights(&c, 1);
            let m = Qwen2::<B>::from_weights(&c, &w, &Default::default()).unwrap();
            assert_eq!(m.to_weights().unwrap(), w, "tied {tied}");
        }
    }

    #[test]
    fn rope_rotates_pairs_by_position_angle() {
        // head_dim 4, θ = 100: inverse frequencies 1 and 100^(−1/2) = 0.1. At position 2 the pair
        // (x₀, x₂) = (1, 0) turns by 2 rad: (cos 2, sin 2); (x₁, x₃) = (0, 1) turns by 0.2 rad: (−sin 0.2, cos 0.2).
        let s = Heads { heads: 1, kv_heads: 1, head_dim: 4, rope_theta: 100.0 };
        let (cos, sin) = rope_tables::<B>(&s, &[1], 3, 1, &Default::default());
        let x: Tensor<B, 4> = Tensor::from_floats([[[[1.0, 0.0, 0.0, 1.0]]]], &Default::default());
        let got = values(rope(x, &cos, &sin));
        let want = [2f32.cos(), -(0.2f32.sin()), 2f32.sin(), 0.2f32.cos()];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn left_padding_does_not_change_a_rows_logits() {
        let m = model(false);
        let alone = values(m.forward(ids(&[vec![3, 5, 7, 2]]), &[0], None));
        let padded = values(m.forward(ids(&[vec![0, 0, 3, 5, 7, 2], vec![1, 2, 3, 4, 5, 6]]), &[2, 0], None));
        let v = 13;
        for (a, p) in alone.iter().zip(&padded[2 * v..6 * v]) {
            assert!((a - p).abs() < 1e-4, "{a} vs {p}");
        }
    }

    #[test]
    fn cached_decoding_equals_the_full_forward() {
        for tied in [false, true] {
            let m = model(tied);
            let rows = vec![vec![0, 4, 9, 1, 6, 11], vec![7, 3, 3, 8, 12, 5]];
            let pad = [1, 0];
            let full = values(m.forward(ids(&rows), &pad, None));
            let mut cache = KvCache::new(m.num_layers());
            let prefix: Vec<Vec<i64>> = rows.iter().map(|r| r[..3].to_vec()).collect();
            let mut got = values(m.forward(ids(&prefix), &pad, Some(&mut cache)));
            for i in 3..6 {
                let step: Vec<Vec<i64>> = rows.iter().map(|r| vec![r[i]]).collect();
                got.extend(values(m.forward(ids(&step), &pad, Some(&mut cache))));
            }
            assert_eq!(cache.len(), 6);
            // Reorder the cached run's [step][row][vocab] into [row][pos][vocab].
            let v = 13;
            let at = |chunks: &[f32], row: usize, pos: usize| -> Vec<f32> {
                let (block, width, r) = if pos < 3 { (0, 3, pos) } else { (2 * 3 * v + (pos - 3) * 2 * v, 1, 0) };
                let o = block + (row * width + r) * v;
                chunks[o..o + v].to_vec()
            };
            for row in 0..2 {
                for pos in 1..6 {
                    let f = &full[(row * 6 + pos) * v..(row * 6 + pos + 1) * v];
                    for (a, b) in f.iter().zip(at(&got, row, pos)) {
                        assert!((a - b).abs() < 1e-4, "tied {tied} row {row} pos {pos}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn grouped_query_heads_read_their_own_kv_head() {
        // With one kv head per two query heads, zeroing kv head 1's value projection must change only
        // the outputs of query heads 2 and 3 (o_proj columns 8..16 read them).
        let m = model(false);
        let a = &m.layers[0].self_attn;
        let x: Tensor<B, 3> = Tensor::from_floats([[[0.3; 16], [0.1; 16]]], &Default::default());
        let s = m.shape;
        let (cos, sin) = rope_tables::<B>(&s, &[0], 0, 2, &Default::default());
        let mask = attention_mask::<B>(&[0], 0, 2, &Default::default());
        let identity = Linear { weight: Param::from_tensor(Tensor::eye(16, &Default::default())), bias: None };
        let probe = |v: Linear<B>| {
            let att =
                Attention { q_proj: a.q_proj.clone(), k_proj: a.k_proj.clone(), v_proj: v, o_proj: identity.clone() };
            values(att.forward(x.clone(), &s, (&cos, &sin), &mask, None))
        };
        let before = probe(a.v_proj.clone());
        let w = a.v_proj.weight.val();
        let zeroed = Tensor::cat(vec![w.clone().slice([0..16, 0..4]), Tensor::zeros([16, 4], &Default::default())], 1);
        let bias = a.v_proj.bias.as_ref().map(|b| Param::from_tensor(b.val().mul_scalar(1.0)));
        let after = probe(Linear { weight: Param::from_tensor(zeroed), bias });
        for (i, (p, q)) in before.iter().zip(&after).enumerate() {
            let col = i % 16;
            assert_eq!(col < 8, (p - q).abs() < 1e-7, "column {col}: {p} vs {q}");
        }
    }
}
