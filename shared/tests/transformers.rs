//! era beside Hugging Face `transformers` itself:
//!
//! - chat prompts rendered by era equal what `transformers` renders for the same
//!   `tokenizer_config.json` (`apply_chat_template(messages, tokenize=False, add_generation_prompt=True)`),
//!   character for character: for a Qwen2.5-style ChatML template with its default system turn, a
//!   header-style one with `bos_token`, `namespace`, `| trim`, `.strip()` and `raise_exception`, and one
//!   that refuses system turns (the templates in `tests/data/chat/` were written for this test);
//! - a checkpoint directory era writes (bf16 shards with their index, the tokenizer, the chat
//!   template) is recognised by `AutoConfig` as a Qwen2 config of the same sizes, its tensors read by
//!   the `safetensors` library with their shapes, and its template rendered by `AutoTokenizer`.
//!   Loading the weights into `Qwen2ForCausalLM` needs PyTorch, which this venv leaves out.
//!
//! Needs `eval "$(scripts/setup-transformers.sh)"` (transformers 5.25.0, no PyTorch, whose python is
//! `$ERA_TRANSFORMERS_PYTHON`).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use era_shared::llm::chat::ChatTemplate;
use era_shared::llm::hf_weights::write_dir;
use era_shared::llm::qwen2::random_weights;
use era_shared::llm::source::tiny_model;
use era_shared::llm::tokenizer::LlmTokenizer;
use safetensors::tensor::Dtype;

/// `(system, user)` turns with what templates trip over: none or an empty system turn, newlines,
/// spaces to trim, quotes, Jinja-looking text, non-ASCII, a GSM8K-style problem.
fn cases() -> Vec<(Option<&'static str>, &'static str)> {
    vec![
        (None, "What is 17 + 25?"),
        (
            Some("You are a careful grader. Answer with #### N."),
            "Q: Natalia sold 48 clips in April and half as many in May. How many in all?",
        ),
        (Some(""), "  two leading spaces and a trailing newline\n"),
        (None, "quotes ' \" and braces {{ not_a_variable }} {% raw %} stay text"),
        (Some("Réponds en français 🙂"), "Combien font 3 × 4 ?\n\nExplique."),
        (None, "Q: 1+1"),
    ]
}

/// The test venv's Python and `scripts/SCRIPT`.
fn python(script: &str) -> (String, std::path::PathBuf) {
    let python = std::env::var("ERA_TRANSFORMERS_PYTHON")
        .expect("ERA_TRANSFORMERS_PYTHON is not set: run `eval \"$(scripts/setup-transformers.sh)\"` first");
    (python, Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts").join(script))
}

/// What transformers renders for `cases` from the tokenizer in `dir`; `Err` where it raised.
fn reference(dir: &Path, cases: &[(Option<&str>, &str)]) -> Vec<Result<String, String>> {
    let (python, script) = python("chat_template_reference.py");
    let input: Vec<serde_json::Value> =
        cases.iter().map(|(s, u)| serde_json::json!({ "system": s, "user": u })).collect();
    let mut child = Command::new(python)
        .arg(script)
        .arg(dir)
        .env("HF_HUB_OFFLINE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(serde_json::to_string(&input).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "transformers: {}", String::from_utf8_lossy(&out.stderr));
    let rendered: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rendered
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            other => Err(other["error"].as_str().unwrap_or_default().to_string()),
        })
        .collect()
}

/// A tokenizer directory with `template` in its `tokenizer_config.json`, beside the special tokens
/// `extra` names.
fn checkpoint(dir: &Path, template: &str, extra: serde_json::Value) {
    std::fs::write(dir.join("tokenizer.json"), LlmTokenizer::char_level("0123456789+=").to_json()).unwrap();
    let mut config = serde_json::json!({ "tokenizer_class": "PreTrainedTokenizerFast", "chat_template": template });
    config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    std::fs::write(dir.join("tokenizer_config.json"), config.to_string()).unwrap();
}

fn compare(template_file: &str, extra: serde_json::Value) -> Vec<Result<String, String>> {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/chat").join(template_file))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    checkpoint(dir.path(), &source, extra);
    // Read as era reads a checkpoint: through its tokenizer directory.
    let tokenizer = LlmTokenizer::from_dir(dir.path(), Some(&serde_json::json!(0))).unwrap();
    let template: &ChatTemplate = tokenizer.chat_template().expect("the template is read from tokenizer_config.json");
    let cases = cases();
    let want = reference(dir.path(), &cases);
    for ((case, want), i) in cases.iter().zip(&want).zip(0..) {
        let got = template.render(case.0, case.1);
        match (want, &got) {
            (Ok(w), Ok(g)) => assert_eq!(g, w, "{template_file}, case {i}"),
            (Err(w), Err(g)) => {
                // The template's own message reaches the user on both sides.
                let said = w.rsplit(": ").next().unwrap_or(w);
                assert!(g.contains(said), "{template_file}, case {i}: era says {g:?}, transformers {w:?}");
            }
            _ => panic!("{template_file}, case {i}: era {got:?}, transformers {want:?}"),
        }
    }
    want
}

#[test]
fn a_chatml_template_renders_as_in_transformers() {
    let rendered =
        compare("qwen2.5.jinja", serde_json::json!({ "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>" }));
    // Worked by hand for the first case: the template's default system turn, the user's, the opening.
    assert_eq!(
        rendered[0].as_deref().unwrap(),
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n\
         <|im_start|>user\nWhat is 17 + 25?<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn a_header_template_with_special_tokens_and_python_methods_renders_as_in_transformers() {
    let rendered = compare(
        "headers.jinja",
        // The begin token as an added-token object, as older checkpoints write it.
        serde_json::json!({
            "bos_token": { "__type": "AddedToken", "content": "<|begin_of_text|>", "lstrip": false, "normalized": false,
                           "rstrip": false, "single_word": false, "special": true },
            "eos_token": "<|eot_id|>",
        }),
    );
    assert!(rendered[1].as_deref().unwrap().starts_with("<|begin_of_text|>"));
}

#[test]
fn a_template_that_refuses_system_turns_fails_the_same_cases_as_in_transformers() {
    let rendered = compare("strict.jinja", serde_json::json!({}));
    assert!(rendered[0].is_ok() && rendered[1].is_err(), "{rendered:?}");
}

#[test]
fn a_checkpoint_era_writes_is_read_by_transformers_and_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let (config, tokenizer) = tiny_model();
    let weights = random_weights(&config, 3);
    write_dir(dir.path(), &config, &weights, &tokenizer.to_json(), Dtype::BF16, 2).unwrap();
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/chat/qwen2.5.jinja")).unwrap();
    // The same file a run's exported checkpoint gets for a model with a template.
    let template = ChatTemplate::new(&source, vec![("eos_token".into(), "<|im_end|>".into())], "test").unwrap();
    let mut config_json: serde_json::Value = serde_json::from_str(&template.to_tokenizer_config()).unwrap();
    config_json["tokenizer_class"] = "PreTrainedTokenizerFast".into();
    std::fs::write(dir.path().join("tokenizer_config.json"), config_json.to_string()).unwrap();

    let (python, script) = python("hf_checkpoint_reference.py");
    let out = Command::new(python).arg(script).arg(dir.path()).env("HF_HUB_OFFLINE", "1").output().unwrap();
    assert!(out.status.success(), "transformers: {}", String::from_utf8_lossy(&out.stderr));
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &read["config"];
    assert_eq!((c["model_type"].as_str(), c["architectures"][0].as_str()), (Some("qwen2"), Some("Qwen2ForCausalLM")));
    for (field, value) in [
        ("vocab_size", config.vocab_size),
        ("hidden_size", config.hidden_size),
        ("intermediate_size", config.intermediate_size),
        ("num_hidden_layers", config.num_hidden_layers),
        ("num_attention_heads", config.num_attention_heads),
        ("num_key_value_heads", config.num_key_value_heads),
        ("max_position_embeddings", config.max_position_embeddings),
    ] {
        assert_eq!(c[field].as_u64(), Some(value as u64), "{field}");
    }
    assert_eq!(
        (c["rms_norm_eps"].as_f64(), read["rope_theta"].as_f64()),
        (Some(config.rms_norm_eps), Some(config.rope_theta))
    );
    assert_eq!(c["tie_word_embeddings"].as_bool(), Some(config.tie_word_embeddings));
    // Every tensor era wrote, with its shape, across both shards.
    let shapes: std::collections::BTreeMap<String, Vec<usize>> =
        serde_json::from_value(read["tensors"].clone()).unwrap();
    let ours: std::collections::BTreeMap<String, Vec<usize>> =
        weights.iter().map(|(name, t)| (name.clone(), t.shape.clone())).collect();
    assert_eq!(shapes, ours);
    assert_eq!(read["chat"].as_str().unwrap(), template.render(None, "1+1").unwrap());
}
