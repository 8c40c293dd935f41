//! The model a run starts from: the embedded tiny Qwen2-architecture model, or a Hugging Face
//! checkpoint directory.

use super::arithmetic::ALPHABET;
use super::hf_weights::{Qwen2Config, Weights};
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
