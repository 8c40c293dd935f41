//! GRPO's pieces: group-normalised advantages, dynamic sampling, the clipped token-mean loss with ERA's
//! logit scaling, and the unbiased pass@k estimator.
//!
//! For a group of `G` responses to one prompt with rewards `r`, `A_i = (r_i − mean r) / (std r + 1e-6)`
//! (sample standard deviation), the same for every token of response `i`. Groups whose rewards are all
//! equal carry no signal and are dropped (dynamic sampling). The loss over the kept tokens is
//!
//! ```text
//! L = −(1/N) Σ_t min(ρ_t A'_t, clip(ρ_t, 1 − ε_low, 1 + ε_high) A'_t) + β · KL_t,
//! ρ_t = exp(log π'_θ(a_t) − log π'_old(a_t)),    KL_t = e^{log π_ref − log π_θ} − (log π_ref − log π_θ) − 1
//! ```
//!
//! with `N` the number of response tokens in the batch (token mean) and `π' = softmax(s·z)`, `s` and
//! `A'` from ERA ([`crate::LlmEra::adjust`]; `s = 1`, `A' = A` for plain GRPO). The old log-probabilities
//! use the same scale, so `ρ = 1` before the first update.

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use crate::tensor::llm_scaling::{scaled_token_log_probs, token_log_probs, top_k_token_log_probs};

/// `(r − mean) / (std + 1e-6)` within each consecutive group of `group` rewards (sample std; a group
/// of one gets 0).
pub fn group_advantages(rewards: &[f64], group: usize) -> Vec<f64> {
    rewards
        .chunks(group.max(1))
        .flat_map(|g| {
            let n = g.len() as f64;
            let mean = g.iter().sum::<f64>() / n;
            let var = if g.len() > 1 { g.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
            let std = var.sqrt();
            g.iter().map(move |r| (r - mean) / (std + 1e-6))
        })
        .collect()
}

/// Which advantages GRPO learns from: both signs (GRPO), only the rewarded responses' (positive sample
/// reinforcement) or only the unrewarded ones' (negative sample reinforcement). The one-sided forms
/// split GRPO's gradient in two, to see which side moves the entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdvantageSign {
    /// Every advantage (GRPO).
    #[default]
    Both,
    /// `max(A, 0)`: only responses better than their group's mean.
    Positive,
    /// `min(A, 0)`: only responses worse than their group's mean.
    Negative,
}

crate::choice::named_choice!(AdvantageSign, "advantage sign", {
    Both => "both",
    Positive => "positive",
    Negative => "negative",
});

impl AdvantageSign {
    /// `A` with the other side set to 0.
    pub fn apply(self, a: f64) -> f64 {
        match self {
            AdvantageSign::Both => a,
            AdvantageSign::Positive => a.max(0.0),
            AdvantageSign::Negative => a.min(0.0),
        }
    }
}

/// Indices of the groups whose rewards are not all equal (the ones dynamic sampling keeps).
pub fn informative_groups(rewards: &[f64], group: usize) -> Vec<usize> {
    rewards.chunks(group.max(1)).enumerate().filter(|(_, g)| g.iter().any(|r| *r != g[0])).map(|(i, _)| i).collect()
}

/// The unbiased pass@k of `n` samples with `c` correct: `1 − C(n−c, k) / C(n, k)` (Chen et al. 2021),
/// computed as a product to stay exact for large `n`. `k ≤ n` is required.
pub fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    assert!(k >= 1 && k <= n && c <= n, "pass@{k} of {c}/{n}");
    if n - c < k {
        return 1.0;
    }
    1.0 - ((n - c + 1)..=n).map(|i| 1.0 - k as f64 / i as f64).product::<f64>()
}

/// Log-probabilities of the taken tokens under ERA's scaled policy: `tokens` `[B, T+1]` (each row's
/// whole sequence), `logits` `[B, T, V]` from positions `0..T`, `scale` `[B]`. Position `t` predicts
/// token `t + 1`. With `top_k` the softmax is restricted to that many logits.
pub fn taken_log_probs<B: Backend>(
    logits: Tensor<B, 3>,
    tokens: Tensor<B, 2, Int>,
    scale: Option<Tensor<B, 1>>,
    top_k: Option<usize>,
) -> Tensor<B, 2> {
    let [b, t1] = tokens.dims();
    let targets = tokens.slice([0..b, 1..t1]);
    match (scale, top_k) {
        (Some(s), Some(k)) => top_k_token_log_probs(logits, targets, s, k),
        (Some(s), None) => scaled_token_log_probs(logits, targets, s),
        (None, Some(k)) => {
            let ones = Tensor::ones([b], &logits.device());
            top_k_token_log_probs(logits, targets, ones, k)
        }
        (None, None) => token_log_probs(logits, targets),
    }
}

/// The settings of the loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossSettings {
    /// `ε_low`.
    pub clip_low: f64,
    /// `ε_high`.
    pub clip_high: f64,
    /// `β` (0: no KL term).
    pub kl_coef: f64,
}

/// The loss's value and what is logged of it.
#[derive(Debug, Clone)]
pub struct Loss<B: Backend> {
    /// The scalar to differentiate.
    pub loss: Tensor<B, 1>,
    /// The policy part alone.
    pub policy: Tensor<B, 1>,
    /// Share of tokens whose ratio was clipped.
    pub clip_frac: Tensor<B, 1>,
    /// Mean `log π'_old − log π'_θ` (approximate KL to the rollout policy).
    pub approx_kl: Tensor<B, 1>,
}

/// The clipped token-mean policy loss (see the module docs). `log_probs` (of `π'_θ`) and
/// `old_log_probs` are `[B, T]`; `kl` holds the unscaled `log π_θ` and `log π_ref` when `β > 0`;
/// `mask` marks response tokens; `advantages` are `A'` `[B]`.
pub fn policy_loss<B: Backend>(
    log_probs: Tensor<B, 2>,
    old_log_probs: Tensor<B, 2>,
    kl: Option<(Tensor<B, 2>, Tensor<B, 2>)>,
    advantages: Tensor<B, 1>,
    mask: Tensor<B, 2, Bool>,
    s: &LossSettings,
) -> Loss<B> {
    let [b, _] = log_probs.dims();
    let m = mask.float();
    let tokens = m.clone().sum().clamp_min(1.0);
    let log_ratio = log_probs - old_log_probs;
    let ratio = log_ratio.clone().exp();
    let adv = advantages.reshape([b, 1]);
    let unclipped = ratio.clone() * adv.clone();
    let clipped = ratio.clone().clamp(1.0 - s.clip_low, 1.0 + s.clip_high) * adv;
    let surrogate = unclipped.clone().min_pair(clipped.clone());
    let policy = (surrogate * m.clone()).sum().neg() / tokens.clone();
    let was_clipped = unclipped.not_equal(clipped).float().detach();
    let clip_frac = (was_clipped * m.clone()).sum() / tokens.clone();
    let approx_kl = (log_ratio.neg().detach() * m.clone()).sum() / tokens.clone();
    let loss = match kl {
        Some((current, reference)) if s.kl_coef > 0.0 => {
            let d = reference - current;
            let kl = d.clone().exp() - d - 1.0;
            policy.clone() + (kl * m).sum().mul_scalar(s.kl_coef) / tokens
        }
        _ => policy.clone(),
    };
    Loss { loss, policy: policy.detach(), clip_frac, approx_kl }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;
    use proptest::prelude::*;

    type B = Autodiff<NdArray<f64>>;

    #[test]
    fn advantages_by_hand() {
        // Group (1, 0, 0, 1): mean 0.5, sample std √(4·0.25/3) = 0.57735 → ±0.866.
        let a = group_advantages(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0], 4);
        for (got, want) in a.iter().zip([0.866, -0.866, -0.866, 0.866, 0.0, 0.0, 0.0, 0.0]) {
            assert!((got - want).abs() < 1e-3, "{a:?}");
        }
        assert_eq!(informative_groups(&[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.5], 4), vec![0, 2]);
    }

    #[test]
    fn one_sided_advantages_keep_their_side() {
        let a = [0.866, -0.866, 0.0];
        let side = |s: AdvantageSign| a.map(|x| s.apply(x));
        assert_eq!(side(AdvantageSign::Both), a);
        assert_eq!(side(AdvantageSign::Positive), [0.866, 0.0, 0.0]);
        assert_eq!(side(AdvantageSign::Negative), [0.0, -0.866, 0.0]);
        // Names round-trip as in config.json; an unknown one lists the valid ones.
        for &s in AdvantageSign::ALL {
            assert_eq!(s.as_str().parse::<AdvantageSign>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        let e = "pos".parse::<AdvantageSign>().unwrap_err();
        assert!(e.contains("`pos`") && e.contains("both, positive, negative"), "{e}");
    }

    #[test]
    fn pass_at_k_by_hand() {
        // n = 4, c = 1: pass@1 = 1/4; pass@2 = 1 − C(3,2)/C(4,2) = 1 − 3/6 = 1/2; pass@4 = 1.
        assert!((pass_at_k(4, 1, 1) - 0.25).abs() < 1e-12);
        assert!((pass_at_k(4, 1, 2) - 0.5).abs() < 1e-12);
        assert_eq!(pass_at_k(4, 1, 4), 1.0);
        assert_eq!(pass_at_k(16, 0, 16), 0.0);
        // n = 16, c = 2, k = 8: 1 − C(14,8)/C(16,8) = 1 − 3003/12870 = 0.766667.
        assert!((pass_at_k(16, 2, 8) - (1.0 - 3003.0 / 12870.0)).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn pass_at_k_is_monotone_and_unbiased_for_k_1(n in 1usize..40, c in 0usize..40) {
            let c = c.min(n);
            prop_assert!((pass_at_k(n, c, 1) - c as f64 / n as f64).abs() < 1e-12);
            for k in 1..n {
                prop_assert!(pass_at_k(n, c, k) <= pass_at_k(n, c, k + 1) + 1e-12);
            }
        }

        #[test]
        fn advantages_have_zero_mean_per_group(r in proptest::collection::vec(0.0f64..1.0, 8)) {
            let a = group_advantages(&r, 4);
            for g in a.chunks(4) {
                prop_assert!(g.iter().sum::<f64>().abs() < 1e-9);
            }
        }
    }

    #[test]
    fn loss_clips_and_takes_the_token_mean() {
        let dev = Default::default();
        let t = |v: Vec<f64>, s: [usize; 2]| Tensor::<B, 2>::from_data(TensorData::new(v, s), &dev);
        // Two responses, three positions; the second response's last position is padding.
        let new = t(vec![0.0, (1.5f64).ln(), (0.5f64).ln(), 0.0, (1.1f64).ln(), 5.0], [2, 3]).require_grad();
        let old = t(vec![0.0; 6], [2, 3]);
        let mask =
            Tensor::<B, 2, Bool>::from_data(TensorData::new(vec![true, true, true, true, true, false], [2, 3]), &dev);
        let adv = Tensor::<B, 1>::from_floats([1.0, -2.0], &dev);
        let s = LossSettings { clip_low: 0.2, clip_high: 0.28, kl_coef: 0.0 };
        let l = policy_loss(new.clone(), old, None, adv, mask, &s);
        // Row 1 (A = 1): ratios 1, 1.5 → clipped 1.28, 0.5 → min(0.5, 0.8) = 0.5. Row 2 (A = −2):
        // ratios 1, 1.1 → −2, −2.2. Token mean over 5: −(1 + 1.28 + 0.5 − 2 − 2.2)/5 = 0.284.
        let v = crate::tensor::to_f64(l.loss.clone())[0];
        assert!((v - 0.284).abs() < 1e-9, "{v}");
        // Clipped: row 1's 1.5 and 0.5 (0.5·1 < 0.8 is the min, but the pair differs), none in row 2: 2/5.
        assert!((crate::tensor::to_f64(l.clip_frac)[0] - 0.4).abs() < 1e-9);
        // The clipped token gets no gradient; the padding position gets none either.
        let g = l.loss.backward();
        let grad = crate::tensor::to_f64(new.grad(&g).unwrap());
        assert_eq!(grad[1], 0.0);
        assert_eq!(grad[5], 0.0);
        assert!(grad[0] < 0.0 && grad[3] > 0.0);
    }
}
