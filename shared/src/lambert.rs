//! The lower branch of the Lambert W function, `x = W₋₁(−h)`, as the softmax floor needs it.
//!
//! For `h ∈ (0, 1/e]` it is the solution `x ≤ −1` of `−x·eˣ = h`. Writing `y = −x ≥ 1` and
//! `m = −ln h ≥ 1`, the equation becomes `y − ln y = m`, which is solved in log space: `h` itself
//! may be far below the smallest float that `e^x` can represent.
//!
//! The start point is the branch-point series `y ≈ 1 + s + s²/3 + s³/36 − s⁴/270` (`s = √(2v)`,
//! `v = m − 1`) for `v < 2.5` and the asymptotic `y ≈ m + L + L/m + L(2 − L)/(2m²)` (`L = ln m`) beyond;
//! its relative error is below 0.31 % everywhere. Newton's iteration on `f(y) = y − ln y − m`,
//! `y ← y·(ln y + v)/(y − 1)`, then squares the error per step: one step leaves ≤ 1.2e-6, two leave
//! ≤ 2e-13 relative error (measured over `v ∈ [1e-4, 1e3]`). Newton is used rather than Halley because
//! each step is five element-wise operations, which is what the tensor version pays for.

use crate::real::Real;

/// Where the start point switches from the branch-point series to the asymptotic expansion, in `v = −1 − ln h`.
pub const SERIES_CROSSOVER: f64 = 2.5;

/// Newton steps that bring the start point to full `f32` precision (the tensor solver runs this many).
pub const F32_NEWTON_STEPS: usize = 2;

/// Coefficients `c₁…c₄` of the branch-point series `y ≈ 1 + s·(c₁ + s·(c₂ + s·(c₃ + s·c₄)))`, `s = √(2v)`.
pub const BRANCH_SERIES: [f64; 4] = [1.0, 1.0 / 3.0, 1.0 / 36.0, -1.0 / 270.0];

/// The authors' closed form `x ≈ −1 − √(2v) − OFFICIAL_SLOPE·v`.
pub const OFFICIAL_SLOPE: f64 = 0.75;

/// Start point `y₀ ≈ −W₋₁(−h)` from `ln h`.
pub fn initial_guess<T: Real>(log_h: T) -> T {
    let m = (-log_h).max(T::one());
    let v = m - T::one();
    if v < T::c(SERIES_CROSSOVER) {
        let s = (T::c(2.0) * v).sqrt();
        let [c1, c2, c3, c4] = BRANCH_SERIES.map(T::c);
        T::one() + s * (c1 + s * (c2 + s * (c3 + s * c4)))
    } else {
        let l = m.ln();
        m + l + l / m + l * (T::c(2.0) - l) / (T::c(2.0) * m * m)
    }
}

/// One Newton step for `y − ln y = 1 + v`: `y·(ln y + v)/(y − 1)`.
pub fn newton_step<T: Real>(y: T, v: T) -> T {
    // Stay on the lower branch: a step may not reach the branch point at y = 1.
    (y * (y.ln() + v) / (y - T::one())).max(T::one() + T::epsilon())
}

/// `W₋₁(−h)` from `ln h`, iterated to the working precision of `T` (the exact mode's solver).
///
/// Requires `ln h ≤ −1`; larger values are clamped to the branch point `x = −1`.
pub fn w_minus1_neg_from_log<T: Real>(log_h: T) -> T {
    let m = (-log_h).max(T::one());
    if m == T::one() {
        return -T::one();
    }
    let v = m - T::one();
    let mut y = initial_guess(-m).max(T::one() + T::epsilon());
    for _ in 0..8 {
        let next = newton_step(y, v);
        let done = (next - y).abs() <= T::solver_tolerance() * next;
        y = next;
        if done {
            break;
        }
    }
    -y
}

/// `W₋₁(−h)` for `h ∈ (0, 1/e]`.
pub fn w_minus1_neg<T: Real>(h: T) -> T {
    w_minus1_neg_from_log(h.ln())
}

/// The authors' closed-form approximation `x ≈ −1 − √(2v) − ¾v`, `v = −1 − ln h` (the `official` mode).
pub fn official_approx_from_log<T: Real>(log_h: T) -> T {
    let v = (-T::one() - log_h).max(T::zero());
    -T::one() - (T::c(2.0) * v).sqrt() - T::c(OFFICIAL_SLOPE) * v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_values() {
        // W₋₁(−1/e) = −1 (the branch point).
        assert_eq!(w_minus1_neg_from_log(-1.0_f64), -1.0);
        // x = −2: h = 2e⁻² = 0.2706706; x = −10: h = 10e⁻¹⁰ = 4.539993e-4.
        assert!((w_minus1_neg(2.0 * (-2.0_f64).exp()) + 2.0).abs() < 1e-14);
        assert!((w_minus1_neg(10.0 * (-10.0_f64).exp()) + 10.0).abs() < 1e-13);
        // x = −700: h = 700e⁻⁷⁰⁰ underflows f64, but ln h = ln 700 − 700 = −693.4489.
        let log_h = 700.0_f64.ln() - 700.0;
        assert!((w_minus1_neg_from_log(log_h) + 700.0).abs() < 1e-10);
        // The authors' form at h = ln 4 / 4 (τ = 4): v = 0.0596601, √(2v) = 0.3454275,
        // ¾v = 0.0447451: x ≈ −1.3901726 against the exact −ln 4 = −1.3862944.
        let log_ub = (4.0_f64.ln() / 4.0).ln();
        assert!((w_minus1_neg_from_log(log_ub) + 4.0_f64.ln()).abs() < 1e-14);
        assert!((official_approx_from_log(log_ub) + 1.390_172_6).abs() < 1e-7);
    }

    proptest! {
        /// Exact in f64 to 1e-12 and in f32 to 1e-6 relative error, over x from −1.0001 to −700.
        #[test]
        fn inverts_to_precision(x in -700.0f64..-1.0001) {
            let log_h = (-x).ln() + x;
            let w = w_minus1_neg_from_log(log_h);
            prop_assert!(((w - x) / x).abs() <= 1e-12, "f64: x = {x}, w = {w}");
            // f32: compare with the f64 solution for the same (rounded) input.
            let lh32 = log_h as f32;
            let w32 = f64::from(w_minus1_neg_from_log(lh32));
            let reference = w_minus1_neg_from_log(f64::from(lh32));
            prop_assert!(((w32 - reference) / reference).abs() <= 1e-6, "f32: x = {x}, w = {w32}, ref {reference}");
        }

        /// The fixed-step solver the tensor version runs reaches f32 precision.
        #[test]
        fn fixed_steps_reach_f32(x in -90.0f64..-1.0001) {
            let log_h = ((-x).ln() + x) as f32;
            let v = -log_h - 1.0;
            let mut y = initial_guess(log_h);
            for _ in 0..F32_NEWTON_STEPS {
                y = newton_step(y, v);
            }
            let reference = -w_minus1_neg_from_log(f64::from(log_h));
            prop_assert!(((f64::from(y) - reference) / reference).abs() <= 1e-6);
        }
    }
}
