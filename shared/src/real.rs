//! The floating-point types the scalar ERA math runs on (`f32` and `f64`).

use num_traits::{Float, FloatConst};

use crate::error::EraError;

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

/// Applies a row function to `input` stored row-major with rows of `width`, returning the outputs in the
/// same layout; `what` names the input in the error when its length is not a multiple of `width`.
pub(crate) fn map_rows<T: Real>(
    input: &[T],
    width: usize,
    what: &'static str,
    row: impl Fn(&[T], &mut [T]) -> Result<(), EraError>,
) -> Result<Vec<T>, EraError> {
    if width == 0 || !input.len().is_multiple_of(width) {
        return Err(EraError::LengthMismatch {
            what,
            expected: input.len().div_ceil(width.max(1)) * width,
            got: input.len(),
        });
    }
    let mut out = vec![T::zero(); input.len()];
    for (r, o) in input.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
        row(r, o)?;
    }
    Ok(out)
}
