//! Multi-layer perceptrons on the CPU with hand-written gradients.
//!
//! All parameters of a network live in one flat buffer (per layer: the weight `[in, out]` row-major,
//! then the bias), so Adam, Polyak averaging and checkpoints are single loops over it. A forward pass
//! keeps each layer's input in a [`Trace`]; the backward pass needs nothing else, because every
//! hidden nonlinearity's derivative is a function of its output (ReLU: `h > 0`, ELU: `h + 1` below
//! zero, tanh: `1 − h²`).

use crate::control::mlp::{LAYER_NORM_EPS, NetSpec, Nonlinearity, draw_layers};
use crate::cpu::{matmul, widened};
use crate::train::TrainRng;

/// `eʸ − 1` in `f32` for `y ≤ 0`, within 3·10⁻⁷ of the exact value relative to `max(|eʸ − 1|, 10⁻³)`
/// (the tests check it on a dense grid), written without calls so that a loop of it vectorises: the C
/// library's `expf`/`expm1f` are scalar calls, and ELU networks (the authors' SAC-ERA) spend a large
/// part of an update in them otherwise. A NaN stays NaN.
///
/// `eʸ − 1 = 2ᵏ·q + (2ᵏ − 1)` without cancellation: `k = round(y/ln 2)`, `r = y − k·ln 2` (ln 2 split
/// in two so `k·ln 2_hi` is exact), `|r| ≤ ln 2 / 2`, and `q = eʳ − 1` by its Taylor series to `r⁸`
/// (remainder below 3·10⁻¹⁰). `y` is raised to −18, where `eʸ − 1` is −1 in `f32`.
#[inline]
pub fn expm1_nonpositive(y: f32) -> f32 {
    const LN_2_HI: f32 = 0.693_359_4; // 0x3F318000: 10 significant bits.
    const LN_2_LO: f32 = -2.121_944_4e-4;
    const SHIFTER: f32 = 12_582_912.0; // 1.5·2²³: adding and subtracting it rounds to an integer.
    // Not `max`, which would turn a NaN into −18: a diverged network must stay visibly NaN.
    let y = if y < -18.0 { -18.0 } else { y };
    let shifted = y * std::f32::consts::LOG2_E + SHIFTER; // 1.5·2²³ + k exactly: k in its low bits.
    let k = shifted - SHIFTER;
    let r = (y - k * LN_2_HI) - k * LN_2_LO;
    // q = r·(1 + r/2·(1 + r/3·(… (1 + r/8)))) = exp(r) − 1, multiplying by 1/n (a division per
    // term cost more than the rest of the function).
    let mut q = 1.0 + r * (1.0 / 8.0);
    for inv_n in [1.0 / 7.0, 1.0 / 6.0, 1.0 / 5.0, 1.0 / 4.0, 1.0 / 3.0, 1.0 / 2.0] {
        q = 1.0 + r * inv_n * q;
    }
    q *= r;
    // k ∈ [−26, 0], so 2ᵏ is a normal float: its exponent bits are k + 127, taken from `shifted`'s
    // low bits with integer arithmetic (a float-to-int cast would not vectorise).
    let scale = f32::from_bits(shifted.to_bits().wrapping_sub(SHIFTER.to_bits()).wrapping_add(127) << 23);
    scale * q + (scale - 1.0)
}

/// `tanh x` in `f32`, within 3·10⁻⁷ of the exact value relative to `max(|tanh x|, 10⁻³)` (the tests
/// check it on a dense grid), vectorisable like [`expm1_nonpositive`]: the C library's `tanhf` is a
/// scalar call through `expm1f` and took three quarters of a PPO update (64-wide tanh networks)
/// before this. `tanh|x| = −m/(2 + m)` with `m = exp(−2|x|) − 1`; `|x|` is capped at 9, where `tanh`
/// is 1 in `f32`.
#[inline]
pub fn tanh(x: f32) -> f32 {
    // Not `min`, which would turn a NaN into 9: a diverged network must stay visibly NaN.
    let m = expm1_nonpositive(-2.0 * if x.abs() > 9.0 { 9.0 } else { x.abs() });
    (-m / (2.0 + m)).copysign(x)
}

/// `elu x`: `x` for `x > 0`, `eˣ − 1` otherwise, vectorisable (see [`expm1_nonpositive`]).
#[inline]
pub fn elu(x: f32) -> f32 {
    // The negative part is computed for every x (a select, not a branch, so the loop vectorises).
    let e = expm1_nonpositive(if x > 0.0 { 0.0 } else { x });
    if x > 0.0 { x } else { e }
}

/// A stack of linear layers with a nonlinearity between them (none after the last), optionally a
/// LayerNorm before each hidden nonlinearity.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    activation: Nonlinearity,
    /// Whether layer `l` is followed by a LayerNorm.
    normed: Vec<bool>,
    /// Every parameter, layer by layer: weight `[in, out]` row-major, bias `[out]`, then (normed
    /// layers) the LayerNorm's scale `[out]` and shift `[out]`.
    pub params: Vec<f32>,
    /// Where each layer's weight starts in `params` (its bias and LayerNorm follow it).
    offsets: Vec<usize>,
}

/// The activations a forward pass keeps for its backward pass.
#[derive(Debug, Default, Clone)]
pub struct Trace {
    /// `acts[l]`: the input of layer `l`, `[rows, sizes[l]]`; the last entry is the output.
    acts: Vec<Vec<f32>>,
    /// `normalised[l]`: layer `l`'s output standardised per row, `(z − mean)/√(var + ε)` (normed layers).
    normalised: Vec<Vec<f32>>,
    /// `rstd[l]`: `1/√(var + ε)` per row (normed layers).
    rstd: Vec<Vec<f32>>,
    rows: usize,
}

impl Trace {
    /// The network's output, `[rows, out]`.
    pub fn output(&self) -> &[f32] {
        self.acts.last().map_or(&[], Vec::as_slice)
    }
}

/// Scratch buffers of a backward pass, kept between updates so no update allocates.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    grad: Vec<f32>,
    next: Vec<f32>,
}

impl Mlp {
    /// Layers `sizes[0] → … → sizes[n]` with uniform initialisation and no normalisation, drawn from
    /// `rng` exactly as the burn agents' `Mlp::new` draws them.
    pub fn new(sizes: &[usize], activation: Nonlinearity, last_scale: f64, rng: &mut TrainRng) -> Self {
        Self::from_spec(&NetSpec::uniform(sizes, activation, last_scale), rng)
    }

    /// The network `spec` describes, drawn from `rng` exactly as the burn agents' `Mlp::from_spec`
    /// draws it (so both engines start from the same network for a seed).
    pub fn from_spec(spec: &NetSpec, rng: &mut TrainRng) -> Self {
        let mut params = Vec::new();
        let mut offsets = Vec::new();
        let normed: Vec<bool> = (0..spec.layers()).map(|l| spec.normed(l)).collect();
        for ((weight, bias), &norm) in draw_layers(spec, rng).into_iter().zip(&normed) {
            offsets.push(params.len());
            params.extend(weight.iter().map(|&w| w as f32));
            params.extend(bias.iter().map(|&b| b as f32));
            if norm {
                params.extend(std::iter::repeat_n(1.0, bias.len()));
                params.extend(std::iter::repeat_n(0.0, bias.len()));
            }
        }
        Self { sizes: spec.sizes.clone(), activation: spec.activation, normed, params, offsets }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether the network has no parameters.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Layer `l`'s weight, bias, and LayerNorm scale and shift (empty when not normed).
    fn layer(&self, l: usize) -> [&[f32]; 4] {
        let (i, o, at) = (self.sizes[l], self.sizes[l + 1], self.offsets[l]);
        let n = if self.normed[l] { o } else { 0 };
        let p = &self.params[at..];
        [&p[..i * o], &p[i * o..i * o + o], &p[i * o + o..i * o + o + n], &p[i * o + o + n..i * o + o + 2 * n]]
    }

    /// The forward pass on `rows` inputs written into `trace` (its buffers are reused).
    pub fn forward(&self, input: &[f32], rows: usize, trace: &mut Trace) {
        let layers = self.sizes.len() - 1;
        trace.acts.resize_with(layers + 1, Vec::new);
        trace.normalised.resize_with(layers, Vec::new);
        trace.rstd.resize_with(layers, Vec::new);
        trace.rows = rows;
        trace.acts[0].clear();
        trace.acts[0].extend_from_slice(&input[..rows * self.sizes[0]]);
        for l in 0..layers {
            let [w, b, gamma, beta] = self.layer(l);
            let (i, o) = (self.sizes[l], self.sizes[l + 1]);
            let (done, rest) = trace.acts.split_at_mut(l + 1);
            let (x, y) = (&done[l], &mut rest[0]);
            // y = x·W + b: the bias rows first, then the product accumulated onto them.
            y.clear();
            for _ in 0..rows {
                y.extend_from_slice(b);
            }
            matmul(y, x, false, w, false, (rows, i, o), true);
            if self.normed[l] {
                layer_norm(y, o, gamma, beta, &mut trace.normalised[l], &mut trace.rstd[l]);
            }
            if l + 1 < layers {
                activate(self.activation, y);
            }
        }
    }

    /// The backward pass of the forward pass in `trace`, from `grad_out = ∂L/∂output` (`[rows, out]`).
    /// Writes `∂L/∂θ` into `grads` (same layout as `params`) when given, and `∂L/∂input` into
    /// `grad_input` when given.
    pub fn backward(
        &self,
        trace: &Trace,
        grad_out: &[f32],
        mut grads: Option<&mut [f32]>,
        grad_input: Option<&mut Vec<f32>>,
        scratch: &mut Scratch,
    ) {
        let rows = trace.rows;
        let layers = self.sizes.len() - 1;
        scratch.grad.clear();
        scratch.grad.extend_from_slice(grad_out);
        for l in (0..layers).rev() {
            let (i, o, at) = (self.sizes[l], self.sizes[l + 1], self.offsets[l]);
            let x = &trace.acts[l];
            // Through the LayerNorm first: scratch.grad becomes ∂L/∂(the linear layer's output).
            if self.normed[l] {
                let gamma = self.layer(l)[2];
                let g_norm = grads.as_deref_mut().map(|g| &mut g[at + i * o + o..at + i * o + 3 * o]);
                layer_norm_backward(&mut scratch.grad, o, gamma, &trace.normalised[l], &trace.rstd[l], g_norm);
            }
            if let Some(grads) = grads.as_deref_mut() {
                let (gw, gb) = grads[at..at + i * o + o].split_at_mut(i * o);
                // ∂L/∂W = xᵀ·g, ∂L/∂b = Σ_rows g.
                matmul(gw, x, true, &scratch.grad, false, (i, rows, o), false);
                gb.fill(0.0);
                for row in scratch.grad.chunks_exact(o) {
                    gb.iter_mut().zip(row).for_each(|(b, &g)| *b += g);
                }
            }
            if l == 0 && grad_input.is_none() {
                break;
            }
            // ∂L/∂x = g·Wᵀ, then through the previous layer's nonlinearity.
            let [w, ..] = self.layer(l);
            scratch.next.resize(rows * i, 0.0);
            matmul(&mut scratch.next, &scratch.grad, false, w, true, (rows, o, i), false);
            if l > 0 {
                activation_backward(self.activation, x, &mut scratch.next);
            }
            std::mem::swap(&mut scratch.grad, &mut scratch.next);
        }
        if let Some(out) = grad_input {
            out.clear();
            out.extend_from_slice(&scratch.grad);
        }
    }
}

widened! {
    /// The hidden nonlinearity on every element of `y`, in place.
    fn activate(activation: Nonlinearity, y: &mut [f32]) {
        match activation {
            Nonlinearity::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
            Nonlinearity::Elu => y.iter_mut().for_each(|v| *v = elu(*v)),
            Nonlinearity::Tanh => y.iter_mut().for_each(|v| *v = tanh(*v)),
        }
    }
}

widened! {
    /// Multiplies `grad` by the nonlinearity's derivative at the outputs `h` it produced.
    fn activation_backward(activation: Nonlinearity, h: &[f32], grad: &mut [f32]) {
        match activation {
            Nonlinearity::Relu => grad.iter_mut().zip(h).for_each(|(g, &h)| *g = if h > 0.0 { *g } else { 0.0 }),
            Nonlinearity::Elu => {
                grad.iter_mut().zip(h).for_each(|(g, &h)| *g = if h > 0.0 { *g } else { *g * (h + 1.0) })
            }
            Nonlinearity::Tanh => grad.iter_mut().zip(h).for_each(|(g, &h)| *g *= 1.0 - h * h),
        }
    }
}

/// Partial sums kept by [`lane_sum`].
const LANES: usize = 16;

/// `Σ_{j<len} term(j)` with [`LANES`] partial sums, added together at the end. A single running sum
/// is a chain of dependent scalar additions that waits on each one (a LayerNorm's row sums took a
/// fifth of a width-512 critic's forward pass that way); independent partial sums vectorise. The
/// order of additions is fixed, so every machine gets the same bits.
#[inline(always)]
fn lane_sum(len: usize, term: impl Fn(usize) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let full = len - len % LANES;
    for base in (0..full).step_by(LANES) {
        for (l, a) in acc.iter_mut().enumerate() {
            *a += term(base + l);
        }
    }
    let tail: f32 = (full..len).map(term).sum();
    acc.iter().sum::<f32>() + tail
}

widened! {
    /// LayerNorm over rows of `width` in place: `y ← γ·(y − mean)/√(var + ε) + β`, with the biased
    /// variance, as flax and burn compute it. Keeps the standardised rows and `1/√(var + ε)` per row.
    fn layer_norm(
        y: &mut [f32],
        width: usize,
        gamma: &[f32],
        beta: &[f32],
        normalised: &mut Vec<f32>,
        rstd: &mut Vec<f32>,
    ) {
        normalised.resize(y.len(), 0.0);
        rstd.clear();
        let inv = 1.0 / width as f32;
        for (row, xhat) in y.chunks_exact_mut(width).zip(normalised.chunks_exact_mut(width)) {
            let mean = lane_sum(width, |j| row[j]) * inv;
            let var = lane_sum(width, |j| (row[j] - mean) * (row[j] - mean)) * inv;
            let r = 1.0 / (var + LAYER_NORM_EPS as f32).sqrt();
            rstd.push(r);
            for (((v, h), g), b) in row.iter_mut().zip(xhat.iter_mut()).zip(gamma).zip(beta) {
                *h = (*v - mean) * r;
                *v = *h * g + b;
            }
        }
    }
}

widened! {
    /// The backward pass of [`layer_norm`]: `grad` holds `∂L/∂y` per row and becomes `∂L/∂z` for the
    /// input `z`, `rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))` with `ĝ = γ·∂L/∂y`; the scale's and shift's gradients
    /// `Σ_rows ∂L/∂y·x̂` and `Σ_rows ∂L/∂y` go into `g_norm` (`[scale, shift]`) when given.
    fn layer_norm_backward(
        grad: &mut [f32],
        width: usize,
        gamma: &[f32],
        normalised: &[f32],
        rstd: &[f32],
        g_norm: Option<&mut [f32]>,
    ) {
        if let Some(g_norm) = g_norm {
            let (g_gamma, g_beta) = g_norm.split_at_mut(width);
            g_gamma.fill(0.0);
            g_beta.fill(0.0);
            for (g, xhat) in grad.chunks_exact(width).zip(normalised.chunks_exact(width)) {
                for j in 0..width {
                    g_gamma[j] += g[j] * xhat[j];
                    g_beta[j] += g[j];
                }
            }
        }
        let inv = 1.0 / width as f32;
        for ((g, xhat), &r) in grad.chunks_exact_mut(width).zip(normalised.chunks_exact(width)).zip(rstd) {
            let mean_g = lane_sum(width, |j| g[j] * gamma[j]) * inv;
            let mean_gx = lane_sum(width, |j| g[j] * gamma[j] * xhat[j]) * inv;
            for j in 0..width {
                g[j] = r * (g[j] * gamma[j] - mean_g - xhat[j] * mean_gx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The loss `Σ c_k · y_k` of a forward pass, for finite differences, and which hidden units were
    /// positive (a ReLU switching inside the step makes the difference meaningless there; ELU and tanh
    /// have continuous derivatives, so their differences stay meaningful across zero).
    fn loss(mlp: &Mlp, x: &[f32], rows: usize, c: &[f32]) -> (f64, Vec<bool>) {
        let mut t = Trace::default();
        mlp.forward(x, rows, &mut t);
        let pattern = t.acts[1..t.acts.len() - 1].iter().flatten().map(|&h| h > 0.0).collect();
        (t.output().iter().zip(c).map(|(&y, &c)| f64::from(y) * f64::from(c)).sum(), pattern)
    }

    #[test]
    fn tanh_is_within_its_stated_error_everywhere() {
        let mut worst = 0.0f64;
        // A dense grid over ±12 (every step of 2⁻¹², crossing every change of k and the cap at 9), and
        // tiny inputs down to subnormals.
        let grid = (-12 * 4096..=12 * 4096).map(|i| i as f32 / 4096.0);
        let tiny = (0..140).map(|i| 2f32.powi(-i));
        for x in grid.chain(tiny.clone()).chain(tiny.map(|x| -x)).chain([0.0, -0.0, 0.173, 0.347, 1e6]) {
            let exact = f64::from(x).tanh();
            let err = (f64::from(tanh(x)) - exact).abs() / exact.abs().max(1e-3);
            assert!(err < 3e-7, "tanh({x}) = {} vs {exact}", tanh(x));
            worst = worst.max(err);
        }
        assert!(tanh(f32::INFINITY) == 1.0 && tanh(f32::NEG_INFINITY) == -1.0 && tanh(f32::NAN).is_nan());
        assert!(tanh(-0.0).is_sign_negative());
        eprintln!("tanh: largest relative error {worst:.2e}");
    }

    #[test]
    fn elu_is_within_its_stated_error_everywhere() {
        let grid = (-30 * 4096..=4 * 4096).map(|i| i as f32 / 4096.0);
        let tiny = (0..140).map(|i| -(2f32.powi(-i)));
        for x in grid.chain(tiny).chain([0.0, -0.0, -1e6, 3.5]) {
            let exact = if x > 0.0 { f64::from(x) } else { f64::from(x).exp_m1() };
            let err = (f64::from(elu(x)) - exact).abs() / exact.abs().max(1e-3);
            assert!(err < 3e-7, "elu({x}) = {} vs {exact}", elu(x));
        }
        assert!(elu(f32::NAN).is_nan() && elu(f32::NEG_INFINITY) == -1.0 && elu(f32::INFINITY) == f32::INFINITY);
    }

    #[test]
    fn gradients_match_finite_differences_for_every_activation() {
        use crate::control::mlp::{Init, Norm};
        let variants = [Nonlinearity::Relu, Nonlinearity::Elu, Nonlinearity::Tanh]
            .into_iter()
            .flat_map(|a| [(a, Norm::None), (a, Norm::Layer)]);
        for (activation, norm) in variants {
            let mut rng = TrainRng::seed_from_u64(3);
            let spec =
                NetSpec { sizes: vec![3, 5, 4, 2], activation, norm, init: Init::Orthogonal, last: vec![(2, 1.0)] };
            let mut mlp = Mlp::from_spec(&spec, &mut rng);
            // Move the LayerNorms' scales and shifts off 1 and 0, so their gradients are tested too.
            let len = mlp.len();
            for (k, p) in mlp.params.iter_mut().enumerate() {
                *p += 0.1 * ((k * 7919 % len) as f32 / len as f32 - 0.5);
            }
            let rows = 4;
            let x: Vec<f32> = (0..rows * 3).map(|i| (i as f32 * 0.37).sin()).collect();
            let c: Vec<f32> = (0..rows * 2).map(|i| (i as f32 * 0.91).cos()).collect();
            let mut t = Trace::default();
            mlp.forward(&x, rows, &mut t);
            let mut grads = vec![0.0; mlp.len()];
            let mut gx = Vec::new();
            mlp.backward(&t, &c, Some(&mut grads), Some(&mut gx), &mut Scratch::default());
            let h = 1e-2f32;
            let mut checked = 0;
            for (p, &got) in grads.iter().enumerate() {
                let keep = mlp.params[p];
                mlp.params[p] = keep + h;
                let (up, up_pattern) = loss(&mlp, &x, rows, &c);
                mlp.params[p] = keep - h;
                let (down, down_pattern) = loss(&mlp, &x, rows, &c);
                mlp.params[p] = keep;
                if activation == Nonlinearity::Relu && up_pattern != down_pattern {
                    continue;
                }
                let numeric = (up - down) / (2.0 * f64::from(h));
                let got = f64::from(got);
                assert!(
                    (numeric - got).abs() < 2e-3 * (1.0 + numeric.abs()),
                    "{activation:?} {norm:?} θ_{p}: {numeric} vs {got}"
                );
                checked += 1;
            }
            for j in 0..x.len() {
                let mut xp = x.clone();
                xp[j] += h;
                let (up, up_pattern) = loss(&mlp, &xp, rows, &c);
                xp[j] -= 2.0 * h;
                let (down, down_pattern) = loss(&mlp, &xp, rows, &c);
                if activation == Nonlinearity::Relu && up_pattern != down_pattern {
                    continue;
                }
                let numeric = (up - down) / (2.0 * f64::from(h));
                assert!((numeric - f64::from(gx[j])).abs() < 2e-3 * (1.0 + numeric.abs()), "{activation:?} x_{j}");
            }
            // Nearly every parameter is away from a kink.
            assert!(checked > mlp.len() * 8 / 10, "{activation:?} {norm:?}: only {checked} of {} checked", mlp.len());
        }
    }

    #[test]
    fn layer_norm_critic_matches_the_burn_network_and_its_parameters_flatten_alike() {
        use crate::control::mlp::{Init, Norm};
        use burn::backend::NdArray;
        type B = NdArray<f64>;
        let dev = Default::default();
        let spec = NetSpec {
            sizes: vec![4, 8, 8, 1],
            activation: Nonlinearity::Elu,
            norm: Norm::Layer,
            init: Init::Orthogonal,
            last: vec![(1, std::f64::consts::SQRT_2)],
        };
        let burn_mlp: crate::control::mlp::Mlp<B> =
            crate::control::mlp::Mlp::from_spec(&spec, &mut TrainRng::seed_from_u64(4), &dev);
        let fast = Mlp::from_spec(&spec, &mut TrainRng::seed_from_u64(4));
        let flat = burn_mlp.flat_params();
        assert_eq!(flat.len(), fast.len());
        assert!(flat.iter().zip(&fast.params).all(|(a, b)| (a - b).abs() < 1e-7));
        let x: Vec<f64> = (0..12).map(|i| (f64::from(i) * 0.37).sin() * 2.0).collect();
        let want = crate::tensor::to_f64(burn_mlp.forward(crate::tensor::from_f64::<B, 2>(x.clone(), [3, 4], &dev)));
        let mut t = Trace::default();
        fast.forward(&x.iter().map(|&v| v as f32).collect::<Vec<_>>(), 3, &mut t);
        for (g, w) in t.output().iter().zip(&want) {
            assert!((f64::from(*g) - w).abs() < 1e-5, "{g} vs {w}");
        }
    }

    #[test]
    fn forward_matches_the_burn_network_from_the_same_seed() {
        use burn::backend::NdArray;
        type B = NdArray<f64>;
        let dev = Default::default();
        let sizes = [3, 8, 2];
        let burn_mlp: crate::control::mlp::Mlp<B> =
            crate::control::mlp::Mlp::new(&sizes, Nonlinearity::Elu, 0.5, &mut TrainRng::seed_from_u64(9), &dev);
        let fast = Mlp::new(&sizes, Nonlinearity::Elu, 0.5, &mut TrainRng::seed_from_u64(9));
        let x = [0.1, -0.4, 2.0, 1.5, 0.0, -3.0];
        let want = crate::tensor::to_f64(burn_mlp.forward(crate::tensor::from_f64::<B, 2>(x.to_vec(), [2, 3], &dev)));
        let mut t = Trace::default();
        fast.forward(&x.map(|v| v as f32), 2, &mut t);
        for (g, w) in t.output().iter().zip(&want) {
            assert!((f64::from(*g) - w).abs() < 1e-5, "{g} vs {w}");
        }
    }
}
