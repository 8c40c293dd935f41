//! An image-folder dataset: `DIR/<split>/<class>/*.{png,jpg,jpeg}`, as ImageNet is usually unpacked.
//!
//! The split folder is `train` for training and `val` (or `test`) for evaluation; classes are the
//! sub-folders' names in sorted order, so both splits agree on label numbers. Every image is decoded to
//! RGB and resized to `size × size` (bilinear), so batches have one shape.
//!
//! Images are decoded as batches ask for them ([`Stream`]), not all before training: opening a folder
//! reads the file list and every file's header (in parallel, so a file that is not an image is named
//! before training starts), and keeps decoded images in a cache of bounded size. So the memory a run
//! needs does not grow with the number of images, and a folder of any size trains.
//!
//! Two kinds of thread decode. The next batch's images are decoded in the background while the
//! current one trains, on threads of the lowest priority (`SCHED_IDLE` on Linux): they take only the
//! cores that training leaves idle, which on a GPU is all of them and on the CPU the gaps between its
//! parallel sections, and give a core back as soon as a training thread wakes. Whatever is still
//! missing when a batch is due is decoded by the caller's own rayon threads, at normal priority, while
//! training waits for it, as `--preload` would have decoded it. On a CPU that training keeps busy,
//! decoding never preempts a training thread halfway through a parallel section (which would stall
//! every thread joining it), and an epoch streamed costs about what decoding up front costs
//! (docs/benchmarks.md: 2.5 % more at the median, against 11 % with decoders at normal priority).

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::imageops::FilterType;
use lru::LruCache;
use rayon::prelude::*;

use super::{DataError, ImageDataset, Split};

/// What an image folder must look like.
pub const FOLDER_HINT: &str = "an image folder has train/<class>/*.png|jpg and val/<class>/*.png|jpg";

/// The decoded images kept by default, in MiB (`--cache-mb`).
pub const DEFAULT_CACHE_MB: f64 = 64.0;

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| DataError::Io { path: dir.to_path_buf(), source })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    v.sort();
    Ok(v)
}

/// Opens one split of an image folder, its images to be decoded as batches need them, resized to
/// `size × size`, with at most `cache_mb` MiB of decoded images kept.
pub fn open(dir: &Path, split: Split, size: u32, cache_mb: f64) -> Result<ImageDataset, DataError> {
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
    let mut paths = Vec::new();
    let mut labels = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        for path in sorted_entries(class)? {
            let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
            if ["png", "jpg", "jpeg"].contains(&ext.as_str()) {
                paths.push(path);
                labels.push(label as u16);
            }
        }
    }
    if paths.is_empty() {
        return Err(DataError::Format { path: root, reason: "no PNG or JPEG images in the class folders".into() });
    }
    let stream = Stream::new(paths, size, cache_mb)?;
    // Every header read up front: the first file that is not an image, in the folders' order.
    stream.paths.par_iter().map(|p| check_header(p)).collect::<Result<Vec<()>, _>>()?;
    let side = size as usize;
    Ok(ImageDataset {
        images: Arc::default(),
        labels,
        channels: 3,
        height: side,
        width: side,
        class_names: classes
            .iter()
            .map(|c| c.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default())
            .collect(),
        files: Some(Arc::new(stream)),
    })
}

/// Reads one split of an image folder into memory, every image decoded and resized to `size × size`.
pub fn load(dir: &Path, split: Split, size: u32) -> Result<ImageDataset, DataError> {
    let mut d = open(dir, split, size, 0.0)?;
    if let Some(stream) = d.files.take() {
        d.images = stream.decode_all()?.into();
    }
    Ok(d)
}

fn check_header(path: &Path) -> Result<(), DataError> {
    let bad = |e: &dyn std::fmt::Display| DataError::Format {
        path: path.to_path_buf(),
        reason: format!("cannot decode the image: {e}"),
    };
    image::ImageReader::open(path)
        .map_err(|source| DataError::Io { path: path.to_path_buf(), source })?
        .with_guessed_format()
        .map_err(|e| bad(&e))?
        .into_dimensions()
        .map(|_| ())
        .map_err(|e| bad(&e))
}

/// The images of a folder, decoded when asked for, with a bounded cache of decoded ones.
pub struct Stream {
    paths: Vec<PathBuf>,
    size: u32,
    cache: Mutex<LruCache<usize, Arc<[u8]>>>,
    pool: rayon::ThreadPool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("images", &self.paths.len()).field("size", &self.size).finish_non_exhaustive()
    }
}

impl Stream {
    fn new(paths: Vec<PathBuf>, size: u32, cache_mb: f64) -> Result<Self, DataError> {
        let image_len = 3 * size as usize * size as usize;
        let images = ((cache_mb.max(0.0) * 1024.0 * 1024.0) as usize / image_len.max(1)).max(1);
        let threads = std::thread::available_parallelism().map_or(2, NonZeroUsize::get);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("era-decode-{i}"))
            .start_handler(|_| lowest_priority())
            .build()
            .map_err(|e| DataError::Format { path: PathBuf::from("."), reason: format!("no decoding threads: {e}") })?;
        let cap = NonZeroUsize::new(images).unwrap_or(NonZeroUsize::MIN);
        Ok(Self { paths, size, cache: Mutex::new(LruCache::new(cap)), pool })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, LruCache<usize, Arc<[u8]>>> {
        // The cache holds whole entries only, so a panic elsewhere cannot leave one half-written.
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Image `i`, decoded, resized and channel-first.
    fn decode(&self, i: usize) -> Result<Arc<[u8]>, DataError> {
        let mut out = vec![0; 3 * self.size as usize * self.size as usize];
        self.decode_into(i, &mut out)?;
        Ok(out.into())
    }

    /// Decodes image `i` into `out` (`3 × size × size` bytes), resized and channel-first.
    fn decode_into(&self, i: usize, out: &mut [u8]) -> Result<(), DataError> {
        let path = &self.paths[i];
        let img = image::open(path)
            .map_err(|e| DataError::Format { path: path.clone(), reason: format!("cannot decode the image: {e}") })?;
        let rgb = image::imageops::resize(&img.to_rgb8(), self.size, self.size, FilterType::Triangle);
        // Channel-first: all red, then green, then blue.
        let plane = rgb.len() / 3;
        for (k, p) in rgb.pixels().enumerate() {
            for c in 0..3 {
                out[c * plane + k] = p.0[c];
            }
        }
        Ok(())
    }

    /// Every image, decoded in parallel on the caller's rayon threads straight into one buffer (no
    /// copy of each image is held beside it).
    fn decode_all(&self) -> Result<Vec<u8>, DataError> {
        let len = 3 * self.size as usize * self.size as usize;
        let mut images = vec![0; self.paths.len() * len];
        images.par_chunks_mut(len).enumerate().try_for_each(|(i, out)| self.decode_into(i, out))?;
        Ok(images)
    }

    /// The images `indices`, one after the other: cached ones copied, the rest decoded in parallel on
    /// the caller's rayon threads (at their priority, not the background's) and cached.
    pub fn gather(&self, indices: &[usize]) -> Result<Vec<u8>, DataError> {
        let mut found: Vec<Option<Arc<[u8]>>> = {
            let mut cache = self.cache();
            indices.iter().map(|i| cache.get(i).cloned()).collect()
        };
        let missing: Vec<usize> = (0..indices.len()).filter(|&k| found[k].is_none()).collect();
        let decoded: Vec<Arc<[u8]>> = missing.par_iter().map(|&k| self.decode(indices[k])).collect::<Result<_, _>>()?;
        {
            let mut cache = self.cache();
            for (&k, image) in missing.iter().zip(decoded) {
                cache.put(indices[k], Arc::clone(&image));
                found[k] = Some(image);
            }
        }
        let mut out = Vec::with_capacity(indices.len() * 3 * self.size as usize * self.size as usize);
        found.iter().flatten().for_each(|image| out.extend_from_slice(image));
        Ok(out)
    }

    /// Grows the cache to hold at least `images` decoded images.
    pub fn hold_at_least(&self, images: usize) {
        let mut cache = self.cache();
        if let Some(n) = NonZeroUsize::new(images)
            && n > cache.cap()
        {
            cache.resize(n);
        }
    }

    /// Starts decoding `indices` into the cache in the background, on the lowest-priority threads (the
    /// next batch while this one trains); a failure is left for [`Stream::gather`] to report.
    pub fn prefetch(self: &Arc<Self>, indices: Vec<usize>) {
        let stream = Arc::clone(self);
        self.pool.spawn(move || {
            indices.par_iter().for_each(|&i| {
                // Checked image by image: `gather` may have decoded it meanwhile.
                if stream.cache().contains(&i) {
                    return;
                }
                if let Ok(image) = stream.decode(i) {
                    stream.cache().put(i, image);
                }
            });
        });
    }
}

/// Gives the calling thread the lowest scheduling priority there is, so that it runs only on a core
/// nothing else wants (Linux: `SCHED_IDLE`, which any thread may choose for itself; elsewhere the
/// thread keeps its priority).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid `sched_param` for the call's duration; pid 0 is this thread.
        // A refusal (none is expected) leaves the thread at its priority, which is only slower.
        #[allow(unsafe_code)]
        unsafe {
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param);
        }
    }
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

    /// `n` images per class of `side × side` noise in `dir/train` and `dir/val`, two classes.
    fn noise_folder(dir: &Path, n: usize, side: u32) {
        for split in ["train", "val"] {
            for (c, class) in ["a", "b"].iter().enumerate() {
                let d = dir.join(split).join(class);
                std::fs::create_dir_all(&d).unwrap();
                for i in 0..n {
                    let img = image::RgbImage::from_fn(side, side, |x, y| {
                        let v = ((x * 31 + y * 17 + i as u32 * 7 + c as u32 * 101) % 251) as u8;
                        image::Rgb([v, v.wrapping_mul(3), 255 - v])
                    });
                    img.save(d.join(format!("{i:04}.png"))).unwrap();
                }
            }
        }
    }

    #[test]
    fn a_streamed_folder_gives_the_bytes_of_the_loaded_one_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        noise_folder(dir.path(), 12, 9);
        let loaded = load(dir.path(), Split::Train, 6).unwrap();
        // A cache of a few images: most gathers decode again.
        let streamed = open(dir.path(), Split::Train, 6, 0.0005).unwrap();
        assert!(streamed.images.is_empty() && streamed.files.is_some());
        assert_eq!((streamed.labels.clone(), streamed.len()), (loaded.labels.clone(), 24));
        for order in [vec![0, 5, 23, 5, 11], (0..24).rev().collect(), vec![7]] {
            assert_eq!(streamed.gather(&order).unwrap(), loaded.gather(&order).unwrap(), "{order:?}");
        }
        streamed.prefetch(&[1, 2, 3]);
        assert_eq!(streamed.gather(&[3, 2, 1]).unwrap(), loaded.gather(&[3, 2, 1]).unwrap());
        // A run clones its datasets (the settings check, each seed's trainer): the pixels are shared.
        assert!(Arc::ptr_eq(&loaded.clone().images, &loaded.images));
    }

    #[test]
    fn the_cache_keeps_at_most_its_size_and_grows_to_hold_two_batches() {
        let dir = tempfile::tempdir().unwrap();
        noise_folder(dir.path(), 20, 4);
        // 4 × 4 × 3 = 48 bytes an image: 480 bytes hold 10.
        let d = open(dir.path(), Split::Train, 4, 480.0 / 1024.0 / 1024.0).unwrap();
        let stream = d.files.as_ref().unwrap();
        d.gather(&(0..40).collect::<Vec<_>>()).unwrap();
        let (len, cap) = {
            let cache = stream.cache();
            (cache.len(), cache.cap().get())
        };
        assert_eq!((len, cap), (10, 10));
        d.hold_at_least(16);
        d.gather(&(0..40).collect::<Vec<_>>()).unwrap();
        assert_eq!(stream.cache().len(), 16);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn background_decoding_runs_at_the_lowest_priority_and_gathering_at_the_callers() {
        let dir = tempfile::tempdir().unwrap();
        noise_folder(dir.path(), 2, 4);
        let d = open(dir.path(), Split::Train, 4, 1.0).unwrap();
        let stream = d.files.as_ref().unwrap();
        // SAFETY: querying this thread's policy has no preconditions.
        #[allow(unsafe_code)]
        let policy = || unsafe { libc::sched_getscheduler(0) };
        assert_eq!(stream.pool.install(policy), libc::SCHED_IDLE);
        assert_eq!(rayon::scope(|_| policy()), libc::SCHED_OTHER);
        assert_eq!(policy(), libc::SCHED_OTHER, "the caller's own priority is left alone");
    }

    #[test]
    fn an_image_that_breaks_after_its_header_is_named_when_its_batch_is_read() {
        let dir = tempfile::tempdir().unwrap();
        noise_folder(dir.path(), 3, 16);
        let victim = dir.path().join("train/b/0001.png");
        let bytes = std::fs::read(&victim).unwrap();
        std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
        let d = open(dir.path(), Split::Train, 8, 1.0).unwrap();
        assert!(d.gather(&[0, 1, 2]).is_ok());
        let e = d.gather(&[3, 4]).unwrap_err().to_string();
        assert!(e.contains("0001.png: cannot decode the image"), "{e}");
        let e = load(dir.path(), Split::Train, 8).unwrap_err().to_string();
        assert!(e.contains("0001.png: cannot decode the image"), "--preload names it too: {e}");
    }
}
