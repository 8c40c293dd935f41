//! `era train|eval|bench control`: SAC-ERA, SAC, PPO-ERA and PPO on the environments of `era env list`.

pub mod args;
pub mod bench;
pub mod train;
