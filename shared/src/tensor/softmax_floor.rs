//! The softmax entropy floor on tensors (see [`crate::softmax_floor`] for the math).
//!
//! In `exact` mode the inverse `x = W₋₁(−h)` is solved without gradient tracking (start point and
//! [`crate::lambert::F32_NEWTON_STEPS`] Newton steps, as [`crate::lambert`] does on scalars), then
//! re-attached in first-order form: with `L = ln h` and `dx/dL = x/(1 + x)` (implicit function
//! theorem on `x + ln(−x) = L`),
//!
//! ```text
//! x = x₀ + (L − L₀) · x₀/(1 + x₀)        (L₀, x₀ detached)
//! ```
//!
//! has the value `x₀` and the exact gradient, for two tracked operations.

use burn::tensor::{Tensor, activation, backend::Backend};

use crate::lambert::{BRANCH_SERIES, F32_NEWTON_STEPS, OFFICIAL_SLOPE, SERIES_CROSSOVER};
use crate::softmax_floor::{FloorMode, SoftmaxFloor};

/// `h` is clamped to at least this, so `ln h` stays finite in `f32`.
const MIN_H: f64 = f32::MIN_POSITIVE as f64;

/// Applies the floor over the last dimension of `logits` (`[.., n]` with `n = floor.classes()`).
pub fn softmax_floor<B: Backend, const N: usize>(logits: Tensor<B, N>, floor: &SoftmaxFloor) -> Tensor<B, N> {
    let (h_lo, u_b) = floor.h_bounds();
    let log_h = activation::softmax(logits, N - 1).mul_scalar(u_b - h_lo).add_scalar(h_lo).clamp_min(MIN_H).log();
    match floor.mode() {
        FloorMode::Exact => {
            let l0 = log_h.clone().detach();
            let x0 = lambert_w_minus1_from_log(l0.clone(), F32_NEWTON_STEPS);
            let slope = x0.clone().div(x0.clone().add_scalar(1.0));
            let offset = x0.sub(slope.clone().mul(l0));
            log_h.mul(slope).add(offset)
        }
        FloorMode::Official => {
            // The authors' closed form; v ≥ −1 − ln u_b > 0 inside the valid range, the clamp only guards sqrt.
            let v = log_h.neg().sub_scalar(1.0).clamp_min(1e-12);
            v.clone().mul_scalar(2.0).sqrt().add(v.mul_scalar(OFFICIAL_SLOPE)).add_scalar(1.0).neg()
        }
    }
}

/// `W₋₁(−h)` from `ln h ≤ −1`, element-wise, with `newton_steps` steps from the start point of
/// [`crate::lambert::initial_guess`] (same formulas). Not differentiable by itself: call it on detached tensors.
pub fn lambert_w_minus1_from_log<B: Backend, const N: usize>(log_h: Tensor<B, N>, newton_steps: usize) -> Tensor<B, N> {
    let v = log_h.neg().sub_scalar(1.0).clamp_min(0.0);
    let s = v.clone().mul_scalar(2.0).sqrt();
    // 1 + s·(c₁ + s·(c₂ + s·(c₃ + s·c₄))), by Horner.
    let [c1, c2, c3, c4] = BRANCH_SERIES;
    let series = s.clone().mul_scalar(c4).add_scalar(c3);
    let series = series.mul(s.clone()).add_scalar(c2).mul(s.clone()).add_scalar(c1).mul(s).add_scalar(1.0);
    let m = v.clone().add_scalar(1.0);
    let l = m.clone().log();
    let m2 = m.clone().square().mul_scalar(2.0);
    let asymptotic = l.clone().neg().add_scalar(2.0).mul(l.clone()).div(m2).add(l.clone().div(m.clone())).add(l).add(m);
    let mut y =
        asymptotic.mask_where(v.clone().lower_elem(SERIES_CROSSOVER), series).clamp_min(1.0 + f64::from(f32::EPSILON));
    for _ in 0..newton_steps {
        let ratio = y.clone().log().add(v.clone()).div(y.clone().sub_scalar(1.0));
        y = y.mul(ratio).clamp_min(1.0 + f64::from(f32::EPSILON));
    }
    y.neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prob;
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;
    use proptest::prelude::*;

    fn tensor<Bk: Backend>(flat: Vec<f64>, rows: usize, n: usize) -> Tensor<Bk, 2> {
        crate::tensor::from_f64(flat, [rows, n], &Default::default())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// The f32 tensor version agrees with the f64 scalar version, in both modes.
        #[test]
        fn agrees_with_scalar(n in 2usize..64, rows in 1usize..4, scale in -2.0f64..2.0, t in 0.01f64..0.99, seed in any::<u64>(), official in any::<bool>()) {
            let mode = if official { FloorMode::Official } else { FloorMode::Exact };
            let (lo, hi) = SoftmaxFloor::valid_range(n, 4.0).unwrap();
            let floor = SoftmaxFloor::new(n, lo + t * (hi - lo), 4.0, mode).unwrap();
            let mut state = seed | 1;
            let flat: Vec<f64> = (0..rows * n).map(|_| {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * 10f64.powf(scale)
            }).collect();
            let want = floor.apply(&flat).unwrap();
            // f32 data on the f64 backend: burn keeps the data's dtype and computes in f32. (One element
            // type per process: a device's default dtype is fixed by its first use.)
            let f32_data = TensorData::new(flat.iter().map(|&x| x as f32).collect::<Vec<f32>>(), [rows, n]);
            let got = crate::tensor::to_f64(softmax_floor(Tensor::<NdArray<f64>, 2>::from_data(f32_data, &Default::default()), &floor));
            for (g, w) in got.iter().zip(&want) {
                prop_assert!((g - w).abs() <= 2e-5 * w.abs().max(1.0), "{g} vs {w}");
            }
            for row in got.chunks(n) {
                prop_assert!(prob::entropy_from_logits(row) >= floor.h0() - 1e-4);
            }
        }
    }

    /// The exact mode's gradient matches central finite differences of the scalar f64 function.
    #[test]
    fn gradient_matches_finite_differences() {
        type AB = Autodiff<NdArray<f64>>;
        let n = 5;
        let floor = SoftmaxFloor::new(n, 0.6, 4.0, FloorMode::Exact).unwrap();
        let z = vec![1.0, -0.5, 2.5, 0.0, 0.3];
        // A fixed random-looking projection of the output, so every output element matters.
        let w = [0.7, -1.3, 0.4, 2.0, -0.6];
        let objective = |z: &[f64]| floor.apply(z).unwrap().iter().zip(&w).map(|(x, w)| x * w).sum::<f64>();
        let zt: Tensor<AB, 2> = tensor::<AB>(z.clone(), 1, n).require_grad();
        let wt: Tensor<AB, 2> = tensor::<AB>(w.to_vec(), 1, n);
        let out = softmax_floor(zt.clone(), &floor).mul(wt).sum();
        let grad = crate::tensor::to_f64(zt.grad(&out.backward()).unwrap());
        for i in 0..n {
            let eps = 1e-6;
            let (mut up, mut down) = (z.clone(), z.clone());
            up[i] += eps;
            down[i] -= eps;
            let fd = (objective(&up) - objective(&down)) / (2.0 * eps);
            assert!(
                (grad[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "d/dz{i}: autodiff {} vs finite difference {fd}",
                grad[i]
            );
        }
    }

    /// Also for the official mode, which differentiates its closed form directly.
    #[test]
    fn official_gradient_matches_finite_differences() {
        type AB = Autodiff<NdArray<f64>>;
        let floor = SoftmaxFloor::new(3, 0.3, 5.0, FloorMode::Official).unwrap();
        let z = vec![0.2, 1.5, -0.7];
        let zt: Tensor<AB, 2> = tensor::<AB>(z.clone(), 1, 3).require_grad();
        let out = softmax_floor(zt.clone(), &floor).slice([0..1, 0..1]).sum();
        let grad = crate::tensor::to_f64(zt.grad(&out.backward()).unwrap());
        for i in 0..3 {
            let (mut up, mut down) = (z.clone(), z.clone());
            up[i] += 1e-6;
            down[i] -= 1e-6;
            let fd = (floor.apply(&up).unwrap()[0] - floor.apply(&down).unwrap()[0]) / 2e-6;
            assert!((grad[i] - fd).abs() < 1e-6, "{} vs {fd}", grad[i]);
        }
    }
}
