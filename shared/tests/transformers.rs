//! Chat prompts rendered by era equal what Hugging Face `transformers` renders for the same
//! `tokenizer_config.json` (`apply_chat_template(messages, tokenize=False, add_generation_prompt=True)`),
//! character for character: for a Qwen2.5-style ChatML template with its default system turn, a
//! header-style one with `bos_token`, `namespace`, `| trim`, `.strip()` and `raise_exception`, and one
//! that refuses system turns. The templates in `tests/data/chat/` were written for this test.
//!
//! Needs `eval "$(scripts/setup-transformers.sh)"` (transformers 5.25.0, no PyTorch, whose python is
//! `$ERA_TRANSFORMERS_PYTHON`).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use era_shared::llm::chat::ChatTemplate;
use era_shared::llm::tokenizer::LlmTokenizer;

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

/// What transformers renders for `cases` from the tokenizer in `dir`; `Err` where it raised.
fn reference(dir: &Path, cases: &[(Option<&str>, &str)]) -> Vec<Result<String, String>> {
    let python = std::env::var("ERA_TRANSFORMERS_PYTHON")
        .expect("ERA_TRANSFORMERS_PYTHON is not set: run `eval \"$(scripts/setup-transformers.sh)\"` first");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/chat_template_reference.py");
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
