//! The floating-point types the scalar ERA math runs on (`f32` and `f64`).

use num_traits::{Float, FloatConst};

/// A float the scalar ERA functions accept: `f32` (what models run in) or `f64` (reference values).
pub trait Real: Float + FloatConst + std::fmt::Debug + std::fmt::Display + Default + Send + Sync + 'static {
    /// Converts an `f64` constant (rounding to nearest for `f32`).
    fn c(x: f64) -> Self;
    /// Widens to `f64`.
    fn f64(self) -> f64;
    /// Relative accuracy the iterative solvers stop at: a few ulps of this type.
    fn solver_tolerance() -> Self;
    /// The error function, from `libm` (no `std` equivalent exists).
    fn erf(self) -> Self;
    /// The complementary error function `1 − erf(x)`, accurate in the tails.
    fn erfc(self) -> Self;
}

impl Real for f32 {
    fn c(x: f64) -> Self {
        x as f32
    }
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn solver_tolerance() -> Self {
        4.0 * f32::EPSILON
    }
    fn erf(self) -> Self {
        libm::erff(self)
    }
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }
}

impl Real for f64 {
    fn c(x: f64) -> Self {
        x
    }
    fn f64(self) -> f64 {
        self
    }
    fn solver_tolerance() -> Self {
        4.0 * f64::EPSILON
    }
    fn erf(self) -> Self {
        libm::erf(self)
    }
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
}
