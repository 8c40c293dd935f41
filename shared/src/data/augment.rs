//! CIFAR-style augmentation and per-dataset normalisation, on channel-first byte images.

use rand::Rng;

/// Per-channel mean and std of a dataset's training images in `[0, 1]` (the values the field uses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    /// Channel means.
    pub mean: [f32; 3],
    /// Channel standard deviations.
    pub std: [f32; 3],
}

/// MNIST: mean 0.1307, std 0.3081.
pub const MNIST: Normalization = Normalization { mean: [0.1307; 3], std: [0.3081; 3] };
/// Fashion-MNIST: mean 0.2860, std 0.3530.
pub const FASHION_MNIST: Normalization = Normalization { mean: [0.2860; 3], std: [0.3530; 3] };
/// CIFAR-10.
pub const CIFAR10: Normalization = Normalization { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] };
/// CIFAR-100.
pub const CIFAR100: Normalization = Normalization { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] };
/// ImageNet (also used for image folders).
pub const IMAGENET: Normalization = Normalization { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

impl Normalization {
    /// `(x/255 − mean_c)/std_c` for a channel-first image of `channels × plane` bytes, appended to `out`.
    pub fn apply(&self, image: &[u8], channels: usize, out: &mut Vec<f32>) {
        let plane = image.len() / channels.max(1);
        for (i, &p) in image.iter().enumerate() {
            let c = (i / plane.max(1)).min(2);
            out.push((f32::from(p) / 255.0 - self.mean[c]) / self.std[c]);
        }
    }
}

/// A random `h × w` crop of the image zero-padded by `pad` on every side, mirrored left-right with
/// probability ½ (the standard CIFAR augmentation with `pad = 4`).
pub fn random_crop_flip(image: &[u8], channels: usize, h: usize, w: usize, pad: usize, rng: &mut impl Rng) -> Vec<u8> {
    let (dy, dx) = (rng.random_range(0..=2 * pad), rng.random_range(0..=2 * pad));
    let flip = rng.random_bool(0.5);
    let mut out = vec![0u8; image.len()];
    for c in 0..channels {
        for y in 0..h {
            let sy = (y + dy) as isize - pad as isize;
            if sy < 0 || sy >= h as isize {
                continue;
            }
            for x in 0..w {
                let sx = (x + dx) as isize - pad as isize;
                if sx < 0 || sx >= w as isize {
                    continue;
                }
                let ox = if flip { w - 1 - x } else { x };
                out[c * h * w + y * w + ox] = image[c * h * w + sy as usize * w + sx as usize];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn crops_stay_inside_the_padding_and_normalisation_by_hand() {
        let img: Vec<u8> = (0..2 * 4 * 4).map(|i| i as u8 + 1).collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for _ in 0..50 {
            let out = random_crop_flip(&img, 2, 4, 4, 1, &mut rng);
            // Every non-zero pixel comes from the same channel of the source.
            for (i, &p) in out.iter().enumerate() {
                assert!(p == 0 || (i < 16) == (p <= 16), "{out:?}");
            }
            // At most one row and one column are padding.
            assert!(out.iter().filter(|&&p| p == 0).count() <= 2 * 7);
        }
        let mut v = Vec::new();
        MNIST.apply(&[0, 255], 1, &mut v);
        // (0 − 0.1307)/0.3081 = −0.424213; (1 − 0.1307)/0.3081 = 2.821487
        assert!((v[0] + 0.424_213).abs() < 1e-5 && (v[1] - 2.821_487).abs() < 1e-5);
    }
}
