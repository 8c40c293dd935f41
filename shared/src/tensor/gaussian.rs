//! The Gaussian log-std activation and the policy distributions, on tensors (see [`crate::gaussian`]).

use burn::tensor::{Tensor, activation, backend::Backend};

use crate::gaussian::{GaussianEra, LOG_PROB_CLIP, LOG_SQRT_2PI, LOG_SQRT_2PI_E, TRUNCATION_EPS};

/// `log σ' = clip(log σ_max + coefficient · softmax(ŝ), log σ_min, log σ_max)` over the last dimension.
///
/// `raw` is `[.., D]` with `D = era.dims()`; the result has the same shape.
pub fn gaussian_era_log_std<B: Backend, const N: usize>(raw: Tensor<B, N>, era: &GaussianEra) -> Tensor<B, N> {
    activation::softmax(raw, N - 1)
        .mul_scalar(era.coefficient())
        .add_scalar(era.log_std_max())
        .clamp(era.log_std_min(), era.log_std_max())
}

/// [`gaussian_era_log_std`] with a learned compensation: the target is `H₀ + era.delta() + delta`,
/// where `delta` is a one-element tensor kept on the device (so auto-tuning δ never reads it back).
///
/// The coefficient is linear in δ, so this is the same formula with `coefficient + δ`; the caller keeps
/// `era.delta() + delta` inside the valid range (see [`GaussianEra::valid_range`]).
pub fn gaussian_era_log_std_learned<B: Backend>(
    raw: Tensor<B, 2>,
    era: &GaussianEra,
    delta: Tensor<B, 1>,
) -> Tensor<B, 2> {
    let coefficient = delta.add_scalar(era.coefficient()).unsqueeze_dim::<2>(0);
    activation::softmax(raw, 1)
        .mul(coefficient)
        .add_scalar(era.log_std_max())
        .clamp(era.log_std_min(), era.log_std_max())
}

/// Entropy of a diagonal Gaussian, `Σ_i log σ_i + D·log√(2πe)`, over the last dimension (kept as size 1).
pub fn diag_gaussian_entropy<B: Backend, const N: usize>(log_std: Tensor<B, N>) -> Tensor<B, N> {
    let d = log_std.dims()[N - 1] as f64;
    log_std.sum_dim(N - 1).add_scalar(d * LOG_SQRT_2PI_E)
}

/// The δ auto-tune loss `δ̂ · mean(H − H₀)`; `entropy` is detached so only δ̂ learns from it.
pub fn delta_loss<B: Backend>(delta: Tensor<B, 1>, entropy: Tensor<B, 1>, h0: f64) -> Tensor<B, 1> {
    delta.mul(entropy.detach().sub_scalar(h0).mean())
}

fn normal_log_density<B: Backend, const N: usize>(
    x: Tensor<B, N>,
    mu: Tensor<B, N>,
    log_std: Tensor<B, N>,
) -> Tensor<B, N> {
    let z = x.sub(mu).div(log_std.clone().exp());
    z.square().mul_scalar(-0.5).sub(log_std).sub_scalar(LOG_SQRT_2PI)
}

/// Log-density of a diagonal Gaussian at `x`, summed over the last dimension (kept as size 1).
pub fn gaussian_log_prob<B: Backend, const N: usize>(
    x: Tensor<B, N>,
    mu: Tensor<B, N>,
    log_std: Tensor<B, N>,
) -> Tensor<B, N> {
    normal_log_density(x, mu, log_std).sum_dim(N - 1)
}

/// `ln(1 − tanh(u)²) = 2·(ln 2 − u − softplus(−2u))`, finite for any `u`.
fn log_one_minus_tanh_sq<B: Backend, const N: usize>(u: Tensor<B, N>) -> Tensor<B, N> {
    let sp = activation::softplus(u.clone().mul_scalar(-2.0), 1.0);
    u.neg().sub(sp).add_scalar(std::f64::consts::LN_2).mul_scalar(2.0)
}

/// Log-density of the tanh-squashed Gaussian at `tanh(u)`, summed over the last dimension (kept as size 1).
pub fn tanh_gaussian_log_prob<B: Backend, const N: usize>(
    u: Tensor<B, N>,
    mu: Tensor<B, N>,
    log_std: Tensor<B, N>,
) -> Tensor<B, N> {
    normal_log_density(u.clone(), mu, log_std).sub(log_one_minus_tanh_sq(u)).sum_dim(N - 1)
}

/// `[α, β, Z, ln Z]` of the normal truncated to `[−1, 1]`; `Z = ½(erf(β/√2) − erf(α/√2))`.
///
/// With `loc = tanh(μ) ∈ (−1, 1)` the bounds straddle the mode (`α < 0 < β`), so the difference of
/// `erf` does not cancel; `Z` is clamped away from zero for safety.
fn truncation<B: Backend, const N: usize>(loc: Tensor<B, N>, log_scale: Tensor<B, N>) -> [Tensor<B, N>; 4] {
    let inv_sigma = log_scale.neg().exp();
    let alpha = loc.clone().neg().sub_scalar(1.0).mul(inv_sigma.clone());
    let beta = loc.neg().add_scalar(1.0).mul(inv_sigma);
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let z = beta.clone().mul_scalar(s).erf().sub(alpha.clone().mul_scalar(s).erf()).mul_scalar(0.5);
    let z = z.clamp_min(1e-30);
    [alpha, beta, z.clone(), z.log()]
}

/// Log-density of `N(loc, σ²)` truncated to `[−1, 1]`, summed over the last dimension (kept as size 1).
/// Actions must lie in `[−1, 1]`.
pub fn truncated_normal_log_prob<B: Backend, const N: usize>(
    a: Tensor<B, N>,
    loc: Tensor<B, N>,
    log_scale: Tensor<B, N>,
) -> Tensor<B, N> {
    let [_, _, _, log_z] = truncation(loc.clone(), log_scale.clone());
    normal_log_density(a, loc, log_scale).sub(log_z).sum_dim(N - 1)
}

/// Entropy of `N(loc, σ²)` truncated to `[−1, 1]`, summed over the last dimension (kept as size 1):
/// `ln(√(2πe)·σ·Z) + (α·φ(α) − β·φ(β)) / (2Z)`.
pub fn truncated_normal_entropy<B: Backend, const N: usize>(
    loc: Tensor<B, N>,
    log_scale: Tensor<B, N>,
) -> Tensor<B, N> {
    let [alpha, beta, z, log_z] = truncation(loc, log_scale.clone());
    let phi = |x: Tensor<B, N>| x.square().mul_scalar(-0.5).sub_scalar(LOG_SQRT_2PI).exp();
    let edge = alpha.clone().mul(phi(alpha)).sub(beta.clone().mul(phi(beta)));
    log_scale.add(log_z).add_scalar(LOG_SQRT_2PI_E).add(edge.div(z.mul_scalar(2.0))).sum_dim(N - 1)
}

/// `erf⁻¹(y)` for `y ∈ (−1, 1)`: Winitzki's closed form (relative error ≈ 2·10⁻³), then two Newton
/// steps on the backend's `erf` (quadratic convergence, so the result inverts that `erf` to its own
/// accuracy: within 10⁻⁶ of libm's on ndarray). `y` is clamped to `±(1 − 10⁻⁷)`.
pub fn erfinv<B: Backend, const N: usize>(y: Tensor<B, N>) -> Tensor<B, N> {
    const A: f64 = 0.147;
    let two_over_pi_a = 2.0 / (std::f64::consts::PI * A);
    let y = y.clamp(-1.0 + 1e-7, 1.0 - 1e-7);
    let ln = y.clone().square().neg().add_scalar(1.0).log();
    let t = ln.clone().mul_scalar(0.5).add_scalar(two_over_pi_a);
    let mut x = t.clone().square().sub(ln.div_scalar(A)).sqrt().sub(t).sqrt().mul(y.clone().sign());
    let slope = 2.0 / std::f64::consts::PI.sqrt();
    for _ in 0..2 {
        let derivative = x.clone().square().neg().exp().mul_scalar(slope);
        x = x.clone().sub(x.erf().sub(y.clone()).div(derivative));
    }
    x
}

/// Standard normal CDF `Φ(x) = ½(1 + erf(x/√2))`.
fn std_normal_cdf<B: Backend, const N: usize>(x: Tensor<B, N>) -> Tensor<B, N> {
    x.mul_scalar(std::f64::consts::FRAC_1_SQRT_2).erf().add_scalar(1.0).mul_scalar(0.5)
}

/// The released policy's truncation with `loc` clipped into `±(1 − ε)` and `σ = max(e^{log σ}, ε)`:
/// `[loc, σ, α, Z, ln Z]` with `α = (−(1 − ε) − loc)/σ`, `Z = max(Φ(β) − Φ(α), ε)` (see
/// [`crate::gaussian::truncated_normal_quantile`]). Differentiable; a clip passes no gradient where it holds.
fn released<B: Backend, const N: usize>(loc: Tensor<B, N>, log_scale: Tensor<B, N>) -> [Tensor<B, N>; 5] {
    let bound = 1.0 - TRUNCATION_EPS;
    let loc = loc.clamp(-bound, bound);
    let sigma = log_scale.exp().clamp_min(TRUNCATION_EPS);
    let alpha = loc.clone().neg().sub_scalar(bound).div(sigma.clone());
    let beta = loc.clone().neg().add_scalar(bound).div(sigma.clone());
    let z = std_normal_cdf(beta).sub(std_normal_cdf(alpha.clone())).clamp_min(TRUNCATION_EPS);
    [loc, sigma, alpha, z.clone(), z.log()]
}

/// The `u`-quantile of the authors' released SAC-ERA policy, the normal around `loc` truncated to
/// `±(1 − ε)` (the formula is at [`crate::gaussian::truncated_normal_quantile`]): a sample when
/// `u ~ U(0, 1)`. No gradient (use [`truncated_normal_sample`] for one); enough where none is needed,
/// such as the critic's target.
pub fn truncated_normal_quantile<B: Backend, const N: usize>(
    loc: Tensor<B, N>,
    log_scale: Tensor<B, N>,
    u: Tensor<B, N>,
) -> Tensor<B, N> {
    let [loc, sigma, alpha, z, _] = released(loc.detach(), log_scale.detach());
    let eps = TRUNCATION_EPS;
    let p = std_normal_cdf(alpha).add(u.clamp(eps, 1.0 - eps).mul(z)).clamp(eps, 1.0 - eps);
    let x = erfinv(p.mul_scalar(2.0).sub_scalar(1.0)).mul_scalar(std::f64::consts::SQRT_2);
    let edge = 1.0 - 2.0 * eps;
    loc.add(sigma.mul(x)).clamp(-edge, edge)
}

/// A reparameterised sample of the authors' released SAC-ERA policy from uniforms `u ∈ (0, 1)`, one
/// per element, and its log-density summed over the last dimension (kept as size 1), each
/// dimension's clipped into `[−20, 20]` as released.
///
/// The value is [`truncated_normal_quantile`], computed outside the autodiff graph. The gradient is the
/// implicit one (Figurnov et al. 2018, as TensorFlow Probability does for this distribution): with
/// `F(a; loc, σ)` the truncated CDF held at `u`, `∂a/∂θ = −(∂F/∂θ) / p(a)`, which equals the
/// derivative of the inverse-CDF formula the authors differentiate. It is attached as
/// `a + (F̄ − F)/p̄` where bars mark detached values: the value stays `a`, the gradient is exact, and
/// no `erf⁻¹` is differentiated; a draw clipped to `±(1 − 2ε)` gets none, as a clip in JAX. The
/// log-density shares `α`, `Z` and `σ` with the sample, which matters where every tensor operation
/// has a fixed cost.
pub fn truncated_normal_sample<B: Backend, const N: usize>(
    loc: Tensor<B, N>,
    log_scale: Tensor<B, N>,
    u: Tensor<B, N>,
) -> (Tensor<B, N>, Tensor<B, N>) {
    let a0 = truncated_normal_quantile(loc.clone(), log_scale.clone(), u);
    // F(a; loc, σ) = (Φ((a − loc)/σ) − Φ(α))/Z, differentiable in loc and σ.
    let [loc, sigma, alpha, z, log_z] = released(loc, log_scale);
    let inv_sigma = sigma.clone().recip();
    let log_sigma = sigma.log();
    let zeta0 = a0.clone().sub(loc.clone()).mul(inv_sigma.clone());
    let cdf = std_normal_cdf(zeta0.clone()).sub(std_normal_cdf(alpha)).div(z);
    // ln p(a) = −ζ²/2 − ln√(2π) − ln σ − ln Z, detached for the implicit gradient's denominator.
    let log_density0 =
        zeta0.square().mul_scalar(-0.5).sub_scalar(LOG_SQRT_2PI).sub(log_sigma.clone()).sub(log_z.clone());
    let density = log_density0.detach().exp().clamp_min(1e-12);
    // 1 inside the bounds, 0 where the draw was clipped (no gradient there).
    let edge = 1.0 - 2.0 * TRUNCATION_EPS;
    let inside = a0.clone().abs().lower_elem(edge).float();
    let a = a0.add(cdf.clone().detach().sub(cdf).div(density).mul(inside));
    let zeta = a.clone().sub(loc).mul(inv_sigma);
    let log_prob = zeta
        .square()
        .mul_scalar(-0.5)
        .sub_scalar(LOG_SQRT_2PI)
        .sub(log_sigma)
        .sub(log_z)
        .clamp(-LOG_PROB_CLIP, LOG_PROB_CLIP)
        .sum_dim(N - 1);
    (a, log_prob)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaussian as scalar;
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;

    type B = NdArray<f64>;

    fn t2(rows: &[Vec<f64>]) -> Tensor<B, 2> {
        crate::tensor::from_f64(rows.concat(), [rows.len(), rows[0].len()], &Default::default())
    }

    #[test]
    fn activation_matches_scalar() {
        let era = GaussianEra::new(3, -1.0, 0.2, -8.0, 0.0).unwrap();
        let rows = vec![vec![0.1, -2.0, 5.0], vec![30.0, -30.0, 0.0], vec![0.0, 0.0, 0.0]];
        let got = crate::tensor::to_f64(gaussian_era_log_std(t2(&rows), &era));
        let want = era.apply(&rows.concat()).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        let ent = crate::tensor::to_f64(diag_gaussian_entropy(t2(&rows)));
        for (row, e) in rows.iter().zip(ent) {
            assert!((e - scalar::diag_gaussian_entropy(row)).abs() < 1e-12);
        }
    }

    #[test]
    fn distributions_match_scalar() {
        let a = vec![vec![0.3, -0.99], vec![1.0, 0.0]];
        let loc = vec![vec![0.5, -0.2], vec![-0.9, 0.95]];
        let ls = vec![vec![-1.0, 0.0], vec![-5.0, -0.3]];
        let lp = crate::tensor::to_f64(truncated_normal_log_prob(t2(&a), t2(&loc), t2(&ls)));
        let h = crate::tensor::to_f64(truncated_normal_entropy(t2(&loc), t2(&ls)));
        let tl = crate::tensor::to_f64(tanh_gaussian_log_prob(t2(&a), t2(&loc), t2(&ls)));
        let gl = crate::tensor::to_f64(gaussian_log_prob(t2(&a), t2(&loc), t2(&ls)));
        for i in 0..2 {
            assert!((lp[i] - scalar::truncated_normal_log_prob(&a[i], &loc[i], &ls[i])).abs() < 1e-10);
            assert!((h[i] - scalar::truncated_normal_entropy(&loc[i], &ls[i])).abs() < 1e-10);
            assert!((tl[i] - scalar::tanh_gaussian_log_prob(&a[i], &loc[i], &ls[i])).abs() < 1e-10);
            assert!((gl[i] - scalar::gaussian_log_prob(&a[i], &loc[i], &ls[i])).abs() < 1e-10);
        }
    }

    #[test]
    fn gradient_spreads_a_fixed_budget() {
        // Without a clip the entropy does not depend on the raw scores: its gradient is zero.
        type AB = Autodiff<NdArray<f64>>;
        let era = GaussianEra::new(4, 0.0, 0.0, -8.0, 0.0).unwrap();
        let raw: Tensor<AB, 2> =
            Tensor::from_data(TensorData::new(vec![0.3, -0.1, 0.7, 0.0], [1, 4]), &Default::default()).require_grad();
        let h = diag_gaussian_entropy(gaussian_era_log_std(raw.clone(), &era)).sum();
        assert!((h.clone().into_scalar() - 0.0).abs() < 1e-12);
        let grads = h.backward();
        let g = crate::tensor::to_f64(raw.grad(&grads).unwrap());
        assert!(g.iter().all(|x| x.abs() < 1e-12), "{g:?}");
    }

    #[test]
    fn learned_delta_matches_the_constant_formula() {
        let era = GaussianEra::new(3, -1.0, 0.0, -8.0, 0.0).unwrap();
        let rows = vec![vec![0.1, -2.0, 5.0], vec![0.0, 0.0, 0.0]];
        let delta = crate::tensor::from_f64(vec![0.4], [1], &Default::default());
        let got = crate::tensor::to_f64(gaussian_era_log_std_learned(t2(&rows), &era, delta));
        let want = era.with_delta(0.4).unwrap().apply(&rows.concat()).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn erfinv_inverts_erf() {
        let ys: Vec<f64> = (-99..=99).map(|i| f64::from(i) / 100.0).chain([-0.999_999, 0.999_99, 1e-9]).collect();
        let n = ys.len();
        let x = crate::tensor::to_f64(erfinv(crate::tensor::from_f64::<B, 1>(ys.clone(), [n], &Default::default())));
        for (x, y) in x.iter().zip(&ys) {
            assert!((libm::erf(*x) - y).abs() < 1e-6, "erf({x}) = {} vs {y}", libm::erf(*x));
        }
    }

    #[test]
    fn truncated_samples_follow_the_distribution_and_have_implicit_gradients() {
        // The sample at u is the u-quantile: its truncated CDF equals u.
        let loc = vec![0.6, -0.95, 0.0];
        let ls = vec![-1.0, -0.2, -4.0];
        let us = [0.1, 0.5, 0.97];
        for u in us {
            let (a, lp) = truncated_normal_sample(
                t2(std::slice::from_ref(&loc)),
                t2(std::slice::from_ref(&ls)),
                t2(&[vec![u; 3]]),
            );
            let (a, lp) = (crate::tensor::to_f64(a), crate::tensor::to_f64(lp)[0]);
            // The released bounds ±(1 − ε): within 10⁻⁵ of the density truncated to exactly [−1, 1].
            assert!((lp - scalar::truncated_normal_log_prob(&a, &loc, &ls)).abs() < 1e-5, "log-density at the sample");
            let b = 1.0 - TRUNCATION_EPS;
            let mut want = 0.0;
            for i in 0..3 {
                let s = ls[i].exp();
                let cdf = |x: f64| scalar::normal_cdf((x - loc[i]) / s);
                let zeta = (a[i] - loc[i]) / s;
                want += -0.5 * zeta * zeta - LOG_SQRT_2PI - ls[i] - (cdf(b) - cdf(-b)).ln();
                let f = (cdf(a[i]) - cdf(-b)) / (cdf(b) - cdf(-b));
                assert!((f - u).abs() < 1e-9 && a[i].abs() <= 1.0, "dim {i}: F(a) = {f} for u = {u}");
            }
            assert!((lp - want).abs() < 1e-9, "log-density at the sample: {lp} vs {want}");
        }
        // Gradient against central finite differences of the quantile function.
        type AB = Autodiff<NdArray<f64>>;
        let dev = Default::default();
        let quantile = |l: f64, s: f64| {
            let t = |v: f64| crate::tensor::from_f64::<B, 2>(vec![v], [1, 1], &dev);
            crate::tensor::to_f64(truncated_normal_sample(t(l), t(s), t(0.3)).0)[0]
        };
        let (l0, s0) = (0.4, -0.7);
        let lt: Tensor<AB, 2> = crate::tensor::from_f64(vec![l0], [1, 1], &dev).require_grad();
        let st: Tensor<AB, 2> = crate::tensor::from_f64(vec![s0], [1, 1], &dev).require_grad();
        let u: Tensor<AB, 2> = crate::tensor::from_f64(vec![0.3], [1, 1], &dev);
        let a = truncated_normal_sample(lt.clone(), st.clone(), u).0.sum();
        let g = a.backward();
        let (gl, gs) = (lt.grad(&g).unwrap().into_scalar(), st.grad(&g).unwrap().into_scalar());
        let h = 1e-5;
        let fl = (quantile(l0 + h, s0) - quantile(l0 - h, s0)) / (2.0 * h);
        let fs = (quantile(l0, s0 + h) - quantile(l0, s0 - h)) / (2.0 * h);
        assert!((gl - fl).abs() < 1e-6 && (gs - fs).abs() < 1e-6, "{gl} vs {fl}, {gs} vs {fs}");
    }

    #[test]
    fn delta_loss_gradient_is_the_entropy_gap() {
        type AB = Autodiff<NdArray<f64>>;
        let dev = Default::default();
        let delta: Tensor<AB, 1> = Tensor::from_floats([0.5], &dev).require_grad();
        let ent: Tensor<AB, 1> = Tensor::from_floats([1.0, 2.0], &dev);
        let loss = delta_loss(delta.clone(), ent, 1.0);
        // Golden: 0.5 · mean(0, 1) = 0.25; d/dδ = 0.5.
        assert!((loss.clone().into_scalar() - 0.25).abs() < 1e-15);
        let g = delta.grad(&loss.backward()).unwrap().into_scalar();
        assert!((g - 0.5).abs() < 1e-15);
    }
}
