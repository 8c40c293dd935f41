//! ERA for LLM reinforcement learning (GRPO): scale the logits of positive-advantage responses whose
//! entropy leaves `[ω_low, ω_high]`.
//!
//! Per response, `H_resp` is the mean of the top 20 % token entropies (`max(1, ⌊0.2·len⌋)` of them).
//! With the response's advantage `A`:
//!
//! ```text
//! H_resp < ω_low  and A > 0:  z' = k·z,   A' = A / k     (sharpen)
//! H_resp > ω_high and A > 0:  z' = z / k, A' = k·A       (soften)
//! otherwise:                  z' = z,     A' = A         (keep)
//! ```
//!
//! The objective is `E_t[ log softmax(z')_{a_t} · A'_t ]` with samples still drawn from `softmax(z)`.
//! Since `∂ log softmax(kz)_a / ∂z = k(e_a − π')`, the rescaled advantage keeps the push at
//! `A(e_a − π')`: a sharpened `π'` saturates sooner on already-likely tokens, so confident positive
//! samples stop driving the entropy down (and the reverse for soften). Unlike the other two
//! activations this is not a hard floor; it steers the entropy back over updates.

use serde::{Deserialize, Serialize};

use crate::error::{EraError, finite};
use crate::prob;
use crate::real::Real;

/// The authors' `ω_low` (tuned for a 7B model).
pub const DEFAULT_OMEGA_LOW: f64 = 0.45;
/// The authors' `ω_high`.
pub const DEFAULT_OMEGA_HIGH: f64 = 3.0;
/// The authors' scaling factor `k`.
pub const DEFAULT_K: f64 = 2.0;
/// The share of highest token entropies averaged into `H_resp`.
pub const DEFAULT_TOP_FRACTION: f64 = 0.2;
/// How many logits the optional top-k log-probs keep.
pub const DEFAULT_TOP_K_LOGPROBS: usize = 20;

/// What ERA does to one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    /// Entropy too low, positive advantage: `z' = k·z`, `A' = A/k`.
    Sharpen,
    /// Inside the band, or `A ≤ 0`: unchanged.
    Keep,
    /// Entropy too high, positive advantage: `z' = z/k`, `A' = k·A`.
    Soften,
}

crate::choice::named_choice!(Regime, "regime", { Sharpen => "sharpen", Keep => "keep", Soften => "soften" });

/// What ERA does to one response: its regime, the factor on its logits and its new advantage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adjustment {
    /// Sharpen, keep or soften.
    pub regime: Regime,
    /// `k`, `1/k` or `1`.
    pub logit_scale: f64,
    /// `A'`.
    pub advantage: f64,
}

/// Validated ERA settings for GRPO.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlmEra {
    omega_low: f64,
    omega_high: f64,
    k: f64,
    top_fraction: f64,
    advantage_rescale: bool,
}

impl Default for LlmEra {
    fn default() -> Self {
        Self {
            omega_low: DEFAULT_OMEGA_LOW,
            omega_high: DEFAULT_OMEGA_HIGH,
            k: DEFAULT_K,
            top_fraction: DEFAULT_TOP_FRACTION,
            advantage_rescale: true,
        }
    }
}

impl LlmEra {
    /// Checks `0 ≤ ω_low ≤ ω_high`, `k ≥ 1` and `top_fraction ∈ (0, 1]`.
    pub fn new(
        omega_low: f64,
        omega_high: f64,
        k: f64,
        top_fraction: f64,
        advantage_rescale: bool,
    ) -> Result<Self, EraError> {
        finite("omega_low", omega_low)?;
        finite("omega_high", omega_high)?;
        finite("k", k)?;
        finite("top_fraction", top_fraction)?;
        let range_err = |what, value: f64, range: String, context: &str| EraError::OutOfRange {
            what,
            value,
            range,
            context: context.into(),
        };
        if omega_low < 0.0 {
            return Err(range_err("omega_low", omega_low, "[0, inf)".into(), "entropies are non-negative"));
        }
        if omega_high < omega_low {
            return Err(range_err(
                "omega_high",
                omega_high,
                format!("[{omega_low}, inf)"),
                "omega_high must not be below omega_low",
            ));
        }
        if k < 1.0 {
            return Err(range_err("k", k, "[1, inf)".into(), "the logit scaling factor"));
        }
        if !(top_fraction > 0.0 && top_fraction <= 1.0) {
            return Err(range_err(
                "top_fraction",
                top_fraction,
                "(0, 1]".into(),
                "the share of token entropies averaged",
            ));
        }
        Ok(Self { omega_low, omega_high, k, top_fraction, advantage_rescale })
    }

    /// `ω_low`.
    pub fn omega_low(&self) -> f64 {
        self.omega_low
    }
    /// `ω_high`.
    pub fn omega_high(&self) -> f64 {
        self.omega_high
    }
    /// `k`.
    pub fn k(&self) -> f64 {
        self.k
    }
    /// The share of highest token entropies averaged into `H_resp`.
    pub fn top_fraction(&self) -> f64 {
        self.top_fraction
    }
    /// Whether the advantage is rescaled inversely to the logits.
    pub fn advantage_rescale(&self) -> bool {
        self.advantage_rescale
    }

    /// The regime for a response: boundaries are strict, so `H_resp = ω_low` or `= ω_high` keeps.
    pub fn regime(&self, h_resp: f64, advantage: f64) -> Regime {
        if advantage > 0.0 && h_resp < self.omega_low {
            Regime::Sharpen
        } else if advantage > 0.0 && h_resp > self.omega_high {
            Regime::Soften
        } else {
            Regime::Keep
        }
    }

    /// The factor applied to the logits: `k`, `1/k` or `1`.
    pub fn logit_scale(&self, regime: Regime) -> f64 {
        match regime {
            Regime::Sharpen => self.k,
            Regime::Keep => 1.0,
            Regime::Soften => 1.0 / self.k,
        }
    }

    /// `A'`: the advantage divided by the logit scale when rescaling is on, else `A`.
    pub fn rescaled_advantage(&self, regime: Regime, advantage: f64) -> f64 {
        if self.advantage_rescale { advantage / self.logit_scale(regime) } else { advantage }
    }

    /// Regime, logit scale and rescaled advantage of one response.
    pub fn adjust(&self, h_resp: f64, advantage: f64) -> Adjustment {
        let regime = self.regime(h_resp, advantage);
        Adjustment {
            regime,
            logit_scale: self.logit_scale(regime),
            advantage: self.rescaled_advantage(regime, advantage),
        }
    }

    /// `H_resp` of a response with this configuration's top fraction.
    pub fn h_resp<T: Real>(&self, token_entropies: &[T], mask: Option<&[bool]>) -> Result<T, EraError> {
        h_resp(token_entropies, mask, self.top_fraction)
    }
}

/// How many of `len` token entropies enter `H_resp`: `max(1, ⌊fraction·len⌋)`.
pub fn top_count(len: usize, fraction: f64) -> usize {
    ((fraction * len as f64).floor() as usize).clamp(1, len.max(1))
}

/// `H_resp`: the mean of the `max(1, ⌊fraction·len⌋)` highest token entropies of the response's tokens
/// (those with `mask = true`, or all without a mask).
pub fn h_resp<T: Real>(token_entropies: &[T], mask: Option<&[bool]>, fraction: f64) -> Result<T, EraError> {
    if let Some(i) = token_entropies.iter().position(|h| !(h.is_finite() && *h >= T::zero())) {
        return Err(EraError::OutOfRange {
            what: "token entropy",
            value: token_entropies[i].f64(),
            range: "[0, inf)".into(),
            context: format!("token {} of the response", i + 1),
        });
    }
    let mut vals: Vec<T> = match mask {
        Some(m) if m.len() != token_entropies.len() => {
            return Err(EraError::LengthMismatch {
                what: "response mask",
                expected: token_entropies.len(),
                got: m.len(),
            });
        }
        Some(m) => token_entropies.iter().zip(m).filter(|(_, keep)| **keep).map(|(h, _)| *h).collect(),
        None => token_entropies.to_vec(),
    };
    if vals.is_empty() {
        return Err(EraError::TooFew { what: "response tokens", min: 1, got: 0 });
    }
    let count = top_count(vals.len(), fraction);
    vals.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
    let sum = vals[..count].iter().fold(0.0f64, |acc, h| acc + h.f64());
    Ok(T::c(sum / count as f64))
}

/// Entropy of one token's distribution `softmax(z)`, stable for 150k-entry vocabularies and ±1e4 logits.
pub fn token_entropy<T: Real>(logits: &[T]) -> T {
    prob::entropy_from_logits(logits)
}

/// `z' = factor·z` for one row.
pub fn scale_logits<T: Real>(logits: &[T], factor: f64, out: &mut [T]) {
    let f = T::c(factor);
    for (o, &z) in out.iter_mut().zip(logits) {
        *o = z * f;
    }
}

/// `log softmax(z)_token`, the log-prob of the sampled token.
pub fn token_log_prob<T: Real>(logits: &[T], token: usize) -> Result<T, EraError> {
    check_token(logits.len(), token)?;
    Ok(logits[token] - prob::log_sum_exp(logits))
}

/// Log-prob of `token` under the softmax restricted to the `k` largest logits (renormalised), the
/// authors' "top-k log-probs". A sampled token outside the top `k` joins the set, so its log-prob
/// stays finite.
pub fn top_k_log_prob<T: Real>(logits: &[T], token: usize, k: usize) -> Result<T, EraError> {
    check_token(logits.len(), token)?;
    if k == 0 {
        return Err(EraError::TooFew { what: "top-k logits", min: 1, got: 0 });
    }
    let k = k.min(logits.len());
    let mut idx: Vec<usize> = (0..logits.len()).collect();
    let cmp = |a: &usize, b: &usize| logits[*b].partial_cmp(&logits[*a]).unwrap_or(std::cmp::Ordering::Equal);
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, cmp);
        idx.truncate(k);
    }
    if !idx.contains(&token) {
        idx.push(token);
    }
    let kept: Vec<T> = idx.iter().map(|&i| logits[i]).collect();
    Ok(logits[token] - prob::log_sum_exp(&kept))
}

fn check_token(vocab: usize, token: usize) -> Result<(), EraError> {
    if vocab == 0 {
        return Err(EraError::TooFew { what: "vocabulary (logits per token)", min: 1, got: 0 });
    }
    if token >= vocab {
        return Err(EraError::LengthMismatch {
            what: "token id (must be < vocabulary size)",
            expected: vocab,
            got: token,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_h_resp() {
        // 10 tokens, top 20 % → the 2 largest: (3.0 + 2.0)/2 = 2.5.
        let h = [0.1_f64, 2.0, 0.3, 3.0, 0.0, 0.5, 0.2, 0.1, 1.0, 0.4];
        assert_eq!(h_resp(&h, None, 0.2).unwrap(), 2.5);
        // 4 tokens: ⌊0.8⌋ = 0 → max(1, 0) = 1 → the largest alone.
        assert_eq!(h_resp(&[0.1_f64, 0.7, 0.2, 0.3], None, 0.2).unwrap(), 0.7);
        // Masked: only tokens 0 and 2 count, one of them: 0.3.
        assert_eq!(h_resp(&[0.1_f64, 0.7, 0.3, 0.9], Some(&[true, false, true, false]), 0.2).unwrap(), 0.3);
        assert!(h_resp::<f64>(&[], None, 0.2).is_err());
        assert!(h_resp(&[0.1_f64], Some(&[false]), 0.2).is_err());
        assert!(h_resp(&[f64::NAN], None, 0.2).is_err());
        let e = h_resp(&[0.1_f64, -0.2], None, 0.2).unwrap_err().to_string();
        assert!(e.contains("-0.2") && e.contains("[0, inf)") && e.contains("token 2"), "{e}");
    }

    #[test]
    fn golden_regimes() {
        // Authors' settings ω = [0.45, 3.0], k = 2.
        let era = LlmEra::default();
        assert_eq!(era.regime(0.2, 1.0), Regime::Sharpen);
        assert_eq!(era.regime(0.2, -1.0), Regime::Keep);
        assert_eq!(era.regime(0.2, 0.0), Regime::Keep);
        assert_eq!(era.regime(0.45, 1.0), Regime::Keep);
        assert_eq!(era.regime(3.0, 1.0), Regime::Keep);
        assert_eq!(era.regime(3.5, 1.0), Regime::Soften);
        // Sharpen: A' = 1.5/2 = 0.75; soften: A' = 1.5·2 = 3.
        assert_eq!(era.rescaled_advantage(Regime::Sharpen, 1.5), 0.75);
        assert_eq!(era.rescaled_advantage(Regime::Soften, 1.5), 3.0);
        let no_rescale = LlmEra::new(0.45, 3.0, 2.0, 0.2, false).unwrap();
        assert_eq!(no_rescale.rescaled_advantage(Regime::Soften, 1.5), 1.5);
    }

    #[test]
    fn golden_log_probs() {
        // Logits (0, ln 3): log-prob of token 1 = ln ¾ = −0.2876821.
        let z = [0.0_f64, 3.0_f64.ln()];
        assert!((token_log_prob(&z, 1).unwrap() - 0.75_f64.ln()).abs() < 1e-15);
        // Top-2 of (0, ln 3, −5): renormalised over the first two: ln ¾ again.
        let z3 = [0.0_f64, 3.0_f64.ln(), -5.0];
        assert!((top_k_log_prob(&z3, 1, 2).unwrap() - 0.75_f64.ln()).abs() < 1e-15);
        // Token 2 is outside the top 2 and joins: ln(e⁻⁵ / (1 + 3 + e⁻⁵)).
        let expect = -5.0 - (4.0 + (-5.0_f64).exp()).ln();
        assert!((top_k_log_prob(&z3, 2, 2).unwrap() - expect).abs() < 1e-14);
        assert!(token_log_prob(&z, 2).is_err());
        assert!(top_k_log_prob(&z, 0, 0).is_err());
    }

    #[test]
    fn rejects_invalid_settings() {
        assert!(LlmEra::new(-0.1, 3.0, 2.0, 0.2, true).is_err());
        assert!(LlmEra::new(1.0, 0.5, 2.0, 0.2, true).is_err());
        assert!(LlmEra::new(0.45, 3.0, 0.5, 0.2, true).is_err());
        assert!(LlmEra::new(0.45, 3.0, 2.0, 0.0, true).is_err());
        assert!(LlmEra::new(0.45, 3.0, 2.0, 1.5, true).is_err());
        assert!(LlmEra::new(f64::NAN, 3.0, 2.0, 0.2, true).is_err());
    }

    proptest! {
        /// Regime boundaries exactly as in the reference, for any band and advantage.
        #[test]
        fn regime_boundaries(lo in 0.0f64..5.0, width in 0.0f64..5.0, k in 1.0f64..10.0, h in 0.0f64..12.0, a in -3.0f64..3.0) {
            let era = LlmEra::new(lo, lo + width, k, 0.2, true).unwrap();
            let expect = if a > 0.0 && h < lo { Regime::Sharpen } else if a > 0.0 && h > lo + width { Regime::Soften } else { Regime::Keep };
            let r = era.regime(h, a);
            prop_assert_eq!(r, expect);
            // The push A'·∂log π'/∂z = A·(e_a − π'): the scale times the rescaled advantage is A.
            prop_assert!((era.logit_scale(r) * era.rescaled_advantage(r, a) - a).abs() <= 1e-12 * (1.0 + a.abs()));
        }

        /// Token entropy is finite and within [0, ln V] for ±1e4 logits.
        #[test]
        fn token_entropy_bounded(z in prop::collection::vec(-1e4f32..1e4, 1..400)) {
            let h = f64::from(token_entropy(&z));
            prop_assert!(h.is_finite() && h >= 0.0 && h <= (z.len() as f64).ln() + 1e-5);
        }

        /// H_resp lies between the mean and the maximum of the token entropies.
        #[test]
        fn h_resp_between_mean_and_max(h in prop::collection::vec(0.0f64..10.0, 1..200), frac in 0.01f64..=1.0) {
            let v = h_resp(&h, None, frac).unwrap();
            let mean = h.iter().sum::<f64>() / h.len() as f64;
            let max = h.iter().cloned().fold(0.0, f64::max);
            prop_assert!(v >= mean - 1e-9 && v <= max + 1e-12);
        }
    }
}
