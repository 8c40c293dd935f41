//! The Gaussian log-std activation and the policy distributions, on tensors (see [`crate::gaussian`]).

use burn::tensor::{Tensor, activation, backend::Backend};

use crate::gaussian::{GaussianEra, LOG_SQRT_2PI, LOG_SQRT_2PI_E};

/// `log σ' = clip(log σ_max + coefficient · softmax(ŝ), log σ_min, log σ_max)` over the last dimension.
///
/// `raw` is `[.., D]` with `D = era.dims()`; the result has the same shape.
pub fn gaussian_era_log_std<B: Backend, const N: usize>(raw: Tensor<B, N>, era: &GaussianEra) -> Tensor<B, N> {
    activation::softmax(raw, N - 1)
        .mul_scalar(era.coefficient())
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
        for i in 0..2 {
            assert!((lp[i] - scalar::truncated_normal_log_prob(&a[i], &loc[i], &ls[i])).abs() < 1e-10);
            assert!((h[i] - scalar::truncated_normal_entropy(&loc[i], &ls[i])).abs() < 1e-10);
            assert!((tl[i] - scalar::tanh_gaussian_log_prob(&a[i], &loc[i], &ls[i])).abs() < 1e-10);
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
