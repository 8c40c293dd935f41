//! An image-folder dataset: `DIR/<split>/<class>/*.{png,jpg,jpeg}`, as ImageNet is usually unpacked.
//!
//! The split folder is `train` for training and `val` (or `test`) for evaluation; classes are the
//! sub-folders' names in sorted order, so both splits agree on label numbers. Every image is decoded to
//! RGB and resized to `size × size` (bilinear), so batches have one shape.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use super::{DataError, ImageDataset, Split};

/// What an image folder must look like.
pub const FOLDER_HINT: &str = "an image folder has train/<class>/*.png|jpg and val/<class>/*.png|jpg";

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| DataError::Io { path: dir.to_path_buf(), source })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    v.sort();
    Ok(v)
}

/// Loads one split of an image folder, every image resized to `size × size`.
pub fn load(dir: &Path, split: Split, size: u32) -> Result<ImageDataset, DataError> {
    let names: &[&str] = match split {
        Split::Train => &["train"],
        Split::Test => &["val", "test"],
    };
    let root = names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_dir())
        .ok_or_else(|| DataError::Missing { path: dir.join(names[0]), hint: FOLDER_HINT })?;
    let classes: Vec<PathBuf> = sorted_entries(&root)?.into_iter().filter(|p| p.is_dir()).collect();
    if classes.is_empty() {
        return Err(DataError::Format { path: root, reason: format!("no class folders ({FOLDER_HINT})") });
    }
    let side = size as usize;
    let mut out = ImageDataset {
        images: Vec::new(),
        labels: Vec::new(),
        channels: 3,
        height: side,
        width: side,
        class_names: classes
            .iter()
            .map(|c| c.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default())
            .collect(),
    };
    for (label, class) in classes.iter().enumerate() {
        for path in sorted_entries(class)? {
            let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
            if !["png", "jpg", "jpeg"].contains(&ext.as_str()) {
                continue;
            }
            let img = image::open(&path).map_err(|e| DataError::Format {
                path: path.clone(),
                reason: format!("cannot decode the image: {e}"),
            })?;
            let rgb = image::imageops::resize(&img.to_rgb8(), size, size, FilterType::Triangle);
            // Channel-first: all red, then green, then blue.
            for c in 0..3 {
                out.images.extend(rgb.pixels().map(|p| p.0[c]));
            }
            out.labels.push(label as u16);
        }
    }
    if out.is_empty() {
        return Err(DataError::Format { path: root, reason: "no PNG or JPEG images in the class folders".into() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_folder_resized_and_bad_files_named() {
        let dir = tempfile::tempdir().unwrap();
        for (class, colour) in [("cat", [200u8, 0, 0]), ("dog", [0, 0, 200])] {
            let d = dir.path().join("train").join(class);
            std::fs::create_dir_all(&d).unwrap();
            image::RgbImage::from_pixel(5, 7, image::Rgb(colour)).save(d.join("a.png")).unwrap();
            image::RgbImage::from_pixel(9, 3, image::Rgb(colour)).save(d.join("b.jpg")).unwrap();
            std::fs::write(d.join("notes.txt"), "ignored").unwrap();
        }
        let d = load(dir.path(), Split::Train, 4).unwrap();
        assert_eq!((d.len(), d.classes(), d.height, d.width), (4, 2, 4, 4));
        assert_eq!(d.class_names, vec!["cat", "dog"]);
        assert_eq!(d.labels, vec![0, 0, 1, 1]);
        // A red PNG: the red plane is 200, the blue plane 0.
        assert!(d.image(0)[..16].iter().all(|&p| p == 200) && d.image(0)[32..].iter().all(|&p| p == 0));
        assert!(load(dir.path(), Split::Test, 4).unwrap_err().to_string().contains("val: not found"));
        std::fs::write(dir.path().join("train/dog/c.png"), b"not a png").unwrap();
        let e = load(dir.path(), Split::Train, 4).unwrap_err().to_string();
        assert!(e.contains("c.png: cannot decode the image"), "{e}");
    }
}
