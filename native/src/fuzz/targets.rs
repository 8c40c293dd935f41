//! The readers `era fuzz` feeds, each with the valid inputs its mutations start from.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;
use era_shared::runlog::{Domain, EraTargets, Header, RunLog, RunLogWriter, Status, StepUnit};
use era_shared::train::Trainer;

use super::Target;
use crate::cli::{ActivationCommand, Cli, Command};

/// Every target, in the report's order.
pub(super) const TARGETS: &[Target] = &[
    Target { name: "run-log", seeds: run_log_seeds, read: read_run_log },
    Target { name: "config-json", seeds: config_json_seeds, read: read_config_json },
    Target { name: "config-toml", seeds: config_toml_seeds, read: read_config_toml },
    Target { name: "checkpoint-meta", seeds: checkpoint_meta_seeds, read: read_checkpoint_meta },
    Target { name: "checkpoint-parts", seeds: checkpoint_parts_seeds, read: read_checkpoint_parts },
    Target { name: "idx", seeds: idx_seeds, read: read_idx },
    Target { name: "idx-gz", seeds: idx_gz_seeds, read: read_idx_gz },
    Target { name: "cifar", seeds: cifar_seeds, read: read_cifar },
    Target { name: "image-folder", seeds: image_seeds, read: read_image_folder },
    Target { name: "hf-config", seeds: hf_config_seeds, read: read_hf_config },
    Target { name: "safetensors", seeds: safetensors_seeds, read: read_safetensors },
    Target { name: "safetensors-index", seeds: index_seeds, read: read_index },
    Target { name: "tokenizer", seeds: tokenizer_seeds, read: read_tokenizer },
    Target { name: "activation-json", seeds: activation_seeds, read: read_activation },
    Target { name: "problems-jsonl", seeds: problems_jsonl_seeds, read: read_problems_jsonl },
    Target { name: "problems-parquet", seeds: problems_parquet_seeds, read: read_problems_parquet },
];

/// `bytes` as text, or an error (the readers below take text).
fn text(bytes: &[u8]) -> anyhow::Result<&str> {
    std::str::from_utf8(bytes).context("not UTF-8")
}

/// Writes `bytes` to `dir/name` and returns the path.
fn put(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path)
}

pub(super) fn run_log_seeds() -> Vec<Vec<u8>> {
    let header = Header::new(
        Domain::Control,
        "sac-era",
        "Pendulum-v1",
        "seed",
        0,
        StepUnit::EnvSteps,
        EraTargets { enabled: true, ..EraTargets::default() },
        serde_json::json!({"lr": 3e-4}),
        "2026-01-01T00:00:00Z",
    );
    let mut w = RunLogWriter::new(Vec::new(), &header).unwrap_or_else(|_| unreachable!("writing to memory"));
    for step in [100u64, 200, 300] {
        let _ =
            w.record(step, step as f64 / 100.0, &[("charts/episodic_return", -1200.0), ("losses/critic", f64::NAN)]);
    }
    let stopped = w.finish(Status::Stopped, 3.0).unwrap_or_default();
    let mut resumed = stopped.clone();
    resumed.extend_from_slice(
        br#"{"type":"resume","step":200,"wall_s":2.0,"checkpoint":"checkpoints/step-000000000200"}"#,
    );
    resumed.push(b'\n');
    vec![stopped, resumed]
}

fn read_run_log(bytes: &[u8], _: &Path) -> anyhow::Result<bool> {
    let log = RunLog::parse_bytes(bytes, "run.jsonl")?;
    // What the replay and `era compare` compute from a log.
    let _ = (log.status_label(), log.header.task(), log.second_half_mean("charts/episodic_return"));
    Ok(true)
}

fn config_json_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for args in [
        &["era", "train", "control", "--env", "Pendulum-v1"][..],
        &["era", "train", "control", "--env", "Pendulum-v1", "--algo", "ppo"],
    ] {
        if let Ok(Cli { command: Command::Train(crate::cli::TrainCommand::Control(a)), .. }) = Cli::try_parse_from(args)
        {
            let config = crate::control::train::RunConfig {
                control: match crate::control::train::control_config(&a, None, 0) {
                    Ok(c) => c,
                    Err(_) => continue,
                },
                checkpoint_every: 1000,
                backend: crate::backend::BackendChoice::Ndarray,
                run_name: "r".into(),
            };
            out.push(serde_json::to_vec_pretty(&config).unwrap_or_default());
        }
    }
    out
}

fn read_config_json(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    put(dir, era_shared::runlog::CONFIG_FILE, bytes)?;
    let config: crate::control::train::RunConfig = crate::runs::read_config(dir, "era control")?;
    // A config that reads must also pass the checks a trainer makes before it allocates anything.
    config.control.check()?;
    Ok(true)
}

fn config_toml_seeds() -> Vec<Vec<u8>> {
    vec![
        b"h0 = 0.5\ndelta = 0.1\nlog-std-min = -8\n".to_vec(),
        b"env = \"Pendulum-v1\"\nsteps = 1000\nhidden = \"16,16\"\nquiet = true\n".to_vec(),
    ]
}

fn read_config_toml(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    let path = put(dir, "era.toml", bytes)?;
    let path = path.to_string_lossy().to_string();
    // Accepted when one of the commands takes it.
    let mut any = false;
    for sub in [&["activation", "gaussian"][..], &["train", "control"]] {
        let mut args: Vec<std::ffi::OsString> = vec!["era".into()];
        args.extend(sub.iter().map(Into::into));
        args.extend(["--config".into(), path.clone().into()]);
        let command = crate::cli::command();
        if let Ok(args) = crate::config::expand(args, &command) {
            any |= command.try_get_matches_from(&args).is_ok();
        }
    }
    Ok(any)
}

fn checkpoint_meta_seeds() -> Vec<Vec<u8>> {
    let meta = crate::checkpoint::Meta {
        format: crate::checkpoint::FORMAT.into(),
        version: crate::checkpoint::VERSION,
        step: 200,
        wall_s: 1.5,
        algorithm: "sac-era".into(),
        parts: vec!["loop.json".into()],
    };
    vec![serde_json::to_vec_pretty(&meta).unwrap_or_default()]
}

fn read_checkpoint_meta(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    put(dir, "meta.json", bytes)?;
    put(dir, "loop.json", b"{}")?;
    crate::checkpoint::read(dir)?;
    Ok(true)
}

/// A tiny SAC-ERA trainer's checkpoint parts after a few hundred steps, each as one seed
/// (`name\0bytes`), so that mutations hit one part at a time.
fn checkpoint_parts_seeds() -> Vec<Vec<u8>> {
    // Trained once per process: the seeds and the reader's good parts are the same checkpoint.
    static PARTS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    PARTS
        .get_or_init(|| {
            let parts = trained_parts(300);
            if parts.is_empty() {
                return vec![b"loop.json\0{}".to_vec()];
            }
            parts.into_iter().map(|(name, bytes)| [name.as_bytes(), b"\0", &bytes].concat()).collect()
        })
        .clone()
}

/// A tiny SAC-ERA trainer's checkpoint parts after `steps` steps, the same bytes in every process.
fn trained_parts(steps: u64) -> Vec<era_shared::train::Part> {
    let Ok(mut t) = tiny_trainer() else { return Vec::new() };
    while t.step() < steps {
        if pollster::block_on(t.advance()).is_err() {
            break;
        }
    }
    numbered_ids(t.save().unwrap_or_default())
}

/// `parts` with burn's parameter ids, which burn draws at random, replaced by the ids of 1, 2, 3, … in
/// the order they first appear in `nets.mpk`, and every record's maps in key order (burn writes an
/// optimiser's states in a hash map's order). The trained weights are the same in every process
/// (seeded); with this, every process fuzzes from the same bytes, so a saved input replays in another
/// process as it was read (an optimiser state meets its parameter only if their ids match).
fn numbered_ids(parts: Vec<era_shared::train::Part>) -> Vec<era_shared::train::Part> {
    fn ids(v: &rmpv::Value, out: &mut Vec<String>) {
        match v {
            rmpv::Value::Map(entries) => {
                for (k, v) in entries {
                    if k.as_str() == Some("id")
                        && let Some(id) = v.as_str()
                        && !out.iter().any(|o| o == id)
                    {
                        out.push(id.to_string());
                    }
                    ids(v, out);
                }
            }
            rmpv::Value::Array(items) => items.iter().for_each(|v| ids(v, out)),
            _ => {}
        }
    }
    fn canonical(v: &mut rmpv::Value, renames: &[(String, String)]) {
        match v {
            rmpv::Value::String(s) => {
                if let Some((_, new)) = renames.iter().find(|(old, _)| s.as_str() == Some(old.as_str())) {
                    *v = rmpv::Value::from(new.as_str());
                }
            }
            rmpv::Value::Map(entries) => {
                for (k, v) in entries.iter_mut() {
                    canonical(k, renames);
                    canonical(v, renames);
                }
                entries.sort_by(|(a, _), (b, _)| a.as_str().cmp(&b.as_str()));
            }
            rmpv::Value::Array(items) => items.iter_mut().for_each(|v| canonical(v, renames)),
            _ => {}
        }
    }
    // Each record decoded once: the ids are read from `nets.mpk`'s, then every one is rewritten.
    let records: Vec<Option<rmpv::Value>> = parts
        .iter()
        .map(|(name, bytes)| name.ends_with(".mpk").then(|| rmpv::decode::read_value(&mut &bytes[..]).ok()).flatten())
        .collect();
    let Some(nets) = parts.iter().zip(&records).find(|((n, _), _)| n == "nets.mpk").and_then(|(_, v)| v.as_ref())
    else {
        return parts;
    };
    let mut found = Vec::new();
    ids(nets, &mut found);
    let renames: Vec<(String, String)> =
        found.into_iter().zip(1u64..).map(|(old, k)| (old, burn::module::ParamId::from(k).serialize())).collect();
    parts
        .into_iter()
        .zip(records)
        .map(|((name, bytes), record)| {
            let Some(mut v) = record else { return (name, bytes) };
            canonical(&mut v, &renames);
            let mut out = Vec::with_capacity(bytes.len());
            match rmpv::encode::write_value(&mut out, &v) {
                Ok(()) => (name, out),
                Err(_) => (name, bytes),
            }
        })
        .collect()
}

fn tiny_trainer() -> anyhow::Result<era_shared::control::ControlTrainer<crate::backend::Cpu>> {
    let args = ["era", "train", "control", "--env", "Pendulum-v1", "--hidden", "8,8", "--learning-starts", "100"];
    let Cli { command: Command::Train(crate::cli::TrainCommand::Control(a)), .. } = Cli::try_parse_from(args)? else {
        bail!("not a train command")
    };
    let mut c = crate::control::train::control_config(&a, None, 0)?;
    c.total_steps = 1000;
    Ok(era_shared::control::ControlTrainer::new(c, &Default::default())?)
}

fn read_checkpoint_parts(bytes: &[u8], _: &Path) -> anyhow::Result<bool> {
    thread_local! {
        static GOOD: Vec<era_shared::train::Part> = checkpoint_parts_seeds()
            .into_iter()
            .filter_map(|s| split_part(&s))
            .collect();
    }
    let Some((name, data)) = split_part(bytes) else { bail!("no part name") };
    // The mutated part among the good other parts, loaded as `--resume` loads them.
    let mut parts: Vec<era_shared::train::Part> = GOOD.with(Clone::clone);
    match parts.iter_mut().find(|(n, _)| *n == name) {
        Some(p) => p.1 = data,
        None => parts.push((name, data)),
    }
    let _ = era_shared::train::records::non_finite(&parts);
    // As `--resume` reads a checkpoint (the trainer checks its records before burn reads them).
    let mut t = tiny_trainer()?;
    t.load(&parts)?;
    // And trains on, as a resumed run does: a loaded state that does not fit must be refused, not
    // found out by a panic in the next update.
    if !t.is_done() {
        pollster::block_on(t.advance())?;
    }
    Ok(true)
}

fn split_part(bytes: &[u8]) -> Option<era_shared::train::Part> {
    let at = bytes.iter().position(|&b| b == 0)?;
    Some((String::from_utf8(bytes[..at].to_vec()).ok()?, bytes[at + 1..].to_vec()))
}

/// IDX images and labels as one input: `u32 LE length of the image file`, images, labels.
fn idx_seeds() -> Vec<Vec<u8>> {
    let (n, h, w) = (3u32, 4u32, 4u32);
    let mut images = vec![0, 0, 8, 3];
    for v in [n, h, w] {
        images.extend_from_slice(&v.to_be_bytes());
    }
    images.extend((0..n * h * w).map(|i| i as u8));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&n.to_be_bytes());
    labels.extend([0u8, 1, 2]);
    vec![[&(images.len() as u32).to_le_bytes()[..], &images, &labels].concat()]
}

fn split_idx(bytes: &[u8]) -> anyhow::Result<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(bytes.get(..4).context("short")?.try_into()?) as usize;
    let rest = &bytes[4..];
    anyhow::ensure!(len <= rest.len(), "length past the end");
    Ok(rest.split_at(len))
}

fn read_idx(bytes: &[u8], _: &Path) -> anyhow::Result<bool> {
    let (images, labels) = split_idx(bytes)?;
    let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    era_shared::data::idx::parse(images, labels, Path::new("images"), Path::new("labels"), names)?;
    Ok(true)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

fn idx_gz_seeds() -> Vec<Vec<u8>> {
    idx_seeds()
        .iter()
        .filter_map(|s| {
            let (images, labels) = split_idx(s).ok()?;
            let gz = gzip(images);
            Some([&(gz.len() as u32).to_le_bytes()[..], &gz, &gzip(labels)].concat())
        })
        .collect()
}

/// IDX files gzipped on disk, read as `era train vision --data DIR` reads MNIST.
fn read_idx_gz(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    let (images, labels) = split_idx(bytes)?;
    put(dir, "train-images-idx3-ubyte.gz", images)?;
    put(dir, "train-labels-idx1-ubyte.gz", labels)?;
    era_shared::data::idx::load(dir, era_shared::data::Split::Train, false)?;
    Ok(true)
}

fn cifar_seeds() -> Vec<Vec<u8>> {
    let mut file = Vec::new();
    for label in [0u8, 3, 9] {
        file.push(label);
        file.extend((0..3072).map(|i| (i % 251) as u8));
    }
    vec![file]
}

fn read_cifar(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    let sub = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&sub)?;
    put(&sub, "test_batch.bin", bytes)?;
    era_shared::data::cifar::load(dir, era_shared::data::Split::Test, false)?;
    Ok(true)
}

fn image_seeds() -> Vec<Vec<u8>> {
    let img = image::RgbImage::from_fn(6, 5, |x, y| image::Rgb([x as u8 * 40, y as u8 * 50, 7]));
    let mut png = std::io::Cursor::new(Vec::new());
    let _ = img.write_to(&mut png, image::ImageFormat::Png);
    vec![png.into_inner()]
}

/// One class folder with a good image and the input as a second one.
fn read_image_folder(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    thread_local! { static GOOD: Vec<u8> = image_seeds().remove(0); }
    let cat = dir.join("test").join("cat");
    std::fs::create_dir_all(&cat)?;
    GOOD.with(|g| put(&cat, "a.png", g))?;
    put(&cat, "b.png", bytes)?;
    era_shared::data::folder::load(dir, era_shared::data::Split::Test, 8)?;
    Ok(true)
}

fn hf_config_seeds() -> Vec<Vec<u8>> {
    let (config, _) = era_shared::llm::source::tiny_model();
    vec![serde_json::to_vec_pretty(&config).unwrap_or_default()]
}

fn read_hf_config(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    put(dir, "config.json", bytes)?;
    let config = era_shared::llm::qwen2::Qwen2Config::from_dir(dir)?;
    let _ = config.tensors();
    Ok(true)
}

/// The weight readers' architecture: the tiny model's, one layer of width 8. Every tensor kind and
/// header field is there, in a few kilobytes instead of the tiny model's 4 MB, so that a mutation hits
/// the header and the tensors' bounds as often as the data, and a million inputs take minutes.
fn micro_model() -> era_shared::llm::qwen2::Qwen2Config {
    let (tiny, _) = era_shared::llm::source::tiny_model();
    era_shared::llm::qwen2::Qwen2Config {
        hidden_size: 8,
        intermediate_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        num_key_value_heads: 1,
        max_position_embeddings: 16,
        ..tiny
    }
}

/// The micro model's weights written as a checkpoint directory would hold them: `model.safetensors`
/// in `dtype` (`shards` = 1) or `shards` files and their index; the files by name.
fn micro_checkpoint(dtype: safetensors::Dtype, shards: usize) -> Vec<(String, Vec<u8>)> {
    let config = micro_model();
    let weights = era_shared::llm::qwen2::random_weights(&config, 0);
    let Ok(dir) = tempfile::tempdir() else { return Vec::new() };
    let (_, tokenizer) = era_shared::llm::source::tiny_model();
    if era_shared::llm::hf_weights::write_dir(dir.path(), &config, &weights, &tokenizer.to_json(), dtype, shards)
        .is_err()
    {
        return Vec::new();
    }
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let keep = name.ends_with(".safetensors") || name.ends_with(".index.json");
            keep.then(|| std::fs::read(e.path()).ok().map(|b| (name, b))).flatten()
        })
        .collect();
    files.sort();
    files
}

/// `model.safetensors` of the micro model, in f32 and in bf16.
fn safetensors_seeds() -> Vec<Vec<u8>> {
    [safetensors::Dtype::F32, safetensors::Dtype::BF16]
        .into_iter()
        .flat_map(|dtype| micro_checkpoint(dtype, 1))
        .map(|(_, bytes)| bytes)
        .collect()
}

fn read_safetensors(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    put(dir, "model.safetensors", bytes)?;
    let _ = std::fs::remove_file(dir.join("model.safetensors.index.json"));
    era_shared::llm::hf_weights::Weights::from_dir(dir, &micro_model())?;
    Ok(true)
}

/// The micro model in two shards: its index is the seed, the shards are what the reader finds beside it.
fn sharded() -> &'static [(String, Vec<u8>)] {
    static FILES: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| micro_checkpoint(safetensors::Dtype::F32, 2))
}

fn index_seeds() -> Vec<Vec<u8>> {
    sharded().iter().filter(|(name, _)| name.ends_with(".index.json")).map(|(_, b)| b.clone()).collect()
}

/// A shard index over two valid shards.
fn read_index(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    let _ = std::fs::remove_file(dir.join("model.safetensors"));
    for (name, shard) in sharded().iter().filter(|(name, _)| name.ends_with(".safetensors")) {
        if !dir.join(name).exists() {
            put(dir, name, shard)?;
        }
    }
    put(dir, "model.safetensors.index.json", bytes)?;
    era_shared::llm::hf_weights::Weights::from_dir(dir, &micro_model())?;
    Ok(true)
}

fn tokenizer_seeds() -> Vec<Vec<u8>> {
    let (_, tokenizer) = era_shared::llm::source::tiny_model();
    vec![tokenizer.to_json().into_bytes()]
}

fn read_tokenizer(bytes: &[u8], _: &Path) -> anyhow::Result<bool> {
    let t = era_shared::llm::tokenizer::LlmTokenizer::from_json(text(bytes)?, "tokenizer.json", None)?;
    let ids = t.encode("12+34=").map_err(anyhow::Error::msg)?;
    let _ = t.decode(&ids);
    Ok(true)
}

fn problems_jsonl_seeds() -> Vec<Vec<u8>> {
    vec![
        b"{\"prompt\": \"What is 2 + 3?\", \"answer\": \"#### 5\"}\n{\"prompt\": \"7 - 1?\", \"answer\": 6}\n".to_vec(),
    ]
}

fn read_problems_jsonl(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    read_problems(&put(dir, "problems.jsonl", bytes)?)
}

/// The Parquet file pyarrow wrote for the reader's tests (scripts/parquet_fixture.py), read from
/// the checkout era was built in; none elsewhere. (Its Zstandard twin is refused, so no seed.)
fn problems_parquet_seeds() -> Vec<Vec<u8>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tests/data/problems.parquet");
    std::fs::read(data).into_iter().collect()
}

fn read_problems_parquet(bytes: &[u8], dir: &Path) -> anyhow::Result<bool> {
    read_problems(&put(dir, "problems.parquet", bytes)?)
}

fn read_problems(path: &Path) -> anyhow::Result<bool> {
    let fields = era_shared::llm::prompts::Fields { prompt: "prompt", answer: "answer" };
    let alt = era_shared::llm::prompts::Fields { prompt: "question", answer: "answer" };
    let (rows, _) =
        era_shared::llm::prompts::read(path, &fields).or_else(|_| era_shared::llm::prompts::read(path, &alt))?;
    Ok(!rows.is_empty())
}

fn activation_seeds() -> Vec<Vec<u8>> {
    vec![
        br#"{"raw": [[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]}"#.to_vec(),
        br#"{"logits": [[6, 1, 0.5, -2]]}"#.to_vec(),
        br#"{"token_entropy": [0.5, 0.2], "advantage": 1.0, "logits": [[3.0, 1.0, 0.2], [1, 2, 3]]}"#.to_vec(),
    ]
}

/// The input on stdin of each of `era activation gaussian`, `softmax` and `llm`.
fn read_activation(bytes: &[u8], _: &Path) -> anyhow::Result<bool> {
    let input = text(bytes)?;
    let mut any = false;
    for args in [
        &["era", "activation", "gaussian", "--h0", "0.5"][..],
        &["era", "activation", "softmax", "--h0", "0.6"],
        &["era", "activation", "llm"],
    ] {
        let Cli { command: Command::Activation(cmd), .. } = Cli::try_parse_from(args)? else { bail!("not activation") };
        any |= match cmd {
            ActivationCommand::Gaussian(a) => crate::activation::gaussian(&a, input).is_ok(),
            ActivationCommand::Softmax(a) => crate::activation::softmax(&a, input).is_ok(),
            ActivationCommand::Llm(a) => crate::activation::llm(&a, input).is_ok(),
        };
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_trained_twice_is_the_same_bytes_once_its_parameter_ids_are_numbered() {
        // Burn's backends draw initial weights from one generator per process, so trainers built on
        // the test harness's concurrent threads may differ in their values: compared here are the
        // records without their tensors' bytes (the ids and the order of every map).
        fn structure(parts: &[era_shared::train::Part]) -> Vec<(String, Vec<u8>)> {
            fn blank(v: &mut rmpv::Value) {
                match v {
                    rmpv::Value::Binary(b) => b.clear(),
                    rmpv::Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| blank(v)),
                    rmpv::Value::Array(items) => items.iter_mut().for_each(blank),
                    _ => {}
                }
            }
            parts
                .iter()
                .filter(|(n, _)| n.ends_with(".mpk"))
                .map(|(n, b)| {
                    let mut v = rmpv::decode::read_value(&mut &b[..]).unwrap();
                    blank(&mut v);
                    let mut out = Vec::new();
                    rmpv::encode::write_value(&mut out, &v).unwrap();
                    (n.clone(), out)
                })
                .collect()
        }
        let (a, b) = (trained_parts(110), trained_parts(110));
        let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"nets.mpk") && names.contains(&"optim-critic.mpk"), "{names:?}");
        assert_eq!(structure(&a), structure(&b));
        // The first id of `nets.mpk` is now 1's, and the critic's optimiser state is keyed by the same ids.
        let one = burn::module::ParamId::from(1).serialize();
        let has =
            |name: &str, id: &str| a.iter().any(|(n, b)| n == name && b.windows(id.len()).any(|w| w == id.as_bytes()));
        assert!(has("nets.mpk", &one));
        let critic_ids = (1..=64u64).map(|k| burn::module::ParamId::from(k).serialize());
        assert!(critic_ids.into_iter().any(|id| has("optim-critic.mpk", &id)));
    }

    /// Inputs the fuzzer found that each made the first update after resuming panic inside burn: in
    /// `nets.mpk`, a parameter given the id of one of another shape (its optimiser state then meets
    /// the wrong parameter); in `optim-actor.mpk`, a state whose key (the parameter's id) had a bit
    /// flipped onto a parameter of another shape or rank. Each is now refused with the part named.
    #[test]
    fn every_checkpoint_input_that_once_panicked_is_refused() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
        for (file, says) in [
            (
                "checkpoint-parts-nets-id-of-another-rank.bin",
                "nets.mpk: parameter id `1s00000000000` is given to tensors of shapes [8, 1] and [8]",
            ),
            (
                "checkpoint-parts-nets-id-out-of-bounds.bin",
                "nets.mpk: parameter id `0s00000000000` is given to tensors of shapes [4, 8] and [8]",
            ),
            (
                "checkpoint-parts-optim-state-of-another-shape.bin",
                "optim-actor.mpk: the optimiser state of parameter `0o00000000000` holds a tensor of shape [8], the parameter [2]",
            ),
            (
                "checkpoint-parts-optim-state-of-another-rank.bin",
                "optim-actor.mpk: the optimiser state of parameter `0o00000000000` is of rank 2, the parameter of rank 1",
            ),
        ] {
            let input = std::fs::read(dir.join(file)).unwrap();
            let err = read_checkpoint_parts(&input, Path::new(".")).unwrap_err().to_string();
            assert!(err.contains(says), "{file}: {err}");
        }
    }

    /// What the fuzzer found: a span of `optim-critic.mpk` spliced so that Adam's first moment of an
    /// 8-wide parameter became the 1-wide one of another. Each tensor still filled its shape, burn
    /// loaded it, and the first update after resuming panicked. The input is the seed's part with
    /// that splice made (the saved input held ids drawn at random by the process that found it).
    #[test]
    fn an_optimiser_state_spliced_from_another_parameter_is_refused_before_training_on() {
        let seeds = checkpoint_parts_seeds();
        let (name, part) = seeds.iter().filter_map(|s| split_part(s)).find(|(n, _)| n == "optim-critic.mpk").unwrap();
        // The 4-byte moment of the 1-wide parameter, as MessagePack: `bytes` bin8 of 4, then (the
        // seeds' maps are in key order) `dtype` "F32" and `shape` [1].
        let narrow: &[u8] = b"\xa5bytes\xc4\x04";
        let wide: &[u8] = b"\xa5bytes\xc4\x20";
        let (narrow_tail, wide_tail): (&[u8], &[u8]) =
            (b"\xa5dtype\xa3F32\xa5shape\x91\x01", b"\xa5dtype\xa3F32\xa5shape\x91\x08");
        let find = |head: &[u8], values: usize, tail: &[u8]| {
            (0..part.len()).find(|&i| {
                part[i..].starts_with(head) && part.get(i + head.len() + values..).is_some_and(|r| r.starts_with(tail))
            })
        };
        // `bytes` + the values + `shape` + `dtype`: a whole tensor record's body, 1 wide and 8 wide.
        let (at_narrow, at_wide) = (find(narrow, 4, narrow_tail).unwrap(), find(wide, 32, wide_tail).unwrap());
        let (narrow_len, wide_len) = (narrow.len() + 4 + narrow_tail.len(), wide.len() + 32 + wide_tail.len());
        let spliced =
            [&part[..at_wide], &part[at_narrow..at_narrow + narrow_len], &part[at_wide + wide_len..]].concat();
        let input = [name.as_bytes(), b"\0", &spliced].concat();
        let err = read_checkpoint_parts(&input, Path::new(".")).unwrap_err().to_string();
        assert!(err.contains("optim-critic.mpk: the optimiser state of parameter"), "{err}");
        assert!(err.contains("holds a tensor of shape [1], the parameter [8]"), "{err}");
    }
}
