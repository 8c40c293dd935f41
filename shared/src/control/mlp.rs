//! Multi-layer perceptrons, initialised from the agent's own seeded RNG.
//!
//! burn's initialisers draw from a process-wide generator, so two agents trained in parallel threads
//! would interleave their draws. Drawing here from each agent's RNG keeps a run deterministic for its
//! seed whatever else runs in the process.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Tensor, activation, backend::Backend};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::train::{TrainError, TrainRng};

/// The hidden layers' nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nonlinearity {
    /// `max(0, x)` (CleanRL's SAC).
    Relu,
    /// `x` for `x > 0`, `eˣ − 1` otherwise (the authors' SAC-ERA).
    Elu,
    /// `tanh x` (PPO).
    Tanh,
}

impl Nonlinearity {
    fn apply<B: Backend>(self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Self::Relu => activation::relu(x),
            // elu(x) = relu(x) + min(eˣ − 1, 0)
            Self::Elu => activation::relu(x.clone()).add(x.clamp_max(0.0).exp().sub_scalar(1.0)),
            Self::Tanh => x.tanh(),
        }
    }
}

crate::choice::named_choice!(Nonlinearity, "activation", { Relu => "relu", Elu => "elu", Tanh => "tanh" });

/// How a network's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Orthogonal kernels with gain √2 (the last layer's blocks with their own gains), zero biases:
    /// the authors' SAC-ERA (flax's `orthogonal(√2)`).
    Orthogonal,
    /// `U(−1/√fan_in, 1/√fan_in)` weights and biases (PyTorch's default for linear layers; CleanRL).
    Default,
}

crate::choice::named_choice!(Init, "initialisation", { Orthogonal => "orthogonal", Default => "default" });

/// Normalisation after each hidden linear layer, before the nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// LayerNorm (ε = 10⁻⁶, flax's default; learned scale and shift): the authors' SAC-ERA critics.
    Layer,
    /// None.
    None,
}

crate::choice::named_choice!(Norm, "normalisation", { Layer => "layer", None => "none" });

/// The most weights between hidden layers a network may have (50 M; the authors' 512-512 has 0.26 M):
/// larger settings are refused before anything is allocated.
pub const MAX_HIDDEN_WEIGHTS: usize = 50_000_000;

/// The widest hidden layer (65 536): with the widest observation (Humanoid's 348) its input layer
/// stays under 23 M weights.
pub const MAX_WIDTH: usize = 1 << 16;

/// Checks hidden widths: at least one layer, each in `1..=`[`MAX_WIDTH`], at most
/// [`MAX_HIDDEN_WEIGHTS`] weights between consecutive layers.
pub fn check_hidden(hidden: &[usize]) -> Result<(), TrainError> {
    let weights = hidden.windows(2).try_fold(0usize, |sum, w| sum.checked_add(w[0].checked_mul(w[1])?));
    if hidden.is_empty() || hidden.iter().any(|&w| !(1..=MAX_WIDTH).contains(&w)) {
        return Err(TrainError::Config(format!("hidden = {hidden:?}: give 1 or more widths, each in 1..={MAX_WIDTH}")));
    }
    if weights.is_none_or(|w| w > MAX_HIDDEN_WEIGHTS) {
        return Err(TrainError::Config(format!(
            "hidden = {hidden:?}: more than {MAX_HIDDEN_WEIGHTS} weights between hidden layers"
        )));
    }
    Ok(())
}

/// LayerNorm's ε, flax's default (burn's is 10⁻⁵).
pub const LAYER_NORM_EPS: f64 = 1e-6;

/// The gain of every hidden kernel under [`Init::Orthogonal`].
pub const ORTHOGONAL_GAIN: f64 = std::f64::consts::SQRT_2;

/// What a network is: its layer sizes, nonlinearity, normalisation and initialisation. Both engines
/// build a network from one of these, so they start from the same numbers for a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSpec {
    /// Layer widths `sizes[0] → … → sizes[n]`.
    pub sizes: Vec<usize>,
    /// The hidden nonlinearity.
    pub activation: Nonlinearity,
    /// Normalisation of the hidden layers.
    pub norm: Norm,
    /// How the weights start.
    pub init: Init,
    /// The last layer's outputs in consecutive blocks `(width, gain)`: the gain of the block's
    /// orthogonal kernel, or the factor on its uniform bound (a small one starts a policy near its
    /// mean action). SAC-ERA's actor: `[(D, √2), (D, 1)]`, its means and its log-std head.
    pub last: Vec<(usize, f64)>,
}

impl NetSpec {
    /// A network with no normalisation, uniform initialisation and the last layer scaled by `last_scale`.
    pub fn uniform(sizes: &[usize], activation: Nonlinearity, last_scale: f64) -> Self {
        let out = sizes.last().copied().unwrap_or(0);
        Self { sizes: sizes.to_vec(), activation, norm: Norm::None, init: Init::Default, last: vec![(out, last_scale)] }
    }

    /// Number of linear layers.
    pub fn layers(&self) -> usize {
        self.sizes.len().saturating_sub(1)
    }

    /// Whether linear layer `l` is followed by a LayerNorm.
    pub fn normed(&self, l: usize) -> bool {
        self.norm == Norm::Layer && l + 1 < self.layers()
    }
}

/// Each layer's initial `(weight [in, out] row-major, bias [out])` for `spec`, drawn from `rng` in
/// layer order (a LayerNorm starts at scale 1 and shift 0 and draws nothing). Every network of
/// every engine starts from these draws.
///
/// - [`Init::Default`]: weights, then biases, from `U(−b, b)`, `b = 1/√fan_in` (times the block's
///   factor in the last layer).
/// - [`Init::Orthogonal`]: each kernel (each block of the last layer) a uniformly random matrix with
///   orthonormal columns (or rows, when wider than tall) times its gain: standard normals
///   orthonormalised by Gram–Schmidt, which equals QR with `R`'s diagonal made positive. Biases 0.
pub fn draw_layers(spec: &NetSpec, rng: &mut TrainRng) -> Vec<(Vec<f64>, Vec<f64>)> {
    let n = spec.layers();
    spec.sizes
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (fan_in, fan_out) = (w[0], w[1]);
            let blocks = if i + 1 == n { spec.last.clone() } else { vec![(fan_out, ORTHOGONAL_GAIN)] };
            match spec.init {
                Init::Default => {
                    let bound = 1.0 / (fan_in as f64).sqrt();
                    let scale: Vec<f64> = if i + 1 == n {
                        blocks.iter().flat_map(|&(cols, s)| std::iter::repeat_n(s, cols)).collect()
                    } else {
                        vec![1.0; fan_out]
                    };
                    let column = |k: usize| scale.get(k % fan_out.max(1)).copied().unwrap_or(1.0);
                    let weight = (0..fan_in * fan_out)
                        .map(|k| {
                            let b = bound * column(k);
                            rng.random_range(-b..=b)
                        })
                        .collect();
                    let bias = (0..fan_out)
                        .map(|k| {
                            let b = bound * column(k);
                            rng.random_range(-b..=b)
                        })
                        .collect();
                    (weight, bias)
                }
                Init::Orthogonal => {
                    let mut weight = vec![0.0; fan_in * fan_out];
                    let mut at = 0;
                    for (cols, gain) in blocks {
                        let block = orthogonal(fan_in, cols, gain, rng);
                        for r in 0..fan_in {
                            weight[r * fan_out + at..r * fan_out + at + cols]
                                .copy_from_slice(&block[r * cols..(r + 1) * cols]);
                        }
                        at += cols;
                    }
                    (weight, vec![0.0; fan_out])
                }
            }
        })
        .collect()
}

/// A `rows × cols` row-major matrix, uniformly random among those with orthonormal columns (when
/// `rows ≥ cols`) or rows, times `gain`.
pub fn orthogonal(rows: usize, cols: usize, gain: f64, rng: &mut TrainRng) -> Vec<f64> {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    // `short` vectors of length `tall`, each a column of a tall × short Gaussian matrix.
    let mut q: Vec<Vec<f64>> =
        (0..short).map(|_| (0..tall).map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal)).collect()).collect();
    // Modified Gram–Schmidt; twice, so the columns stay orthogonal to rounding (one pass loses
    // orthogonality in proportion to the matrix's condition number).
    for j in 0..short {
        for _ in 0..2 {
            for i in 0..j {
                let (done, rest) = q.split_at_mut(j);
                let dot: f64 = done[i].iter().zip(&rest[0]).map(|(a, b)| a * b).sum();
                rest[0].iter_mut().zip(&done[i]).for_each(|(v, u)| *v -= dot * u);
            }
        }
        let norm = q[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        q[j].iter_mut().for_each(|v| *v /= norm);
    }
    let mut out = vec![0.0; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Tall: column c of Q. Wide: the transpose, row r of the matrix is Q's column r.
            out[r * cols + c] = gain * if rows >= cols { q[c][r] } else { q[r][c] };
        }
    }
    out
}

/// A stack of linear layers with a nonlinearity between them (none after the last), optionally a
/// LayerNorm before each hidden nonlinearity.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
    /// One per hidden layer with [`Norm::Layer`], none otherwise.
    norms: Vec<LayerNorm<B>>,
    activation: Nonlinearity,
}

impl<B: Backend> Mlp<B> {
    /// Layers `sizes[0] → sizes[1] → … → sizes[n]` with uniform initialisation and no normalisation
    /// ([`NetSpec::uniform`]).
    pub fn new(
        sizes: &[usize],
        activation: Nonlinearity,
        last_scale: f64,
        rng: &mut TrainRng,
        device: &B::Device,
    ) -> Self {
        Self::from_spec(&NetSpec::uniform(sizes, activation, last_scale), rng, device)
    }

    /// The network `spec` describes, drawn by [`draw_layers`].
    pub fn from_spec(spec: &NetSpec, rng: &mut TrainRng, device: &B::Device) -> Self {
        let sizes = &spec.sizes;
        let layers = draw_layers(spec, rng)
            .into_iter()
            .zip(sizes.windows(2))
            .map(|((weight, bias), w)| {
                let weight = crate::tensor::from_f64(weight, [w[0], w[1]], device);
                let bias = crate::tensor::from_f64(bias, [w[1]], device);
                Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)) }
            })
            .collect();
        let norms = (0..spec.layers())
            .filter(|&l| spec.normed(l))
            .map(|l| LayerNormConfig::new(sizes[l + 1]).with_epsilon(LAYER_NORM_EPS).init(device))
            .collect();
        Self { layers, norms, activation: spec.activation }
    }

    /// The forward pass on `[batch, in]`.
    pub fn forward(&self, mut x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                if let Some(norm) = self.norms.get(i) {
                    x = norm.forward(x);
                }
                x = self.activation.apply(x);
            }
        }
        x
    }

    /// Every parameter as one flat vector in the fast path's layout: per layer the weight `[in, out]`
    /// row-major, the bias, then the LayerNorm's scale and shift if it has one.
    pub fn flat_params(&self) -> Vec<f32> {
        let mut out = Vec::new();
        let f = |t: Tensor<B, 1>| crate::tensor::to_f64(t).into_iter().map(|v| v as f32);
        for (i, layer) in self.layers.iter().enumerate() {
            out.extend(f(layer.weight.val().flatten(0, 1)));
            if let Some(b) = &layer.bias {
                out.extend(f(b.val()));
            }
            if let Some(norm) = self.norms.get(i) {
                out.extend(f(norm.gamma.val()));
                if let Some(beta) = &norm.beta {
                    out.extend(f(beta.val()));
                }
            }
        }
        out
    }

    /// Polyak averaging `θ ← τ·θ_online + (1 − τ)·θ` of every parameter, LayerNorms' included
    /// (parameter ids kept, nothing tracked).
    pub fn soft_update(self, online: &Self, tau: f64) -> Self {
        fn blend<B: Backend, const D: usize>(
            target: Param<Tensor<B, D>>,
            src: &Param<Tensor<B, D>>,
            tau: f64,
        ) -> Param<Tensor<B, D>> {
            let src = src.val().detach();
            target.map(|t| t.detach().mul_scalar(1.0 - tau).add(src.mul_scalar(tau)))
        }
        let blend_opt = |t: Option<Param<Tensor<B, 1>>>, o: &Option<Param<Tensor<B, 1>>>| match (t, o) {
            (Some(t), Some(o)) => Some(blend(t, o, tau)),
            (t, _) => t,
        };
        let layers = self
            .layers
            .into_iter()
            .zip(&online.layers)
            .map(|(t, o)| Linear { weight: blend(t.weight, &o.weight, tau), bias: blend_opt(t.bias, &o.bias) })
            .collect();
        let norms = self
            .norms
            .into_iter()
            .zip(&online.norms)
            .map(|(mut t, o)| {
                t.gamma = blend(t.gamma, &o.gamma, tau);
                t.beta = blend_opt(t.beta, &o.beta);
                t
            })
            .collect();
        Self { layers, norms, activation: self.activation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_widths_past_the_limit_are_refused_before_allocating() {
        // Found by `era fuzz`: a config.json with hidden = [~5e5, ~5e5] asked for 497 GB and aborted.
        assert!(check_hidden(&[512, 512]).is_ok());
        // One layer of 50 M units passed the check between layers but not the input layer's size.
        for bad in [&[][..], &[0, 4], &[500_000, 500_000], &[usize::MAX, 2], &[50_000_000]] {
            let e = check_hidden(bad).unwrap_err().to_string();
            assert!(e.contains("hidden = ["), "{e}");
        }
    }
    use burn::backend::NdArray;
    use rand::SeedableRng;

    // f64 like every other test in this process: the CPU device's float type is fixed at first use.
    type B = NdArray<f64>;

    #[test]
    fn orthogonal_kernels_have_orthonormal_columns_or_rows_times_their_gain() {
        for (rows, cols) in [(6, 3), (3, 6), (5, 5), (64, 1)] {
            let gain = 1.5;
            let w = orthogonal(rows, cols, gain, &mut TrainRng::seed_from_u64(rows as u64 * 10 + cols as u64));
            // Wᵀ·W = gain²·I (tall) or W·Wᵀ = gain²·I (wide): entry (k, j) of the vectors that must be orthonormal.
            let tall = rows >= cols;
            let (n, inner) = if tall { (cols, rows) } else { (rows, cols) };
            let at = |k: usize, j: usize| if tall { k * cols + j } else { j * cols + k };
            for i in 0..n {
                for j in 0..n {
                    let dot: f64 = (0..inner).map(|k| w[at(k, i)] * w[at(k, j)]).sum();
                    let want = if i == j { gain * gain } else { 0.0 };
                    assert!((dot - want).abs() < 1e-12, "{rows}×{cols}: ({i}, {j}) = {dot}");
                }
            }
        }
    }

    #[test]
    fn the_released_actor_has_two_orthogonal_heads_and_zero_biases() {
        // Actor 3 → 8 → 4 outputs: means (gain √2) and log-std scores (gain 1), each its own
        // orthogonal block, as the authors' two Dense heads.
        let spec = NetSpec {
            sizes: vec![3, 8, 4],
            activation: Nonlinearity::Elu,
            norm: Norm::None,
            init: Init::Orthogonal,
            last: vec![(2, ORTHOGONAL_GAIN), (2, 1.0)],
        };
        let layers = draw_layers(&spec, &mut TrainRng::seed_from_u64(3));
        let (w, b) = &layers[1];
        assert!(b.iter().all(|&v| v == 0.0) && layers[0].1.iter().all(|&v| v == 0.0));
        let column_norm = |c: usize| (0..8).map(|r| w[r * 4 + c].powi(2)).sum::<f64>().sqrt();
        for (c, gain) in [(0, ORTHOGONAL_GAIN), (1, ORTHOGONAL_GAIN), (2, 1.0), (3, 1.0)] {
            assert!((column_norm(c) - gain).abs() < 1e-12, "column {c}");
        }
    }

    #[test]
    fn same_seed_same_network_and_soft_update_blends() {
        let dev = Default::default();
        let a: Mlp<B> = Mlp::new(&[3, 8, 2], Nonlinearity::Elu, 1.0, &mut TrainRng::seed_from_u64(1), &dev);
        let b: Mlp<B> = Mlp::new(&[3, 8, 2], Nonlinearity::Elu, 1.0, &mut TrainRng::seed_from_u64(1), &dev);
        let c: Mlp<B> = Mlp::new(&[3, 8, 2], Nonlinearity::Elu, 1.0, &mut TrainRng::seed_from_u64(2), &dev);
        let x = crate::tensor::from_f64::<B, 2>(vec![0.1, -0.4, 2.0], [1, 3], &dev);
        let (ya, yb, yc) = (
            crate::tensor::to_f64(a.forward(x.clone())),
            crate::tensor::to_f64(b.forward(x.clone())),
            crate::tensor::to_f64(c.forward(x.clone())),
        );
        assert_eq!(ya, yb);
        assert_ne!(ya, yc);
        // τ = 1 copies the online network exactly; τ = 0 keeps the target.
        let copied = crate::tensor::to_f64(c.clone().soft_update(&a, 1.0).forward(x.clone()));
        assert!(copied.iter().zip(&ya).all(|(p, q)| (p - q).abs() < 1e-6));
        let kept = crate::tensor::to_f64(c.soft_update(&a, 0.0).forward(x));
        assert!(kept.iter().zip(&yc).all(|(p, q)| (p - q).abs() < 1e-6));
    }
}
