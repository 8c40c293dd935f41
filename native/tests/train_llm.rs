//! End-to-end tests of `era train llm`, `era eval llm`, `era generate` and `era bench llm` on tiny
//! settings, and of checkpoints written in the Hugging Face layout.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{changed, era, kill_at_checkpoint, log, ok, records, refused, settings};
use era_shared::llm::hf_weights::write_dir;
use era_shared::llm::qwen2::random_weights;
use era_shared::llm::source::tiny_model;
use era_shared::metrics;
use era_shared::runlog::Status;
use safetensors::tensor::Dtype;

#[test]
fn a_runs_config_json_repeats_the_run_and_flags_still_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let (out, o) = (dir.path(), dir.path().to_str().unwrap());
    let extra = ["--era-k", "3", "--no-dynamic-sampling", "--era-ratio", "rollout", "--set", "warmup_lr=0.002"];
    let args = train_args(out, "a", &extra);
    ok(&era(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    let s = settings(&out.join("a"));
    assert_eq!((s["era_k"].as_f64(), s["dynamic_sampling"].as_bool()), (Some(3.0), Some(false)));
    assert_eq!((s["ratio_to_rollout"].as_bool(), s["warmup_lr"].as_f64()), (Some(true), Some(0.002)));
    // The config alone repeats the run, record for record.
    let config = out.join("a/config.json");
    let config = config.to_str().unwrap();
    ok(&era(&["train", "llm", "--config", config, "--out", o, "--run-name", "b", "--quiet"]));
    assert_eq!(settings(&out.join("b")), s);
    assert_eq!(records(&log(&out.join("a"))), records(&log(&out.join("b"))));
    // Flags laid over it change their own fields and nothing else.
    let more = ["--era", "off", "--steps", "2", "--quiet"];
    ok(&era(&[&["train", "llm", "--config", config, "--out", o, "--run-name", "c"][..], &more[..]].concat()));
    assert_eq!(changed(&s, &settings(&out.join("c"))), ["era", "grpo_steps"]);
    // A preset is a layer below the flags: the authors' values, then what the command line says.
    let preset = train_args(out, "p", &["--preset", "released", "--max-new-tokens", "8", "--steps", "1"]);
    ok(&era(&preset.iter().map(String::as_str).collect::<Vec<_>>()));
    let p = settings(&out.join("p"));
    assert_eq!(
        (p["omega_low"].as_f64(), p["top_k_logprobs"].as_u64(), p["lr"].as_f64()),
        (Some(0.45), Some(20), Some(1e-6))
    );
    assert_eq!((p["advantage_rescale"].as_bool(), p["clip_low"].as_f64()), (Some(false), Some(1.0)));
    assert_eq!((p["prompts"].as_u64(), p["max_new_tokens"].as_u64()), (Some(2), Some(8)), "the flags win");
}

/// A problem file in Parquet, written by pyarrow (scripts/parquet_fixture.py).
const PARQUET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/tests/data/problems.parquet");

#[test]
fn a_problem_file_trains_with_a_reward_rule_and_bad_rows_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sums.jsonl");
    let mut rows: Vec<String> = (0..24)
        .map(|i| serde_json::json!({"q": format!("{i}+{}=", i + 7), "a": (2 * i + 7).to_string()}).to_string())
        .collect();
    // A row longer than the tiny model's context; a row without an answer cannot be scored.
    rows.push(serde_json::json!({"q": format!("{}=", "1+".repeat(200)), "a": "2"}).to_string());
    rows.push(r#"{"q": "1+1="}"#.into());
    std::fs::write(&data, rows.join("\n")).unwrap();
    let d = data.to_str().unwrap();
    let file = ["--data", d, "--prompt-field", "q", "--answer-field", "a", "--reward", "numeric"];
    let args =
        train_args(dir.path(), "file", &[&file[..], &["--format-reward", "0.1", "--eval-fraction", "0.25"]].concat());
    let out = era(&args.iter().map(String::as_str).collect::<Vec<_>>());
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("left out 2 rows") && err.contains("sums.jsonl:26: no field `a`"), "{err}");
    let run = dir.path().join("file");
    let l = log(&run);
    assert_eq!((l.header.target.as_str(), l.footer.as_ref().unwrap().status), ("sums", Status::Completed));
    assert!(l.records.iter().any(|r| r.metrics.contains_key(metrics::ROLLOUT_REWARD_MEAN)));
    assert!(l.records.iter().any(|r| r.metrics.contains_key("eval/pass@1")));
    let s = settings(&run);
    assert_eq!((s["reward"].as_str(), s["format_reward"].as_f64()), (Some("numeric"), Some(0.1)));
    assert!(std::path::Path::new(s["data"].as_str().unwrap()).is_absolute());
    // A format weight needs a rule with a format; a missing file is named.
    for (extra, needle) in [
        (
            &["--data", d, "--prompt-field", "q", "--answer-field", "a", "--format-reward", "0.1"][..],
            "format_reward needs",
        ),
        (&["--data", "none.jsonl"], "none.jsonl: cannot read"),
        // Parquet as pyarrow writes it is read (below); a codec this build lacks is named.
        (
            &["--data", &PARQUET.replace("problems", "problems-zstd"), "--prompt-field", "question"],
            "compressed with Zstandard",
        ),
        (&["--data", d], "no usable row: 26 skipped"),
        // The tiny model has no chat template to carry a system turn.
        (
            &[&file[..], &["--system", "Be brief."]].concat()[..],
            "system: a system turn needs the model's chat template",
        ),
    ] {
        let o = era(&train_args(dir.path(), "bad", extra).iter().map(String::as_str).collect::<Vec<_>>());
        refused(&o, needle, extra);
    }
    assert!(!dir.path().join("bad").exists());
    // English problems: the tiny model is given the characters of the files (here pyarrow's Parquet
    // fixture: its questions and worked answers).
    let parquet = ["--data", PARQUET, "--prompt-field", "question", "--reward", "numeric"];
    ok(&era(&strs(&train_args(dir.path(), "parquet", &parquet))));
    let tokenizer =
        std::fs::read_to_string(dir.path().join("parquet/checkpoints/step-000000000008/tokenizer.json")).unwrap();
    assert!(tokenizer.contains("\"T\"") && tokenizer.contains("\"Ü\""), "the files' letters are in its vocabulary");
    // --no-chat-template is the config's switch.
    let printed =
        ok(&era(&train_args(dir.path(), "printed", &[&file[..], &["--no-chat-template", "--print-config"]].concat())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()));
    let printed: serde_json::Value = serde_json::from_str(printed.trim()).unwrap();
    assert_eq!((printed["chat_template"].as_bool(), printed["system"].is_null()), (Some(false), true));
}

/// `era train llm` with settings small enough for a test, into `out/name`.
fn train_args(out: &Path, name: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "llm",
        "--digits",
        "2",
        "--warmup-steps",
        "4",
        "--steps",
        "4",
        "--prompts",
        "2",
        "--group",
        "4",
        "--eval-every",
        "2",
        "--eval-prompts",
        "3",
        "--log-every",
        "1",
        "--backend",
        "ndarray",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--run-name",
        name,
    ]
    .map(String::from)
    .to_vec();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `args` (from [`train_args`]) with the fast CPU path instead of ndarray.
fn on_fast_path(args: Vec<String>) -> Vec<String> {
    args.into_iter().map(|a| if a == "ndarray" { "fast".into() } else { a }).collect()
}

/// `era bench llm` on the fast path at a test's size, with `extra` options; its output.
fn fast_bench(extra: &[&str]) -> String {
    let base =
        ["bench", "llm", "--backend", "fast", "--prompts", "2", "--group", "2", "--steps", "1", "--repeats", "1"];
    ok(&era(&[&base[..], extra].concat()))
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A random tiny model written as a Hugging Face directory: bf16 weights in two shards.
fn hf_checkpoint(dir: &Path) {
    let (config, tokenizer) = tiny_model();
    write_dir(dir, &config, &random_weights(&config, 1), &tokenizer.to_json(), Dtype::BF16, 2).unwrap();
}

#[test]
fn trains_logs_evaluates_and_generates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    // An untrained model solves nothing, so every group would be dropped: keep them to exercise the update.
    let extra = ["--omega-low", "0.2", "--omega-high", "2", "--no-dynamic-sampling", "--era-ratio", "rollout"];
    let text = ok(&era(&strs(&train_args(&out, "era", &extra))));
    assert!(text.contains("era compare"), "{text}");
    let run = out.join("era");
    let l = log(&run);
    assert_eq!(l.header.algorithm, "grpo-era");
    assert_eq!((l.header.era.omega_low, l.header.era.omega_high, l.header.era.k), (Some(0.2), Some(2.0), Some(2.0)));
    assert_eq!(l.header.era.ratio_to_rollout, Some(true));
    assert_eq!(l.footer.as_ref().unwrap().status, Status::Completed);
    let keys = l.metric_keys();
    for key in [
        metrics::TRAIN_LOSS,
        metrics::ROLLOUT_REWARD_MEAN,
        metrics::ROLLOUT_H_RESP_MEAN,
        metrics::ROLLOUT_ENTROPY_MEAN,
        metrics::ROLLOUT_RESPONSE_LEN,
        metrics::FRAC_SHARPEN,
        metrics::FRAC_SOFTEN,
        metrics::POLICY_LOSS,
        metrics::TOKENS_PER_SEC,
        metrics::EVAL_ENTROPY_MEAN,
        "eval/pass@1",
        "eval/pass@2",
        "eval/pass@4",
        "eval/pass@8",
        "eval/pass@16",
    ] {
        assert!(keys.contains(key), "{key} missing: {keys:?}");
    }
    // The run's config is saved with it, and its last checkpoint is a model directory.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!((config["model"].as_str(), config["group"].as_u64()), (Some("tiny"), Some(4)));
    assert_eq!(config["ratio_to_rollout"].as_bool(), Some(true));
    assert_eq!(config["advantage_sign"].as_str(), Some("both"));
    let last = run.join("checkpoints/step-000000000008");
    for f in ["config.json", "model.safetensors", "tokenizer.json", "optim.mpk", "loop.json"] {
        assert!(last.join(f).is_file(), "{f}");
    }

    // A run saved before `--era-ratio` existed has no such setting: it reads as the default.
    let mut older = config.clone();
    older.as_object_mut().unwrap().remove("ratio_to_rollout");
    older.as_object_mut().unwrap().remove("advantage_sign");
    std::fs::write(run.join("config.json"), older.to_string()).unwrap();
    let e = ok(&era(&["eval", "llm", "--run", run.to_str().unwrap(), "--pass-k", "4", "--prompts", "5"]));
    assert!(
        e.contains("pass@1 ") && e.contains("pass@4 ") && !e.contains("pass@8") && e.contains("5 test problems"),
        "{e}"
    );

    // era generate on the run and on its checkpoint directory: the same greedy continuation.
    let g1 = ok(&era(&[
        "generate",
        "--model",
        run.to_str().unwrap(),
        "--prompt",
        "12+34=",
        "--greedy",
        "--max-tokens",
        "12",
    ]));
    let g2 = ok(&era(&[
        "generate",
        "--model",
        last.to_str().unwrap(),
        "--prompt",
        "12+34=",
        "--greedy",
        "--max-tokens",
        "12",
    ]));
    assert_eq!(g1, g2);
    assert!(g1.lines().count() == 1 && g1.trim().chars().all(|c| "0123456789+=,>".contains(c)), "{g1}");
    let three = ok(&era(&[
        "generate",
        "--model",
        last.to_str().unwrap(),
        "--prompt",
        "1+2=",
        "--samples",
        "3",
        "--top-k",
        "3",
    ]));
    assert_eq!(three.lines().count(), 3, "{three}");

    // Plain GRPO: never sharpens or softens.
    ok(&era(&strs(&train_args(&out, "plain", &["--era", "off"]))));
    let p = log(&out.join("plain"));
    assert_eq!(p.header.algorithm, "grpo");
    assert!(
        p.series(metrics::FRAC_SHARPEN).iter().chain(&p.series(metrics::FRAC_SOFTEN)).all(|(_, v)| *v == Some(0.0))
    );
    let table = ok(&era(&["compare", run.to_str().unwrap(), out.join("plain").to_str().unwrap()]));
    assert!(table.contains("grpo-era") && table.contains("eval/pass@1"), "{table}");
}

#[test]
fn kill_9_then_resume_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    let extra = ["--steps", "6", "--checkpoint-every", "3", "--kl-coef", "0.05"];
    ok(&era(&strs(&train_args(&out, "whole", &extra))));
    let run = out.join("killed");
    // Step 6 is two GRPO steps in: the checkpoint holds the reference model too.
    kill_at_checkpoint(&train_args(&out, "killed", &extra), &run.join("checkpoints/step-000000000006/meta.json"));
    ok(&era(&["train", "llm", "--resume", run.to_str().unwrap(), "--quiet"]));
    let (a, b) = (log(&out.join("whole")), log(&run));
    assert_eq!(b.footer.as_ref().unwrap().status, Status::Completed);
    assert_eq!(records(&a), records(&b), "the resumed run's log equals the uninterrupted one");
}

#[test]
fn the_fast_path_trains_resumes_bit_exactly_evaluates_and_benches() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    let extra = ["--steps", "6", "--checkpoint-every", "3", "--kl-coef", "0.05"];
    let fast = |name: &str| on_fast_path(train_args(&out, name, &extra));
    ok(&era(&strs(&fast("whole"))));
    let run = out.join("killed");
    kill_at_checkpoint(&fast("killed"), &run.join("checkpoints/step-000000000006/meta.json"));
    // The run's config names the backend: --resume takes the fast path again.
    ok(&era(&["train", "llm", "--resume", run.to_str().unwrap(), "--quiet"]));
    let (a, b) = (log(&out.join("whole")), log(&run));
    assert_eq!(b.footer.as_ref().unwrap().status, Status::Completed);
    assert_eq!(records(&a), records(&b), "the resumed run's log equals the uninterrupted one");
    let text = ok(&era(&["eval", "llm", "--run", run.to_str().unwrap(), "--backend", "ndarray"]));
    assert!(text.contains("pass@1"), "{text}");
    let bench = fast_bench(&[]);
    assert!(bench.contains("fast path speed-up"), "{bench}");
}

#[test]
fn a_hugging_face_checkpoint_generates_and_trains_and_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("qwen-tiny");
    hf_checkpoint(&model);
    let m = model.to_str().unwrap();
    let a = ok(&era(&["generate", "--model", m, "--prompt", "7+8=", "--greedy", "--max-tokens", "6"]));
    let b = ok(&era(&["generate", "--model", m, "--prompt", "7+8=", "--greedy", "--max-tokens", "6"]));
    assert_eq!(a, b);
    // The fast path's cached decoder writes the same, greedy and sampled.
    let fast =
        ok(&era(&["generate", "--model", m, "--prompt", "7+8=", "--greedy", "--max-tokens", "6", "--backend", "fast"]));
    assert_eq!(a, fast);
    let sampled =
        |backend| ok(&era(&["generate", "--model", m, "--prompt", "7+8=", "--samples", "4", "--backend", backend]));
    assert_eq!(sampled("ndarray"), sampled("fast"));
    // --chat renders the prompt with the checkpoint's own template: here one that writes a system
    // turn and the user's text in the tiny alphabet, so the continuation is that of the rendered text.
    let no_template = era(&["generate", "--model", m, "--prompt", "7+8", "--chat"]);
    refused(&no_template, "has no chat template", "--chat without a template");
    let template = "{% for m in messages %}{{ m.content }}{% if m.role == 'system' %},{% endif %}{% endfor %}{% if add_generation_prompt %}={% endif %}";
    std::fs::write(model.join("tokenizer_config.json"), serde_json::json!({ "chat_template": template }).to_string())
        .unwrap();
    let chat = ok(&era(&[
        "generate",
        "--model",
        m,
        "--prompt",
        "7+8",
        "--system",
        "1",
        "--chat",
        "--greedy",
        "--max-tokens",
        "6",
    ]));
    let plain = ok(&era(&["generate", "--model", m, "--prompt", "1,7+8=", "--greedy", "--max-tokens", "6"]));
    assert_eq!(chat, plain);
    refused(&era(&["generate", "--model", m, "--prompt", "7", "--system", "1"]), "--chat", "--system without --chat");
    std::fs::remove_file(model.join("tokenizer_config.json")).unwrap();
    // GRPO from a checkpoint: no warm-up unless asked for.
    let out = dir.path().join("runs");
    ok(&era(&strs(&train_args(&out, "from-dir", &["--model", m, "--warmup-steps", "0", "--steps", "2"]))));
    let l = log(&out.join("from-dir"));
    assert_eq!(l.final_step(), 2);

    let cases: [(&[&str], &str); 6] = [
        (&["train", "llm", "--model", "nowhere"], "--model nowhere: neither `tiny`, `random:SHAPE` nor a directory"),
        (&["train", "llm", "--omega-low", "2", "--omega-high", "1"], "omega_high"),
        (&["train", "llm", "--group", "1"], "group 1"),
        (&["generate", "--model", m, "--prompt", "7*8="], "--prompt: character '*'"),
        (&["generate", "--model", dir.path().to_str().unwrap(), "--prompt", "1"], "not a model directory"),
        (&["generate", "--model", m, "--prompt", "1", "--temperature", "0"], "--temperature 0"),
    ];
    for (args, needle) in cases {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--backend", "ndarray"]);
        if args[0] == "train" {
            full.extend(["--out", out.to_str().unwrap()]);
        }
        let o = era(&full);
        refused(&o, needle, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    // Shapes that do not fit the config are named with both shapes.
    std::fs::write(
        model.join("config.json"),
        std::fs::read_to_string(model.join("config.json"))
            .unwrap()
            .replace("\"intermediate_size\": 512", "\"intermediate_size\": 500"),
    )
    .unwrap();
    let o = era(&["generate", "--model", m, "--prompt", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mlp.") && err.contains("[512, 128]") && err.contains("[500, 128]"), "{err}");
}

#[test]
fn random_weights_of_a_published_shape_train_on_the_fast_path_and_bench() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    // `random:tiny`: the tiny model's shape, random weights, no warm-up (as for a checkpoint).
    ok(&era(&strs(&on_fast_path(train_args(
        &out,
        "random",
        &["--model", "random:tiny", "--steps", "2", "--warmup-steps", "0"],
    )))));
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("random/checkpoints/step-000000000002/config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!((config["hidden_size"].as_u64(), config["num_hidden_layers"].as_u64()), (Some(128), Some(4)));
    assert_eq!(settings(&out.join("random"))["model"], "random:tiny");
    refused(&era(&["train", "llm", "--model", "random:qwen9"]), "unknown shape (known: tiny, qwen2.5-0.5b)", "shape");
    // The bench leaves burn's reference out when told, and reports both processes' peaks.
    let text = fast_bench(&["--model", "random:tiny", "--ndarray", "off"]);
    assert!(text.contains("ndarray      not timed") && text.contains("peak memory  sampling"), "{text}");
}

#[test]
fn bench_reports_generation_and_the_era_update_ratio() {
    let text = ok(&era(&["bench", "llm", "--prompts", "2", "--group", "2", "--steps", "1", "--repeats", "1"]));
    for needle in ["tiny model", "generation", "tokens/s", "GRPO update", "µs/token", "ERA overhead"] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
}

/// The same checkpoint greedy-decodes the same tokens on wgpu (a software adapter here; the test
/// setup installs Mesa's lavapipe) as on the CPU.
#[test]
fn wgpu_backend_smoke() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("qwen-tiny");
    hf_checkpoint(&model);
    let m = model.to_str().unwrap();
    let args = |backend| {
        ["generate", "--model", m, "--prompt", "457+385=", "--greedy", "--max-tokens", "8", "--backend", backend]
    };
    let cpu = ok(&era(&args("ndarray")));
    let gpu = ok(&era(&args("wgpu")));
    assert_eq!(cpu, gpu);
}
