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
//! - here: the matrix product, Adam, Polyak averaging, the lanes' barrier and the checkpoint format.

pub mod mlp;
pub mod ppo;
pub mod sac;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::control::policy::EraHead;
use crate::gaussian::{LOG_SQRT_2PI_E, entropy_gap};
use crate::train::{Part, TrainError, from_le_bytes, le_bytes};

/// `C = op(A)·op(B)` (or `C += op(A)·op(B)` with `accumulate`), all row-major: `C` is `m × n`, `op(A)`
/// is `m × k` (`A` stored `k × m` when `ta`), `op(B)` is `k × n` (`B` stored `n × k` when `tb`).
///
/// On the calling thread: at these sizes (a few hundred rows) splitting one product between threads
/// costs more in synchronisation than it gains, so the agents split their work instead (twin critics,
/// halves of a batch) and every product stays on one thread, which also keeps results independent of
/// the pool's size.
///
/// # Panics
/// When a slice is shorter than its shape says (a programming error, not an input error).
#[allow(unsafe_code)]
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    c: &mut [f32],
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n, "matmul: slices shorter than {m}×{k}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // (column stride, row stride) of each operand as gemm wants them.
    let (a_cs, a_rs) = if ta { (m as isize, 1) } else { (1, k as isize) };
    let (b_cs, b_rs) = if tb { (k as isize, 1) } else { (1, n as isize) };
    // SAFETY: the assert above bounds every index gemm forms: C's largest is (m−1)·n + (n−1) < m·n,
    // A's (m−1)·k + (k−1) < m·k in either layout, B's likewise < k·n. `c` is a unique borrow, so it
    // cannot alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Adam as burn's `AdamConfig::new().with_epsilon(ε)` computes it (β₁ 0.9, β₂ 0.999, in `f32`):
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `θ ← θ − lr·m·c / (√v + ε·√(1−β₂ᵗ))` with
/// `c = √(1−β₂ᵗ)/(1−β₁ᵗ)`; moments below 10⁻³⁰ are kept at zero. With a weight decay `λ` it is
/// AdamW as optax's `adamw` and burn's `AdamW` compute it: `θ ← θ·(1 − lr·λ) − lr·m·c / (…)`, every
/// parameter decayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// First moments.
    pub m: Vec<f32>,
    /// Second moments.
    pub v: Vec<f32>,
    /// Steps taken.
    pub t: u32,
    /// ε (burn's default 10⁻⁸; CleanRL's PPO uses 10⁻⁵).
    pub epsilon: f32,
    /// Decoupled weight decay λ (0: plain Adam).
    pub weight_decay: f32,
}

impl Adam {
    const BETA_1: f32 = 0.9;
    const BETA_2: f32 = 0.999;

    /// A fresh state for `len` parameters with burn's default ε = 10⁻⁸.
    pub fn new(len: usize) -> Self {
        Self::with_epsilon(len, 1e-8)
    }

    /// A fresh state for `len` parameters with the given ε.
    pub fn with_epsilon(len: usize, epsilon: f32) -> Self {
        Self { m: vec![0.0; len], v: vec![0.0; len], t: 0, epsilon, weight_decay: 0.0 }
    }

    /// The same optimiser with decoupled weight decay `weight_decay` (AdamW).
    pub fn with_weight_decay(self, weight_decay: f64) -> Self {
        Self { weight_decay: weight_decay as f32, ..self }
    }

    /// One step on `params` with gradients `grads`.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f64) {
        self.t += 1;
        let t = self.t as i32;
        let bc2 = (1.0 - Self::BETA_2.powi(t)).sqrt();
        let factor = bc2 / (1.0 - Self::BETA_1.powi(t));
        let eps = self.epsilon * bc2;
        let lr = lr as f32;
        let (b1, b2) = (Self::BETA_1, Self::BETA_2);
        let (f1, f2) = (1.0 - b1, 1.0 - b2);
        // Moments below 10⁻³⁰ are flushed to zero: a unit whose gradient stopped (a dead ReLU) lets
        // its moments decay into subnormal floats, on which this loop ran several times slower (seen
        // in long runs), and a step of `m/(√v + ε)` with such moments is below 10⁻²² anyway.
        let flush = |x: f32| if x.abs() < 1e-30 { 0.0 } else { x };
        let keep = 1.0 - lr * self.weight_decay;
        for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(&mut self.m).zip(&mut self.v) {
            *m = flush(*m * b1 + g * f1);
            *v = flush(*v * b2 + (g * g) * f2);
            let step = (*m * factor) / (v.sqrt() + eps) * lr;
            // `keep` is exactly 1 without weight decay, so plain Adam's numbers are unchanged.
            *p = *p * keep - step;
        }
    }
}

/// Defines `fn NAME(args) { BODY }` so that BODY runs compiled for AVX-512F when the CPU has it, else
/// for AVX2, else as it is: the binary targets baseline x86-64, whose SSE registers hold 4 floats, and
/// the element-wise loops of a network (nonlinearities, LayerNorm) run 4× wider on AVX-512. BODY is
/// an `#[inline(always)]` inner function compiled inside each wider one. Results are the same bits at
/// every width: element-wise operations are exact IEEE operations either way (no fused multiply-adds
/// are formed) and reductions keep a fixed order (see `mlp::lane_sum`).
macro_rules! widened {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        #[allow(unsafe_code)]
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F, all that `avx512` is compiled to use beyond the baseline.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: as above, for AVX2.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use widened;

/// A barrier for the two lanes of an update that spins instead of sleeping: a lane waits a few
/// microseconds at most, and waking a sleeping thread costs tens of microseconds on a virtual machine
/// (measured 26–120 µs per `rayon::join` here), several times per update.
#[derive(Debug, Default)]
pub struct SpinBarrier {
    arrived: AtomicUsize,
    round: AtomicUsize,
    poisoned: AtomicBool,
}

impl SpinBarrier {
    /// Waits until both lanes have arrived.
    ///
    /// # Panics
    /// When the other lane panicked (instead of waiting for it forever).
    pub fn wait(&self) {
        let round = self.round.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) == 1 {
            self.arrived.store(0, Ordering::Relaxed);
            self.round.store(round + 1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.round.load(Ordering::Acquire) == round {
            assert!(!self.poisoned.load(Ordering::Acquire), "the other lane of the update panicked");
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(4096) {
                // Let a descheduled partner run when the cores are oversubscribed.
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// A guard that marks the barrier poisoned if its lane unwinds, so the other lane stops waiting.
    pub fn poison_on_panic(&self) -> impl Drop + '_ {
        struct Guard<'a>(&'a SpinBarrier);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.poisoned.store(true, Ordering::Release);
                }
            }
        }
        Guard(self)
    }
}

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

/// An agent's state as its checkpoint part holds it: named parameter vectors, and named optimisers
/// (stored as `{name}.adam.m` and `.v` tensors and the step count `{name}.adam.t` in the metadata).
/// An agent describes itself once with this and both [`write_part`] and [`read_part`] follow it.
#[derive(Debug, Default)]
pub struct State<'a> {
    /// Parameter vectors (a scalar as a one-element slice).
    pub values: Vec<(String, &'a [f32])>,
    /// Optimiser states.
    pub adams: Vec<(String, &'a Adam)>,
}

impl<'a> State<'a> {
    /// Adds a parameter vector.
    pub fn value(mut self, name: impl Into<String>, values: &'a [f32]) -> Self {
        self.values.push((name.into(), values));
        self
    }

    /// Adds an optimiser.
    pub fn adam(mut self, name: impl Into<String>, adam: &'a Adam) -> Self {
        self.adams.push((name.into(), adam));
        self
    }

    /// Every tensor the part holds, named: the values, then each optimiser's moments.
    fn tensors(&self) -> Vec<(String, &'a [f32])> {
        let moments = self.adams.iter().flat_map(|(name, adam)| {
            [(format!("{name}.adam.m"), &adam.m[..]), (format!("{name}.adam.v"), &adam.v[..])]
        });
        self.values.iter().cloned().chain(moments).collect()
    }
}

/// Writes `state` as one safetensors checkpoint part called `part`.
pub fn write_part(part: &str, state: &State<'_>) -> Result<Part, TrainError> {
    let bad = |e: safetensors::SafeTensorError| TrainError::Checkpoint(format!("{part}: {e}"));
    let tensors = state.tensors();
    let bytes: Vec<_> = tensors.iter().map(|(_, values)| le_bytes(values)).collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, values), b)| Ok((name.as_str(), TensorView::new(Dtype::F32, vec![values.len()], b)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(bad)?;
    let meta = state.adams.iter().map(|(name, adam)| (format!("{name}.adam.t"), adam.t.to_string())).collect();
    Ok((part.to_string(), safetensors::serialize(views, Some(meta)).map_err(bad)?))
}

/// What [`read_part`] found: every tensor of the state, of the length the agent has, and the step counts.
#[derive(Debug)]
pub struct ReadPart {
    part: String,
    values: HashMap<String, Vec<f32>>,
    meta: HashMap<String, String>,
}

impl ReadPart {
    /// The parameter vector called `name`; an error if the agent's [`State`] has no such vector (or
    /// it was taken already), rather than an empty one.
    pub fn take(&mut self, name: &str) -> Result<Vec<f32>, TrainError> {
        self.values
            .remove(name)
            .ok_or_else(|| TrainError::Checkpoint(format!("{}: `{name}` is not part of this agent's state", self.part)))
    }

    /// The optimiser called `name`, keeping `like`'s ε and weight decay (settings, not state).
    pub fn adam(&mut self, name: &str, like: &Adam) -> Result<Adam, TrainError> {
        let key = format!("{name}.adam.t");
        let t = self.meta.get(&key).and_then(|v| v.parse().ok());
        let t = t.ok_or_else(|| TrainError::Checkpoint(format!("{}: metadata `{key}` missing", self.part)))?;
        Ok(Adam {
            m: self.take(&format!("{name}.adam.m"))?,
            v: self.take(&format!("{name}.adam.v"))?,
            t,
            epsilon: like.epsilon,
            weight_decay: like.weight_decay,
        })
    }
}

/// Reads the part `part` that [`write_part`] wrote, checking that it holds every tensor of `state`
/// (the agent's current state) with the same number of values: a checkpoint of other network sizes
/// is refused, naming the tensor.
pub fn read_part(parts: &[Part], part: &str, state: &State<'_>) -> Result<ReadPart, TrainError> {
    let bytes = crate::train::part(parts, part).map_err(|_| {
        TrainError::Checkpoint(format!(
            "part `{part}` is missing: the checkpoint was not written by the fast CPU path (resume it with the backend that wrote it)"
        ))
    })?;
    let bad = |what: String| TrainError::Checkpoint(format!("{part}: {what}"));
    let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
    let mut values = HashMap::new();
    for (name, want) in state.tensors() {
        let t = st.tensor(&name).map_err(|_| bad(format!("tensor `{name}` is missing")))?;
        if t.dtype() != Dtype::F32 || t.data().len() != want.len() * 4 {
            return Err(bad(format!(
                "tensor `{name}` has {} values of {:?}, this agent needs {} of F32 (different network sizes?)",
                t.data().len() / 4,
                t.dtype(),
                want.len()
            )));
        }
        values.insert(name, from_le_bytes(t.data()));
    }
    Ok(ReadPart { part: part.to_string(), values, meta: meta.metadata().clone().unwrap_or_default() })
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
    fn matmul_golden_in_every_layout() {
        // A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[1, 0], [0, 1], [1, 1]] (3×2):
        // A·B = [[1+3, 2+3], [4+6, 5+6]] = [[4, 5], [10, 11]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let at = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let bt = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        for (a, ta) in [(&a, false), (&at, true)] {
            for (b, tb) in [(&b, false), (&bt, true)] {
                let mut c = [100.0; 4];
                matmul(&mut c, a, ta, b, tb, (2, 3, 2), false);
                assert_eq!(c, [4.0, 5.0, 10.0, 11.0], "ta {ta} tb {tb}");
                matmul(&mut c, a, ta, b, tb, (2, 3, 2), true);
                assert_eq!(c, [8.0, 10.0, 20.0, 22.0], "accumulate, ta {ta} tb {tb}");
            }
        }
    }

    #[test]
    fn adam_first_step_moves_by_lr_and_polyak_blends() {
        // First step: m = 0.1g, v = 0.001g², c = √0.001/0.1, so the step is lr·g/|g| (ε negligible).
        let mut p = [1.0f32, -1.0];
        let mut adam = Adam::new(2);
        adam.step(&mut p, &[0.5, -2.0], 0.1);
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 0.9).abs() < 1e-6, "{p:?}");
        assert_eq!(adam.t, 1);
        let mut t = [0.0f32, 10.0];
        polyak(&mut t, &[1.0, 0.0], 0.25);
        assert_eq!(t, [0.25, 7.5]);
    }

    #[test]
    fn a_lane_that_panics_releases_the_other_from_the_barrier() {
        let barrier = SpinBarrier::default();
        let (a, b) = std::thread::scope(|s| {
            let failing = s.spawn(|| {
                let _guard = barrier.poison_on_panic();
                panic!("lane 1 fails");
            });
            let waiting = s.spawn(|| {
                let _guard = barrier.poison_on_panic();
                barrier.wait();
            });
            (failing.join().is_err(), waiting.join().is_err())
        });
        assert!(a && b, "both lanes end instead of one waiting forever");
        // Unpoisoned, two lanes pass it repeatedly.
        let barrier = SpinBarrier::default();
        std::thread::scope(|s| {
            s.spawn(|| (0..1000).for_each(|_| barrier.wait()));
            (0..1000).for_each(|_| barrier.wait());
        });
    }

    #[test]
    fn adam_keeps_decaying_moments_out_of_subnormals() {
        // A gradient that stops: m shrinks by 0.9 and v by 0.999 per step towards the subnormal range.
        let mut p = [0.0f32];
        let mut adam = Adam::new(1);
        adam.step(&mut p, &[1e-10], 1e-3);
        for _ in 0..20_000 {
            adam.step(&mut p, &[0.0], 1e-3);
        }
        assert!(adam.m[0] == 0.0 && adam.v[0] == 0.0, "{:?} {:?}", adam.m, adam.v);
        assert!(p[0].is_finite());
    }

    #[test]
    fn a_checkpoint_part_round_trips_and_names_what_does_not_fit() {
        let (w, mut adam) = (vec![1.0, -2.0, 3.5], Adam::with_epsilon(3, 1e-5));
        adam.step(&mut w.clone(), &[0.5, 0.5, 0.5], 0.1);
        let part = write_part("p", &State::default().value("w", &w).adam("w", &adam)).unwrap();
        let parts = [part];
        let like = State::default().value("w", &w).adam("w", &adam);
        let mut read = read_part(&parts, "p", &like).unwrap();
        assert_eq!(read.take("w").unwrap(), w);
        let back = read.adam("w", &adam).unwrap();
        assert_eq!((back.m, back.v, back.t, back.epsilon), (adam.m.clone(), adam.v.clone(), 1, 1e-5));
        // A name the state does not hold, or one taken twice, is an error naming it, not an empty vector.
        let err = read.take("w").unwrap_err().to_string();
        assert!(err.contains("`w`"), "{err}");
        // Another agent's sizes: refused, naming the tensor.
        let bigger = vec![0.0; 4];
        let err = read_part(&parts, "p", &State::default().value("w", &bigger)).unwrap_err().to_string();
        assert!(err.contains("tensor `w` has 3 values") && err.contains("needs 4"), "{err}");
    }
}
