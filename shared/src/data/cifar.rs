//! CIFAR-10 and CIFAR-100, binary versions.
//!
//! CIFAR-10: `data_batch_{1..5}.bin` and `test_batch.bin`, records of 1 label byte and 3 072 pixel
//! bytes (1 024 red, 1 024 green, 1 024 blue, row-major 32×32). CIFAR-100: `train.bin` and `test.bin`,
//! records of a coarse and a fine label byte and the same pixels; the fine label (100 classes) is used.
//! The files may sit in `DIR` or in the archive's folder below it (`cifar-10-batches-bin/`,
//! `cifar-100-binary/`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{DataError, ImageDataset, Split, find};

/// Where CIFAR-10 is obtained.
pub const CIFAR10_HINT: &str =
    "CIFAR-10's binary version is cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html";
/// Where CIFAR-100 is obtained.
pub const CIFAR100_HINT: &str =
    "CIFAR-100's binary version is cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html";
/// CIFAR-10's class names.
pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

const PIXELS: usize = 3 * 32 * 32;

/// `dir`, or its archive sub-folder when the files are there.
fn base(dir: &Path, sub: &str) -> PathBuf {
    let nested = dir.join(sub);
    if nested.is_dir() { nested } else { dir.to_path_buf() }
}

/// Appends the records of one file; `label_bytes` is 1 (CIFAR-10) or 2 (CIFAR-100, fine label second).
fn read_records(
    path: &Path,
    label_bytes: usize,
    classes: usize,
    images: &mut Vec<u8>,
    out: &mut ImageDataset,
) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let record = label_bytes + PIXELS;
    if bytes.is_empty() || bytes.len() % record != 0 {
        return Err(DataError::Format {
            path: path.to_path_buf(),
            reason: format!("{} bytes is not a whole number of {record}-byte records (truncated?)", bytes.len()),
        });
    }
    for (i, r) in bytes.chunks_exact(record).enumerate() {
        let label = r[label_bytes - 1];
        if usize::from(label) >= classes {
            return Err(DataError::Format {
                path: path.to_path_buf(),
                reason: format!("record {i}: label {label} is outside 0..{classes}"),
            });
        }
        out.labels.push(u16::from(label));
        images.extend_from_slice(&r[label_bytes..]);
    }
    Ok(())
}

/// Loads one split of CIFAR-10 (`hundred = false`) or CIFAR-100 from `dir`.
pub fn load(dir: &Path, split: Split, hundred: bool) -> Result<ImageDataset, DataError> {
    let (sub, hint, label_bytes, classes) = if hundred {
        ("cifar-100-binary", CIFAR100_HINT, 2, 100)
    } else {
        ("cifar-10-batches-bin", CIFAR10_HINT, 1, 10)
    };
    let dir = base(dir, sub);
    let files: Vec<String> = match (hundred, split) {
        (false, Split::Train) => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
        (false, Split::Test) => vec!["test_batch.bin".into()],
        (true, Split::Train) => vec!["train.bin".into()],
        (true, Split::Test) => vec!["test.bin".into()],
    };
    let class_names = if hundred {
        (0..100).map(|i| format!("class {i}")).collect()
    } else {
        CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect()
    };
    let mut out = ImageDataset {
        images: Arc::default(),
        labels: Vec::new(),
        channels: 3,
        height: 32,
        width: 32,
        class_names,
        files: None,
    };
    let mut images = Vec::new();
    for f in &files {
        read_records(&find(&dir, &[f], hint)?, label_bytes, classes, &mut images, &mut out)?;
    }
    out.images = images.into();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(labels: &[&[u8]]) -> Vec<u8> {
        labels.iter().flat_map(|l| l.iter().copied().chain(std::iter::repeat_n(l[l.len() - 1], PIXELS))).collect()
    }

    #[test]
    fn cifar10_and_100_and_their_defects() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("cifar-10-batches-bin");
        std::fs::create_dir(&nested).unwrap();
        for i in 1..=5 {
            std::fs::write(nested.join(format!("data_batch_{i}.bin")), records(&[&[i], &[0]])).unwrap();
        }
        let d = load(dir.path(), Split::Train, false).unwrap();
        assert_eq!((d.len(), d.channels, d.height, d.classes()), (10, 3, 32, 10));
        assert_eq!(d.labels[..4], [1, 0, 2, 0]);
        assert_eq!(d.image(0)[0], 1);
        let e = load(dir.path(), Split::Test, false).unwrap_err().to_string();
        assert!(e.contains("test_batch.bin: not found") && e.contains("cs.toronto.edu"), "{e}");
        std::fs::write(nested.join("test_batch.bin"), &records(&[&[3]])[..100]).unwrap();
        let e = load(dir.path(), Split::Test, false).unwrap_err().to_string();
        assert!(e.contains("100 bytes is not a whole number of 3073-byte records"), "{e}");
        std::fs::write(nested.join("test_batch.bin"), records(&[&[12]])).unwrap();
        assert!(load(dir.path(), Split::Test, false).unwrap_err().to_string().contains("label 12 is outside 0..10"));

        std::fs::write(dir.path().join("test.bin"), records(&[&[1, 77], &[2, 99]])).unwrap();
        let d = load(dir.path(), Split::Test, true).unwrap();
        assert_eq!((d.labels.clone(), d.classes()), (vec![77, 99], 100));
    }
}
