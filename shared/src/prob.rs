//! Numerically stable softmax, log-softmax and entropy over one row of logits.
//!
//! Each subtracts the row maximum first, so logits of ±1e4 and 150 000-entry vocabularies neither
//! overflow nor lose the distribution; sums are accumulated in `f64`.

use crate::real::Real;

/// Row maximum (`−∞` for an empty row).
pub fn max<T: Real>(row: &[T]) -> T {
    row.iter().fold(T::neg_infinity(), |m, &x| m.max(x))
}

/// `ln Σ_i e^{z_i}`.
pub fn log_sum_exp<T: Real>(row: &[T]) -> T {
    let m = max(row);
    let s: f64 = row.iter().map(|&z| (z - m).exp().f64()).sum();
    m + T::c(s.ln())
}

/// `out_i = e^{z_i} / Σ_j e^{z_j}`.
pub fn softmax<T: Real>(row: &[T], out: &mut [T]) {
    let m = max(row);
    let mut s = 0.0f64;
    for (o, &z) in out.iter_mut().zip(row) {
        *o = (z - m).exp();
        s += o.f64();
    }
    let inv = T::c(1.0 / s);
    for o in out.iter_mut() {
        *o = *o * inv;
    }
}

/// `out_i = z_i − ln Σ_j e^{z_j}`.
pub fn log_softmax<T: Real>(row: &[T], out: &mut [T]) {
    let lse = log_sum_exp(row);
    for (o, &z) in out.iter_mut().zip(row) {
        *o = z - lse;
    }
}

/// Entropy of `softmax(z)` in nats, `H = ln S − Σ_i e^{z_i − m} (z_i − m) / S` with `S = Σ_i e^{z_i − m}`.
///
/// Terms whose weight underflows to zero contribute exactly zero, never `0 · ∞`.
pub fn entropy_from_logits<T: Real>(row: &[T]) -> T {
    let m = max(row);
    let (mut s, mut sz) = (0.0f64, 0.0f64);
    for &z in row {
        let d = (z - m).f64();
        let e = d.exp();
        s += e;
        if e > 0.0 {
            sz += e * d;
        }
    }
    T::c((s.ln() - sz / s).max(0.0))
}

/// Entropy of a probability vector in nats (`0 · ln 0 = 0`).
pub fn entropy<T: Real>(probs: &[T]) -> T {
    let h: f64 = probs
        .iter()
        .map(|&p| {
            let p = p.f64();
            if p > 0.0 { -p * p.ln() } else { 0.0 }
        })
        .sum();
    T::c(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_uniform_and_two_point() {
        // Four equal logits: uniform, entropy ln 4 = 1.3862944.
        assert!((entropy_from_logits(&[2.0_f64; 4]) - 4.0_f64.ln()).abs() < 1e-15);
        // Logits (0, ln 3): probs (1/4, 3/4), entropy −¼ln¼ − ¾ln¾ = 0.5623351.
        let z = [0.0_f64, 3.0_f64.ln()];
        assert!((entropy_from_logits(&z) - 0.562_335_144_618_5).abs() < 1e-12);
        let mut p = [0.0; 2];
        softmax(&z, &mut p);
        assert!((p[0] - 0.25).abs() < 1e-15 && (p[1] - 0.75).abs() < 1e-15);
        assert!((entropy(&p) - 0.562_335_144_618_5).abs() < 1e-12);
        let mut lp = [0.0; 2];
        log_softmax(&z, &mut lp);
        assert!((lp[0] - 0.25_f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn extreme_logits_stay_finite() {
        // ±1e4 in f32: one logit dominates completely, entropy 0, no NaN.
        let z = [1e4_f32, -1e4, 0.0];
        assert_eq!(entropy_from_logits(&z), 0.0);
        let mut p = [0.0_f32; 3];
        softmax(&z, &mut p);
        assert_eq!(p, [1.0, 0.0, 0.0]);
        assert!((log_sum_exp(&z) - 1e4).abs() < 1e-3);
    }

    #[test]
    fn large_vocabulary() {
        // 151 936 equal logits: entropy ln(151936) = 11.9312; f32 input, f64 accumulation.
        let z = vec![0.5_f32; 151_936];
        let h = entropy_from_logits(&z);
        assert!((f64::from(h) - 151_936f64.ln()).abs() < 1e-5, "{h}");
    }
}
