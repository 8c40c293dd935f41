//! Image-classification datasets from their standard files (feature `data`).
//!
//! - [`idx`]: MNIST and Fashion-MNIST (`*-idx3-ubyte[.gz]`, `*-idx1-ubyte[.gz]`);
//! - [`cifar`]: CIFAR-10 (`data_batch_{1..5}.bin`, `test_batch.bin`) and CIFAR-100 (`train.bin`, `test.bin`),
//!   the binary versions;
//! - [`folder`]: one sub-folder per class of PNG/JPEG files (ImageNet-style `train/` and `val/`);
//! - [`embedded`]: the 10 000 MNIST digits that ship with era (`shared/data/mnist-embedded/`).
//!
//! Every loader returns an [`ImageDataset`] of bytes, channel-first, and fails with a [`DataError`]
//! naming the file and what is wrong (or, for a missing file, where the dataset is obtained).

pub mod augment;
pub mod cifar;
pub mod embedded;
pub mod folder;
pub mod idx;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The datasets era reads, by the name the command line uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// The 10 000 MNIST digits embedded in era (8 000 train, 2 000 test); needs no directory.
    MnistEmbedded,
    /// MNIST IDX files.
    Mnist,
    /// Fashion-MNIST IDX files.
    FashionMnist,
    /// CIFAR-10, binary version.
    Cifar10,
    /// CIFAR-100, binary version.
    Cifar100,
    /// An image folder, `train/<class>/` and `val/<class>/`.
    Folder,
}

crate::choice::named_choice!(DatasetKind, "dataset", {
    MnistEmbedded => "mnist-embedded",
    Mnist => "mnist",
    FashionMnist => "fashion-mnist",
    Cifar10 => "cifar10",
    Cifar100 => "cifar100",
    Folder => "folder",
});

impl DatasetKind {
    /// The per-channel normalisation the field uses for it.
    pub fn normalization(self) -> augment::Normalization {
        match self {
            Self::MnistEmbedded | Self::Mnist => augment::MNIST,
            Self::FashionMnist => augment::FASHION_MNIST,
            Self::Cifar10 => augment::CIFAR10,
            Self::Cifar100 => augment::CIFAR100,
            Self::Folder => augment::IMAGENET,
        }
    }

    /// Whether random crop and flip make sense for it (natural images; not digits or clothing
    /// silhouettes, whose orientation carries the class).
    pub fn augmentable(self) -> bool {
        matches!(self, Self::Cifar10 | Self::Cifar100 | Self::Folder)
    }

    /// One split for training: [`DatasetKind::load`], except that an image folder is opened to be
    /// decoded batch by batch ([`folder::open`]) with at most `cache_mb` MiB of decoded images kept.
    pub fn open(
        self,
        dir: Option<&Path>,
        split: Split,
        image_size: u32,
        cache_mb: f64,
    ) -> Result<ImageDataset, DataError> {
        match (self, dir) {
            (Self::Folder, Some(dir)) => folder::open(dir, split, image_size, cache_mb),
            _ => self.load(dir, split, image_size),
        }
    }

    /// One split in memory, from `dir` (ignored for the embedded digits); folder images are resized to
    /// `image_size × image_size`.
    pub fn load(self, dir: Option<&Path>, split: Split, image_size: u32) -> Result<ImageDataset, DataError> {
        let dir = || dir.ok_or(DataError::NoDirectory { dataset: self.as_str() });
        match self {
            Self::MnistEmbedded => embedded::load(split),
            Self::Mnist => idx::load(dir()?, split, false),
            Self::FashionMnist => idx::load(dir()?, split, true),
            Self::Cifar10 => cifar::load(dir()?, split, false),
            Self::Cifar100 => cifar::load(dir()?, split, true),
            Self::Folder => folder::load(dir()?, split, image_size),
        }
    }
}

/// Which part of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training images.
    Train,
    /// The held-out test (or validation) images.
    Test,
}

/// Images as bytes `[n × channels × height × width]` with their labels: in memory, or decoded from
/// their files as batches ask for them ([`folder::Stream`]).
#[derive(Debug, Clone)]
pub struct ImageDataset {
    /// Pixel bytes, image after image, each channel-first (empty when `files` holds the images).
    /// Shared, not copied, by the clones a run makes (its settings check and each seed's trainer).
    pub images: Arc<[u8]>,
    /// One label per image, in `0..classes`.
    pub labels: Vec<u16>,
    /// Channels per image (1 or 3).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Class names, one per class.
    pub class_names: Vec<String>,
    /// Where the images are decoded from, when they are not in `images`.
    pub files: Option<Arc<folder::Stream>>,
}

impl ImageDataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The bytes of image `i` of a dataset held in memory (empty for one decoded from files:
    /// [`ImageDataset::gather`] reads either).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        self.images.get(i * n..(i + 1) * n).unwrap_or_default()
    }

    /// The bytes of the images `indices`, one after the other, decoding those read from files.
    pub fn gather(&self, indices: &[usize]) -> Result<Vec<u8>, DataError> {
        if let Some(files) = &self.files {
            return files.gather(indices);
        }
        let mut out = Vec::with_capacity(indices.len() * self.image_len());
        indices.iter().for_each(|&i| out.extend_from_slice(self.image(i)));
        Ok(out)
    }

    /// Starts decoding the images `indices` in the background, when they come from files (the next
    /// batch while this one trains).
    pub fn prefetch(&self, indices: &[usize]) {
        if let Some(files) = &self.files {
            files.prefetch(indices.to_vec());
        }
    }

    /// Makes room for at least `images` decoded images in the cache (two batches: the one training
    /// and the one being decoded), whatever the cache's size in MiB.
    pub fn hold_at_least(&self, images: usize) {
        if let Some(files) = &self.files {
            files.hold_at_least(images);
        }
    }
}

/// Why a dataset could not be read.
#[derive(Debug, Error)]
pub enum DataError {
    /// A dataset read from files was asked for without saying where they are.
    #[error("--dataset {dataset} needs --data DIR (the folder holding its files)")]
    NoDirectory {
        /// The dataset's name.
        dataset: &'static str,
    },
    /// A file the dataset needs is not there.
    #[error("{}: not found ({hint})", path.display())]
    Missing {
        /// The file looked for.
        path: PathBuf,
        /// Where the dataset is normally obtained.
        hint: &'static str,
    },
    /// A file that cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file whose content is not what its format says.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, e.g. `truncated: 1000 bytes, expected 7840016`.
        reason: String,
    },
}

/// Reads a whole file, decompressing it if it is gzipped (by its magic bytes, whatever its name).
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    read_maybe_gz_bytes(&bytes, path)
}

/// `bytes`, decompressed if they are gzipped; `path` names them in errors.
pub(crate) fn read_maybe_gz_bytes(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out)
        .map_err(|e| DataError::Format { path: path.to_path_buf(), reason: format!("corrupt gzip data: {e}") })?;
    Ok(out)
}

/// The first of `names` that exists in `dir`, or a [`DataError::Missing`] naming the first.
pub(crate) fn find(dir: &Path, names: &[&str], hint: &'static str) -> Result<PathBuf, DataError> {
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| DataError::Missing { path: dir.join(names[0]), hint })
}
