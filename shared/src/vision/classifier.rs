//! The classifier a vision run trains: one of the models, its head regulariser, and a seeded init.
//!
//! ```text
//! image ─ features ─ [dropout p] ─ fc ─ logits z ─ [ERA floor] ─ z′ ─ cross-entropy [label smoothing ε]
//! ```
//!
//! Only one regulariser is on at a time, so the authors' comparison (ERA against label smoothing and
//! dropout at 0.1/0.2/0.3) is one command per point.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Tensor, activation, backend::Backend};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::{ResNet, ResNetDepth, SmallCnn, Stem};
use crate::train::TrainRng;

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Two conv stages and a 128-wide hidden layer: quick on a CPU.
    SmallCnn,
    /// ResNet-18.
    Resnet18,
    /// ResNet-34.
    Resnet34,
    /// ResNet-50.
    Resnet50,
}

crate::choice::named_choice!(ModelKind, "model", {
    SmallCnn => "small-cnn",
    Resnet18 => "resnet18",
    Resnet34 => "resnet34",
    Resnet50 => "resnet50",
});

/// How the classifier is regularised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Regularizer {
    /// Plain cross-entropy.
    None,
    /// The ERA softmax entropy floor on the logits.
    Era,
    /// Cross-entropy against `(1 − ε)·onehot + ε/n`.
    LabelSmoothing,
    /// Dropout with probability `p` on the features before the last linear layer.
    Dropout,
}

crate::choice::named_choice!(Regularizer, "regulariser", {
    None => "none",
    Era => "era",
    LabelSmoothing => "label-smoothing",
    Dropout => "dropout",
});

/// The network: one of the architectures of [`ModelKind`].
// A trainer holds one network, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Net<B: Backend> {
    /// [`SmallCnn`].
    SmallCnn(SmallCnn<B>),
    /// [`ResNet`].
    ResNet(ResNet<B>),
}

impl<B: Backend> Net<B> {
    /// `kind` for `channels × height × width` images and `classes` outputs: the CIFAR stem up to 64
    /// pixels, the ImageNet stem above. Parameters are drawn from `seed` (see [`seeded_init`]).
    pub fn new(
        kind: ModelKind,
        [channels, height, width]: [usize; 3],
        classes: usize,
        seed: u64,
        device: &B::Device,
    ) -> Self {
        let stem = if height.max(width) <= 64 { Stem::Cifar } else { Stem::ImageNet };
        let net = match kind {
            ModelKind::SmallCnn => Self::SmallCnn(SmallCnn::new(channels, height, width, classes, device)),
            ModelKind::Resnet18 => Self::ResNet(ResNet::new(ResNetDepth::R18, stem, channels, classes, device)),
            ModelKind::Resnet34 => Self::ResNet(ResNet::new(ResNetDepth::R34, stem, channels, classes, device)),
            ModelKind::Resnet50 => Self::ResNet(ResNet::new(ResNetDepth::R50, stem, channels, classes, device)),
        };
        seeded_init(net, seed)
    }

    /// Logits `[batch, classes]`; with `dropout = Some((p, seed))`, features are dropped with
    /// probability `p` (and the kept ones scaled by `1/(1 − p)`), the mask drawn from `seed`.
    pub fn forward(&self, x: Tensor<B, 4>, dropout: Option<(f64, u64)>) -> Tensor<B, 2> {
        let features = match self {
            Self::SmallCnn(m) => m.features(x),
            Self::ResNet(m) => m.features(x),
        };
        let features = match dropout {
            Some((p, seed)) if p > 0.0 => {
                let dims = features.dims();
                let device = features.device();
                let mut rng = TrainRng::seed_from_u64(seed);
                let keep = 1.0 / (1.0 - p);
                let mask: Vec<f64> =
                    (0..dims[0] * dims[1]).map(|_| if rng.random_bool(p) { 0.0 } else { keep }).collect();
                features.mul(crate::tensor::from_f64(mask, dims, &device))
            }
            _ => features,
        };
        match self {
            Self::SmallCnn(m) => m.head(features),
            Self::ResNet(m) => m.head(features),
        }
    }
}

/// Redraws every weight and bias of `module` from a generator seeded with `seed`.
///
/// burn's initialisers draw from one process-wide generator, so seeds trained in parallel threads
/// would interleave their draws; this keeps a run the same for its seed whatever else runs. Weights
/// and biases of convolutions and linear layers follow PyTorch's default, `U(±1/√fan_in)`
/// (`fan_in = in_channels·k_h·k_w` or `in_features`); batch-norm scales and shifts keep their 1 and 0.
pub fn seeded_init<B: Backend, M: Module<B>>(module: M, seed: u64) -> M {
    struct Init {
        rng: TrainRng,
        containers: Vec<String>,
        fan_in: usize,
    }
    impl<B: Backend> ModuleMapper<B> for Init {
        fn enter_module(&mut self, _name: &str, container_type: &str) {
            self.containers.push(container_type.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.containers.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            if self.containers.last().is_some_and(|c| c.ends_with(":BatchNorm")) {
                return param;
            }
            let shape = param.lazy_shape();
            let dims = shape.dims::<D>();
            // Conv weights are [out, in, kh, kw], linear weights [in, out]; a bias follows its weight.
            self.fan_in = match D {
                4 => dims[1] * dims[2] * dims[3],
                2 => dims[0],
                _ => self.fan_in,
            };
            let bound = 1.0 / (self.fan_in.max(1) as f64).sqrt();
            let values: Vec<f64> = (0..shape.num_elements()).map(|_| self.rng.random_range(-bound..=bound)).collect();
            let device = param.lazy_device();
            let tensor = crate::tensor::from_f64(values, dims, &device).require_grad();
            Param::initialized(param.id, tensor)
        }
    }
    module.map(&mut Init { rng: TrainRng::seed_from_u64(seed), containers: Vec::new(), fan_in: 1 })
}

/// Mean cross-entropy of `logits` `[batch, n]` against `labels`, with label smoothing `epsilon`
/// (`0` for none): `−(1 − ε)·log p_y − ε·mean_j log p_j`.
pub fn cross_entropy<B: Backend>(
    logits: Tensor<B, 2>,
    labels: Tensor<B, 1, burn::tensor::Int>,
    epsilon: f64,
) -> Tensor<B, 1> {
    let log_p = activation::log_softmax(logits, 1);
    let [batch, _] = log_p.dims();
    let nll = log_p.clone().gather(1, labels.reshape([batch, 1])).neg().mean();
    if epsilon > 0.0 { nll.mul_scalar(1.0 - epsilon).sub(log_p.mean().mul_scalar(epsilon)) } else { nll }
}

/// Per row of `logits` `[batch, n]`: the softmax entropy, whether the label is the top-1 class and
/// whether it is among the top 5 (all of them when `n ≤ 5`).
pub fn row_stats(logits: &[f32], labels: &[u16], n: usize) -> Vec<RowStats> {
    logits
        .chunks_exact(n)
        .zip(labels)
        .map(|(row, &label)| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f64> = row.iter().map(|&z| f64::from(z - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            let entropy = -exps.iter().map(|&e| e / sum).filter(|&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>();
            let own = row[usize::from(label)];
            // Rank of the label: classes scoring strictly higher, ties counted in the label's favour.
            let above = row.iter().filter(|&&z| z > own).count();
            RowStats { entropy, top1: above == 0, top5: above < 5 }
        })
        .collect()
}

/// One prediction's statistics (see [`row_stats`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowStats {
    /// Entropy of the predicted distribution, nats.
    pub entropy: f64,
    /// Whether the label scored highest.
    pub top1: bool,
    /// Whether the label is among the five highest.
    pub top5: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::{Int, TensorData};

    type B = NdArray<f64>;

    #[test]
    fn seeded_init_is_the_same_for_a_seed_and_keeps_batch_norm() {
        let dev = Default::default();
        let a: Net<B> = Net::new(ModelKind::Resnet18, [3, 32, 32], 10, 7, &dev);
        let b: Net<B> = Net::new(ModelKind::Resnet18, [3, 32, 32], 10, 7, &dev);
        let c: Net<B> = Net::new(ModelKind::Resnet18, [3, 32, 32], 10, 8, &dev);
        let x = Tensor::<B, 4>::ones([2, 3, 32, 32], &dev);
        let (ya, yb, yc) = (a.forward(x.clone(), None), b.forward(x.clone(), None), c.forward(x, None));
        assert_eq!(ya.to_data(), yb.to_data());
        assert_ne!(ya.to_data(), yc.to_data());
        // A small CNN's first conv: 9 inputs per output, so every weight lies in ±1/3.
        let small: Net<B> = Net::new(ModelKind::SmallCnn, [1, 28, 28], 10, 0, &dev);
        let Net::SmallCnn(m) = &small else { unreachable!() };
        let w = crate::tensor::to_f64(m.clone().into_record().conv1.weight.val());
        assert!(w.iter().all(|v| v.abs() <= 1.0 / 3.0 + 1e-12) && w.iter().any(|v| v.abs() > 0.3));
    }

    #[test]
    fn cross_entropy_and_label_smoothing_by_hand() {
        let dev = Default::default();
        // logits [0, ln 3]: p = [1/4, 3/4]; label 1: −ln(3/4) = 0.287682.
        let z = Tensor::<B, 2>::from_data(TensorData::from([[0.0, 3f64.ln()]]), &dev);
        let y = Tensor::<B, 1, Int>::from_data(TensorData::from([1i64]), &dev);
        let plain = cross_entropy(z.clone(), y.clone(), 0.0).into_scalar();
        assert!((plain - 0.287_682).abs() < 1e-6);
        // ε = 0.2: 0.8·0.287682 + 0.2·(ln 4 + ln(4/3))/2 = 0.230146 + 0.2·0.836988 = 0.397543.
        let smooth = cross_entropy(z, y, 0.2).into_scalar();
        assert!((smooth - 0.397_543).abs() < 1e-6, "{smooth}");
    }

    #[test]
    fn row_stats_by_hand() {
        // Row 0: uniform over 2 → entropy ln 2, label 1 ties the top: top-1.
        // Row 1: label 0 has the lowest of 7 scores: 6 above → neither top-1 nor top-5.
        let s = row_stats(&[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], &[1, 0], 7);
        assert!(s[0].top1 && s[0].top5);
        assert!(!s[1].top1 && !s[1].top5);
        let s = row_stats(&[0.0, 0.0], &[1], 2);
        assert!((s[0].entropy - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn dropout_drops_about_p_and_is_seeded() {
        let dev = Default::default();
        let net: Net<B> = Net::new(ModelKind::SmallCnn, [1, 8, 8], 3, 0, &dev);
        let x = Tensor::<B, 4>::ones([4, 1, 8, 8], &dev);
        let a = net.forward(x.clone(), Some((0.5, 1)));
        let b = net.forward(x.clone(), Some((0.5, 1)));
        let c = net.forward(x.clone(), Some((0.5, 2)));
        assert_eq!(a.to_data(), b.to_data());
        assert_ne!(a.to_data(), c.to_data());
        assert_eq!(net.forward(x.clone(), Some((0.0, 1))).to_data(), net.forward(x, None).to_data());
    }
}
