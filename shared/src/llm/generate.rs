//! Batched sampling with a KV cache: prompts are left-padded into one batch, the prompt is run once
//! (prefill), then one token per step for every row until each row has produced a stop token or the
//! length limit. Sampling (temperature, top-k, top-p, greedy) happens on the host from the run's own
//! generator, so a seed gives the same responses on every backend that computes the same logits.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::qwen2::{KvCache, Qwen2};
use crate::train::{TrainError, TrainRng, read};

/// How the next token is drawn from the logits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Logits are divided by this (> 0).
    pub temperature: f64,
    /// Keep only the `top_k` most likely tokens (0: all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p` (1: all).
    pub top_p: f64,
    /// Always take the most likely token (ties: the lowest id); the other fields are ignored.
    pub greedy: bool,
}

impl Default for Sampling {
    /// Plain sampling from the policy: temperature 1, no truncation.
    fn default() -> Self {
        Self { temperature: 1.0, top_k: 0, top_p: 1.0, greedy: false }
    }
}

impl Sampling {
    /// Greedy decoding.
    pub fn greedy() -> Self {
        Self { greedy: true, ..Self::default() }
    }

    /// Fails naming the field when a setting is out of range.
    pub fn check(&self) -> Result<(), String> {
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(format!("temperature {} is outside (0, inf)", self.temperature));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(format!("top_p {} is outside (0, 1]", self.top_p));
        }
        Ok(())
    }

    /// Draws a token id from one row of logits.
    pub fn pick(&self, logits: &[f32], rng: &mut TrainRng) -> u32 {
        let argmax = || {
            let mut best = 0;
            for (i, &l) in logits.iter().enumerate() {
                if l > logits[best] {
                    best = i;
                }
            }
            best as u32
        };
        if self.greedy {
            return argmax();
        }
        let mut order = descending(logits);
        if self.top_k > 0 {
            order.truncate(self.top_k);
        }
        let max = logits[order[0]] as f64;
        let weights: Vec<f64> = order.iter().map(|&i| ((logits[i] as f64 - max) / self.temperature).exp()).collect();
        let total: f64 = weights.iter().sum();
        let mut keep = weights.len();
        if self.top_p < 1.0 {
            let mut acc = 0.0;
            for (n, w) in weights.iter().enumerate() {
                acc += w / total;
                if acc >= self.top_p {
                    keep = n + 1;
                    break;
                }
            }
        }
        let kept: f64 = weights[..keep].iter().sum();
        let mut u = rng.random::<f64>() * kept;
        for (n, w) in weights[..keep].iter().enumerate() {
            if u < *w {
                return order[n] as u32;
            }
            u -= w;
        }
        order[keep - 1] as u32
    }
}

/// The indices of `logits` from the largest to the smallest (IEEE total order), ties by index: each
/// as one integer key (the value's order-preserving bits, inverted, above the index) sorted without
/// a comparison closure, several times faster than sorting indices by a comparator over a
/// 150 000-token vocabulary, and the same order.
fn descending(logits: &[f32]) -> Vec<usize> {
    let mut keys: Vec<u64> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            // `f32::total_cmp`'s mapping to ordered integers, then as unsigned (sign bit flipped).
            let b = l.to_bits() as i32;
            let ordered = ((b ^ (((b >> 31) as u32) >> 1) as i32) as u32) ^ 0x8000_0000;
            (u64::from(!ordered) << 32) | i as u64
        })
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|k| (k & 0xffff_ffff) as usize).collect()
}

/// Left-pads `rows` with `pad` into `[rows, width]` ids; returns them with each row's padding count.
pub fn left_pad(rows: &[Vec<u32>], pad: u32) -> (Vec<i64>, Vec<usize>, usize) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(rows.len() * width);
    let mut pads = Vec::with_capacity(rows.len());
    for r in rows {
        let p = width - r.len();
        pads.push(p);
        ids.extend(std::iter::repeat_n(pad as i64, p));
        ids.extend(r.iter().map(|&t| t as i64));
    }
    (ids, pads, width)
}

/// What sampling needs of a model: the next-token logits of a batch, continuing a KV cache. The burn
/// model ([`BurnDecoder`]) and the fast CPU path's decoder implement it.
pub trait Decoder {
    /// The keys and values of the tokens seen so far.
    type Cache;
    /// An empty cache for `rows` sequences of up to `capacity` positions.
    fn cache(&self, rows: usize, capacity: usize) -> Self::Cache;
    /// The logits `[rows, vocab]` of the last of `len` more tokens per row (`tokens` `[rows, len]`,
    /// row-major), after the ones `cache` holds; the cache is extended.
    fn next_logits(
        &self,
        tokens: Vec<i64>,
        len: usize,
        pads: &[usize],
        cache: &mut Self::Cache,
    ) -> impl Future<Output = Result<Vec<f32>, TrainError>>;
}

/// The burn model on its device, as a [`Decoder`].
#[derive(Debug)]
pub struct BurnDecoder<'a, B: Backend> {
    /// The model.
    pub model: &'a Qwen2<B>,
    /// Where its tensors live.
    pub device: &'a B::Device,
}

impl<B: Backend> Decoder for BurnDecoder<'_, B> {
    type Cache = KvCache<B>;

    fn cache(&self, _rows: usize, _capacity: usize) -> KvCache<B> {
        KvCache::new(self.model.num_layers())
    }

    async fn next_logits(
        &self,
        tokens: Vec<i64>,
        len: usize,
        pads: &[usize],
        cache: &mut KvCache<B>,
    ) -> Result<Vec<f32>, TrainError> {
        let n = pads.len();
        let input: Tensor<B, 2, Int> = Tensor::from_data(TensorData::new(tokens, [n, len]), self.device);
        let hidden = self.model.hidden(input, pads, Some(cache));
        let [_, t, d] = hidden.dims();
        read(self.model.logits(hidden.slice([0..n, t - 1..t, 0..d]))).await
    }
}

/// Continues every prompt (token ids, each non-empty) with up to `max_new` tokens. A response ends
/// with the first of `stop` it produces (kept in the response); a row that reaches `max_new` stops there.
pub async fn generate<B: Backend>(
    model: &Qwen2<B>,
    prompts: &[Vec<u32>],
    max_new: usize,
    stop: &[u32],
    sampling: &Sampling,
    rng: &mut TrainRng,
    device: &B::Device,
) -> Result<Vec<Vec<u32>>, TrainError> {
    sample(&BurnDecoder { model, device }, prompts, max_new, stop, sampling, rng).await
}

/// [`generate`] with any [`Decoder`].
pub async fn sample<D: Decoder>(
    model: &D,
    prompts: &[Vec<u32>],
    max_new: usize,
    stop: &[u32],
    sampling: &Sampling,
    rng: &mut TrainRng,
) -> Result<Vec<Vec<u32>>, TrainError> {
    if prompts.iter().any(Vec::is_empty) {
        return Err(TrainError::Config("a prompt has no tokens".into()));
    }
    let n = prompts.len();
    let pad_id = stop.first().copied().unwrap_or(0);
    let (ids, pads, width) = left_pad(prompts, pad_id);
    let mut cache = model.cache(n, width + max_new);
    let (mut input, mut len) = (ids, width);
    let mut responses = vec![Vec::new(); n];
    let mut done = vec![false; n];
    for _ in 0..max_new {
        let logits = model.next_logits(input, len, &pads, &mut cache).await?;
        let vocab = logits.len() / n;
        let mut next = Vec::with_capacity(n);
        for (row, chunk) in logits.chunks(vocab).enumerate() {
            if done[row] {
                next.push(pad_id as i64);
                continue;
            }
            let token = sampling.pick(chunk, rng);
            responses[row].push(token);
            done[row] = stop.contains(&token);
            next.push(token as i64);
        }
        if done.iter().all(|&d| d) {
            break;
        }
        (input, len) = (next, 1);
    }
    Ok(responses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_descending_order_is_the_comparators_with_ties_negatives_zeros_and_infinities() {
        let mut rng = TrainRng::seed_from_u64(3);
        let mut logits: Vec<f32> = (0..5000).map(|_| (rng.random::<f32>() - 0.5) * 40.0).collect();
        // Ties, both zeros, infinities and values that differ in the last bit.
        logits.extend([1.5, 1.5, 0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, -1.5, -1.5, f32::MIN_POSITIVE]);
        logits.extend([1.0, f32::from_bits(1.0f32.to_bits() + 1), -7.25, -7.25]);
        let mut by_comparator: Vec<usize> = (0..logits.len()).collect();
        by_comparator.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
        assert_eq!(descending(&logits), by_comparator);
    }

    #[test]
    fn sampling_follows_temperature_top_k_and_top_p() {
        let logits = [2.0f32, 1.0, 0.0, -1.0];
        let mut rng = TrainRng::seed_from_u64(0);
        assert_eq!(Sampling::greedy().pick(&logits, &mut rng), 0);
        let count = |s: Sampling, rng: &mut TrainRng| {
            let mut c = [0usize; 4];
            for _ in 0..20_000 {
                c[s.pick(&logits, rng) as usize] += 1;
            }
            c
        };
        // Plain sampling: p ∝ e^{2,1,0,−1} = (0.644, 0.237, 0.087, 0.032).
        let c = count(Sampling::default(), &mut rng);
        assert!((c[0] as f64 / 20_000.0 - 0.644).abs() < 0.015, "{c:?}");
        // top_k 2 keeps ids 0, 1: (0.731, 0.269).
        let c = count(Sampling { top_k: 2, ..Sampling::default() }, &mut rng);
        assert_eq!(c[2] + c[3], 0);
        assert!((c[1] as f64 / 20_000.0 - 0.269).abs() < 0.015, "{c:?}");
        // top_p 0.85: 0.644 < 0.85 ≤ 0.881, so ids 0 and 1 are kept.
        let c = count(Sampling { top_p: 0.85, ..Sampling::default() }, &mut rng);
        assert_eq!(c[2] + c[3], 0);
        // Temperature → 0 approaches greedy.
        let c = count(Sampling { temperature: 0.05, ..Sampling::default() }, &mut rng);
        assert_eq!(c[0], 20_000);
        assert!(Sampling { temperature: 0.0, ..Sampling::default() }.check().unwrap_err().contains("temperature 0"));
        assert!(Sampling { top_p: 1.5, ..Sampling::default() }.check().unwrap_err().contains("top_p 1.5"));
    }

    #[test]
    fn left_padding_aligns_the_ends() {
        let (ids, pads, width) = left_pad(&[vec![5, 6, 7], vec![8]], 0);
        assert_eq!((ids, pads, width), (vec![5, 6, 7, 0, 0, 8], vec![0, 2], 3));
    }
}
