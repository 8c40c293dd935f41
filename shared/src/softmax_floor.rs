//! ERA for classification: an activation on the logits whose softmax entropy is at least `H₀`.
//!
//! With `p = softmax(z)`, `n` classes, `τ > e`, `C = e^{H₀−1}` and `u_b = ln τ / τ`:
//!
//! ```text
//! h_i  = u_b + (C − n·u_b)·(1 − p_i)/(n − 1)         (Σ_i h_i = C,  0 < h_i ≤ u_b < 1/e)
//! z'_i = W₋₁(−h_i)                                   (the x ≤ −ln τ with −x·e^x = h_i)
//! ```
//!
//! **Why the floor holds.** With `S = Σ_i e^{z'_i}`, the entropy of `softmax(z')` is
//! `Σ_i h_i / S + ln S = C/S + ln S ≥ 1 + ln C = H₀` for every `S > 0`. It is exact whenever the
//! inverse is exact, which the `exact` mode guarantees; the `official` mode replaces `W₋₁` with the
//! authors' closed form and loses the proof (kept for parity with their results).
//!
//! **Valid range.** `1 + ln u_b < H₀ < 1 + ln(n·u_b)`, both ends excluded: the lower end keeps every
//! `h_i > 0`, the upper keeps `h_i` increasing in `p_i` (so the class order, and top-1, are
//! preserved) and `≤ u_b`, on the part of the branch where the inverse is monotone.
//!
//! `h` is linear in `p`: `h_i = h_lo + (u_b − h_lo)·p_i` with `h_lo = (C − u_b)/(n − 1)`, which is the
//! form computed here (no cancellation near the lower end).

use serde::{Deserialize, Serialize};

use crate::error::{EraError, finite};
use crate::lambert;
use crate::prob;
use crate::real::Real;

/// The authors' default `τ`.
pub const DEFAULT_TAU: f64 = 4.0;

/// The authors' default `H₀` (their `H_min`) for ImageNet and CIFAR.
pub const DEFAULT_H0: f64 = 0.6;

/// How the inverse `W₋₁` is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FloorMode {
    /// Lambert `W₋₁` solved to working precision: the floor is guaranteed.
    #[default]
    Exact,
    /// The authors' approximation `x ≈ −1 − √(2v) − ¾v`: cheaper, no guarantee.
    Official,
}

crate::choice::named_choice!(FloorMode, "softmax floor mode", { Exact => "exact", Official => "official" });

/// A validated softmax entropy floor for `n` classes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoftmaxFloor {
    classes: usize,
    h0: f64,
    tau: f64,
    mode: FloorMode,
    h_lo: f64,
    u_b: f64,
}

impl SoftmaxFloor {
    /// Builds the floor, checking `τ > e`, `n ≥ 2` and `H₀` inside [`SoftmaxFloor::valid_range`].
    pub fn new(classes: usize, h0: f64, tau: f64, mode: FloorMode) -> Result<Self, EraError> {
        let (lo, hi) = Self::valid_range(classes, tau)?;
        finite("H0", h0)?;
        if !(h0 > lo && h0 < hi) {
            return Err(EraError::OutOfRange {
                what: "H0",
                value: h0,
                range: format!("({lo:.6}, {hi:.6})"),
                context: format!("n = {classes} classes, tau = {tau}"),
            });
        }
        let u_b = tau.ln() / tau;
        let c = (h0 - 1.0).exp();
        let h_lo = (c - u_b) / (classes as f64 - 1.0);
        Ok(Self { classes, h0, tau, mode, h_lo, u_b })
    }

    /// The open range of `H₀`: `(1 + ln(ln τ/τ), 1 + ln(n·ln τ/τ))`. Needs `τ > e` and `n ≥ 2`.
    pub fn valid_range(classes: usize, tau: f64) -> Result<(f64, f64), EraError> {
        if classes < 2 {
            return Err(EraError::TooFew { what: "classes (logits per row)", min: 2, got: classes });
        }
        finite("tau", tau)?;
        if tau <= std::f64::consts::E {
            return Err(EraError::OutOfRange {
                what: "tau",
                value: tau,
                range: format!("({}, inf)", std::f64::consts::E),
                context: "the softmax floor".into(),
            });
        }
        let u_b = tau.ln() / tau;
        Ok((1.0 + u_b.ln(), 1.0 + (classes as f64 * u_b).ln()))
    }

    /// Number of classes `n`.
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// The entropy floor `H₀` in nats.
    pub fn h0(&self) -> f64 {
        self.h0
    }
    /// `τ`.
    pub fn tau(&self) -> f64 {
        self.tau
    }
    /// How `W₋₁` is computed.
    pub fn mode(&self) -> FloorMode {
        self.mode
    }
    /// `(h_lo, u_b)`: `h_i = h_lo + (u_b − h_lo)·p_i` ranges from `h_lo` (p = 0) to `u_b` (p = 1).
    pub fn h_bounds(&self) -> (f64, f64) {
        (self.h_lo, self.u_b)
    }

    /// `h_i` for a class probability `p_i`, clamped above zero so that `ln h` is finite in any precision.
    pub fn h_of_p<T: Real>(&self, p: T) -> T {
        (T::c(self.h_lo) + T::c(self.u_b - self.h_lo) * p).max(T::min_positive_value())
    }

    /// `z'` for one `h` value (via `ln h`), in this floor's mode.
    pub fn inverse_from_log<T: Real>(&self, log_h: T) -> T {
        match self.mode {
            FloorMode::Exact => lambert::w_minus1_neg_from_log(log_h),
            FloorMode::Official => lambert::official_approx_from_log(log_h),
        }
    }

    /// Applies the floor to one row of `n` logits, writing `z'` into `out`.
    pub fn apply_row<T: Real>(&self, logits: &[T], out: &mut [T]) -> Result<(), EraError> {
        for (what, got) in [("logits per row (n)", logits.len()), ("output row (n)", out.len())] {
            if got != self.classes {
                return Err(EraError::LengthMismatch { what, expected: self.classes, got });
            }
        }
        prob::softmax(logits, out);
        for o in out.iter_mut() {
            *o = self.inverse_from_log(self.h_of_p(*o).ln());
        }
        Ok(())
    }

    /// Applies the floor to `rows × n` logits stored row-major.
    pub fn apply<T: Real>(&self, logits: &[T]) -> Result<Vec<T>, EraError> {
        crate::real::map_rows(logits, self.classes, "logits (a multiple of n)", |r, o| self.apply_row(r, o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_valid_range() {
        // τ = 4: u_b = ln 4 / 4 = 0.3465736; 1 + ln u_b = −0.0596601.
        // n = 10: 1 + ln(3.465736) = 2.2429250; n = 2: 1 + ln(0.6931472) = 0.6334871.
        let (lo, hi) = SoftmaxFloor::valid_range(10, 4.0).unwrap();
        assert!((lo - (-0.059_660_1)).abs() < 1e-6 && (hi - 2.242_925_0).abs() < 1e-6);
        let (_, hi2) = SoftmaxFloor::valid_range(2, 4.0).unwrap();
        assert!((hi2 - 0.633_487_1).abs() < 1e-6);
    }

    #[test]
    fn rejects_invalid_parameters() {
        assert!(SoftmaxFloor::new(10, 2.3, 4.0, FloorMode::Exact).is_err());
        assert!(SoftmaxFloor::new(10, -0.06, 4.0, FloorMode::Exact).is_err());
        assert!(SoftmaxFloor::new(1, 0.1, 4.0, FloorMode::Exact).is_err());
        assert!(SoftmaxFloor::new(10, 0.6, 2.7, FloorMode::Exact).is_err());
        let msg = SoftmaxFloor::new(2, 0.7, 4.0, FloorMode::Exact).unwrap_err().to_string();
        assert!(msg.contains("(-0.059660, 0.633487)") && msg.contains("n = 2"), "{msg}");
    }

    #[test]
    fn golden_two_classes() {
        // n = 2, τ = 4, H₀ = 0.3: C = e^{−0.7} = 0.4965853, u_b = 0.3465736, h_lo = C − u_b = 0.1500117.
        // Logits (0, 0): p = (½, ½), h = 0.2482927 each (= C/2), x = W₋₁(−0.2482927) = −2.1660545;
        // the output is uniform, entropy ln 2 = 0.6931 ≥ 0.3.
        let floor = SoftmaxFloor::new(2, 0.3, 4.0, FloorMode::Exact).unwrap();
        let out = floor.apply(&[0.0_f64, 0.0]).unwrap();
        let h = 0.5 * (-0.7_f64).exp();
        assert!(((-out[0]) * out[0].exp() - h).abs() < 1e-15);
        assert!((out[0] + 2.166_054_5).abs() < 1e-7);
        assert_eq!(out[0], out[1]);
        // Confident logits (0, 20): p ≈ (2.06e-9, 1): h ≈ (0.1500117, 0.3465736),
        // x ≈ (−2.9934777, −1.3862944 = −ln 4); softmax(x) = (0.1669800, 0.8330200), entropy 0.4510652 ≥ 0.3.
        let out = floor.apply(&[0.0_f64, 20.0]).unwrap();
        assert!((out[1] + 4.0_f64.ln()).abs() < 1e-7, "{out:?}");
        let hh = prob::entropy_from_logits(&out);
        assert!(hh >= 0.3 && (hh - 0.451_065_2).abs() < 1e-7, "{hh}");
        assert!((out[0] + 2.993_477_7).abs() < 1e-7);
    }

    #[test]
    fn official_differs_from_exact_but_keeps_order() {
        let exact = SoftmaxFloor::new(5, 0.6, 4.0, FloorMode::Exact).unwrap();
        let official = SoftmaxFloor::new(5, 0.6, 4.0, FloorMode::Official).unwrap();
        let z = [3.0_f64, -1.0, 0.5, 8.0, 2.0];
        let (a, b) = (exact.apply(&z).unwrap(), official.apply(&z).unwrap());
        assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-3));
        for out in [&a, &b] {
            let top = out.iter().enumerate().fold(0, |best, (i, &v)| if v > out[best] { i } else { best });
            assert_eq!(top, 3);
        }
    }

    fn floor_case() -> impl Strategy<Value = (Vec<f64>, f64, f64)> {
        (2usize..1000, -3.0f64..3.0, 0.0f64..1.0, 3.0f64..12.0).prop_flat_map(|(n, log_scale, t, tau)| {
            let scale = 10f64.powf(log_scale);
            (
                prop::collection::vec(-1.0f64..1.0, n).prop_map(move |v| v.into_iter().map(|x| x * scale).collect()),
                Just(t),
                Just(tau),
            )
        })
    }

    fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
        v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Exact mode: entropy(softmax(z')) ≥ H₀ − 1e-5 (f64), − 1e-4 (f32); top-1 preserved.
        #[test]
        fn floor_holds((logits, t, tau) in floor_case()) {
            let n = logits.len();
            let (lo, hi) = SoftmaxFloor::valid_range(n, tau).unwrap();
            let h0 = lo + (hi - lo) * t.clamp(1e-9, 1.0 - 1e-9);
            let floor = SoftmaxFloor::new(n, h0, tau, FloorMode::Exact).unwrap();
            let out = floor.apply(&logits).unwrap();
            prop_assert!(out.iter().all(|x| x.is_finite()));
            prop_assert!(prob::entropy_from_logits(&out) >= h0 - 1e-5);
            let top = argmax(&logits);
            // Ties within rounding may legitimately swap; require the chosen output to be the input's max.
            prop_assert!(logits[argmax(&out)] >= logits[top] - 1e-12 * logits[top].abs().max(1.0));

            let l32: Vec<f32> = logits.iter().map(|&x| x as f32).collect();
            let out32 = floor.apply(&l32).unwrap();
            prop_assert!(out32.iter().all(|x| x.is_finite()));
            prop_assert!(f64::from(prob::entropy_from_logits(&out32)) >= h0 - 1e-4);
        }

        /// Both modes give finite output for any finite logits, however extreme.
        #[test]
        fn finite_for_extreme_logits(logits in prop::collection::vec(-1e30f64..1e30, 2..50), official in any::<bool>()) {
            let mode = if official { FloorMode::Official } else { FloorMode::Exact };
            let floor = SoftmaxFloor::new(logits.len(), DEFAULT_H0, DEFAULT_TAU, mode).unwrap();
            prop_assert!(floor.apply(&logits).unwrap().iter().all(|x| x.is_finite()));
            let l32: Vec<f32> = logits.iter().map(|&x| x as f32).collect();
            prop_assert!(floor.apply(&l32).unwrap().iter().all(|x| x.is_finite()));
        }
    }
}
