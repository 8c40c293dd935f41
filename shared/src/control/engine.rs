//! The two traits the control loop drives an agent through, on either [`Engine`].
//!
//! SAC and PPO each exist twice: as burn modules on any backend ([`super::sac::Sac`],
//! [`super::ppo::Ppo`]) and, with feature `fast`, as the hand-written CPU path
//! ([`super::fast::sac::Sac`], [`super::fast::ppo::Ppo`]). Both start from the same networks and draw
//! the same random numbers for a seed. [`SacLearner`] and [`PpoLearner`] are what the trainer needs of
//! either; what they compute comes back as a [`Readback`], still on the device for burn (read it
//! asynchronously, as WebGPU requires) and already on the host for the fast path.

use burn::tensor::backend::AutodiffBackend;

use super::ppo::{Ppo, PpoConfig, Rollout};
use super::replay::Batch;
use super::sac::{Sac, SacConfig};
pub use crate::train::{Engine, Readback};
use crate::train::{Part, TrainError, TrainRng};

/// What the control loop asks of an agent of either algorithm on either engine, apart from the
/// device-bound calls (those are in [`SacLearner`] and [`PpoLearner`]).
pub trait Agent: Send {
    /// The algorithm's settings.
    type Config;

    /// The settings.
    fn config(&self) -> &Self::Config;

    /// Moves the ERA target to `h0` nats (whole action) from the next update on.
    fn set_h0(&mut self, h0: f64) -> Result<(), TrainError>;

    /// The networks and optimiser state, as checkpoint parts.
    fn save(&self) -> Result<Vec<Part>, TrainError>;

    /// Continues from [`Agent::save`]'s parts.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError>;
}

/// A SAC or SAC-ERA agent.
pub trait SacLearner<B: AutodiffBackend>: Agent<Config = SacConfig> {
    /// Actions for observations `[rows × obs_dim]`; `deterministic` takes the mean action.
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2>;

    /// One gradient update on `batch`; its statistics (in [`super::sac::stat_keys`]'s order) when
    /// `stats`.
    fn update(&mut self, batch: &Batch, rng: &mut TrainRng, stats: bool) -> Option<Readback<B::InnerBackend, 1>>;
}

/// A PPO or PPO-ERA agent.
pub trait PpoLearner<B: AutodiffBackend>: Agent<Config = PpoConfig> {
    /// Rows of `[action, log π, V]` for normalised observations `[rows × obs_dim]`; `deterministic`
    /// takes the mean action.
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2>;

    /// The update epochs on a rollout with the learning rate at `lr_frac` of its start; the last
    /// minibatch's statistics (in [`super::ppo::stat_keys`]'s order).
    fn update(&mut self, rollout: &Rollout, lr_frac: f64, rng: &mut TrainRng) -> Readback<B::InnerBackend, 1>;
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
        Engine::Burn => Ok(Box::new(Sac::<B>::new(cfg.clone(), o, d, rng, device)?)),
        #[cfg(feature = "fast")]
        Engine::Fast => Ok(Box::new(super::fast::sac::Sac::new(cfg.clone(), o, d, rng)?)),
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
        Engine::Burn => Ok(Box::new(Ppo::<B>::new(cfg.clone(), o, d, n, rng, device)?)),
        #[cfg(feature = "fast")]
        Engine::Fast => Ok(Box::new(super::fast::ppo::Ppo::new(cfg.clone(), o, d, n, rng)?)),
        #[cfg(not(feature = "fast"))]
        Engine::Fast => Err(TrainError::no_fast_path()),
    }
}
