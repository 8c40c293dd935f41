//! A small CNN for quick CPU runs: two 3×3 conv + ReLU + 2×2 max-pool stages (32 and 64 channels),
//! a 128-wide hidden layer, and the classifier.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Tensor, activation::relu, backend::Backend};

use super::conv::conv2d;

/// The small CNN.
#[derive(Module, Debug)]
pub struct SmallCnn<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    pool: MaxPool2d,
    hidden: Linear<B>,
    fc: Linear<B>,
}

impl<B: Backend> SmallCnn<B> {
    /// For `channels × height × width` inputs (height and width divisible by 4) and `classes` outputs.
    pub fn new(channels: usize, height: usize, width: usize, classes: usize, device: &B::Device) -> Self {
        let conv = |cin, cout| Conv2dConfig::new([cin, cout], [3, 3]).with_padding(PaddingConfig2d::Same).init(device);
        Self {
            conv1: conv(channels, 32),
            conv2: conv(32, 64),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            hidden: LinearConfig::new(64 * (height / 4) * (width / 4), 128).init(device),
            fc: LinearConfig::new(128, classes).init(device),
        }
    }

    /// The features the classifier reads, `[batch, 128]`.
    pub fn features(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.pool.forward(relu(conv2d(&self.conv1, x)));
        let x = self.pool.forward(relu(conv2d(&self.conv2, x)));
        relu(self.hidden.forward(x.flatten::<2>(1, 3)))
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

    #[test]
    fn shapes_and_parameter_count() {
        let dev = Default::default();
        let m: SmallCnn<NdArray<f64>> = SmallCnn::new(1, 28, 28, 10, &dev);
        let y = m.forward(Tensor::zeros([3, 1, 28, 28], &dev));
        assert_eq!(y.dims(), [3, 10]);
        // 1·32·9+32 + 32·64·9+64 + 3136·128+128 + 128·10+10 = 320 + 18 496 + 401 536 + 1 290
        assert_eq!(m.num_params(), 421_642);
    }
}
