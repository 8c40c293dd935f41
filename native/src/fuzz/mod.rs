//! `era fuzz` (hidden; `scripts/fuzz.sh` runs it): every reader of outside data fed mutated inputs.
//!
//! Two ways in. By default a structure-aware harness on stable Rust: each target starts from valid
//! files of its format and mutates them with a seeded generator — truncation, bit flips, inserted
//! bytes, huge or negative lengths and counts, NaN/∞ literals, deep nesting, duplicated spans
//! (duplicate keys), splices of two inputs. An input passes when the reader returns (accepting it or
//! refusing it with an error) without panicking, within [`SLOW`], and without growing the process's
//! peak memory by more than `--rss-limit` (a claimed size allocated before being checked against the
//! data). Inputs that panic, hang or take that memory are saved for a regression test. Built with the
//! `afl` feature by cargo-afl, `--afl` hands the same readers to AFL++, whose mutations follow the
//! branches each input reaches (`scripts/fuzz-afl.sh`).
//! The readers and their valid starting inputs are in `targets.rs`.

mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use era_shared::train::TrainRng;
use rand::{Rng, SeedableRng};

use crate::cli::FuzzArgs;
use crate::memory::{peak_rss_mib, reset_peak, status_kib};
use targets::TARGETS;
#[cfg(test)]
use targets::run_log_seeds;

/// An input slower than this counts as a hang.
pub const SLOW: Duration = Duration::from_secs(1);

/// One reader under test.
struct Target {
    /// Its name on the command line and in the report.
    name: &'static str,
    /// Valid inputs to start from.
    seeds: fn() -> Vec<Vec<u8>>,
    /// Reads one input; `scratch` is a folder of its own for readers of files. `Ok(true)` if accepted.
    read: fn(&[u8], &Path) -> anyhow::Result<bool>,
}

/// What one target's run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs the reader accepted.
    pub accepted: u64,
    /// Inputs that panicked (saved).
    pub panics: u64,
    /// Inputs slower than [`SLOW`].
    pub slow: u64,
    /// The slowest input.
    pub max: Duration,
    /// Inputs whose reading grew the peak resident memory past `--rss-limit` (saved).
    pub memory: u64,
    /// The largest growth of peak resident memory while reading one input, MiB (Linux; 0 elsewhere).
    pub max_growth_mib: f64,
    /// The process's peak resident memory while this target ran, MiB: the largest `VmHWM` read
    /// (each input resets the kernel's figure, so the last reading alone is only the last input's).
    pub peak_mib: f64,
}

/// Runs `era fuzz`.
pub fn run(args: &FuzzArgs) -> anyhow::Result<()> {
    let chosen: Vec<&Target> = if args.targets.is_empty() {
        TARGETS.iter().collect()
    } else {
        args.targets
            .iter()
            .map(|n| {
                TARGETS.iter().find(|t| t.name == n).with_context(|| {
                    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
                    format!("--target {n}: no such target (known: {})", names.join(", "))
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    if let Some(dir) = &args.write_seeds {
        return write_seeds(&chosen, dir);
    }
    #[cfg(feature = "afl")]
    if args.afl {
        let [t] = chosen[..] else { bail!("--afl needs exactly one --target") };
        return afl(t);
    }
    if !args.replay.is_empty() {
        let [t] = chosen[..] else { bail!("--replay needs exactly one --target") };
        let scratch = tempfile::tempdir().context("cannot create a scratch folder")?;
        for file in &args.replay {
            let input = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
            match (t.read)(&input, scratch.path()) {
                Ok(accepted) => println!("{}: {}", file.display(), if accepted { "accepted" } else { "refused" }),
                Err(e) => println!("{}: refused: {e:#}", file.display()),
            }
        }
        return Ok(());
    }
    std::fs::create_dir_all(&args.crashes)
        .with_context(|| format!("{}: cannot create the crash folder", args.crashes.display()))?;
    // Panics are counted and their inputs saved with their message, which would drown the report.
    std::panic::set_hook(Box::new(|info| {
        *LAST_PANIC.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = info.to_string();
    }));
    println!("target              inputs   accepted  panics  slow  memory  max ms/input  max growth MiB  peak RSS MiB");
    let mut failed = Vec::new();
    for t in chosen {
        let r = fuzz(t, args)?;
        println!(
            "{:<18} {:>8} {:>10} {:>7} {:>5} {:>7} {:>13.2} {:>15.1} {:>13.1}",
            t.name,
            r.inputs,
            r.accepted,
            r.panics,
            r.slow,
            r.memory,
            r.max.as_secs_f64() * 1e3,
            r.max_growth_mib,
            r.peak_mib
        );
        if r.panics > 0 || r.slow > 0 || r.memory > 0 {
            failed.push(t.name);
        }
    }
    let _ = std::panic::take_hook();
    if !failed.is_empty() {
        bail!(
            "{}: inputs that panicked, hung or took too much memory are in {}",
            failed.join(", "),
            args.crashes.display()
        );
    }
    Ok(())
}

/// Writes each target's seeds as `DIR/TARGET/seed-N.bin`.
fn write_seeds(chosen: &[&Target], dir: &Path) -> anyhow::Result<()> {
    for t in chosen {
        let sub = dir.join(t.name);
        std::fs::create_dir_all(&sub).with_context(|| format!("{}: cannot create", sub.display()))?;
        for (i, seed) in (t.seeds)().iter().enumerate() {
            let path = sub.join(format!("seed-{i}.bin"));
            std::fs::write(&path, seed).with_context(|| format!("{}: cannot write", path.display()))?;
        }
    }
    Ok(())
}

/// Reads AFL++'s inputs with `t` until AFL++ stops it. A panic the reader does not turn into an error
/// itself aborts the process, which AFL++ records as a crash; a hang is its `-t` timeout.
#[cfg(feature = "afl")]
fn afl(t: &Target) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("cannot create a scratch folder")?;
    // Reference data built once, before the fork server starts, so that no input pays for it.
    let seeds = (t.seeds)();
    let _ = (t.read)(seeds.first().map_or(&[][..], |s| s.as_slice()), scratch.path());
    // No hook that aborts: readers that wrap a library's panic (tokenizers, burn's record loading)
    // still catch it, and only a panic that escapes the reader aborts.
    afl::fuzz_nohook!(|data: &[u8]| {
        let _ = (t.read)(data, scratch.path());
    });
    Ok(())
}

/// Feeds `t` mutated inputs until `args`' budget (inputs or seconds) is spent.
fn fuzz(t: &Target, args: &FuzzArgs) -> anyhow::Result<Report> {
    let scratch = tempfile::tempdir().context("cannot create a scratch folder")?;
    let seeds = (t.seeds)();
    let mut rng = TrainRng::seed_from_u64(args.seed);
    let mut report = Report::default();
    // Readers that build their reference data on first use do it here, untimed.
    let _ = std::panic::catch_unwind(|| (t.read)(&seeds[0], scratch.path()));
    report.peak_mib = peak_rss_mib();
    let deadline = args.seconds.map(|s| Instant::now() + Duration::from_secs_f64(s));
    // Each seed as given first, then mutations.
    let mut queue: Vec<Vec<u8>> = seeds.clone();
    while report.inputs < args.inputs && deadline.is_none_or(|d| Instant::now() < d) {
        let input = queue.pop().unwrap_or_else(|| mutate(&seeds, &mut rng));
        // An allocation failure aborts the process, which no handler catches: the input being read is
        // kept on disk until it passes, so that an abort leaves it behind.
        let current = args.crashes.join(format!("{}-current.bin", t.name));
        if input.len() <= 1 << 16 {
            std::fs::write(&current, &input).with_context(|| format!("{}: cannot write", current.display()))?;
        }
        let before = reset_peak();
        let began = Instant::now();
        let outcome = std::panic::catch_unwind(|| (t.read)(&input, scratch.path()));
        let took = began.elapsed();
        let peak = status_kib("VmHWM:");
        let growth = before.map_or(0.0, |b| (peak.unwrap_or(b).saturating_sub(b)) as f64 / 1024.0);
        // `f64::max` keeps the number where the other side is NaN (no /proc).
        report.peak_mib = report.peak_mib.max(peak.map_or(f64::NAN, |kb| kb as f64 / 1024.0));
        report.inputs += 1;
        report.max = report.max.max(took);
        report.max_growth_mib = report.max_growth_mib.max(growth);
        match outcome {
            Ok(Ok(true)) => report.accepted += 1,
            Ok(_) => {}
            Err(_) => {
                report.panics += 1;
                let path = save(&args.crashes, t.name, "panic", &input)?;
                let message =
                    std::mem::take(&mut *LAST_PANIC.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                let text = path.with_extension("txt");
                std::fs::write(&text, message + "\n").with_context(|| format!("{}: cannot write", text.display()))?;
            }
        }
        if took > SLOW {
            report.slow += 1;
            save(&args.crashes, t.name, "slow", &input)?;
        }
        if growth > args.rss_limit {
            report.memory += 1;
            save(&args.crashes, t.name, "memory", &input)?;
        }
    }
    let _ = std::fs::remove_file(args.crashes.join(format!("{}-current.bin", t.name)));
    Ok(report)
}

/// The message and place of the last panic (the hook's record of it), saved beside its input.
static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Saves an input that failed as `DIR/TARGET-KIND-HASH.bin`, returning that path.
fn save(dir: &Path, target: &str, kind: &str, input: &[u8]) -> anyhow::Result<PathBuf> {
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let path = dir.join(format!("{target}-{kind}-{hash:016x}.bin"));
    std::fs::write(&path, input).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(path)
}

/// Values that break readers: huge, negative, non-finite, zero.
const NASTY: &[&str] = &[
    "18446744073709551615",
    "4294967296",
    "2147483647",
    "-1",
    "0",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "null",
    "\"\"",
    "[]",
    "{}",
    "9999999999999999999999999999",
];

/// One mutation (or a few) of a seed.
pub fn mutate(seeds: &[Vec<u8>], rng: &mut TrainRng) -> Vec<u8> {
    let mut x = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..=3) {
        let n = x.len();
        match rng.random_range(0..9) {
            // Truncate.
            0 => x.truncate(rng.random_range(0..=n)),
            // Flip bits.
            1 if n > 0 => {
                for _ in 0..rng.random_range(1..=8) {
                    let i = rng.random_range(0..n);
                    x[i] ^= 1 << rng.random_range(0..8);
                }
            }
            // Insert random bytes.
            2 => {
                let at = rng.random_range(0..=n);
                let bytes: Vec<u8> = (0..rng.random_range(1..=16)).map(|_| rng.random()).collect();
                x.splice(at..at, bytes);
            }
            // Replace a number with a nasty value (text formats).
            3 => {
                let digits: Vec<usize> =
                    x.iter().enumerate().filter(|(_, b)| b.is_ascii_digit()).map(|(i, _)| i).collect();
                if let Some(&at) = digits.get(rng.random_range(0..digits.len().max(1))) {
                    let end = (at..n).find(|&i| !x[i].is_ascii_digit() && x[i] != b'.').unwrap_or(n);
                    let nasty = NASTY[rng.random_range(0..NASTY.len())].as_bytes().to_vec();
                    x.splice(at..end, nasty);
                }
            }
            // Overwrite 4 or 8 bytes with a huge length (binary formats' headers and counts).
            4 if n >= 8 => {
                let at = rng.random_range(0..n - 7);
                let v: u64 = [u64::MAX, 1 << 32, 1 << 40, u32::MAX as u64, 0x7fff_ffff][rng.random_range(0..5)];
                if rng.random() {
                    x[at..at + 8].copy_from_slice(&v.to_le_bytes());
                } else {
                    x[at..at + 4].copy_from_slice(&(v as u32).to_be_bytes());
                }
            }
            // Duplicate a span (duplicate keys, repeated records).
            5 if n > 1 => {
                let a = rng.random_range(0..n);
                let b = rng.random_range(a..n.min(a + 256) + 1).min(n);
                let span = x[a..b].to_vec();
                let at = rng.random_range(0..=n);
                x.splice(at..at, span);
            }
            // Deep nesting.
            6 => {
                let at = rng.random_range(0..=n);
                let depth = [64, 1_000, 100_000][rng.random_range(0..3)];
                let open = if rng.random() { b'[' } else { b'{' };
                x.splice(at..at, std::iter::repeat_n(open, depth));
            }
            // Splice with another seed.
            7 => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let cut = rng.random_range(0..=n);
                let from = rng.random_range(0..=other.len());
                x.truncate(cut);
                x.extend_from_slice(&other[from..]);
            }
            // Delete a span.
            _ if n > 0 => {
                let a = rng.random_range(0..n);
                let b = rng.random_range(a..=n.min(a + 64));
                x.drain(a..b);
            }
            _ => {}
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_is_accepted_by_its_reader() {
        let dir = tempfile::tempdir().unwrap();
        for t in TARGETS {
            let seeds = (t.seeds)();
            assert!(!seeds.is_empty(), "{}", t.name);
            for s in &seeds {
                let scratch = dir.path().join(t.name);
                std::fs::create_dir_all(&scratch).unwrap();
                assert!(matches!((t.read)(s, &scratch), Ok(true)), "{}: {:?}", t.name, (t.read)(s, &scratch).err());
            }
        }
    }

    #[test]
    fn mutations_are_reproducible_from_the_seed() {
        let seeds = run_log_seeds();
        let a: Vec<Vec<u8>> = (0..50).scan(TrainRng::seed_from_u64(7), |r, _| Some(mutate(&seeds, r))).collect();
        let b: Vec<Vec<u8>> = (0..50).scan(TrainRng::seed_from_u64(7), |r, _| Some(mutate(&seeds, r))).collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|x| !seeds.contains(x)));
    }
}
