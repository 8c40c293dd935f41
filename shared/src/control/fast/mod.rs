//! The fast CPU path (feature `fast`): SAC's and PPO's updates on small MLPs with hand-written
//! gradients, on AVX-512 (or AVX2/FMA) matrix kernels from the `gemm` crate, with preallocated
//! buffers. SAC's runs on two lanes (this thread and one more) that run the twin critics, and the two
//! halves of each batch through the actor, side by side; PPO's 64-row minibatches are too small to
//! split and run on the calling thread.
//!
//! It computes what the burn agents compute (same initialisation from the seed, same random draws,
//! same formulas from [`crate::gaussian`]), so a run on it follows the reference run: the tests compare
//! both paths update by update. It differs only by floating-point rounding: the kernels sum in another
//! order, and the truncated normal's quantile is computed in `f64`. A run on this path is deterministic
//! for its seed on a given machine and resumes bit for bit; its checkpoints are its own format.
//!
//! - [`mlp`]: the networks and their forward and backward passes;
//! - [`sac`]: SAC and SAC-ERA on them;
//! - [`ppo`]: PPO and PPO-ERA on them;
//! - here: the statistics of the log-stds, the learned δ's step and Polyak averaging.
//!
//! The matrix kernels, Adam, the lanes' barrier and the checkpoint format are in [`crate::cpu`].

pub mod mlp;
pub mod ppo;
pub mod sac;

use crate::control::policy::EraHead;
use crate::cpu::Adam;
use crate::gaussian::{LOG_SQRT_2PI_E, entropy_gap};

/// `[H_gauss, σ_mean, σ_min, σ_max]` of rows of `d` log-stds, averaged over the rows: what
/// [`crate::control::policy::std_stats`] computes on a device.
pub fn std_stats<'a>(rows: impl Iterator<Item = &'a [f32]>, d: usize) -> [f32; 4] {
    let (mut n, mut h, mut s_mean, mut s_min, mut s_max) = (0usize, 0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for row in rows {
        n += 1;
        h += row.iter().sum::<f32>() + d as f32 * LOG_SQRT_2PI_E as f32;
        let s = row.iter().map(|v| v.exp());
        s_mean += s.clone().sum::<f32>();
        s_min += s.clone().fold(f32::INFINITY, f32::min);
        s_max += s.fold(f32::NEG_INFINITY, f32::max);
    }
    let inv = 1.0 / n.max(1) as f32;
    [h * inv, s_mean * inv / d.max(1) as f32, s_min * inv, s_max * inv]
}

/// One step of a learned δ ([`crate::gaussian::delta_loss`]): Adam on the entropy gap of the samples
/// whose log-densities are `log_probs`, then δ clamped into `[0, δ_max]`. Returns the loss at the δ
/// before the step.
pub fn learn_delta(
    head: &EraHead,
    delta: &mut f32,
    adam: &mut Adam,
    log_probs: impl Iterator<Item = f32>,
    lr: f64,
) -> f32 {
    let gap = entropy_gap(log_probs.map(|lp| -lp), head.era.h0() as f32);
    let loss = *delta * gap;
    adam.step(std::slice::from_mut(delta), &[gap], lr);
    *delta = head.delta_in_range(*delta);
    loss
}

/// Polyak averaging `target ← (1 − τ)·target + τ·online`.
pub fn polyak(target: &mut [f32], online: &[f32], tau: f64) {
    let (keep, take) = ((1.0 - tau) as f32, tau as f32);
    for (t, &o) in target.iter_mut().zip(online) {
        *t = *t * keep + o * take;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyak_blends() {
        let mut t = [0.0f32, 10.0];
        polyak(&mut t, &[1.0, 0.0], 0.25);
        assert_eq!(t, [0.25, 7.5]);
    }
}
