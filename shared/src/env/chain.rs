//! Planar serial chains of point masses: the manipulator equations behind the arm tasks.
//!
//! Link `i` has length `lᵢ` and a point mass `mᵢ` at its far end; joint `i` sits at the end of link
//! `i − 1` (joint 0 at the fixed base). Relative joint angles `qᵢ` give absolute link angles
//! `φᵢ = q₀ + … + qᵢ`, and the tip of link `k` is `p_k = Σ_{j≤k} l_j (cos φ_j, sin φ_j)`.
//! With `μᵢ = Σ_{k≥i} m_k` (the mass carried by link `i`), Lagrange's equations in `φ` read
//!
//! ```text
//! Σ_j M_ij φ̈_j + Σ_j μ_max(i,j) lᵢ l_j sin(φᵢ − φ_j) φ̇_j² + g μᵢ lᵢ cos φᵢ = Qᵢ
//! M_ij = μ_max(i,j) lᵢ l_j cos(φᵢ − φ_j)
//! ```
//!
//! (kinetic energy `½ Σ_k m_k |ṗ_k|²`, potential `g Σ_k m_k y_k`). A torque `τᵢ` at joint `i` does
//! work on `qᵢ = φᵢ − φᵢ₋₁`, so the generalised forces are `Qᵢ = τᵢ − τᵢ₊₁`; viscous joint damping
//! adds `−b q̇ᵢ` to each `τᵢ`. Each step integrates with semi-implicit Euler over `substeps`
//! (velocities first, then angles), solving the `n × n` system by Gaussian elimination with
//! partial pivoting (`M` is symmetric positive definite).

/// A planar serial chain of point masses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chain {
    /// Link lengths (m).
    pub lengths: Vec<f64>,
    /// Point masses at each link's far end (kg).
    pub masses: Vec<f64>,
    /// Gravity (m/s², along −y; 0 for a horizontal plane).
    pub gravity: f64,
    /// Viscous damping per joint (N·m·s/rad).
    pub damping: f64,
    /// Integration step (s).
    pub dt: f64,
    /// Integration steps per environment step.
    pub substeps: usize,
    /// Joint speed limit (rad/s), applied after each substep.
    pub max_speed: f64,
}

impl Chain {
    /// Number of joints.
    pub fn joints(&self) -> usize {
        self.lengths.len()
    }

    /// Absolute link angles `φ` from relative joint angles `q`.
    pub fn absolute(q: &[f64]) -> Vec<f64> {
        q.iter()
            .scan(0.0, |acc, &qi| {
                *acc += qi;
                Some(*acc)
            })
            .collect()
    }

    /// The base and every link's far end, in order.
    pub fn points(&self, q: &[f64]) -> Vec<[f64; 2]> {
        let mut p = [0.0, 0.0];
        let mut out = vec![p];
        for (phi, l) in Self::absolute(q).iter().zip(&self.lengths) {
            p = [p[0] + l * phi.cos(), p[1] + l * phi.sin()];
            out.push(p);
        }
        out
    }

    /// The tip of the last link.
    pub fn tip(&self, q: &[f64]) -> [f64; 2] {
        self.points(q).last().copied().unwrap_or([0.0, 0.0])
    }

    /// Joint accelerations `q̈` for joint angles `q`, speeds `q̇` and joint torques `τ`.
    pub fn accelerations(&self, q: &[f64], qd: &[f64], torque: &[f64]) -> Vec<f64> {
        let n = self.joints();
        let phi = Self::absolute(q);
        let phid = Self::absolute(qd);
        let carried: Vec<f64> = (0..n).map(|i| self.masses[i..].iter().sum()).collect();
        let l = &self.lengths;
        // τ with damping, then Qᵢ = τᵢ − τᵢ₊₁.
        let tau: Vec<f64> = (0..n).map(|i| torque[i] - self.damping * qd[i]).collect();
        let mut m = vec![vec![0.0; n + 1]; n];
        for i in 0..n {
            let q_i = tau[i] - tau.get(i + 1).copied().unwrap_or(0.0);
            let mut rhs = q_i - self.gravity * carried[i] * l[i] * phi[i].cos();
            for j in 0..n {
                let mu = carried[i.max(j)] * l[i] * l[j];
                let d = phi[i] - phi[j];
                m[i][j] = mu * d.cos();
                rhs -= mu * d.sin() * phid[j] * phid[j];
            }
            m[i][n] = rhs;
        }
        let phidd = solve(m);
        // Back to relative coordinates: q̈ᵢ = φ̈ᵢ − φ̈ᵢ₋₁.
        (0..n).map(|i| phidd[i] - if i > 0 { phidd[i - 1] } else { 0.0 }).collect()
    }

    /// One environment step: `substeps` semi-implicit Euler steps under constant torques.
    /// `state` is `[q₀…qₙ₋₁, q̇₀…q̇ₙ₋₁, …]` (anything after the speeds is left alone).
    pub fn advance(&self, state: &mut [f64], torque: &[f64]) {
        let n = self.joints();
        for _ in 0..self.substeps {
            let qdd = self.accelerations(&state[..n], &state[n..2 * n], torque);
            for i in 0..n {
                state[n + i] = (state[n + i] + qdd[i] * self.dt).clamp(-self.max_speed, self.max_speed);
                state[i] += state[n + i] * self.dt;
            }
        }
    }
}

/// Solves the augmented system `[A | b]` by Gaussian elimination with partial pivoting.
fn solve(mut m: Vec<Vec<f64>>) -> Vec<f64> {
    let n = m.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs())).unwrap_or(col);
        m.swap(col, pivot);
        let (top, rest) = m.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for row in rest {
            let f = row[col] / pivot_row[col];
            for (r, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *r -= f * p;
            }
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| m[i][k] * x[k]).sum();
        x[i] = (m[i][n] - s) / m[i][i];
    }
    x
}

/// The arm tasks' shared observation: `[cos q…, sin q…, q̇…, target, tip − target]`.
pub(crate) fn arm_observation(chain: &Chain, state: &[f64]) -> Vec<f32> {
    let n = chain.joints();
    let (q, qd, target) = (&state[..n], &state[n..2 * n], &state[2 * n..2 * n + 2]);
    let tip = chain.tip(q);
    q.iter()
        .map(|a| a.cos())
        .chain(q.iter().map(|a| a.sin()))
        .chain(qd.iter().copied())
        .chain(target.iter().copied())
        .chain([tip[0] - target[0], tip[1] - target[1]])
        .map(|v| v as f32)
        .collect()
}

/// Distance from the tip to the target for an arm state `[q…, q̇…, target_x, target_y]`.
pub(crate) fn tip_distance(chain: &Chain, state: &[f64]) -> f64 {
    let n = chain.joints();
    let tip = chain.tip(&state[..n]);
    (tip[0] - state[2 * n]).hypot(tip[1] - state[2 * n + 1])
}

/// The arm tasks' scene: links, joints and the target.
pub(crate) fn arm_scene(chain: &Chain, state: &[f64], half_width: f64, width: f64) -> super::Scene {
    use super::{Role, Shape};
    let n = chain.joints();
    let pts = chain.points(&state[..n]);
    let mut shapes =
        vec![Shape::Circle { center: [state[2 * n], state[2 * n + 1]], radius: width, role: Role::Target }];
    shapes.extend(pts.windows(2).map(|w| Shape::Segment { from: w[0], to: w[1], width, role: Role::Body }));
    shapes.extend(pts[..n].iter().map(|&p| Shape::Circle { center: p, radius: width * 0.7, role: Role::Joint }));
    super::Scene { view: [-half_width, half_width, -half_width, half_width], shapes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize, gravity: f64) -> Chain {
        Chain {
            lengths: vec![0.5; n],
            masses: vec![1.0; n],
            gravity,
            damping: 0.0,
            dt: 1e-4,
            substeps: 1,
            max_speed: 1e9,
        }
    }

    #[test]
    fn single_link_is_a_pendulum() {
        // One point mass on a rod: m l² φ̈ = τ − g m l cos φ. At φ = 0 (horizontal), τ = 0:
        // φ̈ = −g/l = −9.81/0.5 = −19.62.
        let c = chain(1, 9.81);
        let a = c.accelerations(&[0.0], &[0.0], &[0.0]);
        assert!((a[0] + 19.62).abs() < 1e-12);
        // A torque of m l² = 0.25 adds exactly 1 rad/s².
        let a = c.accelerations(&[0.0], &[0.0], &[0.25]);
        assert!((a[0] + 18.62).abs() < 1e-12);
    }

    #[test]
    fn two_link_matches_the_textbook_manipulator_equations() {
        // Standard 2-link form with point masses at the link ends (relative angles):
        // M11 = (m1+m2) l1² + m2 l2² + 2 m2 l1 l2 cos q2, M12 = m2 l2² + m2 l1 l2 cos q2, M22 = m2 l2²
        // h = m2 l1 l2 sin q2; C·q̇ = [−h(2 q̇1 q̇2 + q̇2²), h q̇1²]; no gravity.
        let c = Chain { lengths: vec![0.7, 0.4], masses: vec![1.3, 0.6], ..chain(2, 0.0) };
        let (q, qd, tau) = ([0.3, -0.8], [1.1, -0.5], [0.2, 0.1]);
        let (l1, l2, m1, m2) = (0.7, 0.4, 1.3, 0.6);
        let m11 = (m1 + m2) * l1 * l1 + m2 * l2 * l2 + 2.0 * m2 * l1 * l2 * f64::cos(q[1]);
        let m12 = m2 * l2 * l2 + m2 * l1 * l2 * f64::cos(q[1]);
        let m22 = m2 * l2 * l2;
        let h = m2 * l1 * l2 * f64::sin(q[1]);
        let b1 = tau[0] + h * (2.0 * qd[0] * qd[1] + qd[1] * qd[1]);
        let b2 = tau[1] - h * qd[0] * qd[0];
        let det = m11 * m22 - m12 * m12;
        let expected = [(m22 * b1 - m12 * b2) / det, (m11 * b2 - m12 * b1) / det];
        let got = c.accelerations(&q, &qd, &tau);
        assert!((got[0] - expected[0]).abs() < 1e-10 && (got[1] - expected[1]).abs() < 1e-10, "{got:?} {expected:?}");
    }

    #[test]
    fn energy_is_conserved_without_damping_or_torque() {
        let c = Chain { dt: 1e-5, substeps: 20_000, ..chain(3, 9.81) };
        let energy = |s: &[f64]| {
            let pts = c.points(&s[..3]);
            let phid = Chain::absolute(&s[3..6]);
            let phi = Chain::absolute(&s[..3]);
            let mut e = 0.0;
            let mut v = [0.0, 0.0];
            for k in 0..3 {
                v = [v[0] - 0.5 * phi[k].sin() * phid[k], v[1] + 0.5 * phi[k].cos() * phid[k]];
                e += 0.5 * (v[0] * v[0] + v[1] * v[1]) + 9.81 * pts[k + 1][1];
            }
            e
        };
        let mut s = vec![0.4, -0.3, 0.9, 0.5, -1.0, 0.2];
        let e0 = energy(&s);
        c.advance(&mut s, &[0.0; 3]);
        assert!((energy(&s) - e0).abs() < 1e-3 * e0.abs().max(1.0), "{} vs {e0}", energy(&s));
    }
}
