//! End-to-end tests of `era train vision`, `era eval vision` and `era bench vision` on tiny datasets
//! written in each real format (IDX, gzipped IDX, CIFAR binary, image folders of PNG and JPEG).
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::Path;

use common::{changed, era, kill_at_checkpoint, log, ok, records, refused, settings};
use era_shared::metrics;
use era_shared::runlog::{RunLog, Status};

/// The pixel of image `i`, class `c`, at `(x, y)` of channel `ch`: the class decides which band of
/// rows is bright, so a model can learn it in a few steps.
fn pixel(i: usize, c: usize, ch: usize, x: usize, y: usize, h: usize, classes: usize) -> u8 {
    let band = y * classes / h == c % classes;
    if band { 170 + ((i * 7 + x + ch) % 80) as u8 } else { ((i + x * 3 + y + ch) % 50) as u8 }
}

/// MNIST-format IDX files (`gz`: gzipped) of `n` 28×28 images of 10 classes.
fn write_idx(dir: &Path, prefix: &str, n: usize, gz: bool) {
    let mut images = [0x803u32, n as u32, 28, 28].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    let mut labels = [0x801u32, n as u32].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    for i in 0..n {
        let c = i % 10;
        labels.push(c as u8);
        images.extend((0..28 * 28).map(|p| pixel(i, c, 0, p % 28, p / 28, 28, 10)));
    }
    for (kind, bytes) in [("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)] {
        if gz {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&bytes).unwrap();
            std::fs::write(dir.join(format!("{prefix}-{kind}.gz")), e.finish().unwrap()).unwrap();
        } else {
            std::fs::write(dir.join(format!("{prefix}-{kind}")), bytes).unwrap();
        }
    }
}

/// CIFAR binary records: `label_bytes` label bytes (the last is the class) and 3×32×32 pixels.
/// A folder `root/mnist` of `train` training and `test` test digits in MNIST's files.
fn mnist(root: &Path, train: usize, test: usize) -> std::path::PathBuf {
    let data = root.join("mnist");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, "train", train, false);
    write_idx(&data, "t10k", test, false);
    data
}

fn cifar_records(n: usize, classes: usize, label_bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let c = i % classes;
        out.extend(std::iter::repeat_n(c as u8, label_bytes));
        for ch in 0..3 {
            out.extend((0..32 * 32).map(|p| pixel(i, c, ch, p % 32, p / 32, 32, classes.min(8))));
        }
    }
    out
}

/// An image folder with `train/` and `val/`, 3 classes, PNG and JPEG files of assorted sizes.
fn write_folder(dir: &Path, per_class: usize) {
    for (split, n) in [("train", per_class), ("val", 2)] {
        for (c, class) in ["cat", "dog", "fox"].iter().enumerate() {
            let d = dir.join(split).join(class);
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..n {
                let (w, h) = (20 + i, 24);
                let img = image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
                    let v = |ch| pixel(i, c, ch, x as usize, y as usize, h, 3);
                    image::Rgb([v(0), v(1), v(2)])
                });
                let ext = if i % 2 == 0 { "png" } else { "jpg" };
                img.save(d.join(format!("{i}.{ext}"))).unwrap();
            }
        }
    }
}

/// Every entropy floor in the log holds: `pred/entropy_min ≥ H₀ − 1e-4` in every logged batch.
fn floor_holds(log: &RunLog, h0: f64) -> usize {
    let mins: Vec<f64> =
        log.records.iter().filter_map(|r| r.metrics.get(metrics::PRED_ENTROPY_MIN).copied().flatten()).collect();
    assert!(mins.iter().all(|&m| m >= h0 - 1e-4), "{mins:?}");
    mins.len()
}

#[test]
fn every_dataset_format_and_model_trains_logs_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mnist, fashion, c10, c100, folder) =
        (data.join("mnist"), data.join("fashion"), data.join("c10"), data.join("c100"), data.join("folder"));
    for d in [&mnist, &fashion, &c10.join("cifar-10-batches-bin"), &c100, &folder] {
        std::fs::create_dir_all(d).unwrap();
    }
    write_idx(&mnist, "train", 40, true);
    write_idx(&mnist, "t10k", 20, true);
    write_idx(&fashion, "train", 40, false);
    write_idx(&fashion, "t10k", 20, false);
    for b in 1..=5 {
        std::fs::write(c10.join(format!("cifar-10-batches-bin/data_batch_{b}.bin")), cifar_records(8, 10, 1)).unwrap();
    }
    std::fs::write(c10.join("cifar-10-batches-bin/test_batch.bin"), cifar_records(10, 10, 1)).unwrap();
    std::fs::write(c100.join("train.bin"), cifar_records(24, 100, 2)).unwrap();
    std::fs::write(c100.join("test.bin"), cifar_records(6, 100, 2)).unwrap();
    write_folder(&folder, 6);

    let out = dir.path().join("runs");
    let cases: [(&str, &Path, &str, &str, &[&str]); 8] = [
        ("mnist", &mnist, "small-cnn", "era", &["--h0", "1.2"]),
        ("fashion-mnist", &fashion, "small-cnn", "label-smoothing", &["--strength", "0.2"]),
        ("cifar10", &c10, "small-cnn", "dropout", &["--strength", "0.3"]),
        ("cifar100", &c100, "small-cnn", "none", &[]),
        ("folder", &folder, "small-cnn", "era", &["--image-size", "16", "--era-mode", "official"]),
        // ResNet-18 end to end on CIFAR-10 files, two epochs; the deeper ones on both stems.
        ("cifar10", &c10, "resnet18", "era", &["--epochs", "2"]),
        ("cifar100", &c100, "resnet34", "era", &["--batch-size", "12", "--h0", "2.0"]),
        ("folder", &folder, "resnet50", "era", &["--image-size", "72", "--batch-size", "9"]),
    ];
    for (dataset, path, model, reg, extra) in cases {
        let name = format!("{dataset}-{model}-{reg}");
        let mut args = vec![
            "train",
            "vision",
            "--dataset",
            dataset,
            "--data",
            path.to_str().unwrap(),
            "--model",
            model,
            "--reg",
            reg,
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--log-every",
            "2",
            "--backend",
            "ndarray",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--run-name",
            &name,
        ];
        args.extend_from_slice(extra);
        ok(&era(&args));
        let run = out.join(&name);
        let l = log(&run);
        assert_eq!(l.footer.as_ref().unwrap().status, Status::Completed, "{name}");
        assert_eq!(l.header.target, dataset);
        for key in
            [metrics::TRAIN_LOSS, metrics::TRAIN_TOP1, metrics::EVAL_TOP1, metrics::EVAL_TOP5, metrics::IMAGES_PER_SEC]
        {
            assert!(l.records.iter().any(|r| r.metrics.contains_key(key)), "{name}: no {key}");
        }
        if reg == "era" {
            let h0 = l.header.era.h0.unwrap();
            assert!(floor_holds(&l, h0) >= 1, "{name}");
        } else {
            assert!(!l.header.era.enabled);
        }
        let text = ok(&era(&["eval", "vision", "--run", run.to_str().unwrap()]));
        assert!(text.contains("test top-1") && text.contains("top-5"), "{text}");
    }
    // ResNet-18's two epochs on CIFAR-10 files: every loss finite, both epochs evaluated.
    let l = log(&out.join("cifar10-resnet18-era"));
    let losses: Vec<f64> =
        l.records.iter().filter_map(|r| r.metrics.get(metrics::TRAIN_LOSS).copied().flatten()).collect();
    assert!(!losses.is_empty() && losses.iter().all(|v| v.is_finite()), "{losses:?}");
    assert_eq!(l.records.iter().filter(|r| r.metrics.contains_key(metrics::EVAL_TOP1)).count(), 2);
}

#[test]
fn a_runs_config_json_repeats_the_run_and_flags_still_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist(dir.path(), 48, 16);
    let out = dir.path().join("runs");
    let o = out.to_str().unwrap();
    let first = [
        "train",
        "vision",
        "--dataset",
        "mnist",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--reg",
        "label-smoothing",
        "--strength",
        "0.2",
        "--set",
        "eval_batch_size=16",
        "--backend",
        "ndarray",
        "--quiet",
        "--out",
        o,
        "--run-name",
        "a",
    ];
    ok(&era(&first));
    let (a, s) = (out.join("a"), settings(&out.join("a")));
    assert_eq!((s["eval_batch_size"].as_u64(), s["strength"].as_f64()), (Some(16), Some(0.2)));
    // The config alone (the data folder included) repeats the run, record for record.
    let config = a.join("config.json");
    let config = config.to_str().unwrap();
    ok(&era(&["train", "vision", "--config", config, "--out", o, "--run-name", "b", "--quiet"]));
    assert_eq!(settings(&out.join("b")), s);
    assert_eq!(records(&log(&a)), records(&log(&out.join("b"))));
    // Flags laid over it change their own fields and nothing else.
    let more = ["--epochs", "2", "--no-augment", "--h0", "0.7", "--quiet"];
    ok(&era(&[&["train", "vision", "--config", config, "--out", o, "--run-name", "c"][..], &more[..]].concat()));
    assert_eq!(changed(&s, &settings(&out.join("c"))), ["augment", "epochs", "h0"]);
}

#[test]
fn kill_9_then_resume_equals_an_uninterrupted_run_and_seeds_compare() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist(dir.path(), 160, 20);
    let out = dir.path().join("runs");
    let args = |name: &str, backend: &str| -> Vec<String> {
        [
            "train",
            "vision",
            "--dataset",
            "mnist",
            "--data",
            data.to_str().unwrap(),
            "--epochs",
            "3",
            "--batch-size",
            "8",
            "--log-every",
            "3",
            "--checkpoint-every",
            "5",
            "--backend",
            backend,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            "--run-name",
            name,
        ]
        .map(String::from)
        .to_vec()
    };
    // On burn (ndarray) and on the fast path: a run killed at a checkpoint and resumed logs what the
    // uninterrupted run logs, bit for bit; `era eval vision` reads either's checkpoint on ndarray.
    for backend in ["ndarray", "fast"] {
        let (whole, killed) = (format!("whole-{backend}"), format!("killed-{backend}"));
        ok(&era(&args(&whole, backend).iter().map(String::as_str).collect::<Vec<_>>()));
        let run = out.join(&killed);
        kill_at_checkpoint(&args(&killed, backend), &run.join("checkpoints/step-000000000025/meta.json"));
        assert!(log(&run).footer.is_none());
        ok(&era(&["train", "vision", "--resume", run.to_str().unwrap(), "--quiet"]));
        let (a, b) = (log(&out.join(&whole)), log(&run));
        assert!(!b.resumes.is_empty() && b.footer.as_ref().unwrap().status == Status::Completed);
        assert_eq!(records(&a), records(&b), "{backend}: the resumed run's log equals the uninterrupted one");
        let again = era(&["train", "vision", "--resume", run.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(2));
        let text = ok(&era(&["eval", "vision", "--run", run.to_str().unwrap(), "--backend", "ndarray"]));
        assert!(text.contains("test top-1"), "{backend}: {text}");
    }
    // Both engines start from the same weights and follow each other (the shared tests bound how
    // closely): their first training losses agree.
    let first_loss = |name: &str| {
        log(&out.join(name)).records.iter().find_map(|r| r.metrics.get(metrics::TRAIN_LOSS).copied().flatten()).unwrap()
    };
    let (burn_loss, fast_loss) = (first_loss("whole-ndarray"), first_loss("whole-fast"));
    assert!((burn_loss - fast_loss).abs() < 1e-3 * burn_loss.abs(), "{burn_loss} vs {fast_loss}");
    let bench =
        ok(&era(&["bench", "vision", "--backend", "fast", "--steps", "1", "--repeats", "1", "--batch-size", "4"]));
    assert!(bench.contains("holds"), "{bench}");

    // Two seeds of two settings: compare reports them as mean ± std per setting.
    for reg in ["era", "none"] {
        let mut a = args("seeds", "ndarray").into_iter().filter(|s| s != "seeds").collect::<Vec<_>>();
        a.retain(|s| s != "--run-name");
        a.extend(
            ["--epochs", "1", "--seeds", "2", "--reg", reg, "--run-name", &format!("seeds-{reg}")].map(String::from),
        );
        ok(&era(&a.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    let table =
        ok(&era(&["compare", out.join("seeds-era").to_str().unwrap(), out.join("seeds-none").to_str().unwrap()]));
    assert!(
        table.contains("small-cnn-era") && table.contains("small-cnn-none") && table.contains("eval/top1"),
        "{table}"
    );
    assert!(table.contains('±'), "{table}");
}

#[test]
fn bad_input_is_named_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = empty.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--dataset", "cifar10"], "--dataset cifar10 needs --data DIR"),
        (&["--dataset", "mnist", "--data", e], "train-images-idx3-ubyte.gz: not found"),
        (&["--dataset", "cifar100", "--data", e], "train.bin: not found"),
        (&["--dataset", "imagenet"], "unknown dataset `imagenet`"),
        (&["--dataset", "mnist-embedded", "--h0", "3"], "H0 = 3 is outside its valid range"),
        (&["--dataset", "mnist-embedded", "--reg", "dropout", "--strength", "1.5"], "--strength 1.5"),
        (&["--dataset", "mnist-embedded", "--model", "vgg"], "unknown model `vgg`"),
    ];
    let out = dir.path().join("runs");
    for (extra, needle) in cases {
        let mut args = vec!["train", "vision", "--out", out.to_str().unwrap(), "--backend", "ndarray"];
        args.extend_from_slice(extra);
        let o = era(&args);
        refused(&o, needle, extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn bench_reports_training_and_inference_ratios() {
    let text = ok(&era(&["bench", "vision", "--batch-size", "4", "--steps", "1", "--repeats", "1"]));
    for needle in ["small-cnn", "resnet18", "training", "inference", "ERA overhead", "images/s"] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
}

/// The classifier trains on wgpu too (on a software adapter here; the test setup installs Mesa's lavapipe).
#[test]
fn wgpu_backend_smoke() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist(dir.path(), 16, 8);
    let out = dir.path().join("runs");
    ok(&era(&[
        "train",
        "vision",
        "--dataset",
        "mnist",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--log-every",
        "1",
        "--backend",
        "wgpu",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--run-name",
        "gpu",
    ]));
    let l = log(&out.join("gpu"));
    assert_eq!(l.header.config["backend"], "wgpu");
    assert!(floor_holds(&l, 0.6) == 2, "two logged batches, floor held");
    assert!(l.records.iter().any(|r| r.metrics.contains_key(metrics::EVAL_TOP1)));
}
