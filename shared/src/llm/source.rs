//! The model a run starts from: the embedded tiny Qwen2-architecture model, or a Hugging Face
//! checkpoint directory.

use super::arithmetic::ALPHABET;
use super::hf_weights::Weights;
use super::qwen2::Qwen2Config;
use super::qwen2::random_weights;
use super::tokenizer::LlmTokenizer;

/// The embedded tiny model: the Qwen2 architecture at 0.99 M parameters over the task's 15 characters.
pub fn tiny_model() -> (Qwen2Config, LlmTokenizer) {
    let tokenizer = LlmTokenizer::char_level(ALPHABET);
    let config = Qwen2Config {
        vocab_size: tokenizer.vocab_size(),
        hidden_size: 128,
        intermediate_size: 512,
        num_hidden_layers: 4,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        max_position_embeddings: 128,
        rms_norm_eps: 1e-6,
        rope_theta: 10_000.0,
        tie_word_embeddings: true,
        eos_token_id: Some(serde_json::json!(0)),
    };
    (config, tokenizer)
}

/// The context of [`tiny_text_model`], in characters: a word problem, its worked answer and room to spare.
pub const TINY_TEXT_CONTEXT: usize = 256;

/// The tiny model for the user's own problems: [`tiny_model`]'s shape over a character vocabulary of
/// `alphabet` (the characters of a problem file, see
/// [`LlmConfig::file_alphabet`](super::config::LlmConfig::file_alphabet)) with a context of
/// [`TINY_TEXT_CONTEXT`] characters.
pub fn tiny_text_model(alphabet: &str) -> (Qwen2Config, LlmTokenizer) {
    let (tiny, _) = tiny_model();
    let tokenizer = LlmTokenizer::char_level(alphabet);
    let config = Qwen2Config { vocab_size: tokenizer.vocab_size(), max_position_embeddings: TINY_TEXT_CONTEXT, ..tiny };
    (config, tokenizer)
}

/// Published Qwen2-architecture shapes, by name, for benchmarks with random weights (no download):
/// `qwen2.5-0.5b` is the `config.json` of Qwen/Qwen2.5-0.5B (494 M parameters, tied embeddings).
/// The tokenizer stays the tiny model's; only the vocabulary size of the embedding follows the shape.
pub fn published_shape(name: &str) -> Option<Qwen2Config> {
    let (tiny, _) = tiny_model();
    match name {
        "tiny" => Some(tiny),
        "qwen2.5-0.5b" => Some(Qwen2Config {
            vocab_size: 151_936,
            hidden_size: 896,
            intermediate_size: 4864,
            num_hidden_layers: 24,
            num_attention_heads: 14,
            num_key_value_heads: 2,
            max_position_embeddings: 32_768,
            rms_norm_eps: 1e-6,
            rope_theta: 1_000_000.0,
            tie_word_embeddings: true,
            ..tiny
        }),
        _ => None,
    }
}

/// The names [`published_shape`] knows.
pub const PUBLISHED_SHAPES: [&str; 2] = ["tiny", "qwen2.5-0.5b"];

/// A model to train: its architecture, starting weights and tokenizer.
#[derive(Debug, Clone)]
pub struct ModelSource {
    /// The architecture.
    pub config: Qwen2Config,
    /// The starting weights.
    pub weights: Weights,
    /// The tokenizer.
    pub tokenizer: LlmTokenizer,
}

impl ModelSource {
    /// The embedded tiny model, freshly initialised from `seed`.
    pub fn tiny(seed: u64) -> Self {
        let (config, tokenizer) = tiny_model();
        let weights = random_weights(&config, seed);
        Self { config, weights, tokenizer }
    }

    /// [`tiny_text_model`] over `alphabet`, freshly initialised from `seed`.
    pub fn tiny_text(alphabet: &str, seed: u64) -> Self {
        let (config, tokenizer) = tiny_text_model(alphabet);
        let weights = random_weights(&config, seed);
        Self { config, weights, tokenizer }
    }

    /// Random weights (from `seed`) of a shape [`published_shape`] knows, with the tiny model's
    /// tokenizer: a real-sized model without a download, for benchmarks and memory checks.
    pub fn random(shape: &str, seed: u64) -> Option<Self> {
        let config = published_shape(shape)?;
        let (_, tokenizer) = tiny_model();
        let weights = random_weights(&config, seed);
        Some(Self { config, weights, tokenizer })
    }

    /// A Hugging Face directory: `config.json`, `model.safetensors` (or shards), `tokenizer.json`.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, super::hf_weights::CheckpointError> {
        let config = Qwen2Config::from_dir(dir)?;
        let weights = Weights::from_dir(dir, &config)?;
        let tokenizer = LlmTokenizer::from_dir(dir, config.eos_token_id.as_ref())?;
        Ok(Self { config, weights, tokenizer })
    }

    /// Parameter count.
    pub fn parameters(&self) -> usize {
        self.weights.iter().map(|(_, t)| t.values.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tiny_text_model_reads_every_character_of_its_alphabet_and_only_those() {
        let (config, tokenizer) = tiny_text_model("\n #*+-=?AHaehnors0123456789");
        // 27 characters (newline, space, 5 signs, 10 letters, 10 digits) and the end-of-sequence token.
        assert_eq!((config.vocab_size, config.max_position_embeddings), (28, TINY_TEXT_CONTEXT));
        let text = "Ana has 4+5=9?\n#### 9";
        assert_eq!(tokenizer.decode(&tokenizer.encode(text).unwrap()), text);
        assert!(tokenizer.encode("Ana has a cat.").is_err(), "c, t and . are not in the alphabet");
    }

    #[test]
    fn the_published_qwen2_5_0_5b_shape_has_its_published_parameter_count() {
        let c = published_shape("qwen2.5-0.5b").unwrap();
        c.check().unwrap();
        // Embedding 151 936 × 896 (tied), per layer: q 896² + 896, k and v 896·128 + 128 each, o 896²,
        // MLP 3 · 896 · 4864, two norms 2 · 896; final norm 896. Qwen's model card says 0.49 B.
        let layer = 896 * 896 + 896 + 2 * (896 * 128 + 128) + 896 * 896 + 3 * 896 * 4864 + 2 * 896;
        let total = 151_936 * 896 + 24 * layer + 896;
        assert_eq!(total, 494_032_768);
        let listed: usize = c.tensors().iter().map(|(_, shape)| shape.iter().product::<usize>()).sum();
        assert_eq!(listed, total);
        assert!(published_shape("gpt-5").is_none());
        for name in PUBLISHED_SHAPES {
            assert!(published_shape(name).is_some(), "{name}");
        }
    }
}
