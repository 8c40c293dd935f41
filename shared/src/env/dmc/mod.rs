//! The DeepMind Control suite (dm_control 1.0.50) on MuJoCo 3.17.0: the tasks ERA's control claims
//! are made on, named `dmc/DOMAIN-TASK`.
//!
//! | id | obs | action | what |
//! |---|---|---|---|
//! | `dmc/cheetah-run` | 17 | 6 | planar cheetah, speed up to 10 m/s |
//! | `dmc/walker-walk`, `-run` | 24 | 6 | planar walker upright at 1 or 8 m/s |
//! | `dmc/hopper-hop` | 15 | 4 | planar hopper forward at 2 m/s |
//! | `dmc/quadruped-run` | 78 | 12 | four-legged ant-like body at 5 m/s |
//! | `dmc/humanoid-stand`, `-walk`, `-run` | 67 | 21 | 21-joint humanoid still, at 1 or 10 m/s |
//! | `dmc/dog-stand`, `-walk`, `-trot`, `-run` | 223 | 38 | muscle-filtered dog, still or at 1, 3, 9 m/s |
//!
//! Each domain file holds dm_control's numbers and rules for its tasks: the model file and the
//! edits its `make_model` makes in code, the control timestep, the reset randomisation, the
//! observation dict in its order (flattened as `flatten_observation` does) and the reward built
//! from [`rewards::Tolerance`]. [`Suite`] runs any of them as `control.Environment` does:
//!
//! - reset: `mj_resetData` and `mj_forward` without actuation, the task's `initialize_episode`,
//!   then `mj_forward` without actuation again;
//! - step: `ctrl = action`, then the legacy control step of [`physics::Physics::step`] with
//!   `n_sub_steps = control_timestep / timestep` physics steps;
//! - 1 000 control steps an episode (`time_limit / control_timestep`), which truncate and never
//!   terminate.
//!
//! The raw state (`--state`, [`crate::env::Env::reset_to`]) is `qpos ⊕ qvel ⊕ act`; setting it is
//! dm_control's `with physics.reset_context(): data.qpos[:] = …` (reset, write, forward without
//! actuation). The models are read from [`assets_dir`], where `scripts/setup-mujoco.sh` unpacks the
//! suite from the `dm-control` wheel (Apache-2.0, DeepMind): they are not part of era.
//!
//! The reset draws use era's own generator, so a seed gives other episodes than dm_control's
//! `RandomState` does; the draws' distributions are dm_control's (a test compares them).

pub mod rewards;

#[cfg(feature = "mujoco")]
pub mod cheetah;
#[cfg(feature = "mujoco")]
pub mod dog;
#[cfg(feature = "mujoco")]
pub mod hopper;
#[cfg(feature = "mujoco")]
pub mod humanoid;
#[cfg(feature = "mujoco")]
pub mod physics;
#[cfg(feature = "mujoco")]
pub mod quadruped;
#[cfg(feature = "mujoco")]
mod suite;
#[cfg(feature = "mujoco")]
pub mod walker;

#[cfg(feature = "mujoco")]
pub use suite::{Definition, Suite, Task, assets_dir, definition};

/// The dm_control release whose suite these tasks follow (the newest whose MuJoCo requirement
/// admits MuJoCo 3.17.0).
pub const DM_CONTROL_VERSION: &str = "1.0.50";
/// Environment variable naming the directory of dm_control's suite XMLs (`dm_control/suite`).
pub const ASSETS_VAR: &str = "ERA_DMC_ASSETS";

/// The ids of the DeepMind Control tasks (available with the `mujoco` feature).
pub const DMC_ENV_IDS: &[&str] = &[
    "dmc/cheetah-run",
    "dmc/walker-walk",
    "dmc/walker-run",
    "dmc/hopper-hop",
    "dmc/quadruped-run",
    "dmc/humanoid-stand",
    "dmc/humanoid-walk",
    "dmc/humanoid-run",
    "dmc/dog-stand",
    "dmc/dog-walk",
    "dmc/dog-trot",
    "dmc/dog-run",
];
