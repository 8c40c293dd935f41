//! ERA's GRPO logit scaling on tensors (see [`crate::llm_scaling`] for the math).
//!
//! The regime of each response is decided from scalars ([`crate::LlmEra::adjust`]); these functions
//! take the resulting per-response logit scales as a tensor and compute the differentiable parts.

use burn::tensor::{Bool, Int, Tensor, activation, backend::Backend};

/// Entropy of `softmax(z)` over the last dimension (kept as size 1), stable for ±1e4 logits.
pub fn token_entropy<B: Backend, const N: usize>(logits: Tensor<B, N>) -> Tensor<B, N> {
    let log_p = activation::log_softmax(logits, N - 1);
    log_p.clone().exp().mul(log_p).sum_dim(N - 1).neg()
}

/// `H_resp` per response: the mean of the `max(1, ⌊fraction·len⌋)` highest token entropies among the
/// tokens where `mask` is true. `token_entropy` and `mask` are `[B, T]`; the result is `[B]`.
/// Every response must have at least one token.
pub fn h_resp<B: Backend>(token_entropy: Tensor<B, 2>, mask: Tensor<B, 2, Bool>, fraction: f64) -> Tensor<B, 1> {
    let [batch, t] = token_entropy.dims();
    let device = token_entropy.device();
    let len = mask.clone().float().sum_dim(1);
    let count = len.mul_scalar(fraction).floor().clamp_min(1.0);
    // Entropies are ≥ 0, so masked-out tokens (−1) sort last.
    let sorted = token_entropy.mask_fill(mask.bool_not(), -1.0).sort_descending(1);
    let pos = Tensor::<B, 1, Int>::arange(0..t as i64, &device).float().reshape([1, t]).expand([batch, t]);
    let keep = pos.lower(count.clone().expand([batch, t])).float();
    sorted.mul(keep).sum_dim(1).div(count).reshape([batch])
}

/// `log softmax(z)_{a_t}` for every token: `logits` `[B, T, V]`, `tokens` `[B, T]`. Returns `[B, T]`.
/// Plain GRPO's log-probs; ERA's are this on [`scale_logits`]'s output.
pub fn token_log_probs<B: Backend>(logits: Tensor<B, 3>, tokens: Tensor<B, 2, Int>) -> Tensor<B, 2> {
    let [b, t, _] = logits.dims();
    activation::log_softmax(logits, 2).gather(2, tokens.reshape([b, t, 1])).reshape([b, t])
}

/// `z' = s_b · z`: each response's logits `[B, T, V]` times its factor in `scale` `[B]`.
pub fn scale_logits<B: Backend>(logits: Tensor<B, 3>, scale: Tensor<B, 1>) -> Tensor<B, 3> {
    let b = logits.dims()[0];
    logits.mul(scale.reshape([b, 1, 1]))
}

/// `log softmax(s_b · z)_{a_t}` for every token: `logits` `[B, T, V]`, `tokens` `[B, T]`, `scale` `[B]`
/// (the per-response factor `k`, `1/k` or `1`). Returns `[B, T]`.
pub fn scaled_token_log_probs<B: Backend>(
    logits: Tensor<B, 3>,
    tokens: Tensor<B, 2, Int>,
    scale: Tensor<B, 1>,
) -> Tensor<B, 2> {
    token_log_probs(scale_logits(logits, scale), tokens)
}

/// Like [`scaled_token_log_probs`], but each softmax is restricted to the `k` largest scaled logits
/// (renormalised); a sampled token outside them joins the set.
pub fn top_k_token_log_probs<B: Backend>(
    logits: Tensor<B, 3>,
    tokens: Tensor<B, 2, Int>,
    scale: Tensor<B, 1>,
    k: usize,
) -> Tensor<B, 2> {
    let [b, t, v] = logits.dims();
    let k = k.clamp(1, v);
    let scaled = scale_logits(logits, scale);
    let chosen = scaled.clone().gather(2, tokens.reshape([b, t, 1]));
    let top = scaled.topk(k, 2);
    let kth = top.clone().slice([0..b, 0..t, k - 1..k]).detach();
    let m = top.clone().slice([0..b, 0..t, 0..1]).detach();
    let lse_top = top.sub(m.clone()).exp().sum_dim(2).log().add(m);
    let outside = chosen.clone().detach().lower(kth).float();
    let lse = lse_top.clone().add(outside.mul(activation::softplus(chosen.clone().sub(lse_top), 1.0)));
    chosen.sub(lse).reshape([b, t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm_scaling as scalar;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray<f64>;

    fn logits_3d() -> (Vec<f64>, Tensor<B, 3>) {
        let flat: Vec<f64> = (0..2 * 3 * 5).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.7).collect();
        let t = Tensor::from_data(TensorData::new(flat.clone(), [2, 3, 5]), &Default::default());
        (flat, t)
    }

    #[test]
    fn token_entropy_matches_scalar() {
        let (flat, t) = logits_3d();
        let got = crate::tensor::to_f64(token_entropy(t));
        for (row, g) in flat.chunks(5).zip(got) {
            assert!((scalar::token_entropy(row) - g).abs() < 1e-12);
        }
        // ±1e4 logits in f32 stay finite (f32 data keeps its dtype on the f64 backend).
        let ext: Tensor<B, 2> =
            Tensor::from_data(TensorData::new(vec![1e4_f32, -1e4, 0.0], [1, 3]), &Default::default());
        assert_eq!(crate::tensor::to_f64(token_entropy(ext)), vec![0.0]);
    }

    #[test]
    fn h_resp_matches_scalar() {
        let dev = Default::default();
        let ent =
            vec![0.1, 2.0, 0.3, 3.0, 0.0, 0.5, 0.2, 0.1, 1.0, 0.4, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 5.0];
        let mask: Vec<bool> = (0..20).map(|i| i < 10 || i % 3 != 0).collect();
        let te: Tensor<B, 2> = Tensor::from_data(TensorData::new(ent.clone(), [2, 10]), &dev);
        let tm: Tensor<B, 2, Bool> = Tensor::from_data(TensorData::new(mask.clone(), [2, 10]), &dev);
        let got = crate::tensor::to_f64(h_resp(te, tm, 0.2));
        for r in 0..2 {
            let want = scalar::h_resp(&ent[r * 10..r * 10 + 10], Some(&mask[r * 10..r * 10 + 10]), 0.2).unwrap();
            assert!((got[r] - want).abs() < 1e-12, "{got:?} vs {want}");
        }
    }

    #[test]
    fn log_probs_match_scalar() {
        let dev = Default::default();
        let (flat, t) = logits_3d();
        let tokens = [0usize, 4, 2, 1, 3, 3];
        let tt: Tensor<B, 2, Int> =
            Tensor::from_data(TensorData::new(tokens.iter().map(|&x| x as i64).collect::<Vec<_>>(), [2, 3]), &dev);
        let scale_v = [2.0, 0.5];
        let scale: Tensor<B, 1> = Tensor::from_floats(scale_v, &dev);
        let full = crate::tensor::to_f64(scaled_token_log_probs(t.clone(), tt.clone(), scale.clone()));
        let top = crate::tensor::to_f64(top_k_token_log_probs(t, tt, scale, 2));
        for (i, row) in flat.chunks(5).enumerate() {
            let mut scaled = vec![0.0; 5];
            scalar::scale_logits(row, scale_v[i / 3], &mut scaled);
            assert!((full[i] - scalar::token_log_prob(&scaled, tokens[i]).unwrap()).abs() < 1e-12);
            assert!((top[i] - scalar::top_k_log_prob(&scaled, tokens[i], 2).unwrap()).abs() < 1e-12, "row {i}");
        }
    }
}
