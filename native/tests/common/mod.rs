//! What the end-to-end tests of the `era` binary share: running it, reading run logs, comparing
//! runs record by record, and killing a run once it has written a given checkpoint.
// Each test crate uses a subset.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use era_shared::runlog::{RUN_LOG_FILE, RunLog};

/// `era train control` options that make a run take seconds: tiny networks (and, for SAC,
/// [`TINY_SAC`]'s short warm-up).
pub const TINY_CONTROL: &[&str] =
    &["--hidden", "16,16", "--eval-episodes", "1", "--log-every", "100", "--backend", "ndarray", "--quiet"];

/// SAC's part of a tiny run: small batches, a short warm-up (PPO refuses these options).
pub const TINY_SAC: &[&str] = &["--batch-size", "16", "--learning-starts", "100"];

/// The arguments of `era train control` for a tiny run `name` under `out`, with `extra` options
/// (a PPO run when they hold `--algo ppo`, else SAC).
pub fn train_control_args<'a>(out: &'a Path, name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "control", "--out", out.to_str().unwrap(), "--run-name", name];
    args.extend_from_slice(TINY_CONTROL);
    if !extra.windows(2).any(|w| w == ["--algo", "ppo"]) {
        args.extend_from_slice(TINY_SAC);
    }
    args.extend_from_slice(extra);
    args
}

/// Runs `era` with `args` and no stdin.
pub fn era(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_era")).args(args).stdin(Stdio::null()).output().unwrap()
}

/// The stdout of a run that must have succeeded (its stderr is the failure message).
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Asserts that `out` is a refusal (exit status 2) whose message contains `needle`; `what` names the
/// case in a failure.
pub fn refused(out: &Output, needle: &str, what: impl std::fmt::Debug) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what:?}: {err}");
    assert!(err.contains(needle), "{what:?}: expected `{needle}` in {err}");
}

/// A run's settings: its `config.json` without the run's own name.
pub fn settings(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("run_name");
    v
}

/// The fields of `b`'s settings that differ from `a`'s, as dotted paths.
pub fn changed(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            let null = serde_json::Value::Null;
            keys.into_iter()
                .flat_map(|k| {
                    changed(x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null))
                        .into_iter()
                        .map(move |p| if p.is_empty() { k.clone() } else { format!("{k}.{p}") })
                })
                .collect()
        }
        _ if a == b => vec![],
        _ => vec![String::new()],
    }
}

/// The run log in `dir`.
pub fn log(dir: &Path) -> RunLog {
    let path = dir.join(RUN_LOG_FILE);
    RunLog::parse(&std::fs::read_to_string(&path).unwrap(), &path.display().to_string()).unwrap()
}

/// A record's step and metrics, without wall-clock ones.
pub type Comparable = (u64, Vec<(String, Option<f64>)>);

/// The records without wall-clock metrics (`perf/…`), for comparing runs.
pub fn records(log: &RunLog) -> Vec<Comparable> {
    log.records
        .iter()
        .map(|r| {
            let m = r.metrics.iter().filter(|(k, _)| !k.starts_with("perf/")).map(|(k, v)| (k.clone(), *v)).collect();
            (r.step, m)
        })
        .collect()
}

/// Starts `era args`, waits until `checkpoint_meta` exists, then kills it with SIGKILL.
pub fn kill_at_checkpoint<S: AsRef<std::ffi::OsStr>>(args: &[S], checkpoint_meta: &Path) {
    signal_at_checkpoint(args, checkpoint_meta, "KILL");
}

/// Starts `era ARGS` and returns it, still running, once `checkpoint_meta` exists.
pub fn spawn_until<S: AsRef<std::ffi::OsStr>>(args: &[S], checkpoint_meta: &Path) -> std::process::Child {
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_era")).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while !checkpoint_meta.exists() {
        assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint appeared");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

/// Starts `era ARGS`, sends it `signal` (`KILL`, `TERM`, `INT`, …) once `checkpoint_meta` exists, and
/// returns how it ended.
pub fn signal_at_checkpoint<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    checkpoint_meta: &Path,
    signal: &str,
) -> std::process::ExitStatus {
    let mut child = spawn_until(args, checkpoint_meta);
    let sent = Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().unwrap();
    assert!(sent.success(), "kill -s {signal}");
    child.wait().unwrap()
}

/// The frames of a GIF as RGBA, with its width and height.
pub fn gif_frames(path: &Path) -> (u16, u16, Vec<Vec<u8>>) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(std::fs::File::open(path).unwrap()).unwrap();
    let (w, h) = (decoder.width(), decoder.height());
    let mut frames = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!((frame.width, frame.height), (w, h), "every frame covers the picture");
        frames.push(frame.buffer.to_vec());
    }
    (w, h, frames)
}

/// An MP4 that `era … --video FILE.mp4` wrote: its track's width, height, duration in seconds and
/// number of samples, and its frames decoded back to RGB by OpenH264's decoder (the `avcC` box's
/// parameter sets first, every length-prefixed NAL unit given its Annex B start code).
#[cfg(feature = "mp4")]
pub fn mp4_frames(path: &Path) -> (u16, u16, f64, u32, Vec<Vec<u8>>) {
    let bytes = std::fs::read(path).unwrap();
    let len = bytes.len() as u64;
    let mut reader = mp4::Mp4Reader::read_header(std::io::Cursor::new(bytes), len).unwrap();
    assert_eq!(reader.tracks().len(), 1, "one video track");
    let track = reader.tracks().values().next().unwrap();
    assert_eq!(track.media_type().unwrap(), mp4::MediaType::H264);
    let (id, samples, w, h) = (track.track_id(), track.sample_count(), track.width(), track.height());
    let mdhd = &track.trak.mdia.mdhd;
    let seconds = mdhd.duration as f64 / f64::from(mdhd.timescale);
    let annex_b = |nal: &[u8]| [&[0, 0, 0, 1][..], nal].concat();
    let mut packet = annex_b(track.sequence_parameter_set().unwrap());
    packet.extend(annex_b(track.picture_parameter_set().unwrap()));
    let mut decoder = openh264::decoder::Decoder::new().unwrap();
    let mut frames = Vec::new();
    for i in 1..=samples {
        let sample = reader.read_sample(id, i).unwrap().unwrap();
        let mut rest = &sample.bytes[..];
        while rest.len() >= 4 {
            let n = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            packet.extend(annex_b(&rest[4..4 + n]));
            rest = &rest[4 + n..];
        }
        if let Some(yuv) = decoder.decode(&packet).unwrap() {
            let mut rgb = vec![0; usize::from(w) * usize::from(h) * 3];
            yuv.write_rgb8(&mut rgb);
            frames.push(rgb);
        }
        packet.clear();
    }
    (w, h, seconds, samples, frames)
}

/// How many of `frames` differ from the one before.
pub fn changes(frames: &[Vec<u8>]) -> usize {
    frames.windows(2).filter(|w| w[0] != w[1]).count()
}
