//! Errors of the ERA math: every one names the parameter and, where it applies, its valid range.

use thiserror::Error;

/// Why an ERA activation cannot be built or applied.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EraError {
    /// A target entropy outside the range in which the activation's guarantee holds.
    #[error("{what} = {value} is outside its valid range {range} for {context}")]
    OutOfRange {
        /// The parameter, e.g. `H0` or `tau`.
        what: &'static str,
        /// The value given.
        value: f64,
        /// The valid range in interval notation, e.g. `(-0.0597, 2.243)`.
        range: String,
        /// What the range depends on, e.g. `n = 10, tau = 4`.
        context: String,
    },
    /// A parameter that is NaN or infinite.
    #[error("{what} must be a finite number, got {value}")]
    NotFinite {
        /// The parameter or input.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// Too few dimensions (actions, classes, tokens) for the formula.
    #[error("{what}: need at least {min}, got {got}")]
    TooFew {
        /// What was counted, e.g. `classes`.
        what: &'static str,
        /// The minimum the formula needs.
        min: usize,
        /// How many were given.
        got: usize,
    },
    /// Inputs whose lengths disagree.
    #[error("{what}: expected length {expected}, got {got}")]
    LengthMismatch {
        /// What was measured.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
}

/// Checks that `value` is finite.
pub(crate) fn finite(what: &'static str, value: f64) -> Result<f64, EraError> {
    if value.is_finite() { Ok(value) } else { Err(EraError::NotFinite { what, value }) }
}
