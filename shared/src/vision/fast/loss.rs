//! The classifier's output and loss on the fast path: the ERA softmax floor on the logits (forward
//! and backward, per row, in `f64`), then cross-entropy with optional label smoothing.

use crate::prob;
use crate::softmax_floor::{FloorMode, SoftmaxFloor};

/// The floor's `h` is clamped to at least this (as the tensor version does), so `ln h` is finite.
const MIN_H: f64 = f32::MIN_POSITIVE as f64;

/// One row through the floor: `z` → `z'` (see [`crate::softmax_floor`]), keeping what the backward
/// pass needs: `p = softmax(z)`, and per class `∂z'/∂p` (zero where `h` was clamped).
fn floor_row(floor: &SoftmaxFloor, z: &[f32], out: &mut [f32], p: &mut [f64], slope: &mut [f64]) {
    let (h_lo, u_b) = floor.h_bounds();
    let z64: Vec<f64> = z.iter().map(|&v| f64::from(v)).collect();
    prob::softmax(&z64, p);
    for ((o, s), &pi) in out.iter_mut().zip(slope.iter_mut()).zip(p.iter()) {
        let raw = h_lo + (u_b - h_lo) * pi;
        let h = raw.max(MIN_H);
        let log_h = h.ln();
        let x = floor.inverse_from_log(log_h);
        // dz'/dL: x/(1 + x) for the exact inverse (implicit differentiation of x + ln(−x) = L), and
        // the derivative of −1 − √(2v) − c·v with v = −1 − L for the official form.
        let dx_dl = match floor.mode() {
            FloorMode::Exact => x / (1.0 + x),
            FloorMode::Official => {
                let v = -1.0 - log_h;
                if v > 1e-12 { 1.0 / (2.0 * v).sqrt() + crate::lambert::OFFICIAL_SLOPE } else { 0.0 }
            }
        };
        *o = x as f32;
        *s = if raw > MIN_H { dx_dl / h * (u_b - h_lo) } else { 0.0 };
    }
}

/// The output logits of `rows × n` logits `z`: through the floor when there is one, else `z` itself.
pub fn output(z: &[f32], n: usize, floor: Option<&SoftmaxFloor>) -> Vec<f32> {
    let Some(floor) = floor else { return z.to_vec() };
    let mut out = vec![0.0; z.len()];
    let (mut p, mut slope) = (vec![0.0; n], vec![0.0; n]);
    for (row, o) in z.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        floor_row(floor, row, o, &mut p, &mut slope);
    }
    out
}

/// Mean cross-entropy of the output logits against `labels`, with label smoothing `epsilon`:
/// `−(1 − ε)·log q_y − ε·mean_j log q_j` per row, `q = softmax(z')`. Returns the loss, the output
/// logits `z'` and `∂loss/∂z` (through the floor when there is one).
pub fn loss_and_grad(
    z: &[f32],
    labels: &[u16],
    n: usize,
    floor: Option<&SoftmaxFloor>,
    epsilon: f64,
) -> (f64, Vec<f32>, Vec<f32>) {
    let rows = labels.len();
    let mut out = vec![0.0f32; z.len()];
    let mut grad = vec![0.0f32; z.len()];
    let (mut p, mut slope, mut log_q) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut loss = 0.0;
    for (r, &label) in labels.iter().enumerate() {
        let (zr, or) = (&z[r * n..][..n], &mut out[r * n..][..n]);
        match floor {
            Some(f) => floor_row(f, zr, or, &mut p, &mut slope),
            None => or.copy_from_slice(zr),
        }
        let z_out: Vec<f64> = or.iter().map(|&v| f64::from(v)).collect();
        prob::log_softmax(&z_out, &mut log_q);
        let y = usize::from(label);
        loss += -(1.0 - epsilon) * log_q[y] - epsilon * log_q.iter().sum::<f64>() / n as f64;
        // ∂/∂z'_j = (q_j − t_j)/rows with t = (1 − ε)·onehot + ε/n.
        let g: Vec<f64> = (0..n)
            .map(|j| (log_q[j].exp() - epsilon / n as f64 - if j == y { 1.0 - epsilon } else { 0.0 }) / rows as f64)
            .collect();
        let gr = &mut grad[r * n..][..n];
        match floor {
            Some(_) => {
                // Through p = softmax(z): ∂/∂z_i = p_i·(a_i − Σ_j p_j·a_j) with a_j = g_j·∂z'_j/∂p_j.
                let a: Vec<f64> = g.iter().zip(&slope).map(|(g, s)| g * s).collect();
                let mean: f64 = a.iter().zip(&p).map(|(a, p)| a * p).sum();
                gr.iter_mut().zip(a.iter().zip(&p)).for_each(|(d, (a, p))| *d = (p * (a - mean)) as f32);
            }
            None => gr.iter_mut().zip(&g).for_each(|(d, g)| *d = *g as f32),
        }
    }
    (loss / rows as f64, out, grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_smoothed_cross_entropy_by_hand() {
        // logits [0, ln 3]: q = [1/4, 3/4]; label 1: −ln(3/4) = 0.287682; gradient q − onehot =
        // [0.25, −0.25]. ε = 0.2: 0.8·0.287682 + 0.2·(ln 4 + ln(4/3))/2 = 0.397543.
        let z = [0.0, 3f32.ln()];
        let (loss, out, grad) = loss_and_grad(&z, &[1], 2, None, 0.0);
        assert!((loss - 0.287_682).abs() < 1e-6 && out == z);
        assert!((grad[0] - 0.25).abs() < 1e-6 && (grad[1] + 0.25).abs() < 1e-6);
        let (smooth, _, _) = loss_and_grad(&z, &[1], 2, None, 0.2);
        assert!((smooth - 0.397_543).abs() < 1e-6);
    }

    #[test]
    fn the_floor_matches_the_scalar_activation_and_its_gradient_matches_finite_differences() {
        for mode in [FloorMode::Exact, FloorMode::Official] {
            let floor = SoftmaxFloor::new(5, 0.8, 4.0, mode).unwrap();
            let z = [2.0f32, -1.0, 0.5, 3.0, -0.2, 0.1, 0.0, -4.0, 1.0, 2.5];
            let labels = [3, 0];
            let (loss, out, grad) = loss_and_grad(&z, &labels, 5, Some(&floor), 0.1);
            let reference = floor.apply(&z.map(f64::from)).unwrap();
            for (a, b) in out.iter().zip(&reference) {
                assert!((f64::from(*a) - b).abs() < 1e-6, "{mode:?}: {a} vs {b}");
            }
            for i in 0..z.len() {
                let eps = 1e-3f32;
                let mut plus = z;
                plus[i] += eps;
                let mut minus = z;
                minus[i] -= eps;
                let numeric = (loss_and_grad(&plus, &labels, 5, Some(&floor), 0.1).0
                    - loss_and_grad(&minus, &labels, 5, Some(&floor), 0.1).0)
                    / (2.0 * f64::from(eps));
                assert!((numeric - f64::from(grad[i])).abs() < 1e-4, "{mode:?} z[{i}]: {numeric} vs {}", grad[i]);
            }
            assert!(loss.is_finite());
        }
    }
}
