//! `era train|eval|bench vision`: image classifiers with the ERA softmax floor or the usual regularisers.

pub mod args;
pub mod bench;
pub mod train;
