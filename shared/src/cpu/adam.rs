//! Adam and AdamW on flat parameter vectors.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_lr() {
        // First step: m = 0.1g, v = 0.001g², c = √0.001/0.1, so the step is lr·g/|g| (ε negligible).
        let mut p = [1.0f32, -1.0];
        let mut adam = Adam::new(2);
        adam.step(&mut p, &[0.5, -2.0], 0.1);
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 0.9).abs() < 1e-6, "{p:?}");
        assert_eq!(adam.t, 1);
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
}
