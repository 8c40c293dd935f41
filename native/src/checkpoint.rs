//! Checkpoints: one directory per checkpoint, written atomically, in a layout every domain shares.
//!
//! ```text
//! RUN_DIR/checkpoints/step-000020000/
//!     meta.json          {"format": "era-checkpoint", "version": 1, "step": …, "wall_s": …,
//!                         "algorithm": …, "parts": ["nets.mpk", …]}
//!     nets.mpk           networks (burn's named MessagePack record, full precision)
//!     optim-*.mpk        optimiser states (same format)
//!     loop.json          the training loop's position: step, RNG states, environment states, …
//!     replay.safetensors the replay buffer (off-policy agents)
//! ```
//!
//! A checkpoint is written into a temporary directory, each file synced, then renamed into place, so
//! a crash leaves either the previous checkpoints or the complete new one. The newest [`KEEP`] are kept.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use era_shared::runlog::CHECKPOINT_DIR;
use era_shared::train::Part;
use serde::{Deserialize, Serialize};

/// The format name in every `meta.json`.
pub const FORMAT: &str = "era-checkpoint";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// How many checkpoints are kept per run.
pub const KEEP: usize = 2;
const META: &str = "meta.json";

/// `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version.
    pub version: u32,
    /// The step the checkpoint was taken at.
    pub step: u64,
    /// Wall-clock seconds of the run at that step.
    pub wall_s: f64,
    /// The algorithm that wrote it.
    pub algorithm: String,
    /// The files besides `meta.json`.
    pub parts: Vec<String>,
}

/// A checkpoint read back.
#[derive(Debug)]
pub struct Checkpoint {
    /// Its directory.
    pub dir: PathBuf,
    /// Its `meta.json`.
    pub meta: Meta,
    /// Its parts.
    pub parts: Vec<Part>,
}

fn step_dir(run_dir: &Path, step: u64) -> PathBuf {
    run_dir.join(CHECKPOINT_DIR).join(format!("step-{step:012}"))
}

/// Writes a checkpoint of `run_dir` at `step` atomically and prunes old ones; returns its directory.
pub fn write(run_dir: &Path, step: u64, wall_s: f64, algorithm: &str, parts: &[Part]) -> anyhow::Result<PathBuf> {
    let root = run_dir.join(CHECKPOINT_DIR);
    fs::create_dir_all(&root).with_context(|| format!("{}: cannot create the checkpoint folder", root.display()))?;
    // Temporary folders left by a process killed mid-write are never complete: clear them.
    if let Ok(entries) = fs::read_dir(&root) {
        for e in entries.filter_map(Result::ok) {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = root.join(format!(".tmp-step-{step:012}-{}", std::process::id()));
    fs::create_dir(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
    let save = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = tmp.join(name);
        let mut f = fs::File::create(&path).with_context(|| format!("{}: cannot create", path.display()))?;
        f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("{}: cannot write", path.display()))
    };
    let meta = Meta {
        format: FORMAT.into(),
        version: VERSION,
        step,
        wall_s,
        algorithm: algorithm.into(),
        parts: parts.iter().map(|(n, _)| n.clone()).collect(),
    };
    let saved = parts
        .iter()
        .try_for_each(|(name, bytes)| save(name, bytes))
        .and_then(|()| save(META, &serde_json::to_vec_pretty(&meta)?));
    if let Err(e) = saved {
        // A full disk: free what the incomplete checkpoint took; the previous ones stay as they were.
        let _ = fs::remove_dir_all(&tmp);
        return Err(e.context("the checkpoint was not written; the previous ones are intact"));
    }
    let dest = step_dir(run_dir, step);
    if dest.exists() {
        fs::remove_dir_all(&dest).with_context(|| format!("{}: cannot replace", dest.display()))?;
    }
    fs::rename(&tmp, &dest).with_context(|| format!("{}: cannot move into place", dest.display()))?;
    if let Ok(d) = fs::File::open(&root) {
        let _ = d.sync_all();
    }
    let mut all = list(run_dir);
    while all.len() > KEEP {
        let (_, old) = all.remove(0);
        let _ = fs::remove_dir_all(old);
    }
    Ok(dest)
}

/// Complete checkpoints of a run, oldest first, as `(step, dir)`.
fn list(run_dir: &Path) -> Vec<(u64, PathBuf)> {
    let root = run_dir.join(CHECKPOINT_DIR);
    let Ok(entries) = fs::read_dir(&root) else { return Vec::new() };
    let mut out: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let step = name.strip_prefix("step-")?.parse().ok()?;
            e.path().join(META).is_file().then(|| (step, e.path()))
        })
        .collect();
    out.sort();
    out
}

/// The steps of a run's complete checkpoints, oldest first.
pub fn steps(run_dir: &Path) -> Vec<u64> {
    list(run_dir).into_iter().map(|(s, _)| s).collect()
}

/// The checkpoint at `step`, made the newest: newer ones are renamed `superseded-step-…` (kept, but
/// no longer read), so that a later plain `--resume` continues this line of training, not the old one.
pub fn rewind_to(run_dir: &Path, step: u64) -> anyhow::Result<Checkpoint> {
    let all = list(run_dir);
    let Some((_, dir)) = all.iter().find(|(s, _)| *s == step) else {
        let have: Vec<String> = all.iter().map(|(s, _)| s.to_string()).collect();
        bail!(
            "{}: --from-step {step}: no checkpoint at that step (checkpoints at steps: {})",
            run_dir.display(),
            if have.is_empty() { "none".to_string() } else { have.join(", ") }
        );
    };
    let ckpt = read(dir)?;
    for (s, newer) in all.iter().filter(|(s, _)| *s > step) {
        let aside = run_dir.join(CHECKPOINT_DIR).join(format!("superseded-step-{s:012}"));
        if aside.exists() {
            fs::remove_dir_all(&aside).with_context(|| format!("{}: cannot replace", aside.display()))?;
        }
        fs::rename(newer, &aside).with_context(|| format!("{}: cannot set aside", newer.display()))?;
    }
    Ok(ckpt)
}

/// Reads the checkpoint in `dir`.
pub fn read(dir: &Path) -> anyhow::Result<Checkpoint> {
    let meta_path = dir.join(META);
    let text = fs::read_to_string(&meta_path).with_context(|| format!("{}: cannot read", meta_path.display()))?;
    let meta: Meta = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a checkpoint description", meta_path.display()))?;
    if meta.format != FORMAT || meta.version != VERSION {
        bail!(
            "{}: format {} version {} (this era reads {FORMAT} version {VERSION})",
            meta_path.display(),
            meta.format,
            meta.version
        );
    }
    let parts = meta
        .parts
        .iter()
        .map(|name| {
            let p = dir.join(name);
            fs::read(&p).map(|b| (name.clone(), b)).with_context(|| format!("{}: cannot read", p.display()))
        })
        .collect::<anyhow::Result<Vec<Part>>>()?;
    Ok(Checkpoint { dir: dir.to_path_buf(), meta, parts })
}

/// The newest complete checkpoint of a run, if any.
pub fn latest(run_dir: &Path) -> anyhow::Result<Option<Checkpoint>> {
    match list(run_dir).pop() {
        Some((_, dir)) => read(&dir).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_keeps_the_newest_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        for step in [10, 20, 30] {
            write(dir.path(), step, step as f64, "sac", &[("a.bin".into(), vec![step as u8; 3])]).unwrap();
        }
        let steps: Vec<u64> = list(dir.path()).into_iter().map(|(s, _)| s).collect();
        assert_eq!(steps, vec![20, 30]);
        // A half-written checkpoint (no meta.json) is ignored; a killed writer's temporary folder is cleared.
        fs::create_dir_all(step_dir(dir.path(), 40)).unwrap();
        let stale = dir.path().join(CHECKPOINT_DIR).join(".tmp-step-000000000050-1");
        fs::create_dir_all(&stale).unwrap();
        write(dir.path(), 30, 30.0, "sac", &[("a.bin".into(), vec![30u8; 3])]).unwrap();
        assert!(!stale.exists());
        let c = latest(dir.path()).unwrap().unwrap();
        assert_eq!(c.meta.step, 30);
        assert_eq!(c.parts, vec![("a.bin".to_string(), vec![30u8; 3])]);
        fs::remove_file(c.dir.join("a.bin")).unwrap();
        assert!(read(&c.dir).unwrap_err().to_string().contains("a.bin"));
    }

    #[test]
    fn rewinding_sets_newer_checkpoints_aside() {
        let dir = tempfile::tempdir().unwrap();
        for step in [10, 20] {
            write(dir.path(), step, 0.0, "sac", &[("a.bin".into(), vec![step as u8])]).unwrap();
        }
        assert!(rewind_to(dir.path(), 15).unwrap_err().to_string().contains("checkpoints at steps: 10, 20"));
        assert_eq!(rewind_to(dir.path(), 10).unwrap().parts, vec![("a.bin".to_string(), vec![10u8])]);
        assert_eq!(steps(dir.path()), vec![10]);
        assert!(dir.path().join(CHECKPOINT_DIR).join("superseded-step-000000000020").join(META).is_file());
    }
}
