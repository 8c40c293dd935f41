//! dm_control's `rewards.tolerance`: 1 inside `[lower, upper]`, falling off outside it by a sigmoid.
//!
//! With `d = (lower − x)/margin` below the bounds and `(x − upper)/margin` above them:
//!
//! ```text
//! tolerance(x) = 1                       lower ≤ x ≤ upper
//!              = 1 if in bounds else 0   margin = 0
//!              = s(d)                    otherwise, with s(0) = 1 and s(1) = value_at_margin
//! ```
//!
//! Each sigmoid `s` is scaled so that `s(1) = v` (`v = value_at_margin`):
//!
//! | kind | s(d) | scale c |
//! |---|---|---|
//! | gaussian | exp(−½ (c·d)²) | √(−2 ln v) |
//! | hyperbolic | 1 / cosh(c·d) | arccosh(1/v) |
//! | long_tail | 1 / ((c·d)² + 1) | √(1/v − 1) |
//! | reciprocal | 1 / (c·\|d\| + 1) | 1/v − 1 |
//! | cosine | (1 + cos(π·c·d))/2 where \|c·d\| < 1, else 0 | arccos(2v − 1)/π |
//! | linear | 1 − c·d where \|c·d\| < 1, else 0 | 1 − v |
//! | quadratic | 1 − (c·d)² where \|c·d\| < 1, else 0 | √(1 − v) |
//! | tanh_squared | 1 − tanh(c·d)² | arctanh(√(1 − v)) |
//!
//! `v` must be in (0, 1), or in [0, 1) for cosine, linear and quadratic; [`Tolerance::check`] says so
//! as dm_control's `ValueError`s do.

use std::f64::consts::PI;

/// The sigmoid a [`Tolerance`] falls off with outside its bounds (dm_control's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigmoid {
    /// `exp(−½ (c·d)²)`, dm_control's default.
    Gaussian,
    /// `1 / cosh(c·d)`.
    Hyperbolic,
    /// `1 / ((c·d)² + 1)`.
    LongTail,
    /// `1 / (c·|d| + 1)`.
    Reciprocal,
    /// `(1 + cos(π·c·d))/2`, 0 beyond `|c·d| = 1`.
    Cosine,
    /// `1 − c·d`, 0 beyond `|c·d| = 1`.
    Linear,
    /// `1 − (c·d)²`, 0 beyond `|c·d| = 1`.
    Quadratic,
    /// `1 − tanh(c·d)²`.
    TanhSquared,
}

impl Sigmoid {
    /// Every kind, in dm_control's order.
    pub const ALL: [Sigmoid; 8] = [
        Sigmoid::Gaussian,
        Sigmoid::Hyperbolic,
        Sigmoid::LongTail,
        Sigmoid::Reciprocal,
        Sigmoid::Cosine,
        Sigmoid::Linear,
        Sigmoid::Quadratic,
        Sigmoid::TanhSquared,
    ];

    /// dm_control's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Sigmoid::Gaussian => "gaussian",
            Sigmoid::Hyperbolic => "hyperbolic",
            Sigmoid::LongTail => "long_tail",
            Sigmoid::Reciprocal => "reciprocal",
            Sigmoid::Cosine => "cosine",
            Sigmoid::Linear => "linear",
            Sigmoid::Quadratic => "quadratic",
            Sigmoid::TanhSquared => "tanh_squared",
        }
    }

    /// Whether `s(1) = 0` is allowed (the kinds that reach 0 at a finite distance).
    fn reaches_zero(self) -> bool {
        matches!(self, Sigmoid::Cosine | Sigmoid::Linear | Sigmoid::Quadratic)
    }

    /// `s(d)` with `s(1) = v` (dm_control's `_sigmoids`).
    pub fn value(self, d: f64, v: f64) -> f64 {
        match self {
            Sigmoid::Gaussian => {
                let c = (-2.0 * v.ln()).sqrt();
                (-0.5 * (d * c).powi(2)).exp()
            }
            Sigmoid::Hyperbolic => 1.0 / (d * (1.0 / v).acosh()).cosh(),
            Sigmoid::LongTail => 1.0 / ((d * (1.0 / v - 1.0).sqrt()).powi(2) + 1.0),
            Sigmoid::Reciprocal => 1.0 / (d.abs() * (1.0 / v - 1.0) + 1.0),
            Sigmoid::Cosine => {
                let x = d * (2.0 * v - 1.0).acos() / PI;
                if x.abs() < 1.0 { (1.0 + (PI * x).cos()) / 2.0 } else { 0.0 }
            }
            Sigmoid::Linear => {
                let x = d * (1.0 - v);
                if x.abs() < 1.0 { 1.0 - x } else { 0.0 }
            }
            Sigmoid::Quadratic => {
                let x = d * (1.0 - v).sqrt();
                if x.abs() < 1.0 { 1.0 - x * x } else { 0.0 }
            }
            Sigmoid::TanhSquared => 1.0 - (d * (1.0 - v).sqrt().atanh()).tanh().powi(2),
        }
    }
}

/// One `rewards.tolerance(x, bounds, margin, sigmoid, value_at_margin)` call's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Inclusive lower bound (may be −∞).
    pub lower: f64,
    /// Inclusive upper bound (may be +∞).
    pub upper: f64,
    /// Distance outside the bounds at which the value is `value_at_margin`; 0: a step.
    pub margin: f64,
    /// How the value falls off.
    pub sigmoid: Sigmoid,
    /// The value at `margin` from the nearest bound.
    pub value_at_margin: f64,
}

impl Tolerance {
    /// dm_control's defaults: bounds `(0, 0)`, margin 0, gaussian, value at margin 0.1.
    pub const DEFAULT: Tolerance =
        Tolerance { lower: 0.0, upper: 0.0, margin: 0.0, sigmoid: Sigmoid::Gaussian, value_at_margin: 0.1 };

    /// `[lower, upper]` with the other settings at their defaults.
    pub const fn bounds(lower: f64, upper: f64) -> Self {
        Tolerance { lower, upper, ..Self::DEFAULT }
    }

    /// With this margin.
    pub const fn margin(self, margin: f64) -> Self {
        Tolerance { margin, ..self }
    }

    /// With this sigmoid.
    pub const fn sigmoid(self, sigmoid: Sigmoid) -> Self {
        Tolerance { sigmoid, ..self }
    }

    /// With this value at the margin.
    pub const fn value_at_margin(self, value_at_margin: f64) -> Self {
        Tolerance { value_at_margin, ..self }
    }

    /// The settings dm_control accepts, or which one it refuses and why.
    pub fn check(&self) -> Result<(), String> {
        if self.lower.is_nan() || self.upper.is_nan() || self.lower > self.upper {
            return Err(format!("bounds ({}, {}): the lower bound must be <= the upper bound", self.lower, self.upper));
        }
        if self.margin.is_nan() || self.margin < 0.0 {
            return Err(format!("margin = {} must be non-negative", self.margin));
        }
        let v = self.value_at_margin;
        let ok = if self.sigmoid.reaches_zero() { (0.0..1.0).contains(&v) } else { v > 0.0 && v < 1.0 };
        if !ok {
            let range = if self.sigmoid.reaches_zero() { "in [0, 1)" } else { "strictly between 0 and 1" };
            return Err(format!("value_at_margin = {v} must be {range} for the {} sigmoid", self.sigmoid.name()));
        }
        Ok(())
    }

    /// The tolerance of `x`, in [0, 1].
    pub fn value(&self, x: f64) -> f64 {
        let in_bounds = self.lower <= x && x <= self.upper;
        if in_bounds {
            return 1.0;
        }
        if self.margin == 0.0 {
            return 0.0;
        }
        let d = if x < self.lower { self.lower - x } else { x - self.upper } / self.margin;
        self.sigmoid.value(d, self.value_at_margin)
    }

    /// The mean of the tolerance over `xs` (dm_control's `tolerance(array).mean()`).
    pub fn mean(&self, xs: &[f64]) -> f64 {
        xs.iter().map(|&x| self.value(x)).sum::<f64>() / xs.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn golden_values_worked_out_by_hand() {
        // Gaussian, v = 0.1, at d = 1: exp(−½ · (−2 ln 0.1)) = 0.1; at d = 2: 0.1⁴ = 1e-4.
        let t = Tolerance::bounds(0.0, 1.0).margin(2.0);
        assert!((t.value(-2.0) - 0.1).abs() < 1e-15);
        assert!((t.value(5.0) - 1e-4).abs() < 1e-15);
        // Linear with v = 0 (cheetah's run reward): speed 4 with bounds (10, ∞), margin 10 → 1 − 0.6.
        let run = Tolerance::bounds(10.0, f64::INFINITY).margin(10.0).sigmoid(Sigmoid::Linear).value_at_margin(0.0);
        assert!((run.value(4.0) - 0.4).abs() < 1e-15);
        assert_eq!(run.value(-1.0), 0.0);
        assert_eq!(run.value(12.0), 1.0);
        // Reciprocal, v = 0.5: c = 1, d = 3 → 1/4.
        let r = Tolerance::DEFAULT.margin(1.0).sigmoid(Sigmoid::Reciprocal).value_at_margin(0.5);
        assert!((r.value(3.0) - 0.25).abs() < 1e-15);
        // Quadratic, v = 0 (the control cost): 1 − a² inside |a| < 1.
        let q = Tolerance::DEFAULT.margin(1.0).sigmoid(Sigmoid::Quadratic).value_at_margin(0.0);
        assert!((q.value(0.5) - 0.75).abs() < 1e-15);
        assert!((q.mean(&[0.5, 0.0, -1.0]) - 1.75 / 3.0).abs() < 1e-15);
        // Cosine, v = 0.5: c = arccos(0)/π = ½, d = 1 → (1 + cos(π/2))/2 = ½.
        let c = Tolerance::DEFAULT.margin(1.0).sigmoid(Sigmoid::Cosine).value_at_margin(0.5);
        assert!((c.value(1.0) - 0.5).abs() < 1e-15);
        // A zero margin is a step: 1 inside the bounds (inclusive), 0 outside.
        let step = Tolerance::bounds(0.6, 2.0);
        assert_eq!((step.value(0.6), step.value(2.0), step.value(2.0001)), (1.0, 1.0, 0.0));
    }

    #[test]
    fn refused_settings_name_the_reason() {
        let e = Tolerance::bounds(1.0, 0.0).check().unwrap_err();
        assert!(e.contains("lower bound must be <= the upper bound"), "{e}");
        let e = Tolerance::DEFAULT.margin(-1.0).check().unwrap_err();
        assert!(e.contains("margin = -1"), "{e}");
        let e = Tolerance::DEFAULT.value_at_margin(0.0).check().unwrap_err();
        assert!(e.contains("strictly between 0 and 1") && e.contains("gaussian"), "{e}");
        assert!(Tolerance::DEFAULT.sigmoid(Sigmoid::Linear).value_at_margin(0.0).check().is_ok());
        let e = Tolerance::DEFAULT.sigmoid(Sigmoid::Linear).value_at_margin(1.0).check().unwrap_err();
        assert!(e.contains("in [0, 1)"), "{e}");
    }

    fn sigmoid() -> impl Strategy<Value = Sigmoid> {
        (0..8usize).prop_map(|i| Sigmoid::ALL[i])
    }

    proptest! {
        /// Every kind: in [0, 1], 1 at the bound, the value at the margin, and falling with distance.
        #[test]
        fn every_sigmoid_is_a_unit_falloff(kind in sigmoid(), v in 0.01f64..0.99, margin in 0.01f64..10.0,
                                           d1 in 0.0f64..5.0, d2 in 0.0f64..5.0, lower in -5.0f64..5.0, width in 0.0f64..3.0) {
            let t = Tolerance::bounds(lower, lower + width).margin(margin).sigmoid(kind).value_at_margin(v);
            prop_assert!(t.check().is_ok());
            for x in [lower - d1 * margin, lower + width + d2 * margin] {
                let y = t.value(x);
                prop_assert!((0.0..=1.0).contains(&y), "{kind:?}: {y}");
            }
            prop_assert_eq!(t.value(lower), 1.0);
            prop_assert!((t.value(lower + width + margin) - v).abs() < 1e-9);
            let (near, far) = (d1.min(d2), d1.max(d2));
            prop_assert!(t.value(lower - far * margin) <= t.value(lower - near * margin) + 1e-12);
        }
    }
}
