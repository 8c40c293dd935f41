//! Tokenizers through the `tokenizers` crate: a checkpoint's own `tokenizer.json` (Qwen's byte-level
//! BPE, or any other the crate reads), and the character-level one of the embedded tiny model, which is
//! written as a `tokenizer.json` too so every model directory loads the same way.

use std::path::Path;

use serde_json::json;

use super::chat::ChatTemplate;
use super::hf_weights::CheckpointError;

/// Names under which tokenizers commonly keep their end-of-sequence token.
const EOS_NAMES: [&str; 4] = ["<|endoftext|>", "<|im_end|>", "</s>", "<eos>"];

/// The end-of-sequence token of the character-level tokenizer (id 0).
pub const CHAR_EOS: &str = "<|endoftext|>";

/// A tokenizer with the tokens that end a response.
#[derive(Clone)]
pub struct LlmTokenizer {
    inner: tokenizers::Tokenizer,
    stop: Vec<u32>,
    char_level: bool,
    chat: Option<ChatTemplate>,
}

impl std::fmt::Debug for LlmTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmTokenizer").field("vocab", &self.vocab_size()).field("stop", &self.stop).finish()
    }
}

/// The longest added (special) token a `tokenizer.json` may have, in bytes.
pub const MAX_ADDED_TOKEN: usize = 1024;

/// What is checked of a `tokenizer.json` before the `tokenizers` library reads it.
#[derive(serde::Deserialize)]
struct Outline {
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
}

#[derive(serde::Deserialize)]
struct AddedToken {
    #[serde(default)]
    id: u64,
    #[serde(default)]
    content: String,
}

impl LlmTokenizer {
    /// A character-level tokenizer: id 0 is [`CHAR_EOS`], then one id per character of `alphabet`
    /// in order. Text with any other character is refused by [`Self::encode`].
    pub fn char_level(alphabet: &str) -> Self {
        let mut vocab = serde_json::Map::new();
        vocab.insert(CHAR_EOS.into(), json!(0));
        for c in alphabet.chars() {
            let n = vocab.len();
            vocab.entry(c.to_string()).or_insert(json!(n));
        }
        let spec = json!({
            "version": "1.0",
            "truncation": null,
            "padding": null,
            "added_tokens": [{"id": 0, "content": CHAR_EOS, "single_word": false, "lstrip": false,
                              "rstrip": false, "normalized": false, "special": true}],
            "normalizer": null,
            // Every character is its own piece; the decoder joins them back without spaces.
            "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated", "invert": false},
            "post_processor": null,
            "decoder": {"type": "Fuse"},
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": CHAR_EOS},
        });
        Self::from_json(&spec.to_string(), "tokenizer.json", None)
            .unwrap_or_else(|e| unreachable!("the character-level tokenizer is well formed: {e}"))
    }

    /// Reads `tokenizer.json` text; `stop` are the end-of-sequence ids from `config.json` if it has them.
    pub fn from_json(text: &str, source: &str, stop: Option<Vec<u32>>) -> Result<Self, CheckpointError> {
        let bad = |reason: String| CheckpointError::Format { path: source.into(), reason };
        // Malformed JSON is refused here: `tokenizers` panics on some of it (inside its decoder's
        // deserialiser) instead of returning an error. What still panics there is caught.
        let outline: Outline = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        // An added token is matched by a pattern built from it: a 100 000-character one took the
        // library two minutes to load. Real ones are tens of characters.
        if let Some(t) = outline.added_tokens.iter().find(|t| t.content.len() > MAX_ADDED_TOKEN) {
            return Err(bad(format!(
                "added token {} is {} bytes long (at most {MAX_ADDED_TOKEN})",
                t.id,
                t.content.len()
            )));
        }
        let inner: tokenizers::Tokenizer = crate::panics::quietly(|| text.parse::<tokenizers::Tokenizer>())
            .map_err(|_| bad("not a tokenizer (the tokenizers library could not read it)".into()))?
            .map_err(|e| bad(format!("not a tokenizer: {e}")))?;
        let stop = match stop {
            Some(s) if !s.is_empty() => s,
            _ => EOS_NAMES.iter().filter_map(|n| inner.token_to_id(n)).take(1).collect(),
        };
        if stop.is_empty() {
            return Err(CheckpointError::Format {
                path: source.into(),
                reason: format!(
                    "no end-of-sequence token: config.json has no eos_token_id and the vocabulary has none of {EOS_NAMES:?}"
                ),
            });
        }
        // Character-level vocabularies are word-level models over single characters.
        let char_level = matches!(inner.get_model(), tokenizers::ModelWrapper::WordLevel(_));
        Ok(Self { inner, stop, char_level, chat: None })
    }

    /// Reads `DIR/tokenizer.json`, taking the end-of-sequence ids from `config.json`'s `eos_token_id`
    /// (a number or a list) when given, and the chat template of `DIR/tokenizer_config.json` if any.
    pub fn from_dir(dir: &Path, eos_token_id: Option<&serde_json::Value>) -> Result<Self, CheckpointError> {
        let path = dir.join("tokenizer.json");
        let text =
            std::fs::read_to_string(&path).map_err(|source| CheckpointError::Io { path: path.clone(), source })?;
        let stop = eos_token_id.map(|v| match v {
            serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_u64()).map(|x| x as u32).collect(),
            other => other.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
        });
        let chat = ChatTemplate::from_dir(dir)?;
        Ok(Self { chat, ..Self::from_json(&text, &path.display().to_string(), stop)? })
    }

    /// This tokenizer with `chat` as its chat template.
    pub fn with_chat_template(self, chat: Option<ChatTemplate>) -> Self {
        Self { chat, ..self }
    }

    /// The checkpoint's chat template (`DIR/tokenizer_config.json`), if it has one.
    pub fn chat_template(&self) -> Option<&ChatTemplate> {
        self.chat.as_ref()
    }

    /// The `tokenizer.json` text.
    pub fn to_json(&self) -> String {
        self.inner.to_string(false).unwrap_or_else(|e| unreachable!("a loaded tokenizer serialises: {e}"))
    }

    /// Token ids of `text` (no special tokens added). A character-level tokenizer refuses characters
    /// outside its alphabet, naming the first.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        if self.char_level
            && let Some(c) = text.chars().find(|c| self.inner.token_to_id(&c.to_string()).is_none_or(|id| id == 0))
        {
            return Err(format!(
                "character {c:?} is not in the model's vocabulary ({} characters: {:?})",
                self.vocab_size() - 1,
                self.alphabet()
            ));
        }
        let enc = self.inner.encode(text, false).map_err(|e| format!("cannot tokenize: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Text of `ids`, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, true).unwrap_or_else(|e| format!("<undecodable: {e}>"))
    }

    /// The tokens that end a response.
    pub fn stop_ids(&self) -> &[u32] {
        &self.stop
    }

    /// Tokens in the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The characters of a character-level tokenizer, in id order (empty for other tokenizers).
    pub fn alphabet(&self) -> String {
        if !self.char_level {
            return String::new();
        }
        let mut v: Vec<(u32, String)> = self.inner.get_vocab(false).into_iter().map(|(s, i)| (i, s)).collect();
        v.sort();
        v.into_iter().filter(|(i, _)| *i != 0).map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_added_token_of_100_000_characters_is_refused_before_the_library_reads_it() {
        // Found by `era fuzz`: the library took two minutes to read this tokenizer.
        let t = LlmTokenizer::char_level("0123456789");
        let long = "[".repeat(100_000);
        let text = t.to_json().replacen("\"content\":\"<|endoftext|>\"", &format!("\"content\":\"{long}\""), 1);
        assert!(text.contains(&long));
        let e = LlmTokenizer::from_json(&text, "tokenizer.json", None).err().unwrap().to_string();
        assert!(e.contains("added token 0 is 100000 bytes long (at most 1024)"), "{e}");
    }

    #[test]
    fn malformed_json_in_the_decoder_is_an_error_not_a_panic() {
        // Found by `era fuzz`: the tokenizers library panics on this input instead of returning an error.
        let text = include_str!("../../tests/data/fuzz/tokenizer-decoder-panic.json");
        let e = LlmTokenizer::from_json(text, "tokenizer.json", None).err().unwrap().to_string();
        assert!(e.contains("tokenizer.json") && e.contains("not JSON"), "{e}");
    }

    #[test]
    fn char_level_round_trips_and_names_unknown_characters() {
        let t = LlmTokenizer::char_level("0123456789+=,>");
        assert_eq!(t.vocab_size(), 15);
        let ids = t.encode("12+9=21").unwrap();
        assert_eq!(ids, vec![2, 3, 11, 10, 12, 3, 2]);
        assert_eq!(t.decode(&[2, 3, 11, 10, 0]), "12+9");
        assert_eq!(t.stop_ids(), &[0]);
        let e = t.encode("1*2").unwrap_err();
        assert!(e.contains("'*'") && e.contains("not in the model's vocabulary"), "{e}");
        // Written and read back as tokenizer.json, it is the same tokenizer.
        let back = LlmTokenizer::from_json(&t.to_json(), "tokenizer.json", None).unwrap();
        assert_eq!(back.encode("12+9=21").unwrap(), ids);
        assert_eq!(back.alphabet(), "0123456789+=,>");
    }

    #[test]
    fn byte_level_bpe_as_qwen_ships_it() {
        // A byte-level BPE in Qwen2's layout: the 256 byte symbols, one merge ("Ġ" + "a" → "Ġa") and
        // the special end-of-text token.
        let bytes: Vec<char> = (b'!'..=b'~').map(char::from).chain(['Ġ']).collect();
        let mut vocab = serde_json::Map::new();
        for (i, c) in bytes.iter().enumerate() {
            vocab.insert(c.to_string(), json!(i));
        }
        vocab.insert("Ġa".into(), json!(bytes.len()));
        let spec = json!({
            "version": "1.0", "truncation": null, "padding": null,
            "added_tokens": [{"id": 96, "content": "<|endoftext|>", "single_word": false, "lstrip": false,
                              "rstrip": false, "normalized": false, "special": true}],
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
                 "behavior": "Isolated", "invert": false},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
            "post_processor": null,
            "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
            "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": ["Ġ a"]},
        });
        // Ids: 94 printable bytes and Ġ (0–94), "Ġa" (95), the end-of-text token (96).
        let t = LlmTokenizer::from_json(&spec.to_string(), "tokenizer.json", Some(vec![96])).unwrap();
        let ids = t.encode("b a").unwrap();
        // "b", then " a" merged into one token.
        assert_eq!(ids, vec![(b'b' - b'!') as u32, bytes.len() as u32]);
        assert_eq!(t.decode(&[ids[0], ids[1], 96]), "b a");
        assert_eq!(t.stop_ids(), &[96]);
        assert!(t.alphabet().is_empty());
        // Without eos_token_id in config.json the special token is found by name.
        assert_eq!(LlmTokenizer::from_json(&spec.to_string(), "t", None).unwrap().stop_ids(), &[96]);
        assert!(
            LlmTokenizer::from_json("{}", "dir/tokenizer.json", None)
                .unwrap_err()
                .to_string()
                .contains("dir/tokenizer.json")
        );
    }
}
