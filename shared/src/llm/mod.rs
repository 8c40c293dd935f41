//! LLM reinforcement learning with ERA (feature `burn`): Qwen2-architecture checkpoints.
//!
//! - [`checkpoint`]: a Hugging Face checkpoint directory (`config.json`, `model.safetensors` or its
//!   shards, `f32`/`bf16`/`f16`), read and checked against its config.

pub mod checkpoint;
