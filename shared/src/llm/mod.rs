//! LLM reinforcement learning with ERA (feature `llm`): GRPO on Qwen2-architecture models.
//!
//! - [`hf_weights`]: a Hugging Face checkpoint directory (`config.json`, `model.safetensors` or its
//!   shards, `f32`/`bf16`/`f16`), read and checked against its config;
//! - [`tokenizer`]: `tokenizer.json` through the `tokenizers` crate, and the embedded character-level one;
//!   [`chat`]: the checkpoint's chat template from `tokenizer_config.json`;
//! - [`qwen2`]: the decoder (RMSNorm, rotary embeddings, grouped-query attention, SwiGLU) with a KV cache;
//! - [`generate`]: batched sampling (temperature, top-k, top-p, greedy) until a stop token;
//! - [`arithmetic`]: the embedded task with verifiable answers, seeded, with a held-out test split;
//! - [`prompts`]: the user's problems from a JSON Lines or JSON file, [`reward`]: the rules that score
//!   responses against their answers (exact, numeric, contains, regex), [`task`]: either task as the
//!   trainer sees it;
//! - [`grpo`]: group advantages, dynamic sampling, the clipped token-mean loss, pass@k;
//! - [`config`]: a run's settings; [`source`]: the model it starts from; [`packing`]: batches for a
//!   forward pass;
//! - [`trainer`]: the supervised warm-up and GRPO with or without ERA, with checkpoints;
//! - `fast` (feature `fast`): the update's forward and backward by hand on the CPU's matrix kernels.

pub mod arithmetic;
pub mod chat;
pub mod config;
#[cfg(feature = "fast")]
pub mod fast;
pub mod generate;
pub mod grpo;
pub mod hf_weights;
pub mod packing;
pub mod prompts;
pub mod qwen2;
pub mod reward;
pub mod source;
pub mod task;
pub mod tokenizer;
pub mod trainer;
