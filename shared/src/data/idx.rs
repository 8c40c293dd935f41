//! MNIST and Fashion-MNIST in the IDX format (raw or gzipped).
//!
//! Images: big-endian `u32` magic `0x00000803`, count, rows, columns, then `count·rows·columns` bytes.
//! Labels: magic `0x00000801`, count, then `count` bytes.

use std::path::Path;

use super::{DataError, ImageDataset, Split, find, read_maybe_gz};

/// Where MNIST is obtained.
pub const MNIST_HINT: &str = "MNIST is at http://yann.lecun.com/exdb/mnist/ or its mirrors: train-images-idx3-ubyte.gz, \
train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz";
/// Where Fashion-MNIST is obtained.
pub const FASHION_HINT: &str = "Fashion-MNIST is at https://github.com/zalandoresearch/fashion-mnist (data/fashion): \
the same four file names as MNIST";
/// Fashion-MNIST's class names.
pub const FASHION_CLASSES: [&str; 10] =
    ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Parses IDX image and label files' contents (`*_name` name them in errors).
pub fn parse(
    images: &[u8],
    labels: &[u8],
    images_name: &Path,
    labels_name: &Path,
    class_names: Vec<String>,
) -> Result<ImageDataset, DataError> {
    let bad = |path: &Path, reason: String| DataError::Format { path: path.to_path_buf(), reason };
    if images.len() < 16 {
        return Err(bad(
            images_name,
            format!("truncated header: {} bytes, an IDX image file starts with 16", images.len()),
        ));
    }
    if u32_at(images, 0) != 0x803 {
        return Err(bad(
            images_name,
            format!("magic {:#010x} is not an IDX image file's 0x00000803", u32_at(images, 0)),
        ));
    }
    let (n, rows, cols) = (u32_at(images, 4) as usize, u32_at(images, 8) as usize, u32_at(images, 12) as usize);
    if n == 0 || rows == 0 || cols == 0 {
        return Err(bad(images_name, format!("{n} images of {rows}×{cols}: nothing to train on")));
    }
    // Checked: the header's sizes are the file's claim, not yet the file's size.
    let expected = n.checked_mul(rows).and_then(|x| x.checked_mul(cols)).and_then(|x| x.checked_add(16));
    if Some(images.len()) != expected {
        let expected = expected.map_or("more than memory can hold".to_string(), |e| e.to_string());
        return Err(bad(
            images_name,
            format!("{} bytes, expected {expected} for {n} images of {rows}×{cols}", images.len()),
        ));
    }
    if labels.len() < 8 || u32_at(labels, 0) != 0x801 {
        return Err(bad(labels_name, "not an IDX label file (magic 0x00000801)".into()));
    }
    if u32_at(labels, 4) as usize != n || labels.len() != 8 + n {
        return Err(bad(
            labels_name,
            format!("{} labels in {} bytes, the images file has {n}", u32_at(labels, 4), labels.len()),
        ));
    }
    let labels: Vec<u16> = labels[8..].iter().map(|&l| u16::from(l)).collect();
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| usize::from(**l) >= class_names.len()) {
        return Err(bad(labels_name, format!("label {l} of image {i} is outside 0..{}", class_names.len())));
    }
    Ok(ImageDataset {
        images: images[16..].into(),
        labels,
        channels: 1,
        height: rows,
        width: cols,
        class_names,
        files: None,
    })
}

/// Loads one split of MNIST (`fashion = false`) or Fashion-MNIST from `dir`, gzipped or not.
pub fn load(dir: &Path, split: Split, fashion: bool) -> Result<ImageDataset, DataError> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let hint = if fashion { FASHION_HINT } else { MNIST_HINT };
    let names = |kind: &str| [format!("{prefix}-{kind}.gz"), format!("{prefix}-{kind}")];
    let [a, b] = names("images-idx3-ubyte");
    let images_path = find(dir, &[&a, &b], hint)?;
    let [a, b] = names("labels-idx1-ubyte");
    let labels_path = find(dir, &[&a, &b], hint)?;
    let classes = if fashion {
        FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        (0..10).map(|d| d.to_string()).collect()
    };
    parse(&read_maybe_gz(&images_path)?, &read_maybe_gz(&labels_path)?, &images_path, &labels_path, classes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// IDX files' contents for `images` (each `rows × cols` bytes) and `labels`.
    fn encode(images: &[u8], labels: &[u8], rows: usize, cols: usize) -> (Vec<u8>, Vec<u8>) {
        let n = labels.len() as u32;
        let mut i = [0x803u32, n, rows as u32, cols as u32].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
        i.extend_from_slice(images);
        let mut l = [0x801u32, n].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
        l.extend_from_slice(labels);
        (i, l)
    }

    #[test]
    fn a_header_claiming_more_than_memory_is_refused_without_overflow() {
        // Found by `era fuzz`: 220 images of 1113130180×715654144 in a 64-byte file overflowed the
        // expected size (a panic in debug builds; a wrapped, possibly matching size in release).
        let mut img =
            [0x803u32, 220, 1_113_130_180, 715_654_144].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
        img.resize(64, 0);
        let (_, lab) = encode(&[], &[0; 220], 1, 1);
        let e = parse(&img, &lab, Path::new("i"), Path::new("l"), vec!["0".into()]).unwrap_err().to_string();
        assert!(e.contains("expected more than memory can hold for 220 images of 1113130180×715654144"), "{e}");
        let (img, lab) = encode(&[], &[], 0, 5);
        let e = parse(&img, &lab, Path::new("i"), Path::new("l"), vec!["0".into()]).unwrap_err().to_string();
        assert!(e.contains("0 images of 0×5: nothing to train on"), "{e}");
    }

    #[test]
    fn reads_raw_and_gzipped_files_and_names_every_defect() {
        let dir = tempfile::tempdir().unwrap();
        let (img, lab) = encode(&[7u8; 3 * 4], &[1, 2, 9], 2, 2);
        std::fs::write(dir.path().join("train-images-idx3-ubyte"), &img).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&lab).unwrap();
        std::fs::write(dir.path().join("train-labels-idx1-ubyte.gz"), gz.finish().unwrap()).unwrap();
        let d = load(dir.path(), Split::Train, false).unwrap();
        assert_eq!((d.len(), d.channels, d.height, d.width, d.classes()), (3, 1, 2, 2, 10));
        assert_eq!(d.labels, vec![1, 2, 9]);

        let e = load(dir.path(), Split::Test, true).unwrap_err().to_string();
        assert!(e.contains("t10k-images-idx3-ubyte.gz: not found") && e.contains("fashion-mnist"), "{e}");

        std::fs::write(dir.path().join("train-images-idx3-ubyte"), &img[..img.len() - 1]).unwrap();
        let e = load(dir.path(), Split::Train, false).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte: 27 bytes, expected 28"), "{e}");

        std::fs::write(dir.path().join("train-images-idx3-ubyte"), &img).unwrap();
        std::fs::write(dir.path().join("train-labels-idx1-ubyte.gz"), [0x1f, 0x8b, 1, 2, 3]).unwrap();
        let e = load(dir.path(), Split::Train, false).unwrap_err().to_string();
        assert!(e.contains("corrupt gzip"), "{e}");

        let (_, lab) = encode(&[], &[1, 2, 10], 2, 2);
        std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte.gz")).unwrap();
        std::fs::write(dir.path().join("train-labels-idx1-ubyte"), lab).unwrap();
        let e = load(dir.path(), Split::Train, false).unwrap_err().to_string();
        assert!(e.contains("label 10 of image 2 is outside 0..10"), "{e}");
    }
}
