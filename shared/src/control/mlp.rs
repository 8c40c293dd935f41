//! Multi-layer perceptrons, initialised from the agent's own seeded RNG.
//!
//! burn's initialisers draw from a process-wide generator, so two agents trained in parallel threads
//! would interleave their draws. Drawing here from each agent's RNG keeps a run deterministic for its
//! seed whatever else runs in the process.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Tensor, activation, backend::Backend};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::AgentRng;

/// The hidden layers' nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)` (CleanRL's SAC).
    Relu,
    /// `x` for `x > 0`, `eˣ − 1` otherwise (the authors' SAC-ERA).
    Elu,
    /// `tanh x` (PPO).
    Tanh,
}

impl Activation {
    fn apply<B: Backend>(self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Self::Relu => activation::relu(x),
            // elu(x) = relu(x) + min(eˣ − 1, 0)
            Self::Elu => activation::relu(x.clone()).add(x.clamp_max(0.0).exp().sub_scalar(1.0)),
            Self::Tanh => x.tanh(),
        }
    }
}

crate::choice::named_choice!(Activation, "activation", { Relu => "relu", Elu => "elu", Tanh => "tanh" });

/// Each layer's initial `(weight [in, out] row-major, bias [out])` for layers `sizes[0] → … → sizes[n]`,
/// drawn in that order from `U(−1/√fan_in, 1/√fan_in)` (PyTorch's default for linear layers); the last
/// layer's draw is multiplied by `last_scale`. Every network of every path starts from these draws.
pub fn draw_layers(sizes: &[usize], last_scale: f64, rng: &mut AgentRng) -> Vec<(Vec<f64>, Vec<f64>)> {
    let n = sizes.len().saturating_sub(1);
    sizes
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (fan_in, fan_out) = (w[0], w[1]);
            let bound = 1.0 / (fan_in as f64).sqrt() * if i + 1 == n { last_scale } else { 1.0 };
            let mut draw = |len: usize| -> Vec<f64> { (0..len).map(|_| rng.random_range(-bound..=bound)).collect() };
            let weight = draw(fan_in * fan_out);
            (weight, draw(fan_out))
        })
        .collect()
}

/// A stack of linear layers with a nonlinearity between them (none after the last).
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
    activation: Activation,
}

impl<B: Backend> Mlp<B> {
    /// Layers `sizes[0] → sizes[1] → … → sizes[n]` drawn by [`draw_layers`] (a small `last_scale`
    /// starts a policy near its mean action).
    pub fn new(
        sizes: &[usize],
        activation: Activation,
        last_scale: f64,
        rng: &mut AgentRng,
        device: &B::Device,
    ) -> Self {
        let layers = draw_layers(sizes, last_scale, rng)
            .into_iter()
            .zip(sizes.windows(2))
            .map(|((weight, bias), w)| {
                let weight = crate::tensor::from_f64(weight, [w[0], w[1]], device);
                let bias = crate::tensor::from_f64(bias, [w[1]], device);
                Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)) }
            })
            .collect();
        Self { layers, activation }
    }

    /// The forward pass on `[batch, in]`.
    pub fn forward(&self, mut x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = self.activation.apply(x);
            }
        }
        x
    }

    /// Polyak averaging `θ ← τ·θ_online + (1 − τ)·θ` (parameter ids kept, nothing tracked).
    pub fn soft_update(self, online: &Self, tau: f64) -> Self {
        let blend = |target: Param<Tensor<B, 2>>, src: &Param<Tensor<B, 2>>| {
            let src = src.val().detach();
            target.map(|t| t.detach().mul_scalar(1.0 - tau).add(src.mul_scalar(tau)))
        };
        let blend1 = |target: Param<Tensor<B, 1>>, src: &Param<Tensor<B, 1>>| {
            let src = src.val().detach();
            target.map(|t| t.detach().mul_scalar(1.0 - tau).add(src.mul_scalar(tau)))
        };
        let layers = self
            .layers
            .into_iter()
            .zip(&online.layers)
            .map(|(t, o)| Linear {
                weight: blend(t.weight, &o.weight),
                bias: match (t.bias, &o.bias) {
                    (Some(tb), Some(ob)) => Some(blend1(tb, ob)),
                    (tb, _) => tb,
                },
            })
            .collect();
        Self { layers, activation: self.activation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use rand::SeedableRng;

    // f64 like every other test in this process: the CPU device's float type is fixed at first use.
    type B = NdArray<f64>;

    #[test]
    fn same_seed_same_network_and_soft_update_blends() {
        let dev = Default::default();
        let a: Mlp<B> = Mlp::new(&[3, 8, 2], Activation::Elu, 1.0, &mut AgentRng::seed_from_u64(1), &dev);
        let b: Mlp<B> = Mlp::new(&[3, 8, 2], Activation::Elu, 1.0, &mut AgentRng::seed_from_u64(1), &dev);
        let c: Mlp<B> = Mlp::new(&[3, 8, 2], Activation::Elu, 1.0, &mut AgentRng::seed_from_u64(2), &dev);
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
