//! A checkpoint's chat template: the Jinja program in its `tokenizer_config.json` that turns a
//! conversation into the text the model was tuned on, rendered as `transformers`'
//! `apply_chat_template(messages, tokenize=False, add_generation_prompt=True)` does.
//!
//! ```text
//! messages = [{role: "system", content: S}]?  ++  [{role: "user", content: prompt}]
//! text     = template(messages, add_generation_prompt = true, bos_token, eos_token, …)
//! ```
//!
//! As in `transformers`: blocks trim the newline after them and strip the spaces before them
//! (`trim_blocks`, `lstrip_blocks`), a single trailing newline of the template is dropped,
//! `raise_exception(msg)` fails the rendering with `msg`, and `tools` and `documents` are undefined.
//! Python's string and dict methods that templates call (`.strip()`, `.startswith()`, `.items()`)
//! work through minijinja's Python compatibility layer. Not matched: `tojson` writes compact JSON
//! (Python's `json.dumps` puts a space after `,` and `:`), which only tool-calling templates reach.

use std::path::Path;

use minijinja::{Environment, ErrorKind, Value, context};

use super::hf_weights::CheckpointError;

/// The file a Hugging Face checkpoint keeps its chat template in.
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

/// A chat template with the special tokens it may refer to.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTemplate {
    source: String,
    /// `tokenizer_config.json`'s special tokens by name (`bos_token`, `eos_token`, …).
    tokens: Vec<(String, String)>,
    /// Where it was read, for errors.
    origin: String,
}

/// The special-token entries of `tokenizer_config.json` passed to the template, as `transformers` does.
const TOKEN_NAMES: [&str; 6] = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token"];

impl ChatTemplate {
    /// A template from its Jinja source; `tokens` are the special tokens it may name.
    pub fn new(source: &str, tokens: Vec<(String, String)>, origin: &str) -> Result<Self, String> {
        let template = Self { source: source.to_string(), tokens, origin: origin.to_string() };
        // Compiled once here so that a template with a syntax error is refused when it is read.
        template.environment().template_from_str(&template.source).map_err(|e| template.error(&e))?;
        Ok(template)
    }

    /// The template of a `tokenizer_config.json` text, if it has one: `chat_template` is a string,
    /// or a list of `{name, template}` of which the one named `default` is used.
    pub fn from_tokenizer_config(text: &str, origin: &str) -> Result<Option<Self>, String> {
        let config: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("{origin}: not JSON: {e}"))?;
        let source = match config.get("chat_template") {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(named)) => named
                .iter()
                .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
                .and_then(|t| t.get("template")?.as_str())
                .ok_or_else(|| format!("{origin}: chat_template is a list without a template named \"default\""))?
                .to_string(),
            Some(_) => return Err(format!("{origin}: chat_template must be a string or a list of {{name, template}}")),
        };
        // A special token is written as its text, or as an added-token object with a `content`.
        let tokens = TOKEN_NAMES
            .iter()
            .filter_map(|name| {
                let v = config.get(*name)?;
                let text = v.as_str().or_else(|| v.get("content")?.as_str())?;
                Some((name.to_string(), text.to_string()))
            })
            .collect();
        Self::new(&source, tokens, origin).map(Some)
    }

    /// `DIR/tokenizer_config.json`'s template; `None` when the file or its template is absent.
    pub fn from_dir(dir: &Path) -> Result<Option<Self>, CheckpointError> {
        let path = dir.join(TOKENIZER_CONFIG);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CheckpointError::Io { path, source }),
        };
        Self::from_tokenizer_config(&text, &path.display().to_string())
            .map_err(|reason| CheckpointError::Format { path: path.clone(), reason })
    }

    /// The Jinja source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A `tokenizer_config.json` holding this template and its special tokens, so that a checkpoint
    /// era writes keeps the template of the one it started from.
    pub fn to_tokenizer_config(&self) -> String {
        let mut config = serde_json::Map::new();
        config.insert("chat_template".into(), self.source.clone().into());
        for (name, text) in &self.tokens {
            config.insert(name.clone(), text.clone().into());
        }
        serde_json::Value::Object(config).to_string()
    }

    /// The text the model continues for one user turn, after an optional system turn.
    pub fn render(&self, system: Option<&str>, user: &str) -> Result<String, String> {
        self.render_all(system, [user]).map(|mut v| v.remove(0))
    }

    /// [`ChatTemplate::render`] for each of `users`, the template compiled once for all of them.
    pub fn render_all<'u>(
        &self,
        system: Option<&str>,
        users: impl IntoIterator<Item = &'u str>,
    ) -> Result<Vec<String>, String> {
        let env = self.environment();
        let template = env.template_from_str(&self.source).map_err(|e| self.error(&e))?;
        let tokens: std::collections::BTreeMap<&str, &str> =
            self.tokens.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let tokens = Value::from_serialize(&tokens);
        users
            .into_iter()
            .map(|user| {
                let mut messages = Vec::new();
                if let Some(s) = system {
                    messages.push(context! { role => "system", content => s });
                }
                messages.push(context! { role => "user", content => user });
                let ctx = context! { messages => messages, add_generation_prompt => true, ..tokens.clone() };
                template.render(ctx).map_err(|e| self.error(&e))
            })
            .collect()
    }

    /// Jinja as `transformers` configures it for chat templates.
    fn environment(&self) -> Environment<'static> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(false);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<Value, minijinja::Error> {
            Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
        });
        env
    }

    fn error(&self, e: &minijinja::Error) -> String {
        let line = e.line().map(|l| format!(", template line {l}")).unwrap_or_default();
        let detail = e.detail().unwrap_or_default();
        format!(
            "{}: chat_template{line}: {}{}",
            self.origin,
            e.kind(),
            if detail.is_empty() { String::new() } else { format!(": {detail}") }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ChatML template of the Qwen2.5 kind, without its tool branch.
    const CHATML: &str = "{%- if messages[0]['role'] == 'system' %}\n    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n{%- else %}\n    {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}\n{%- endif %}\n{%- for message in messages %}\n    {%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}\n        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n";

    #[test]
    fn a_chatml_prompt_is_written_turn_by_turn_by_hand() {
        let t = ChatTemplate::new(CHATML, vec![], "test").unwrap();
        // No system turn: the template's own default, then the user turn, then the assistant's opening.
        assert_eq!(
            t.render(None, "2+2?").unwrap(),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(
            t.render(Some("Be brief."), "2+2?").unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn blocks_trim_like_transformers_and_python_methods_and_special_tokens_work() {
        // `{% for %}` lines leave no newline or indent (trim_blocks, lstrip_blocks) while the newline
        // after `}}` stays; `.strip()` is Python's; bos_token comes from the config's added token.
        let source = "{{ bos_token }}\n  {% for m in messages %}\n[{{ m.role | upper }}] {{ m.content.strip() }}\n  {% endfor %}\n";
        let config =
            serde_json::json!({ "chat_template": source, "bos_token": { "content": "<s>" }, "eos_token": "</s>" });
        let t = ChatTemplate::from_tokenizer_config(&config.to_string(), "tokenizer_config.json").unwrap().unwrap();
        assert_eq!(t.render(Some(" sys "), "  hi\n").unwrap(), "<s>\n[SYSTEM] sys\n[USER] hi\n");
    }

    #[test]
    fn named_templates_missing_ones_and_bad_ones() {
        let named = serde_json::json!({ "chat_template": [
            { "name": "tool_use", "template": "tools" },
            { "name": "default", "template": "{{ messages[0].content }}" },
        ]});
        let t = ChatTemplate::from_tokenizer_config(&named.to_string(), "c.json").unwrap().unwrap();
        assert_eq!(t.render(None, "x").unwrap(), "x");
        assert_eq!(ChatTemplate::from_tokenizer_config("{}", "c.json").unwrap(), None);
        let e = ChatTemplate::from_tokenizer_config(r#"{"chat_template": "{% if %}"}"#, "c.json").unwrap_err();
        assert!(e.starts_with("c.json: chat_template, template line 1: syntax error"), "{e}");
        let e = ChatTemplate::from_tokenizer_config(r#"{"chat_template": 3}"#, "c.json").unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        let again = ChatTemplate::from_tokenizer_config(&t.to_tokenizer_config(), "c.json").unwrap();
        assert_eq!(again.as_ref(), Some(&t), "written and read back");
        let raising = ChatTemplate::new("{{ raise_exception('only user turns') }}", vec![], "c.json").unwrap();
        let e = raising.render(None, "x").unwrap_err();
        assert!(e.contains("only user turns"), "{e}");
    }
}
