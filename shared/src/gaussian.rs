//! ERA for continuous control: the Gaussian log-std activation and the distributions around it.
//!
//! A policy head outputs a mean `μ` and one raw score `ŝ_i` per action dimension. The activation
//!
//! ```text
//! log σ'_i = clip( log σ_max + (H₀' − D·log√(2πe) − D·log σ_max) · softmax(ŝ)_i ,  log σ_min, log σ_max )
//! ```
//!
//! with `H₀' = H₀ + δ`. The softmax sums to one, so before the clip `Σ_i log σ'_i = H₀' − D·log√(2πe)`
//! and the diagonal Gaussian's entropy `Σ_i log σ_i + D·log√(2πe)` is exactly `H₀'`: the network only
//! chooses how to spread a fixed entropy budget over the dimensions.
//!
//! The clip at `log σ_min` can only raise the entropy. The coefficient is `≤ 0` exactly when
//! `H₀' ≤ D·(log√(2πe) + log σ_max)`, and then the upper clip never acts; above that the target is
//! unreachable. So `H₀'` must lie in `[D·(log√(2πe) + log σ_min), D·(log√(2πe) + log σ_max)]`.
//!
//! Bounding the actions (truncation to `[−1, 1]`, or a tanh squash) lowers the entropy of what is
//! sampled; `δ ≥ 0` compensates, as a constant or tuned by [`delta_loss`].

use crate::error::{EraError, finite};
use crate::real::Real;

/// `log √(2πe) = ½·ln(2πe)`: the entropy of a unit-variance normal, in nats.
pub const LOG_SQRT_2PI_E: f64 = 1.418_938_533_204_672_7;

/// `log √(2π)`: the normal log-density's constant.
pub const LOG_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// The authors' lower log-std bound (SAC-ERA): `σ_min = e⁻⁸`.
pub const DEFAULT_LOG_STD_MIN: f64 = -8.0;

/// The authors' upper log-std bound (SAC-ERA): `σ_max = 1`.
pub const DEFAULT_LOG_STD_MAX: f64 = 0.0;

/// A validated Gaussian ERA activation for `D` action dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianEra {
    dims: usize,
    h0: f64,
    delta: f64,
    log_std_min: f64,
    log_std_max: f64,
}

impl GaussianEra {
    /// Builds the activation, checking that `H₀ + δ` lies in [`GaussianEra::valid_range`].
    ///
    /// `h0` is the target entropy of the whole `D`-dimensional Gaussian in nats (per-dimension
    /// targets multiply by `D` first); `delta ≥ 0` is the compensation for bounded actions.
    pub fn new(dims: usize, h0: f64, delta: f64, log_std_min: f64, log_std_max: f64) -> Result<Self, EraError> {
        if dims < 1 {
            return Err(EraError::TooFew { what: "action dimensions", min: 1, got: dims });
        }
        finite("H0", h0)?;
        finite("delta", delta)?;
        finite("log_std_min", log_std_min)?;
        finite("log_std_max", log_std_max)?;
        if log_std_min >= log_std_max {
            return Err(EraError::OutOfRange {
                what: "log_std_min",
                value: log_std_min,
                range: format!("(-inf, {log_std_max})"),
                context: format!("log_std_max = {log_std_max}"),
            });
        }
        if delta < 0.0 {
            return Err(EraError::OutOfRange {
                what: "delta",
                value: delta,
                range: "[0, inf)".into(),
                context: "the compensation for bounded actions".into(),
            });
        }
        let (lo, hi) = Self::valid_range(dims, log_std_min, log_std_max);
        let target = h0 + delta;
        if !(lo..=hi).contains(&target) {
            return Err(EraError::OutOfRange {
                what: "H0 + delta",
                value: target,
                range: format!("[{lo:.6}, {hi:.6}]"),
                context: format!("D = {dims}, log_std_min = {log_std_min}, log_std_max = {log_std_max}"),
            });
        }
        Ok(Self { dims, h0, delta, log_std_min, log_std_max })
    }

    /// The closed range of reachable targets `H₀'`: `[D·(log√(2πe) + log σ_min), D·(log√(2πe) + log σ_max)]`.
    pub fn valid_range(dims: usize, log_std_min: f64, log_std_max: f64) -> (f64, f64) {
        let d = dims as f64;
        (d * (LOG_SQRT_2PI_E + log_std_min), d * (LOG_SQRT_2PI_E + log_std_max))
    }

    /// The same activation with another compensation `δ` (used while `δ` is auto-tuned).
    pub fn with_delta(&self, delta: f64) -> Result<Self, EraError> {
        Self::new(self.dims, self.h0, delta, self.log_std_min, self.log_std_max)
    }

    /// Number of action dimensions `D`.
    pub fn dims(&self) -> usize {
        self.dims
    }
    /// The target entropy `H₀` in nats, without compensation.
    pub fn h0(&self) -> f64 {
        self.h0
    }
    /// The compensation `δ`.
    pub fn delta(&self) -> f64 {
        self.delta
    }
    /// `log σ_min`.
    pub fn log_std_min(&self) -> f64 {
        self.log_std_min
    }
    /// `log σ_max`.
    pub fn log_std_max(&self) -> f64 {
        self.log_std_max
    }
    /// The Gaussian's entropy before the clip, `H₀' = H₀ + δ`.
    pub fn target(&self) -> f64 {
        self.h0 + self.delta
    }

    /// The softmax's coefficient `H₀' − D·log√(2πe) − D·log σ_max` (≤ 0 inside the valid range).
    pub fn coefficient(&self) -> f64 {
        let d = self.dims as f64;
        self.target() - d * LOG_SQRT_2PI_E - d * self.log_std_max
    }

    /// Applies the activation to one row of `D` raw scores, writing `log σ'` into `log_std`.
    pub fn apply_row<T: Real>(&self, raw: &[T], log_std: &mut [T]) -> Result<(), EraError> {
        self.apply_row_learned(raw, T::zero(), log_std)
    }

    /// [`GaussianEra::apply_row`] with a learned compensation `extra` on top of [`GaussianEra::delta`]:
    /// the coefficient is linear in δ, so this is the same formula with `coefficient + extra`. The caller
    /// keeps `delta + extra` inside the valid range.
    pub fn apply_row_learned<T: Real>(&self, raw: &[T], extra: T, log_std: &mut [T]) -> Result<(), EraError> {
        self.check_len(raw.len())?;
        self.check_len(log_std.len())?;
        let coef = T::c(self.coefficient()) + extra;
        let (lo, hi) = (T::c(self.log_std_min), T::c(self.log_std_max));
        crate::prob::softmax(raw, log_std);
        for s in log_std.iter_mut() {
            *s = (hi + coef * *s).max(lo).min(hi);
        }
        Ok(())
    }

    /// The gradient of [`GaussianEra::apply_row_learned`]: given `∂L/∂log σ'` for one row, writes
    /// `∂L/∂ŝ` into `grad_raw` and returns `∂L/∂extra`.
    ///
    /// With `p = softmax(ŝ)` and `c` the coefficient, `log σ'_i = c·p_i + log σ_max` where no clip acts,
    /// and a clipped entry passes no gradient. Writing `g_i` for the upstream gradient with clipped
    /// entries zeroed, `∂L/∂ŝ_j = c·p_j·(g_j − Σ_i g_i·p_i)` (the softmax Jacobian `p_i(δ_ij − p_j)`)
    /// and `∂L/∂c = Σ_i g_i·p_i`.
    pub fn backward_row<T: Real>(&self, raw: &[T], extra: T, grad_log_std: &[T], grad_raw: &mut [T]) -> T {
        let coef = T::c(self.coefficient()) + extra;
        let (lo, hi) = (T::c(self.log_std_min), T::c(self.log_std_max));
        crate::prob::softmax(raw, grad_raw);
        let masked = |p: T, g: T| if hi + coef * p < lo || hi + coef * p > hi { T::zero() } else { g };
        let dot = grad_raw.iter().zip(grad_log_std).fold(T::zero(), |acc, (&p, &g)| acc + masked(p, g) * p);
        for (r, &g) in grad_raw.iter_mut().zip(grad_log_std) {
            let p = *r;
            *r = coef * p * (masked(p, g) - dot);
        }
        dot
    }

    /// Applies the activation to `rows × D` raw scores stored row-major; returns `log σ'` in the same layout.
    pub fn apply<T: Real>(&self, raw: &[T]) -> Result<Vec<T>, EraError> {
        crate::real::map_rows(raw, self.dims, "raw scores (a multiple of D)", |r, o| self.apply_row(r, o))
    }

    fn check_len(&self, got: usize) -> Result<(), EraError> {
        if got == self.dims {
            Ok(())
        } else {
            Err(EraError::LengthMismatch { what: "raw scores per row (D)", expected: self.dims, got })
        }
    }
}

/// Entropy of a diagonal Gaussian from its log-stds: `Σ_i log σ_i + D·log√(2πe)`.
pub fn diag_gaussian_entropy<T: Real>(log_std: &[T]) -> T {
    let d = T::c(log_std.len() as f64);
    log_std.iter().fold(T::zero(), |acc, &s| acc + s) + d * T::c(LOG_SQRT_2PI_E)
}

/// The δ auto-tune loss `L(δ̂) = δ̂ · mean_s( H[π(·|s)] − H₀ )`, like SAC's temperature loss.
///
/// `entropies` are per-state estimates of the bounded policy's entropy (e.g. `−log π(a|s)` of sampled
/// actions). The gradient in δ̂ is `mean(H − H₀)`: a policy below its target raises δ̂, and so the
/// Gaussian's budget `H₀ + δ̂`.
pub fn delta_loss<T: Real>(delta: T, entropies: &[T], h0: T) -> T {
    delta * entropy_gap(entropies.iter().copied(), h0)
}

/// The entropy gap `mean_s(H − H₀)`: [`delta_loss`]'s gradient in δ̂ (0 without states).
pub fn entropy_gap<T: Real>(entropies: impl IntoIterator<Item = T>, h0: T) -> T {
    let (n, sum) = entropies.into_iter().fold((0usize, T::zero()), |(n, sum), h| (n + 1, sum + (h - h0)));
    if n == 0 { T::zero() } else { sum / T::c(n as f64) }
}

/// Log-density of a diagonal Gaussian at `x`, summed over dimensions.
pub fn gaussian_log_prob<T: Real>(x: &[T], mu: &[T], log_std: &[T]) -> T {
    let half = T::c(0.5);
    x.iter().zip(mu).zip(log_std).fold(T::zero(), |acc, ((&x, &m), &s)| {
        let z = (x - m) / s.exp();
        acc - half * z * z - s - T::c(LOG_SQRT_2PI)
    })
}

/// `ln(1 − tanh(u)²)`, computed as `2·(ln 2 − u − softplus(−2u))` so it stays finite for large `|u|`.
pub fn log_one_minus_tanh_sq<T: Real>(u: T) -> T {
    let two = T::c(2.0);
    two * (T::LN_2() - u - softplus(-two * u))
}

/// `softplus(x) = ln(1 + eˣ)`, without overflow.
pub fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

/// Log-density of the tanh-squashed Gaussian (SAC) at `a = tanh(u)`, given the pre-squash sample `u`.
///
/// `log π(a) = log N(u; μ, σ) − Σ_i ln(1 − tanh(u_i)²)`: the change of variables' log-determinant.
/// The squashed policy has no closed-form entropy; `−log π(a)` of a sample estimates it.
pub fn tanh_gaussian_log_prob<T: Real>(u: &[T], mu: &[T], log_std: &[T]) -> T {
    let correction = u.iter().fold(T::zero(), |acc, &u| acc + log_one_minus_tanh_sq(u));
    gaussian_log_prob(u, mu, log_std) - correction
}

/// The standard normal CDF `Φ(x)`.
pub fn normal_cdf<T: Real>(x: T) -> T {
    T::c(0.5) * (-x / T::SQRT_2()).erfc()
}

/// `ln Z` with `Z = Φ(β) − Φ(α)`, `α < β`: the mass a normal keeps inside the truncation bounds.
///
/// Uses the tail on the side away from the mode so neither term cancels catastrophically.
fn log_mass<T: Real>(alpha: T, beta: T) -> T {
    let half = T::c(0.5);
    let s = T::SQRT_2();
    let z = if alpha > T::zero() {
        half * ((alpha / s).erfc() - (beta / s).erfc())
    } else if beta < T::zero() {
        half * ((-beta / s).erfc() - (-alpha / s).erfc())
    } else {
        half * ((beta / s).erf() - (alpha / s).erf())
    };
    z.max(T::min_positive_value()).ln()
}

/// Log-density of the normal `N(loc, scale²)` truncated to `[−1, 1]` (the authors' SAC-ERA policy,
/// with `loc = tanh(μ)`), summed over dimensions. `−∞` outside the bounds.
pub fn truncated_normal_log_prob<T: Real>(a: &[T], loc: &[T], log_scale: &[T]) -> T {
    let (lo, hi, half) = (-T::one(), T::one(), T::c(0.5));
    a.iter().zip(loc).zip(log_scale).fold(T::zero(), |acc, ((&a, &m), &ls)| {
        if a < lo || a > hi {
            return T::neg_infinity();
        }
        let sigma = ls.exp();
        let z = (a - m) / sigma;
        acc - half * z * z - T::c(LOG_SQRT_2PI) - ls - log_mass((lo - m) / sigma, (hi - m) / sigma)
    })
}

/// Entropy of the normal `N(loc, scale²)` truncated to `[−1, 1]`, summed over dimensions:
///
/// ```text
/// H = ln(√(2πe)·σ·Z) + (α·φ(α) − β·φ(β)) / (2Z),   α = (−1 − loc)/σ,  β = (1 − loc)/σ,  Z = Φ(β) − Φ(α)
/// ```
pub fn truncated_normal_entropy<T: Real>(loc: &[T], log_scale: &[T]) -> T {
    let half = T::c(0.5);
    let phi = |x: T| (-half * x * x - T::c(LOG_SQRT_2PI)).exp();
    loc.iter().zip(log_scale).fold(T::zero(), |acc, (&m, &ls)| {
        let sigma = ls.exp();
        let (alpha, beta) = ((-T::one() - m) / sigma, (T::one() - m) / sigma);
        let log_z = log_mass(alpha, beta);
        let z = log_z.exp();
        acc + T::c(LOG_SQRT_2PI_E) + ls + log_z + (alpha * phi(alpha) - beta * phi(beta)) / (T::c(2.0) * z)
    })
}

/// The standard normal density `φ(x)`.
fn normal_pdf<T: Real>(x: T) -> T {
    (-T::c(0.5) * x * x - T::c(LOG_SQRT_2PI)).exp()
}

/// `erf⁻¹(y)` for `y ∈ (−1, 1)`: Winitzki's closed form (relative error ≈ 2·10⁻³), then two Halley
/// steps on [`Real::erf`] (cubic convergence; with `f = erf(x) − y`, `f'' = −2x·f'`, so a step is
/// `x − f / (f' + x·f)`): about 10⁻¹⁵ relative in `f64`, where two Newton steps, the tensor version's
/// scheme, leave 5·10⁻⁹ at `y = 0.999`. `y` is clamped to `±(1 − 10⁻⁷)` as there.
pub fn erfinv<T: Real>(y: T) -> T {
    let a = T::c(0.147);
    let one = T::one();
    let y = y.max(T::c(-1.0 + 1e-7)).min(T::c(1.0 - 1e-7));
    let ln = (one - y * y).ln();
    let t = T::c(2.0 / (std::f64::consts::PI * 0.147)) + T::c(0.5) * ln;
    let mut x = ((t * t - ln / a).sqrt() - t).sqrt();
    if y < T::zero() {
        x = -x;
    }
    let slope = T::c(2.0 / std::f64::consts::PI.sqrt());
    for _ in 0..2 {
        let f = x.erf() - y;
        x = x - f / (slope * (-x * x).exp() + x * f);
    }
    x
}

/// The released SAC-ERA policy's small constant `ε`: the policy is `N(loc, σ²)` truncated to
/// `[−(1 − ε), 1 − ε]` with `loc` clipped into those bounds, `σ ≥ ε`, the mass `Z ≥ ε`, the CDF value
/// of a draw kept in `[ε, 1 − ε]` and draws clipped to `±(1 − 2ε)`.
pub const TRUNCATION_EPS: f64 = 1e-6;

/// The released policy clips each dimension's log-density into `[−20, 20]` before summing.
pub const LOG_PROB_CLIP: f64 = 20.0;

/// One draw of the released SAC-ERA policy (see [`truncated_normal_quantile`]) with its
/// reparameterisation gradient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruncatedDraw<T> {
    /// The action `a`, the `u`-quantile.
    pub action: T,
    /// `ln p(a)` of this dimension, clipped into `[−20, 20]`.
    pub log_prob: T,
    /// `∂a/∂loc` with `u` held fixed.
    pub d_loc: T,
    /// `∂a/∂log σ` with `u` held fixed.
    pub d_log_scale: T,
}

/// A draw of the authors' released SAC-ERA policy with its gradient: `loc` (`tanh μ`) and `log σ`
/// as the actor gives them, `u ∈ (0, 1)` a uniform. See [`truncated_normal_quantile`] for the draw.
///
/// The gradient is the implicit one (Figurnov et al. 2018): the truncated CDF
/// `F(a) = (Φ(ζ) − Φ(α))/Z`, `ζ = (a − loc)/σ`, stays at `u`, so `∂a/∂θ = −(∂F/∂θ)/p(a)` with
/// `p(a) = φ(ζ)/(σZ)`:
///
/// ```text
/// ∂F/∂loc   = −[φ(ζ) − φ(α) − F·(φ(β) − φ(α))] / (σZ)
/// ∂F/∂log σ = −[ζφ(ζ) − αφ(α) − F·(βφ(β) − αφ(α))] / Z
/// ```
///
/// This is the derivative of the inverse-CDF formula that the authors' code differentiates, computed
/// without differentiating `erf⁻¹`. Where a clip holds (`loc` at a bound, `σ` at `ε`, the draw at
/// `±(1 − 2ε)`) its input's gradient is 0, as for a clip in JAX; `p` is kept above `10⁻¹²`, as the
/// tensor version ([`crate::tensor::truncated_normal_sample`]) does. In `f32` (what the fast CPU path
/// uses, like the tensor version) or `f64`.
pub fn truncated_normal_draw<T: Real>(loc: T, log_scale: T, u: T) -> TruncatedDraw<T> {
    let q = Quantile::new(loc, log_scale, u);
    let (sigma, alpha, beta, z) = (q.sigma, q.alpha, q.beta, q.z);
    let zeta = (q.action - q.loc) / sigma;
    let f = (normal_cdf(zeta) - q.cdf_alpha) / z;
    let clip = T::c(LOG_PROB_CLIP);
    let log_prob = (-T::c(0.5) * zeta * zeta - T::c(LOG_SQRT_2PI) - sigma.ln() - z.ln()).max(-clip).min(clip);
    let pz = normal_pdf(zeta);
    let density = (pz / (sigma * z)).max(T::c(1e-12));
    let (pa, pb) = (normal_pdf(alpha), normal_pdf(beta));
    let df_dloc = -(pz - pa - f * (pb - pa)) / (sigma * z);
    let df_dlog_scale = -(zeta * pz - alpha * pa - f * (beta * pb - alpha * pa)) / z;
    let (d_loc, d_log_scale) = if q.action_clipped {
        (T::zero(), T::zero())
    } else {
        (
            if q.loc_clipped { T::zero() } else { -df_dloc / density },
            if q.sigma_clipped { T::zero() } else { -df_dlog_scale / density },
        )
    };
    TruncatedDraw { action: q.action, log_prob, d_loc, d_log_scale }
}

/// The `u`-quantile of the authors' released SAC-ERA policy, `N(loc, σ²)` truncated to
/// `[−(1 − ε), 1 − ε]` (`ε` = [`TRUNCATION_EPS`]):
///
/// ```text
/// loc ← clip(loc, ±(1 − ε)),  σ ← max(σ, ε),  α = (−(1 − ε) − loc)/σ,  β = (1 − ε − loc)/σ,
/// Z = max(Φ(β) − Φ(α), ε),  p = clip(Φ(α) + Z·clip(u, ε, 1 − ε), ε, 1 − ε),
/// a = clip(loc + σ·Φ⁻¹(p), ±(1 − 2ε))
/// ```
///
/// Alone, for where no gradient or density is needed, such as the critic's target.
pub fn truncated_normal_quantile<T: Real>(loc: T, log_scale: T, u: T) -> T {
    Quantile::new(loc, log_scale, u).action
}

/// The quantile and the truncation's numbers that its gradient reuses.
struct Quantile<T> {
    action: T,
    loc: T,
    sigma: T,
    alpha: T,
    beta: T,
    cdf_alpha: T,
    z: T,
    loc_clipped: bool,
    sigma_clipped: bool,
    action_clipped: bool,
}

impl<T: Real> Quantile<T> {
    fn new(loc: T, log_scale: T, u: T) -> Self {
        let (one, eps) = (T::one(), T::c(TRUNCATION_EPS));
        let bound = one - eps;
        let loc_in = loc.max(-bound).min(bound);
        let sigma_raw = log_scale.exp();
        let sigma = sigma_raw.max(eps);
        let (alpha, beta) = ((-bound - loc_in) / sigma, (bound - loc_in) / sigma);
        let cdf_alpha = normal_cdf(alpha);
        let z = (normal_cdf(beta) - cdf_alpha).max(eps);
        let p = (cdf_alpha + z * u.max(eps).min(one - eps)).max(eps).min(one - eps);
        let x = erfinv(T::c(2.0) * p - one);
        let raw = loc_in + sigma * T::SQRT_2() * x;
        let edge = bound - eps;
        let action = raw.max(-edge).min(edge);
        Self {
            action,
            loc: loc_in,
            sigma,
            alpha,
            beta,
            cdf_alpha,
            z,
            loc_clipped: loc_in != loc,
            sigma_clipped: sigma != sigma_raw,
            action_clipped: action != raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_one_dimension() {
        // D = 1, H0 = 1, δ = 0, log σ ∈ [−8, 0]: softmax of one score is 1, so
        // log σ' = 0 + (1 − 1.4189385 − 0)·1 = −0.4189385 whatever the raw score.
        let era = GaussianEra::new(1, 1.0, 0.0, -8.0, 0.0).unwrap();
        let out = era.apply(&[3.7_f64]).unwrap();
        assert!((out[0] - (1.0 - LOG_SQRT_2PI_E)).abs() < 1e-15);
        assert!((diag_gaussian_entropy(&out) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn golden_two_dimensions() {
        // D = 2, H0 = 0.5 (0.25 per dim), raw (0, ln 3): softmax = (1/4, 3/4).
        // coefficient = 0.5 − 2·1.4189385 = −2.3378771;
        // log σ' = (−0.5844693, −1.7534078), sum = −2.3378771, entropy = 0.5.
        let era = GaussianEra::new(2, 0.5, 0.0, -8.0, 0.0).unwrap();
        let out = era.apply(&[0.0_f64, 3.0_f64.ln()]).unwrap();
        assert!((out[0] - (-0.584_469_266_602_336_3)).abs() < 1e-12, "{out:?}");
        assert!((out[1] - (-1.753_407_799_807_009)).abs() < 1e-12, "{out:?}");
        assert!((diag_gaussian_entropy(&out) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn lower_clip_raises_entropy() {
        // D = 2, H0 at the bottom of the range: coefficient = 2·(−8) = −16.
        // raw (0, 10): softmax ≈ (4.54e-5, 0.99995) → log σ' ≈ (−0.00073, −15.9993) → clipped to −8.
        let (lo, _) = GaussianEra::valid_range(2, -8.0, 0.0);
        let era = GaussianEra::new(2, lo, 0.0, -8.0, 0.0).unwrap();
        let out = era.apply(&[0.0_f64, 10.0]).unwrap();
        assert_eq!(out[1], -8.0);
        assert!(diag_gaussian_entropy(&out) > lo + 7.9);
    }

    #[test]
    fn rejects_unreachable_target() {
        // D = 3, σ_max = 1: the top of the range is 3·1.4189385 = 4.2568156.
        let err = GaussianEra::new(3, 4.3, 0.0, -8.0, 0.0).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("[-19.743184, 4.256816]"), "{msg}");
        assert!(GaussianEra::new(0, 0.0, 0.0, -8.0, 0.0).is_err());
        assert!(GaussianEra::new(2, 0.0, -0.1, -8.0, 0.0).is_err());
        assert!(GaussianEra::new(2, f64::NAN, 0.0, -8.0, 0.0).is_err());
        assert!(GaussianEra::new(2, 0.0, 0.0, 0.0, 0.0).is_err());
    }

    #[test]
    fn wrong_row_length_is_an_error() {
        let era = GaussianEra::new(3, 0.0, 0.0, -8.0, 0.0).unwrap();
        assert!(era.apply(&[0.0_f32; 4]).is_err());
        let mut out = [0.0_f32; 2];
        assert!(era.apply_row(&[0.0_f32; 2], &mut out).is_err());
    }

    #[test]
    fn truncated_normal_golden() {
        // A very narrow truncated normal at loc 0 is the plain normal: H = ln(√(2πe)·σ) with σ = e^−3.
        let h = truncated_normal_entropy(&[0.0_f64], &[-3.0]);
        assert!((h - (LOG_SQRT_2PI_E - 3.0)).abs() < 1e-12);
        // σ = 1, loc = 0: Z = 2Φ(1) − 1 = 0.6826895, α = −1, β = 1, φ(1) = 0.2419707;
        // H = ln(4.1327314·0.6826895) + (−2·0.2419707)/(2·0.6826895) = 1.0372234 − 0.3544375 = 0.6827859.
        let h = truncated_normal_entropy(&[0.0_f64], &[0.0]);
        assert!((h - 0.682_785_9).abs() < 1e-6, "{h}");
        // The uniform on [−1, 1] (σ → ∞) has entropy ln 2; σ = e^6 is close.
        let h = truncated_normal_entropy(&[0.3_f64], &[6.0]);
        assert!((h - 2.0_f64.ln()).abs() < 1e-5, "{h}");
        // Log-density of σ = 1, loc = 0 at a = 0: −ln√(2π) − ln Z = −0.9189385 + 0.3817151 = −0.5372234.
        let lp = truncated_normal_log_prob(&[0.0_f64], &[0.0], &[0.0]);
        assert!((lp - (-0.537_223_4)).abs() < 1e-6, "{lp}");
        assert_eq!(truncated_normal_log_prob(&[1.5_f64], &[0.0], &[0.0]), f64::NEG_INFINITY);
    }

    #[test]
    fn tanh_log_prob_golden() {
        // u = 0: tanh'(0) = 1, so the squashed density equals the normal's: −ln√(2π) at μ = 0, σ = 1.
        let lp = tanh_gaussian_log_prob(&[0.0_f64], &[0.0], &[0.0]);
        assert!((lp + LOG_SQRT_2PI).abs() < 1e-15);
        // ln(1 − tanh²(2)) = ln(1 − 0.9640276²) = ln(0.0706508) = −2.6500055.
        assert!((log_one_minus_tanh_sq(2.0_f64) - (-2.650_005_5)).abs() < 1e-6);
        // Stays finite where tanh saturates in floating point.
        assert!(log_one_minus_tanh_sq(50.0_f32).is_finite());
    }

    #[test]
    fn delta_loss_golden() {
        // δ = 0.5, entropies (1, 2), H0 = 1: mean gap 0.5, loss 0.25.
        assert_eq!(delta_loss(0.5_f64, &[1.0, 2.0], 1.0), 0.25);
        assert_eq!(delta_loss(0.5_f64, &[], 1.0), 0.0);
        // The gradient in δ is the gap itself: mean(1 − 1, 2 − 1) = 0.5; in f32 as the fast path uses it.
        assert_eq!(entropy_gap([1.0_f32, 2.0], 1.0), 0.5);
        assert_eq!(entropy_gap(std::iter::empty::<f32>(), 1.0), 0.0);
    }

    fn raw_rows() -> impl Strategy<Value = (usize, Vec<f64>)> {
        (1usize..24).prop_flat_map(|d| (Just(d), prop::collection::vec(-30.0f64..30.0, d)))
    }

    #[test]
    fn erfinv_golden() {
        // erf⁻¹(0.5) = 0.476936276204469873…, erf⁻¹(0.999) = 2.326753765513524…, odd, erf⁻¹(0) = 0.
        assert!((erfinv(0.5f64) - 0.476_936_276_204_469_9).abs() < 1e-12, "{}", erfinv(0.5f64));
        assert!((erfinv(-0.999f64) + 2.326_753_765_513_524).abs() < 1e-12, "{}", erfinv(-0.999f64));
        assert_eq!(erfinv(0.0f64), 0.0);
        for y in [-0.9999, -0.7, -0.1, 0.02, 0.3, 0.95, 0.99999] {
            assert!((libm::erf(erfinv(y)) - y).abs() < 1e-12, "erf(erfinv({y}))");
        }
        // In f32, away from the far tails (where erf's saturation leaves f32 no digits to invert).
        for y in [-0.99f32, -0.7, -0.1, 0.02, 0.3, 0.95] {
            let want = erfinv(f64::from(y));
            assert!((f64::from(erfinv(y)) - want).abs() < 1e-5 * (1.0 + want.abs()), "f32 at {y}");
        }
    }

    proptest! {
        /// The activation's hand-written gradient agrees with central differences (in ŝ and in δ).
        #[test]
        fn backward_row_matches_finite_differences((d, raw) in raw_rows(), t in 0.0f64..=1.0, g in prop::collection::vec(-1.0f64..1.0, 24), extra in 0.0f64..0.3) {
            let raw: Vec<f64> = raw.iter().map(|x| x / 10.0).collect();
            let (lo, hi) = GaussianEra::valid_range(d, -8.0, 0.0);
            let era = GaussianEra::new(d, lo + t * (hi - lo - 0.3), 0.0, -8.0, 0.0).unwrap();
            let loss = |raw: &[f64], extra: f64| {
                let mut out = vec![0.0; d];
                era.apply_row_learned(raw, extra, &mut out).unwrap();
                out.iter().zip(&g).map(|(o, g)| o * g).sum::<f64>()
            };
            let mut grad = vec![0.0; d];
            let d_extra = era.backward_row(&raw, extra, &g[..d], &mut grad);
            let h = 1e-6;
            // A clip switching inside the step makes the loss kinked there; skip such points.
            let kinked = |raw: &[f64], e: f64| {
                let mut out = vec![0.0; d];
                era.apply_row_learned(raw, e, &mut out).unwrap();
                out.iter().any(|&s| (s - -8.0).abs() < 1e-4 || s.abs() < 1e-4)
            };
            prop_assume!(!kinked(&raw, extra));
            for j in 0..d {
                let (mut up, mut down) = (raw.clone(), raw.clone());
                up[j] += h;
                down[j] -= h;
                let numeric = (loss(&up, extra) - loss(&down, extra)) / (2.0 * h);
                prop_assert!((numeric - grad[j]).abs() < 1e-5 * (1.0 + numeric.abs()), "ŝ_{j}: {numeric} vs {}", grad[j]);
            }
            let numeric = (loss(&raw, extra + h) - loss(&raw, extra - h)) / (2.0 * h);
            prop_assert!((numeric - d_extra).abs() < 1e-5 * (1.0 + numeric.abs()));
        }

        /// A truncated draw lies in [−1, 1], its CDF is the uniform it came from, its log-density is
        /// `truncated_normal_log_prob`, and its implicit gradient agrees with central differences.
        #[test]
        fn truncated_draw_inverts_the_cdf_and_its_gradient_is_right(loc in -0.95f64..0.95, log_scale in -3.0f64..0.5, u in 0.01f64..0.99) {
            let draw = truncated_normal_draw(loc, log_scale, u);
            prop_assert_eq!(draw.action, truncated_normal_quantile(loc, log_scale, u));
            prop_assert!((-1.0..=1.0).contains(&draw.action));
            // The released bounds ±(1 − ε).
            let (sigma, b) = (log_scale.exp(), 1.0 - TRUNCATION_EPS);
            let z = normal_cdf((b - loc) / sigma) - normal_cdf((-b - loc) / sigma);
            let cdf = |a: f64| (normal_cdf((a - loc) / sigma) - normal_cdf((-b - loc) / sigma)) / z;
            prop_assert!((cdf(draw.action) - u).abs() < 1e-9);
            let zeta = (draw.action - loc) / sigma;
            let lp = -0.5 * zeta * zeta - LOG_SQRT_2PI - log_scale - z.ln();
            prop_assert!((lp - draw.log_prob).abs() < 1e-9);
            // Within 10⁻⁵ of the density truncated to exactly [−1, 1].
            let exact = truncated_normal_log_prob(&[draw.action], &[loc], &[log_scale]);
            prop_assert!((exact - draw.log_prob).abs() < 1e-5);
            let h = 1e-6;
            let by_loc = (truncated_normal_draw(loc + h, log_scale, u).action - truncated_normal_draw(loc - h, log_scale, u).action) / (2.0 * h);
            let by_scale = (truncated_normal_draw(loc, log_scale + h, u).action - truncated_normal_draw(loc, log_scale - h, u).action) / (2.0 * h);
            prop_assert!((by_loc - draw.d_loc).abs() < 1e-5 * (1.0 + by_loc.abs()), "∂a/∂loc {by_loc} vs {}", draw.d_loc);
            prop_assert!((by_scale - draw.d_log_scale).abs() < 1e-5 * (1.0 + by_scale.abs()), "∂a/∂log σ {by_scale} vs {}", draw.d_log_scale);
        }

        /// Where no clip can act (coefficient ≥ log σ_min − log σ_max), entropy is exactly H₀ + δ.
        #[test]
        fn entropy_equals_target_without_clip((d, raw) in raw_rows(), t in 0.0f64..1.0, delta in 0.0f64..0.5) {
            let (lmin, lmax) = (-8.0, 0.0);
            let hi = d as f64 * (LOG_SQRT_2PI_E + lmax);
            let no_clip_lo = hi + lmin - lmax;
            let target = no_clip_lo + t * (hi - no_clip_lo);
            let h0 = target - delta;
            let era = GaussianEra::new(d, h0, delta, lmin, lmax).unwrap();
            let out = era.apply(&raw).unwrap();
            prop_assert!((diag_gaussian_entropy(&out) - target).abs() < 1e-9);
            let out32 = era.apply(&raw.iter().map(|&x| x as f32).collect::<Vec<_>>()).unwrap();
            prop_assert!((f64::from(diag_gaussian_entropy(&out32)) - target).abs() < 1e-4 * (1.0 + target.abs()));
        }

        /// Anywhere in the valid range, the entropy is at least H₀ + δ and every log σ' is within bounds.
        #[test]
        fn entropy_at_least_target((d, raw) in raw_rows(), t in 0.0f64..=1.0, lmin in -10.0f64..-1.0, lmax in -0.5f64..1.0) {
            let (lo, hi) = GaussianEra::valid_range(d, lmin, lmax);
            let era = GaussianEra::new(d, lo + t * (hi - lo), 0.0, lmin, lmax).unwrap();
            let out = era.apply(&raw).unwrap();
            prop_assert!(diag_gaussian_entropy(&out) >= era.target() - 1e-9);
            for &s in &out {
                prop_assert!(s >= lmin && s <= lmax);
            }
        }

        /// No NaN or ∞ out of the activation or the distribution helpers for finite input.
        #[test]
        fn finite_everywhere(raw in prop::collection::vec(-1e30f64..1e30, 1..8), m in -1e3f64..1e3, ls in -8.0f64..0.0, a in -1.0f64..=1.0) {
            // H0 = 0 lies inside [D·(1.419 − 8), D·1.419] for every D.
            let era = GaussianEra::new(raw.len(), 0.0, 0.0, -8.0, 0.0).unwrap();
            prop_assert!(era.apply(&raw).unwrap().iter().all(|x| x.is_finite()));
            let loc = m.tanh();
            prop_assert!(truncated_normal_entropy(&[loc], &[ls]).is_finite());
            prop_assert!(truncated_normal_log_prob(&[a], &[loc], &[ls]).is_finite());
            prop_assert!(tanh_gaussian_log_prob(&[m], &[0.0], &[ls]).is_finite());
        }
    }
}
