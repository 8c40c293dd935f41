//! ResNet-18, -34 and -50 (He et al. 2016; torchvision's layout, stride on the 3×3 conv of a
//! bottleneck), with the ImageNet stem (7×7/2 conv, 3×3/2 max-pool) for large images or the CIFAR
//! stem (one 3×3 conv, no pooling) for 32×32 ones. Convolutions have no bias; each is followed by
//! batch normalisation.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Tensor, activation::relu, backend::Backend};
use serde::{Deserialize, Serialize};

use super::conv::conv2d;

/// How deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResNetDepth {
    /// Basic blocks `[2, 2, 2, 2]`.
    R18,
    /// Basic blocks `[3, 4, 6, 3]`.
    R34,
    /// Bottleneck blocks `[3, 4, 6, 3]`, expansion 4.
    R50,
}

/// The first layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stem {
    /// 7×7 stride-2 conv and a 3×3 stride-2 max-pool (224×224 inputs).
    ImageNet,
    /// One 3×3 conv, no pooling (32×32 inputs).
    Cifar,
}

/// A convolution and its batch norm.
#[derive(Module, Debug)]
pub struct ConvBn<B: Backend> {
    conv: Conv2d<B>,
    bn: BatchNorm<B>,
}

impl<B: Backend> ConvBn<B> {
    fn new(cin: usize, cout: usize, kernel: usize, stride: usize, device: &B::Device) -> Self {
        let pad = kernel / 2;
        Self {
            conv: Conv2dConfig::new([cin, cout], [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(cout).init(device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.bn.forward(conv2d(&self.conv, x))
    }
}

/// A residual block: its convolutions (ReLU between them) and, when the shape changes, a 1×1 projection.
#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    convs: Vec<ConvBn<B>>,
    shortcut: Option<ConvBn<B>>,
}

impl<B: Backend> Block<B> {
    fn new(bottleneck: bool, cin: usize, width: usize, stride: usize, device: &B::Device) -> Self {
        let cout = if bottleneck { 4 * width } else { width };
        let convs = if bottleneck {
            vec![
                ConvBn::new(cin, width, 1, 1, device),
                ConvBn::new(width, width, 3, stride, device),
                ConvBn::new(width, cout, 1, 1, device),
            ]
        } else {
            vec![ConvBn::new(cin, width, 3, stride, device), ConvBn::new(width, width, 3, 1, device)]
        };
        let shortcut = (stride != 1 || cin != cout).then(|| ConvBn::new(cin, cout, 1, stride, device));
        Self { convs, shortcut }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let identity = match &self.shortcut {
            Some(s) => s.forward(x.clone()),
            None => x.clone(),
        };
        let last = self.convs.len() - 1;
        let mut y = x;
        for (i, c) in self.convs.iter().enumerate() {
            y = c.forward(y);
            if i < last {
                y = relu(y);
            }
        }
        relu(y.add(identity))
    }
}

/// A ResNet classifier.
#[derive(Module, Debug)]
pub struct ResNet<B: Backend> {
    stem: ConvBn<B>,
    stem_pool: Option<MaxPool2d>,
    blocks: Vec<Block<B>>,
    pool: AdaptiveAvgPool2d,
    fc: Linear<B>,
}

impl<B: Backend> ResNet<B> {
    /// A ResNet of `depth` for `channels`-channel images and `classes` outputs.
    pub fn new(depth: ResNetDepth, stem: Stem, channels: usize, classes: usize, device: &B::Device) -> Self {
        let (counts, bottleneck) = match depth {
            ResNetDepth::R18 => ([2, 2, 2, 2], false),
            ResNetDepth::R34 => ([3, 4, 6, 3], false),
            ResNetDepth::R50 => ([3, 4, 6, 3], true),
        };
        let (stem_conv, stem_pool) = match stem {
            Stem::ImageNet => (
                ConvBn::new(channels, 64, 7, 2, device),
                Some(
                    MaxPool2dConfig::new([3, 3])
                        .with_strides([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(),
                ),
            ),
            Stem::Cifar => (ConvBn::new(channels, 64, 3, 1, device), None),
        };
        let mut blocks = Vec::new();
        let mut cin = 64;
        for (stage, &count) in counts.iter().enumerate() {
            let width = 64 << stage;
            for i in 0..count {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                blocks.push(Block::new(bottleneck, cin, width, stride, device));
                cin = if bottleneck { 4 * width } else { width };
            }
        }
        Self {
            stem: stem_conv,
            stem_pool,
            blocks,
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(cin, classes).init(device),
        }
    }

    /// The pooled features the classifier reads, `[batch, 512]` (`[batch, 2048]` for ResNet-50).
    pub fn features(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let mut x = relu(self.stem.forward(x));
        if let Some(p) = &self.stem_pool {
            x = p.forward(x);
        }
        for b in &self.blocks {
            x = b.forward(x);
        }
        self.pool.forward(x).flatten::<2>(1, 3)
    }

    /// The classifier: features to logits `[batch, classes]`.
    pub fn head(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.fc.forward(features)
    }

    /// Logits `[batch, classes]`.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        self.head(self.features(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    type B = NdArray<f64>;

    #[test]
    fn parameter_counts_match_torchvision() {
        // torchvision.models.resnet{18,34,50}(num_classes=1000): sum(p.numel() for p in m.parameters())
        // = 11 689 512, 21 797 672, 25 557 032. burn also counts each batch norm's running mean and
        // variance, 2 per channel; the channels of all batch norms sum to
        // R18: 64 + 4·64 + (4·128 + 128) + (4·256 + 256) + (4·512 + 512) = 4 800,
        // R34: 64 + 6·64 + (8·128 + 128) + (12·256 + 256) + (6·512 + 512) = 8 512,
        // R50: 64 + (3·384 + 256) + (4·768 + 512) + (6·1536 + 1024) + (3·3072 + 2048) = 26 560.
        let dev = Default::default();
        for (depth, torchvision, bn_channels) in [
            (ResNetDepth::R18, 11_689_512, 4_800),
            (ResNetDepth::R34, 21_797_672, 8_512),
            (ResNetDepth::R50, 25_557_032, 26_560),
        ] {
            let m: ResNet<B> = ResNet::new(depth, Stem::ImageNet, 3, 1000, &dev);
            assert_eq!(m.num_params(), torchvision + 2 * bn_channels, "{depth:?}");
        }
    }

    #[test]
    fn both_stems_give_logits() {
        let dev = Default::default();
        let cifar: ResNet<B> = ResNet::new(ResNetDepth::R18, Stem::Cifar, 3, 10, &dev);
        assert_eq!(cifar.forward(Tensor::zeros([2, 3, 32, 32], &dev)).dims(), [2, 10]);
        let imagenet: ResNet<B> = ResNet::new(ResNetDepth::R50, Stem::ImageNet, 3, 7, &dev);
        assert_eq!(imagenet.forward(Tensor::zeros([1, 3, 64, 64], &dev)).dims(), [1, 7]);
    }
}
