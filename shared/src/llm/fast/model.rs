//! The Qwen2 decoder of [`crate::llm::qwen2`] as flat `f32` weights, with a forward pass that keeps
//! what its backward pass needs.
//!
//! Weights lie in one vector in [`Qwen2Config::tensors`]'s order, each in its checkpoint layout
//! (linear weights `[out, in]`), so that import, export and burn's per-tensor gradient clipping are
//! slices of it. A batch is `rows` sequences of `t` input tokens, left-padded (`pads[r]` tokens of row
//! `r` are padding: they take position 0 and no query attends to them). Padding queries are not
//! computed at all (their outputs reach nothing the loss reads); every other number is the burn
//! model's up to rounding.

use crate::cpu::kernels::matmul;
use crate::llm::hf_weights::{HostTensor, Weights};
use crate::llm::qwen2::Qwen2Config;
use crate::train::TrainError;

/// Tensors per decoder layer, in [`Qwen2Config::tensors`]'s order.
const PER_LAYER: usize = 12;
/// Positions of a layer's tensors among its [`PER_LAYER`].
const IN_NORM: usize = 0;
const Q_W: usize = 1;
const Q_B: usize = 2;
const K_W: usize = 3;
const K_B: usize = 4;
const V_W: usize = 5;
const V_B: usize = 6;
const O_W: usize = 7;
const POST_NORM: usize = 8;
const GATE: usize = 9;
const UP: usize = 10;
const DOWN: usize = 11;

/// The decoder's weights and sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct FastQwen2 {
    config: Qwen2Config,
    /// Every weight, tensor after tensor.
    pub params: Vec<f32>,
    /// `(name, shape, offset)` of each tensor in [`Self::params`].
    tensors: Vec<(String, Vec<usize>, usize)>,
}

/// Sizes used everywhere in the passes.
#[derive(Debug, Clone, Copy)]
struct Dims {
    d: usize,
    heads: usize,
    kv_heads: usize,
    hd: usize,
    inter: usize,
    vocab: usize,
    layers: usize,
    eps: f32,
}

/// One layer's saved activations (`n` = rows · t tokens).
#[derive(Debug, Default, Clone)]
struct LayerTrace {
    /// Residual stream entering the layer `[n, d]`.
    x: Vec<f32>,
    /// `1/rms` of `x` per token, and the normed input `[n, d]`.
    inv1: Vec<f32>,
    n1: Vec<f32>,
    /// Queries after the rotary embedding `[n, heads·hd]`; keys (rotated) and values of every position
    /// so far, `[rows, cap, kv·hd]` (the KV cache when generating; `cap = t` in training).
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    /// Attention weights `[rows, heads, t, cap]` (query `i` filled for keys `pad ≤ j ≤ start + i`).
    p: Vec<f32>,
    /// Attention output before `o_proj` `[n, heads·hd]`.
    att: Vec<f32>,
    /// Residual stream after attention `[n, d]`, its `1/rms` and normed form.
    x_mid: Vec<f32>,
    inv2: Vec<f32>,
    n2: Vec<f32>,
    /// `gate_proj`, `up_proj` outputs and `silu(gate) ⊙ up`, `[n, inter]`.
    gate: Vec<f32>,
    up: Vec<f32>,
    act: Vec<f32>,
}

/// One shard's batch, activations and gradient buffers, kept between steps.
#[derive(Debug, Default, Clone)]
pub struct Trace {
    rows: usize,
    t: usize,
    /// Positions already in the keys and values before this batch (generation), and how many they can hold.
    start: usize,
    cap: usize,
    tokens: Vec<usize>,
    pads: Vec<usize>,
    layers: Vec<LayerTrace>,
    x_final: Vec<f32>,
    inv_final: Vec<f32>,
    n_final: Vec<f32>,
    /// Logits `[n, vocab]` after [`FastQwen2::forward`].
    pub logits: Vec<f32>,
    /// The loss's gradient with respect to [`Self::logits`], filled before [`FastQwen2::backward`].
    pub d_logits: Vec<f32>,
    dh: Vec<f32>,
    dn: Vec<f32>,
    dq: Vec<f32>,
    dk: Vec<f32>,
    dv: Vec<f32>,
    datt: Vec<f32>,
    dact: Vec<f32>,
    dgate: Vec<f32>,
    dup: Vec<f32>,
    /// New keys and values before they join [`LayerTrace::k`] and `v`.
    k_new: Vec<f32>,
    v_new: Vec<f32>,
}

impl Trace {
    /// Rows of the batch last run.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Positions per row of the batch last run.
    pub fn len(&self) -> usize {
        self.t
    }

    /// Whether no batch has run.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

/// Resizes `v` to `n` elements without caring what it holds (every pass overwrites what it reads).
fn size(v: &mut Vec<f32>, n: usize) {
    v.resize(n, 0.0);
}

impl FastQwen2 {
    /// The decoder with `weights` (checked against `config`: every tensor present with its shape).
    pub fn from_weights(config: &Qwen2Config, weights: &Weights) -> Result<Self, TrainError> {
        let mut params = Vec::new();
        let mut tensors = Vec::new();
        for (name, shape) in config.tensors() {
            let t = weights.get(&name).ok_or_else(|| TrainError::Checkpoint(format!("tensor `{name}` is missing")))?;
            if t.shape != shape {
                return Err(TrainError::Checkpoint(format!(
                    "tensor `{name}` has shape {:?}, expected {shape:?}",
                    t.shape
                )));
            }
            tensors.push((name, shape, params.len()));
            params.extend_from_slice(&t.values);
        }
        Ok(Self { config: config.clone(), params, tensors })
    }

    /// Every weight in the checkpoint's names and layouts.
    pub fn to_weights(&self) -> Weights {
        Weights::from_tensors(
            self.tensors
                .iter()
                .map(|(name, shape, at)| {
                    let n: usize = shape.iter().product();
                    (name.clone(), HostTensor { shape: shape.clone(), values: self.params[*at..*at + n].to_vec() })
                })
                .collect(),
        )
    }

    /// The architecture.
    pub fn config(&self) -> &Qwen2Config {
        &self.config
    }

    /// `(start, end)` of each tensor in [`Self::params`], in order (burn clips each one's gradient alone).
    pub fn spans(&self) -> Vec<(usize, usize)> {
        self.tensors.iter().map(|(_, shape, at)| (*at, at + shape.iter().product::<usize>())).collect()
    }

    fn dims(&self) -> Dims {
        let c = &self.config;
        Dims {
            d: c.hidden_size,
            heads: c.num_attention_heads,
            kv_heads: c.num_key_value_heads,
            hd: c.head_dim(),
            inter: c.intermediate_size,
            vocab: c.vocab_size,
            layers: c.num_hidden_layers,
            eps: c.rms_norm_eps as f32,
        }
    }

    /// Index of tensor `which` of layer `l`.
    fn at(l: usize, which: usize) -> usize {
        1 + l * PER_LAYER + which
    }

    fn span(&self, i: usize) -> std::ops::Range<usize> {
        let (_, shape, at) = &self.tensors[i];
        *at..at + shape.iter().product::<usize>()
    }

    fn w(&self, i: usize) -> &[f32] {
        &self.params[self.span(i)]
    }

    /// The output projection's tensor (the embedding when tied).
    fn head(&self) -> usize {
        if self.config.tie_word_embeddings { 0 } else { 2 + self.config.num_hidden_layers * PER_LAYER }
    }

    fn final_norm(&self) -> usize {
        1 + self.config.num_hidden_layers * PER_LAYER
    }

    /// Rotary `(cos, sin)` per position `0..t` and frequency (`[t, hd/2]`), in `f32` as the burn model.
    fn rope_tables(&self, t: usize) -> (Vec<f32>, Vec<f32>) {
        let hd = self.config.head_dim();
        let half = hd / 2;
        let theta = self.config.rope_theta as f32;
        let inv: Vec<f32> = (0..half).map(|i| 1.0 / theta.powf(2.0 * i as f32 / hd as f32)).collect();
        let (mut cos, mut sin) = (Vec::with_capacity(t * half), Vec::with_capacity(t * half));
        for pos in 0..t {
            for f in &inv {
                let angle = pos as f32 * f;
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        (cos, sin)
    }

    /// Runs `rows` sequences of `t` input tokens (`tokens` row-major; token ids below the vocabulary)
    /// and keeps what the backward pass needs; the logits are in [`Trace::logits`].
    ///
    /// # Panics
    /// When `tokens` is not `rows · t` long or a token is outside the vocabulary (callers check).
    pub fn forward(&self, tokens: &[usize], pads: &[usize], t: usize, tr: &mut Trace) {
        tr.start = 0;
        tr.cap = t;
        self.run(tokens, pads, t, tr, false);
    }

    /// Starts generation: `tr` becomes an empty KV cache for `rows` sequences of up to `capacity`
    /// positions (prompt and response).
    pub fn start_cache(&self, tr: &mut Trace, capacity: usize) {
        tr.start = 0;
        tr.cap = capacity;
        tr.rows = 0;
    }

    /// Continues generation: runs `len` more tokens per row (`tokens` row-major) after the ones
    /// `tr` holds, extends its keys and values, and returns the last position's logits `[rows, vocab]`.
    ///
    /// # Panics
    /// When the cache would overflow its capacity or the batch's shape changes (callers check).
    pub fn decode<'a>(&self, tokens: &[usize], pads: &[usize], len: usize, tr: &'a mut Trace) -> &'a [f32] {
        assert!(tr.start + len <= tr.cap, "decode: {} + {len} positions exceed the cache's {}", tr.start, tr.cap);
        assert!(tr.start == 0 || tr.rows == pads.len(), "decode: the batch changed its rows");
        self.run(tokens, pads, len, tr, true);
        tr.start += len;
        &tr.logits
    }

    /// The forward pass over `t` new positions per row after `tr.start` held ones; with `last_only`
    /// the logits of each row's last position only.
    fn run(&self, tokens: &[usize], pads: &[usize], t: usize, tr: &mut Trace, last_only: bool) {
        let z = self.dims();
        let rows = pads.len();
        let n = rows * t;
        let (start, cap) = (tr.start, tr.cap);
        assert_eq!(tokens.len(), n, "forward: {rows} rows of {t} tokens");
        tr.rows = rows;
        tr.t = t;
        tr.tokens.clear();
        tr.tokens.extend_from_slice(tokens);
        tr.pads.clear();
        tr.pads.extend(pads.iter().map(|&p| p.min(cap)));
        tr.layers.resize_with(z.layers, LayerTrace::default);
        let (cos, sin) = self.rope_tables(start + t);
        let (q_w, kv_w) = (z.heads * z.hd, z.kv_heads * z.hd);
        // h₀ = embed_tokens[x]
        let embed = self.w(0);
        let mut h = std::mem::take(&mut tr.x_final);
        size(&mut h, n * z.d);
        for (row, &tok) in h.chunks_exact_mut(z.d).zip(tokens) {
            row.copy_from_slice(&embed[tok * z.d..(tok + 1) * z.d]);
        }
        for l in 0..z.layers {
            let lt = &mut tr.layers[l];
            for (v, len) in [
                (&mut lt.x, n * z.d),
                (&mut lt.n1, n * z.d),
                (&mut lt.q, n * q_w),
                (&mut lt.k, rows * cap * kv_w),
                (&mut lt.v, rows * cap * kv_w),
                (&mut lt.p, rows * z.heads * t * cap),
                (&mut lt.att, n * q_w),
                (&mut lt.x_mid, n * z.d),
                (&mut lt.n2, n * z.d),
                (&mut lt.gate, n * z.inter),
                (&mut lt.up, n * z.inter),
                (&mut lt.act, n * z.inter),
                (&mut tr.k_new, n * kv_w),
                (&mut tr.v_new, n * kv_w),
            ] {
                size(v, len);
            }
            lt.x.copy_from_slice(&h);
            rms_forward(&h, self.w(Self::at(l, IN_NORM)), z.eps, &mut lt.inv1, &mut lt.n1);
            self.linear(&lt.n1, Self::at(l, Q_W), Some(Self::at(l, Q_B)), &mut lt.q, (n, z.d, q_w));
            self.linear(&lt.n1, Self::at(l, K_W), Some(Self::at(l, K_B)), &mut tr.k_new, (n, z.d, kv_w));
            self.linear(&lt.n1, Self::at(l, V_W), Some(Self::at(l, V_B)), &mut tr.v_new, (n, z.d, kv_w));
            rope(&mut lt.q, z.heads, z.hd, &tr.pads, (start, t), (&cos, &sin), false);
            rope(&mut tr.k_new, z.kv_heads, z.hd, &tr.pads, (start, t), (&cos, &sin), false);
            // The new keys and values join the ones held, at positions start..start + t of each row.
            for r in 0..rows {
                let (from, to) =
                    (r * t * kv_w..(r + 1) * t * kv_w, (r * cap + start) * kv_w..(r * cap + start + t) * kv_w);
                lt.k[to.clone()].copy_from_slice(&tr.k_new[from.clone()]);
                lt.v[to].copy_from_slice(&tr.v_new[from]);
            }
            attention_forward(lt, &tr.pads, (start, t, cap), &z);
            // h += o_proj(att)
            matmul(&mut h, &lt.att, false, self.w(Self::at(l, O_W)), true, (n, q_w, z.d), true);
            lt.x_mid.copy_from_slice(&h);
            rms_forward(&h, self.w(Self::at(l, POST_NORM)), z.eps, &mut lt.inv2, &mut lt.n2);
            self.linear(&lt.n2, Self::at(l, GATE), None, &mut lt.gate, (n, z.d, z.inter));
            self.linear(&lt.n2, Self::at(l, UP), None, &mut lt.up, (n, z.d, z.inter));
            for ((a, &g), &u) in lt.act.iter_mut().zip(&lt.gate).zip(&lt.up) {
                *a = silu(g) * u;
            }
            // h += down_proj(act)
            matmul(&mut h, &lt.act, false, self.w(Self::at(l, DOWN)), true, (n, z.inter, z.d), true);
        }
        size(&mut tr.n_final, n * z.d);
        rms_forward(&h, self.w(self.final_norm()), z.eps, &mut tr.inv_final, &mut tr.n_final);
        tr.x_final = h;
        if last_only {
            // Only each row's last position: its normed state moved to the front.
            for r in 0..rows {
                let from = (r * t + t - 1) * z.d;
                tr.n_final.copy_within(from..from + z.d, r * z.d);
            }
        }
        let m = if last_only { rows } else { n };
        size(&mut tr.logits, m * z.vocab);
        matmul(&mut tr.logits, &tr.n_final[..m * z.d], false, self.w(self.head()), true, (m, z.d, z.vocab), false);
    }

    /// `y = x·Wᵀ (+ b)` for `x` `[n, k]` and the stored `W` `[m, k]`.
    fn linear(&self, x: &[f32], w: usize, b: Option<usize>, y: &mut [f32], (n, k, m): (usize, usize, usize)) {
        matmul(y, x, false, self.w(w), true, (n, k, m), false);
        if let Some(b) = b {
            let b = self.w(b);
            for row in y.chunks_exact_mut(m) {
                row.iter_mut().zip(b).for_each(|(y, b)| *y += b);
            }
        }
    }

    /// Adds the gradient of the loss whose logit gradient is in [`Trace::d_logits`] (after
    /// [`Self::forward`] on the same trace) to `grads` (as long as [`Self::params`]).
    pub fn backward(&self, tr: &mut Trace, grads: &mut [f32]) {
        let z = self.dims();
        let (rows, t) = (tr.rows, tr.t);
        assert!(tr.start == 0 && tr.cap == t, "backward: after a training forward only");
        let n = rows * t;
        let (q_w, kv_w) = (z.heads * z.hd, z.kv_heads * z.hd);
        let (cos, sin) = self.rope_tables(t);
        for (v, len) in [
            (&mut tr.dh, n * z.d),
            (&mut tr.dn, n * z.d),
            (&mut tr.dq, n * q_w),
            (&mut tr.dk, n * kv_w),
            (&mut tr.dv, n * kv_w),
            (&mut tr.datt, n * q_w),
            (&mut tr.dact, n * z.inter),
            (&mut tr.dgate, n * z.inter),
            (&mut tr.dup, n * z.inter),
        ] {
            size(v, len);
        }
        // logits = n_final · headᵀ
        let head = self.head();
        matmul(&mut tr.dn, &tr.d_logits, false, self.w(head), false, (n, z.vocab, z.d), false);
        matmul(&mut grads[self.span(head)], &tr.d_logits, true, &tr.n_final, false, (z.vocab, n, z.d), true);
        tr.dh.iter_mut().for_each(|g| *g = 0.0);
        let fin = self.final_norm();
        rms_backward(&tr.dn, &tr.x_final, &tr.inv_final, self.w(fin), &mut tr.dh, &mut grads[self.span(fin)]);
        for l in (0..z.layers).rev() {
            let lt = &tr.layers[l];
            // MLP: h_out = x_mid + act · downᵀ
            let down = Self::at(l, DOWN);
            matmul(&mut tr.dact, &tr.dh, false, self.w(down), false, (n, z.d, z.inter), false);
            matmul(&mut grads[self.span(down)], &tr.dh, true, &lt.act, false, (z.d, n, z.inter), true);
            for i in 0..n * z.inter {
                let (g, da) = (lt.gate[i], tr.dact[i]);
                let s = sigmoid(g);
                tr.dup[i] = da * g * s;
                tr.dgate[i] = da * lt.up[i] * s * (1.0 + g * (1.0 - s));
            }
            let (gate, up) = (Self::at(l, GATE), Self::at(l, UP));
            matmul(&mut tr.dn, &tr.dgate, false, self.w(gate), false, (n, z.inter, z.d), false);
            matmul(&mut tr.dn, &tr.dup, false, self.w(up), false, (n, z.inter, z.d), true);
            matmul(&mut grads[self.span(gate)], &tr.dgate, true, &lt.n2, false, (z.inter, n, z.d), true);
            matmul(&mut grads[self.span(up)], &tr.dup, true, &lt.n2, false, (z.inter, n, z.d), true);
            let post = Self::at(l, POST_NORM);
            rms_backward(&tr.dn, &lt.x_mid, &lt.inv2, self.w(post), &mut tr.dh, &mut grads[self.span(post)]);
            // Attention: x_mid = x + att · o_projᵀ
            let o = Self::at(l, O_W);
            matmul(&mut tr.datt, &tr.dh, false, self.w(o), false, (n, z.d, q_w), false);
            matmul(&mut grads[self.span(o)], &tr.dh, true, &lt.att, false, (z.d, n, q_w), true);
            attention_backward(lt, &tr.datt, &tr.pads, t, &z, (&mut tr.dq, &mut tr.dk, &mut tr.dv));
            rope(&mut tr.dq, z.heads, z.hd, &tr.pads, (0, t), (&cos, &sin), true);
            rope(&mut tr.dk, z.kv_heads, z.hd, &tr.pads, (0, t), (&cos, &sin), true);
            let mut first = true;
            for (w, b, dy, width) in [(Q_W, Q_B, &tr.dq, q_w), (K_W, K_B, &tr.dk, kv_w), (V_W, V_B, &tr.dv, kv_w)] {
                let (w, b) = (Self::at(l, w), Self::at(l, b));
                matmul(&mut tr.dn, dy, false, self.w(w), false, (n, width, z.d), !first);
                first = false;
                matmul(&mut grads[self.span(w)], dy, true, &lt.n1, false, (width, n, z.d), true);
                let gb = &mut grads[self.span(b)];
                for row in dy.chunks_exact(width) {
                    gb.iter_mut().zip(row).for_each(|(g, d)| *g += d);
                }
            }
            let norm = Self::at(l, IN_NORM);
            rms_backward(&tr.dn, &lt.x, &lt.inv1, self.w(norm), &mut tr.dh, &mut grads[self.span(norm)]);
        }
        // h₀ = embed_tokens[x]
        let embed = &mut grads[self.span(0)];
        for (&tok, dh) in tr.tokens.iter().zip(tr.dh.chunks_exact(z.d)) {
            embed[tok * z.d..(tok + 1) * z.d].iter_mut().zip(dh).for_each(|(g, d)| *g += d);
        }
    }
}

/// `σ(x)`.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `silu(x) = x·σ(x)`.
fn silu(x: f32) -> f32 {
    x * sigmoid(x)
}

/// RMSNorm per token: `y = x / √(mean x² + ε) · γ`, keeping `1/√(…)` per token in `inv`.
fn rms_forward(x: &[f32], gamma: &[f32], eps: f32, inv: &mut Vec<f32>, y: &mut [f32]) {
    let d = gamma.len();
    inv.clear();
    for (xr, yr) in x.chunks_exact(d).zip(y.chunks_exact_mut(d)) {
        let ms = xr.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / d as f64;
        let r = (1.0 / (ms + f64::from(eps)).sqrt()) as f32;
        inv.push(r);
        for ((y, &x), &g) in yr.iter_mut().zip(xr).zip(gamma) {
            *y = x * r * g;
        }
    }
}

/// RMSNorm's backward: adds `∂L/∂x = r·(γ⊙dy) − x·r³·Σ(γ⊙dy⊙x)/d` to `dx` and `Σ_tokens dy⊙x·r` to `dgamma`.
fn rms_backward(dy: &[f32], x: &[f32], inv: &[f32], gamma: &[f32], dx: &mut [f32], dgamma: &mut [f32]) {
    let d = gamma.len();
    for (((dyr, xr), &r), dxr) in dy.chunks_exact(d).zip(x.chunks_exact(d)).zip(inv).zip(dx.chunks_exact_mut(d)) {
        let s = dyr.iter().zip(xr).zip(gamma).map(|((&dy, &x), &g)| f64::from(dy * g) * f64::from(x)).sum::<f64>();
        let c = (s * f64::from(r).powi(3) / d as f64) as f32;
        for (((dx, &dy), &x), (&g, dg)) in dxr.iter_mut().zip(dyr).zip(xr).zip(gamma.iter().zip(dgamma.iter_mut())) {
            *dx += r * g * dy - x * c;
            *dg += dy * x * r;
        }
    }
}

/// The rotary embedding in place on `[rows·t, heads·hd]` holding positions `start..start + t` of each
/// row: on each head's halves `(x₁, x₂)`, `(x₁c − x₂s, x₂c + x₁s)` at the token's position (padding at
/// 0); with `transpose`, its adjoint `(d₁c + d₂s, d₂c − d₁s)` (the backward pass).
fn rope(
    buf: &mut [f32],
    heads: usize,
    hd: usize,
    pads: &[usize],
    (start, t): (usize, usize),
    (cos, sin): (&[f32], &[f32]),
    transpose: bool,
) {
    let half = hd / 2;
    for (r, &pad) in pads.iter().enumerate() {
        for i in 0..t {
            let pos = (start + i).saturating_sub(pad);
            let (c, s) = (&cos[pos * half..(pos + 1) * half], &sin[pos * half..(pos + 1) * half]);
            let token = &mut buf[(r * t + i) * heads * hd..(r * t + i + 1) * heads * hd];
            for head in token.chunks_exact_mut(hd) {
                let (x1, x2) = head.split_at_mut(half);
                for f in 0..half {
                    let (a, b) = (x1[f], x2[f]);
                    if transpose {
                        x1[f] = a * c[f] + b * s[f];
                        x2[f] = b * c[f] - a * s[f];
                    } else {
                        x1[f] = a * c[f] - b * s[f];
                        x2[f] = b * c[f] + a * s[f];
                    }
                }
            }
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Causal grouped-query attention of the real queries: for query `i` (position `a = start + i`),
/// `P = softmax(q·kᵀ/√hd)` over keys `pad ≤ j ≤ a`, `att_i = Σ_j P_ij v_j`; query head `h` reads
/// key/value head `h / (heads / kv)`. Keys and values lie `[rows, cap, kv·hd]`.
fn attention_forward(lt: &mut LayerTrace, pads: &[usize], (start, t, cap): (usize, usize, usize), z: &Dims) {
    let (hd, group) = (z.hd, z.heads / z.kv_heads);
    let (q_w, kv_w) = (z.heads * hd, z.kv_heads * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    for (r, &pad) in pads.iter().enumerate() {
        for h in 0..z.heads {
            let kvh = h / group;
            for i in 0..t {
                let a = start + i;
                let out = &mut lt.att[(r * t + i) * q_w + h * hd..][..hd];
                out.iter_mut().for_each(|o| *o = 0.0);
                if a < pad {
                    continue;
                }
                let q = &lt.q[(r * t + i) * q_w + h * hd..][..hd];
                let p = &mut lt.p[((r * z.heads + h) * t + i) * cap..][..cap];
                let mut max = f32::NEG_INFINITY;
                for (j, pj) in p.iter_mut().enumerate().take(a + 1).skip(pad) {
                    *pj = dot(q, &lt.k[(r * cap + j) * kv_w + kvh * hd..][..hd]) * scale;
                    max = max.max(*pj);
                }
                let mut sum = 0.0f32;
                for pj in &mut p[pad..=a] {
                    *pj = (*pj - max).exp();
                    sum += *pj;
                }
                for (j, pj) in p.iter_mut().enumerate().take(a + 1).skip(pad) {
                    *pj /= sum;
                    let v = &lt.v[(r * cap + j) * kv_w + kvh * hd..][..hd];
                    out.iter_mut().zip(v).for_each(|(o, v)| *o += *pj * v);
                }
            }
        }
    }
}

/// The backward of [`attention_forward`]: from `datt` to the gradients of the (rotated) queries and
/// keys and of the values, written into `dq`, `dk`, `dv`.
fn attention_backward(
    lt: &LayerTrace,
    datt: &[f32],
    pads: &[usize],
    t: usize,
    z: &Dims,
    (dq, dk, dv): (&mut [f32], &mut [f32], &mut [f32]),
) {
    let (hd, group) = (z.hd, z.heads / z.kv_heads);
    let (q_w, kv_w) = (z.heads * hd, z.kv_heads * hd);
    let scale = 1.0 / (hd as f32).sqrt();
    dq.iter_mut().for_each(|g| *g = 0.0);
    dk.iter_mut().for_each(|g| *g = 0.0);
    dv.iter_mut().for_each(|g| *g = 0.0);
    let mut dp = vec![0.0f32; t];
    for (r, &pad) in pads.iter().enumerate() {
        for h in 0..z.heads {
            let kvh = h / group;
            for i in pad..t {
                let g = &datt[(r * t + i) * q_w + h * hd..][..hd];
                let p = &lt.p[((r * z.heads + h) * t + i) * t..][..t];
                let mut weighted = 0.0f32;
                for j in pad..=i {
                    let kv = (r * t + j) * kv_w + kvh * hd;
                    dp[j] = dot(g, &lt.v[kv..kv + hd]);
                    weighted += p[j] * dp[j];
                    dv[kv..kv + hd].iter_mut().zip(g).for_each(|(d, g)| *d += p[j] * g);
                }
                let qi = (r * t + i) * q_w + h * hd;
                for j in pad..=i {
                    let ds = p[j] * (dp[j] - weighted) * scale;
                    let kv = (r * t + j) * kv_w + kvh * hd;
                    dq[qi..qi + hd].iter_mut().zip(&lt.k[kv..kv + hd]).for_each(|(d, k)| *d += ds * k);
                    dk[kv..kv + hd].iter_mut().zip(&lt.q[qi..qi + hd]).for_each(|(d, q)| *d += ds * q);
                }
            }
        }
    }
}
