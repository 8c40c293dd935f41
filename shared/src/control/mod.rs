//! Continuous-control agents with and without ERA, and the training loop they share (feature `burn`).
//!
//! - [`sac`]: SAC-ERA as the authors built it (truncated normal on `[−1, 1]` with `loc = tanh μ`, the
//!   ERA log-std head, no temperature) and SAC as the field knows it (tanh-squashed Gaussian, learned α);
//! - [`ppo`]: PPO and PPO-ERA (the log-std, a parameter or a head, passes through the ERA activation);
//! - [`config`]: a run's settings; [`engine`]: the burn agents and the fast path behind one pair of
//!   traits;
//! - [`trainer`]: the loop that steps environments, fills buffers, updates, evaluates and reports
//!   metrics, identical on the command line and in the browser.
//!
//! What training in every domain shares (errors, the generator, device reads, checkpoint parts) is in
//! [`crate::train`].

pub mod config;
pub mod engine;
#[cfg(feature = "fast")]
pub mod fast;
pub mod mlp;
pub mod normalize;
pub mod policy;
pub mod ppo;
pub mod replay;
pub mod sac;
pub mod trainer;

pub use config::{AgentConfig, Algo, ControlConfig, DMC_EVAL_EVERY};
pub use trainer::ControlTrainer;
