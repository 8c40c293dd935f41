//! The two traits the control loop drives an agent through, on either [`Engine`].
//!
//! SAC and PPO each exist twice: as burn modules on any backend ([`super::sac::Sac`],
//! [`super::ppo::Ppo`]) and, with feature `fast`, as the hand-written CPU path
//! ([`super::fast::sac::Sac`], [`super::fast::ppo::Ppo`]). Both start from the same networks and draw
//! the same random numbers for a seed. [`SacLearner`] and [`PpoLearner`] are what the trainer needs of
//! either; what they compute comes back as a [`Readback`], still on the device for burn (read it
//! asynchronously, as WebGPU requires) and already on the host for the fast path.

use burn::tensor::backend::AutodiffBackend;

use super::policy::EraHead;
use super::ppo::{Ppo, PpoConfig, Rollout};
use super::replay::Batch;
use super::sac::{Sac, SacConfig};
pub use crate::train::{Engine, Readback};
use crate::train::{Part, TrainError, TrainRng};

/// What the control loop asks of an agent of either algorithm on either engine, apart from the
/// device-bound calls (those are in [`SacLearner`] and [`PpoLearner`]).
///
/// An agent holds its networks, optimisers and the ERA head built from the settings, not the settings
/// themselves: those live once, in the trainer's [`super::config::ControlConfig`], and are lent to
/// each update.
pub trait Agent: Send {
    /// Uses `head` from the next update on, after the trainer moved the ERA target
    /// ([`super::policy::EraConfig::retarget`]); the networks and δ are kept.
    fn set_era(&mut self, head: EraHead);

    /// The networks and optimiser state, as checkpoint parts.
    fn save(&self) -> Result<Vec<Part>, TrainError>;

    /// Continues from [`Agent::save`]'s parts.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError>;
}

/// A SAC or SAC-ERA agent.
pub trait SacLearner<B: AutodiffBackend>: Agent {
    /// Actions for observations `[rows × obs_dim]`; `deterministic` takes the mean action.
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2>;

    /// One gradient update on `batch` with the settings `cfg` (those the agent was built with); its
    /// statistics (in [`super::sac::stat_keys`]'s order) when `stats`.
    fn update(
        &mut self,
        cfg: &SacConfig,
        batch: &Batch,
        rng: &mut TrainRng,
        stats: bool,
    ) -> Option<Readback<B::InnerBackend, 1>>;
}

/// A PPO or PPO-ERA agent.
pub trait PpoLearner<B: AutodiffBackend>: Agent {
    /// Rows of `[action, log π, V]` for normalised observations `[rows × obs_dim]`; `deterministic`
    /// takes the mean action.
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2>;

    /// The update epochs on a rollout with the settings `cfg` (those the agent was built with) and the
    /// learning rate at `lr_frac` of its start; the last minibatch's statistics (in
    /// [`super::ppo::stat_keys`]'s order).
    fn update(
        &mut self,
        cfg: &PpoConfig,
        rollout: &Rollout,
        lr_frac: f64,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 1>;
}

/// A fresh SAC agent on `engine` for `o` observations and `d` actions.
pub fn sac<B: AutodiffBackend>(
    engine: Engine,
    cfg: &SacConfig,
    (o, d): (usize, usize),
    rng: &mut TrainRng,
    device: &B::Device,
) -> Result<Box<dyn SacLearner<B>>, TrainError> {
    match engine {
        Engine::Burn => Ok(Box::new(Sac::<B>::new(cfg, o, d, rng, device)?)),
        #[cfg(feature = "fast")]
        Engine::Fast => Ok(Box::new(super::fast::sac::Sac::new(cfg, o, d, rng)?)),
        #[cfg(not(feature = "fast"))]
        Engine::Fast => Err(TrainError::no_fast_path()),
    }
}

/// A fresh PPO agent on `engine` for `n` copies of an environment with `o` observations and `d`
/// actions.
pub fn ppo<B: AutodiffBackend>(
    engine: Engine,
    cfg: &PpoConfig,
    (o, d, n): (usize, usize, usize),
    rng: &mut TrainRng,
    device: &B::Device,
) -> Result<Box<dyn PpoLearner<B>>, TrainError> {
    match engine {
        Engine::Burn => Ok(Box::new(Ppo::<B>::new(cfg, o, d, n, rng, device)?)),
        #[cfg(feature = "fast")]
        Engine::Fast => Ok(Box::new(super::fast::ppo::Ppo::new(cfg, o, d, n, rng)?)),
        #[cfg(not(feature = "fast"))]
        Engine::Fast => Err(TrainError::no_fast_path()),
    }
}
