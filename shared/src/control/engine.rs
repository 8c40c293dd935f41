//! The two traits the control loop drives an agent through, on either [`Engine`].
//!
//! SAC and PPO each exist twice: as burn modules on any backend ([`super::sac::Sac`],
//! [`super::ppo::Ppo`]) and, with feature `fast`, as the hand-written CPU path
//! ([`super::fast::sac::Sac`], [`super::fast::ppo::Ppo`]). Both start from the same networks and draw
//! the same random numbers for a seed. [`SacLearner`] and [`PpoLearner`] are what the trainer needs of
//! either; what they compute comes back as a [`Readback`], still on the device for burn (read it
//! asynchronously, as WebGPU requires) and already on the host for the fast path.

use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};

use super::ppo::{Ppo, PpoConfig, Rollout};
use super::replay::Batch;
use super::sac::{Sac, SacConfig};
pub use crate::train::Engine;
use crate::train::{Part, TrainError, TrainRng, read};

/// Values an agent computed: on the device (burn) or already on the host (fast path).
pub enum Readback<B: Backend, const D: usize> {
    /// Still on the device.
    Device(Tensor<B, D>),
    /// On the host.
    Host(Vec<f32>),
}

impl<B: Backend, const D: usize> Readback<B, D> {
    /// The values, row-major, reading the device if they are there.
    pub async fn read(self) -> Result<Vec<f32>, TrainError> {
        match self {
            Self::Device(t) => read(t).await,
            Self::Host(v) => Ok(v),
        }
    }
}

/// What the control loop asks of an agent of either algorithm on either engine.
pub trait Agent<B: AutodiffBackend>: Send {
    /// The algorithm's settings.
    type Config;

    /// The settings.
    fn config(&self) -> &Self::Config;

    /// The policy on observations `[rows × obs_dim]` (PPO: normalised): SAC gives actions, PPO rows
    /// of `[action, log π, V]`; `deterministic` takes the mean action.
    fn act(
        &mut self,
        obs: &[f32],
        rows: usize,
        deterministic: bool,
        rng: &mut TrainRng,
    ) -> Readback<B::InnerBackend, 2>;

    /// Moves the ERA target to `h0` nats (whole action) from the next update on.
    fn set_h0(&mut self, h0: f64) -> Result<(), TrainError>;

    /// The networks and optimiser state, as checkpoint parts.
    fn save(&self) -> Result<Vec<Part>, TrainError>;

    /// Continues from [`Agent::save`]'s parts.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError>;
}

/// A SAC or SAC-ERA agent.
pub trait SacLearner<B: AutodiffBackend>: Agent<B, Config = SacConfig> {
    /// One gradient update on `batch`; its statistics (in [`super::sac::stat_keys`]'s order) when
    /// `stats`.
    fn update(&mut self, batch: &Batch, rng: &mut TrainRng, stats: bool) -> Option<Readback<B::InnerBackend, 1>>;
}

/// A PPO or PPO-ERA agent.
pub trait PpoLearner<B: AutodiffBackend>: Agent<B, Config = PpoConfig> {
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

/// [`Agent`] for an agent type whose inherent methods have the trait's names; `$readback` (the variant) wraps what
/// `act` returns into a [`Readback`].
macro_rules! agent_impl {
    ([$($generics:tt)*] $agent:ty, $config:ty, $readback:ident) => {
        impl<$($generics)*> Agent<B> for $agent {
            type Config = $config;

            fn config(&self) -> &$config {
                <$agent>::config(self)
            }

            fn act(
                &mut self,
                obs: &[f32],
                rows: usize,
                deterministic: bool,
                rng: &mut TrainRng,
            ) -> Readback<B::InnerBackend, 2> {
                Readback::$readback(<$agent>::act(self, obs, rows, deterministic, rng))
            }

            fn set_h0(&mut self, h0: f64) -> Result<(), TrainError> {
                <$agent>::set_h0(self, h0)
            }

            fn save(&self) -> Result<Vec<Part>, TrainError> {
                <$agent>::save(self)
            }

            fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
                <$agent>::load(self, parts)
            }
        }
    };
}

agent_impl!([B: AutodiffBackend] Sac<B>, SacConfig, Device);
agent_impl!([B: AutodiffBackend] Ppo<B>, PpoConfig, Device);
#[cfg(feature = "fast")]
agent_impl!([B: AutodiffBackend] super::fast::sac::Sac, SacConfig, Host);
#[cfg(feature = "fast")]
agent_impl!([B: AutodiffBackend] super::fast::ppo::Ppo, PpoConfig, Host);

impl<B: AutodiffBackend> SacLearner<B> for Sac<B> {
    fn update(&mut self, batch: &Batch, rng: &mut TrainRng, stats: bool) -> Option<Readback<B::InnerBackend, 1>> {
        Sac::update(self, batch, rng, stats).map(Readback::Device)
    }
}

impl<B: AutodiffBackend> PpoLearner<B> for Ppo<B> {
    fn update(&mut self, rollout: &Rollout, lr_frac: f64, rng: &mut TrainRng) -> Readback<B::InnerBackend, 1> {
        Readback::Device(Ppo::update(self, rollout, lr_frac, rng))
    }
}

#[cfg(feature = "fast")]
impl<B: AutodiffBackend> SacLearner<B> for super::fast::sac::Sac {
    fn update(&mut self, batch: &Batch, rng: &mut TrainRng, stats: bool) -> Option<Readback<B::InnerBackend, 1>> {
        super::fast::sac::Sac::update(self, batch, rng, stats).map(Readback::Host)
    }
}

#[cfg(feature = "fast")]
impl<B: AutodiffBackend> PpoLearner<B> for super::fast::ppo::Ppo {
    fn update(&mut self, rollout: &Rollout, lr_frac: f64, rng: &mut TrainRng) -> Readback<B::InnerBackend, 1> {
        Readback::Host(super::fast::ppo::Ppo::update(self, rollout, lr_frac, rng))
    }
}
