//! `era train|eval|bench llm` and `era generate`: GRPO with or without ERA on Qwen2-architecture models.

pub mod args;
pub mod bench;
pub mod train;
