//! The one loop that drives a trainer of any domain from the command line: opens (or continues) its
//! run log, restores its checkpoint, advances it to the end of its budget while logging every record
//! with a throughput figure, checkpoints at the run's cadence, stops cleanly on Ctrl-C or a signal,
//! stops on a NaN or an infinity without checkpointing it, and writes the footer.
//!
//! Each domain says how it is shown (progress bar, `--quiet` lines, throughput) through [`Presented`].

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use era_shared::metrics;
use era_shared::runlog::{EraTargets, Header, RUN_LOG_FILE, Status};
use era_shared::train::{Logged, TrainError, Trainer};
use indicatif::ProgressBar;

use crate::backend::Compute;
use crate::checkpoint;
use crate::runs::{self, Start, stopping};
use crate::tensorboard;

/// The latest value of every metric a run has logged (NaN before the first).
#[derive(Debug, Default)]
pub struct Latest(HashMap<&'static str, f64>);

impl Latest {
    /// The latest value of `key`, or NaN if it was not logged yet.
    pub fn get(&self, key: &str) -> f64 {
        self.0.get(key).copied().unwrap_or(f64::NAN)
    }
}

/// How the command line shows a trainer of one domain.
pub trait Presented: Trainer {
    /// The throughput metric added to records ([`metrics::STEPS_PER_SEC`] and the like).
    const RATE: &'static str;
    /// The algorithm's name, written into every checkpoint's `meta.json`.
    fn algorithm(&self) -> String;
    /// What the progress bar's prefix names, e.g. `sac-era HalfCheetah-v5 seed 0`.
    fn title(&self) -> String;
    /// Whether [`Self::RATE`] is added to this record (e.g. only to those with update statistics).
    fn rate_on(&self, record: &Logged) -> bool;
    /// The units [`Self::RATE`] counts done by position `step` (environment steps, images, tokens).
    fn units(&self, step: u64) -> u64;
    /// The progress bar's message.
    fn progress(&self, latest: &Latest) -> String;
    /// The line `--quiet` prints for this record, if any (evaluations).
    fn quiet_line(&self, record: &Logged, latest: &Latest) -> Option<String>;
}

/// How runs are shown besides their own folders.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    /// `--quiet`: no progress bars, a line per evaluation or epoch.
    pub quiet: bool,
    /// `--tensorboard DIR`: event files written as the run trains.
    pub tensorboard: Option<std::path::PathBuf>,
}

/// One run as the loop drives it.
pub struct Run<'a> {
    /// The run directory.
    pub dir: &'a Path,
    /// Fresh, or continued from a checkpoint.
    pub start: Start,
    /// Checkpoint cadence in positions.
    pub every: u64,
    /// The backend, for the progress bar.
    pub compute: Compute,
    /// Its progress bar (hidden with `--quiet`).
    pub bar: &'a ProgressBar,
    /// Progress lines and TensorBoard.
    pub shown: &'a Shown,
}

/// Trains `trainer` to the end of its budget (or a stop), writing the run's log and checkpoints.
/// `header` builds a fresh log's header from the trainer's ERA targets.
pub fn drive<T: Presented>(
    trainer: &mut T,
    run: Run<'_>,
    header: impl FnOnce(EraTargets) -> anyhow::Result<Header>,
) -> anyhow::Result<()> {
    let shown = run.dir.join(RUN_LOG_FILE).display().to_string();
    let era = trainer.era_targets();
    let runs::OpenLog { mut writer, wall_s: wall0, checkpoint: ckpt, header } =
        runs::open_log(run.dir, run.start, || header(era))?;
    let resumed = ckpt.as_ref().map(|c| (c.meta.step, c.meta.wall_s));
    let mut events = match &run.shown.tensorboard {
        Some(dir) => Some(tensorboard::EventWriter::for_run(dir, &header, resumed)?),
        None => None,
    };
    let t0 = tensorboard::started_at(&header);
    if let Some(ckpt) = ckpt {
        trainer.load(&ckpt.parts).with_context(|| ckpt.dir.display().to_string())?;
    }
    let bar = run.bar;
    runs::start_bar(bar, format!("{} ({})", trainer.title(), run.compute), trainer.position(), trainer.total());
    let start = Instant::now();
    let wall = || wall0 + start.elapsed().as_secs_f64();
    let mut window = (Instant::now(), trainer.units(trainer.position()));
    let every = run.every.max(1);
    let mut next_checkpoint = era_shared::train::schedule::next_due(0, trainer.position(), every);
    let mut latest = Latest::default();
    let result: anyhow::Result<()> = (|| {
        while !trainer.is_done() && !stopping() {
            let logged = pollster::block_on(trainer.advance())?;
            let wrote = !logged.is_empty();
            // Before the `--quiet` lines, so that their ETA counts the steps just made (on a run of a
            // few slow steps the bar would otherwise still stand at 0 and give an ETA of thousands of hours).
            bar.set_position(trainer.position());
            for mut l in logged {
                if trainer.rate_on(&l) {
                    let (t, done) = window;
                    let now = trainer.units(l.step);
                    let rate = now.saturating_sub(done) as f64 / t.elapsed().as_secs_f64().max(1e-9);
                    l.metrics.push((T::RATE, rate));
                    window = (Instant::now(), now);
                }
                latest.0.extend(l.metrics.iter().copied());
                let wall_s = wall();
                writer.record(l.step, wall_s, &l.metrics).with_context(|| format!("{shown}: cannot write"))?;
                if let Some(events) = &mut events {
                    let values = l.metrics.iter().map(|&(k, v)| (k, Some(v).filter(|v| v.is_finite())));
                    events.scalars(l.step, t0 + wall_s, values)?;
                }
                if let Some(&(key, value)) = l.metrics.iter().find(|&&(k, v)| metrics::diverged(k, v)) {
                    return Err(TrainError::Diverged(format!(
                        "{key} is {value} at step {} (likely a learning rate too high for these settings, \
                         or an environment whose state blew up)",
                        l.step
                    ))
                    .into());
                }
                if run.shown.quiet
                    && let Some(line) = trainer.quiet_line(&l, &latest)
                {
                    eprintln!("era: {line} · {}", runs::timing(bar));
                }
            }
            if wrote && let Some(events) = &mut events {
                events.flush()?;
            }
            bar.set_message(trainer.progress(&latest));
            let position = trainer.position();
            if position >= next_checkpoint || trainer.at_milestone() || trainer.is_done() || stopping() {
                let parts = trainer.save()?;
                if let Some(what) = era_shared::train::records::non_finite(&parts) {
                    return Err(TrainError::Diverged(format!(
                        "{what} is not finite at step {position}; its checkpoint was not written"
                    ))
                    .into());
                }
                checkpoint::write(run.dir, position, wall(), &trainer.algorithm(), &parts)?;
                next_checkpoint = era_shared::train::schedule::next_due(next_checkpoint, position, every);
            }
        }
        Ok(())
    })();
    let (status, reason) = ending(&result, trainer.is_done());
    let footer = writer.finish_because(status, reason, wall());
    bar.finish();
    let result = result.with_context(|| trainer.title());
    match (result, footer) {
        (result, Ok(_)) => result,
        // The run's own error comes first: it is usually why the footer could not be written either.
        (Err(e), Err(f)) => Err(anyhow::anyhow!("{e:#}; {shown}: the footer could not be written either: {f}")),
        (Ok(()), Err(f)) => Err(f).with_context(|| format!("{shown}: cannot write the footer")),
    }
}

/// The footer's status and reason for a run that returned `result` and is `done` or not.
fn ending(result: &anyhow::Result<()>, done: bool) -> (Status, Option<String>) {
    match result {
        Err(e) => match e.downcast_ref::<TrainError>() {
            Some(TrainError::Diverged(why)) => (Status::Diverged, Some(why.clone())),
            _ => (Status::Failed, Some(format!("{e:#}"))),
        },
        Ok(()) if done => (Status::Completed, None),
        Ok(()) => (Status::Stopped, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use era_shared::runlog::{Domain, RunLog, StepUnit};
    use era_shared::train::Part;

    /// Counts to `total`; logs `losses/critic` every step (NaN from `nan_loss_at` on), and its one
    /// weight turns NaN at `nan_weight_at`.
    struct Counter {
        step: u64,
        total: u64,
        nan_loss_at: u64,
        nan_weight_at: u64,
    }

    impl Trainer for Counter {
        async fn advance(&mut self) -> Result<Vec<Logged>, TrainError> {
            self.step += 1;
            let loss = if self.step >= self.nan_loss_at { f64::NAN } else { 1.0 };
            Ok(vec![Logged { step: self.step, metrics: vec![(metrics::CRITIC_LOSS, loss)] }])
        }
        fn position(&self) -> u64 {
            self.step
        }
        fn total(&self) -> u64 {
            self.total
        }
        fn save(&self) -> Result<Vec<Part>, TrainError> {
            let w = if self.step >= self.nan_weight_at { f32::NAN } else { self.step as f32 };
            let bytes = w.to_le_bytes();
            let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &bytes).unwrap();
            let file = safetensors::serialize([("w", view)], None).unwrap();
            Ok(vec![("nets.safetensors".into(), file), ("loop.json".into(), self.step.to_string().into_bytes())])
        }
        fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
            self.step = String::from_utf8_lossy(&parts[1].1).parse().unwrap();
            Ok(())
        }
        fn era_targets(&self) -> EraTargets {
            EraTargets::default()
        }
    }

    impl Presented for Counter {
        const RATE: &'static str = metrics::STEPS_PER_SEC;
        fn algorithm(&self) -> String {
            "counter".into()
        }
        fn title(&self) -> String {
            "counter".into()
        }
        fn rate_on(&self, _record: &Logged) -> bool {
            true
        }
        fn units(&self, step: u64) -> u64 {
            step
        }
        fn progress(&self, _latest: &Latest) -> String {
            String::new()
        }
        fn quiet_line(&self, _record: &Logged, _latest: &Latest) -> Option<String> {
            None
        }
    }

    fn drive_counter(dir: &Path, counter: &mut Counter, start: Start) -> anyhow::Result<()> {
        let bar = ProgressBar::hidden();
        let shown = Shown { quiet: true, tensorboard: None };
        let run = Run { dir, start, every: 2, compute: Compute::Ndarray, bar: &bar, shown: &shown };
        drive(counter, run, |era| {
            Ok(Header::new(
                Domain::Control,
                "counter",
                "count",
                "c",
                0,
                StepUnit::EnvSteps,
                era,
                serde_json::json!({}),
                "now",
            ))
        })
    }

    fn log(dir: &Path) -> RunLog {
        RunLog::parse(&std::fs::read_to_string(dir.join(RUN_LOG_FILE)).unwrap(), "run.jsonl").unwrap()
    }

    #[test]
    fn a_nan_loss_stops_the_run_as_diverged_without_a_checkpoint_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Counter { step: 0, total: 10, nan_loss_at: 5, nan_weight_at: u64::MAX };
        let err = drive_counter(dir.path(), &mut c, Start::Fresh).unwrap_err();
        assert!(format!("{err:#}").contains("losses/critic is NaN at step 5"), "{err:#}");
        let footer = log(dir.path()).footer.unwrap();
        assert_eq!(footer.status, Status::Diverged);
        assert!(footer.reason.unwrap().contains("losses/critic"));
        // The record that diverged is in the log; the checkpoints stop before it.
        assert_eq!(footer.final_step, 5);
        assert_eq!(footer.non_finite.get(metrics::CRITIC_LOSS), Some(&1));
        assert_eq!(checkpoint::steps(dir.path()), vec![2, 4]);
    }

    #[test]
    fn a_checkpoint_with_a_non_finite_weight_is_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Counter { step: 0, total: 10, nan_loss_at: u64::MAX, nan_weight_at: 3 };
        let err = drive_counter(dir.path(), &mut c, Start::Fresh).unwrap_err();
        assert!(format!("{err:#}").contains("nets.safetensors: tensor `w` is not finite at step 4"), "{err:#}");
        assert_eq!(log(dir.path()).footer.unwrap().status, Status::Diverged);
        assert_eq!(checkpoint::steps(dir.path()), vec![2]);
        // Resuming from the last good checkpoint with the cause removed completes the run.
        let mut fixed = Counter { step: 0, total: 10, nan_loss_at: u64::MAX, nan_weight_at: u64::MAX };
        drive_counter(dir.path(), &mut fixed, Start::Resume { from_step: Some(2) }).unwrap();
        let l = log(dir.path());
        assert_eq!(l.footer.unwrap().status, Status::Completed);
        assert_eq!(l.records.iter().map(|r| r.step).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    }
}
