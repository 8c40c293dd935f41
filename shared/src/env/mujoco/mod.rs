//! MuJoCo locomotion as Gymnasium v5 defines it: HalfCheetah, Hopper, Walker2d, Ant and Humanoid.
//!
//! The physics is MuJoCo 3.17.0 through `mujoco-rs` (feature `mujoco`); the models are Gymnasium's
//! own XMLs, read from [`assets_dir`] (`scripts/setup-mujoco.sh` unpacks them from the `gymnasium`
//! wheel). Each task file holds one [`Task`]: the numbers and rules of its Gymnasium class
//! (observation layout, reward terms, health ranges, frame skip, reset noise). [`Locomotion`] runs
//! any of them exactly as `MujocoEnv` does:
//!
//! - `reset`: `mj_resetData`, `qpos = qpos0 + noise`, `qvel = noise`, then `mj_forward`;
//! - `step`: `ctrl = action`, `frame_skip` × `mj_step`, then `mj_rnePostConstraint` (which fills
//!   `cfrc_ext`, the contact forces some observations and costs read).
//!
//! The raw state (`--state`, [`crate::env::Env::reset_to`]) is `qpos` followed by `qvel`. MuJoCo's
//! integration state holds more (the solver's warm start, time); checkpoints keep it through
//! [`Dynamics::sim_state`], so a resumed run continues bit for bit.

pub mod ant;
pub mod half_cheetah;
pub mod hopper;
pub mod humanoid;
pub mod walker2d;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use mujoco_rs::prelude::*;
use rand_distr::{Distribution, StandardNormal};

use super::{BoxSpace, Dynamics, EnvError, EnvRng, EnvSpec, Role, Scene, Shape};

/// The Gymnasium release whose v5 definitions and model files these tasks follow.
pub const GYMNASIUM_VERSION: &str = "1.4.0";
/// Environment variable naming the directory of Gymnasium's MuJoCo XMLs.
pub const ASSETS_VAR: &str = "ERA_MUJOCO_ASSETS";

/// Where the model XMLs are read from: `$ERA_MUJOCO_ASSETS`, else [`models_dir`] of
/// `gymnasium-1.4.0/assets`.
pub fn assets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(ASSETS_VAR) {
        return dir.into();
    }
    models_dir(&Path::new(&format!("gymnasium-{GYMNASIUM_VERSION}")).join("assets"))
}

/// `rel` (a folder of models as the setup script lays them out) beside the running program, in
/// `<bin>/../share/era/` where a release archive puts them, so an unpacked release runs the MuJoCo
/// tasks wherever it is moved; else in the setup script's [`cache_dir`].
pub fn models_dir(rel: &Path) -> PathBuf {
    let bundled =
        std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.join("share").join("era").join(rel)));
    match bundled {
        Some(dir) if dir.is_dir() => dir,
        _ => cache_dir().join(rel),
    }
}

/// The setup script's cache: `$ERA_CACHE_DIR`, else `$XDG_CACHE_HOME/era` or `~/.cache/era`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("ERA_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"))
            .join("era")
    })
}

/// How a task measures forward progress (its `x_velocity` is this quantity's change over `dt`).
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// `qpos[0]`, the root's x slide joint (HalfCheetah, Hopper, Walker2d).
    RootX,
    /// The x of a body's frame, `data.body(i).xpos[0]` (Ant: the torso, body 1).
    BodyX(usize),
    /// The x of the mass-weighted centre of all bodies' centres of mass (Humanoid).
    MassCenterX,
}

/// Extra observation blocks after `qpos` and `qvel`, in Gymnasium's order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extra {
    /// `cinert[1:]`: 10 numbers of com-based inertia per body except the world.
    Cinert,
    /// `cvel[1:]`: 6 numbers of com-based velocity per body except the world.
    Cvel,
    /// `qfrc_actuator[6:]`: actuator forces on every joint after the free root.
    QfrcActuator,
    /// `cfrc_ext[1:]`: 6 numbers of external (contact) force per body except the world,
    /// clipped to the range when one is given (Ant: [−1, 1]).
    CfrcExt(Option<(f64, f64)>),
}

/// The contact cost: `weight · Σ cfrc_ext²` over all bodies, the forces clipped first (Ant) or the
/// cost clipped after (Humanoid).
#[derive(Debug, Clone, Copy)]
pub struct ContactCost {
    /// The cost's weight.
    pub weight: f64,
    /// Clip each force component to this range before squaring.
    pub force_range: Option<(f64, f64)>,
    /// Clip the weighted sum to this range.
    pub cost_range: Option<(f64, f64)>,
}

/// Whether a state (`qpos`, `qvel`) is healthy.
pub type HealthCheck = fn(&[f64], &[f64]) -> bool;

/// One Gymnasium v5 locomotion task: its numbers and rules.
#[derive(Debug, Clone)]
pub struct Task {
    /// The id, e.g. `HalfCheetah-v5`.
    pub id: &'static str,
    /// The model file in [`assets_dir`].
    pub xml: &'static str,
    /// One line about the task.
    pub summary: &'static str,
    /// `qpos` then `qvel`, with their sizes (for `--state`).
    pub state_layout: &'static str,
    /// MuJoCo steps per environment step.
    pub frame_skip: usize,
    /// Leading `qpos` entries left out of the observation (the root's x, or x and y).
    pub skip_qpos: usize,
    /// Clip `qvel` in the observation to `[−c, c]` (Hopper and Walker2d: 10).
    pub clip_qvel: Option<f64>,
    /// Observation blocks after `qpos` and `qvel`.
    pub extras: &'static [Extra],
    /// How forward progress is measured.
    pub progress: Progress,
    /// Weight of the forward velocity in the reward.
    pub forward_reward_weight: f64,
    /// Weight of `Σ action²`.
    pub ctrl_cost_weight: f64,
    /// The contact cost, where the task has one.
    pub contact_cost: Option<ContactCost>,
    /// Reward for every step the body is healthy.
    pub healthy_reward: f64,
    /// Whether `qpos` and `qvel` are healthy; the episode terminates when not (no check: always).
    pub is_healthy: Option<HealthCheck>,
    /// Reset noise scale: `qpos0 + U(−s, s)`.
    pub reset_noise_scale: f64,
    /// The velocity noise at reset: `s · N(0, 1)` when true (HalfCheetah, Ant), else `U(−s, s)`.
    pub normal_qvel_noise: bool,
}

/// The task registered under `id`.
pub fn task(id: &str) -> Option<Task> {
    Some(match id {
        half_cheetah::ID => half_cheetah::task(),
        hopper::ID => hopper::task(),
        walker2d::ID => walker2d::task(),
        ant::ID => ant::task(),
        humanoid::ID => humanoid::task(),
        _ => return None,
    })
}

type Data = MjData<Arc<MjModel>>;

/// MuJoCo's data plus the progress measure read before the next step.
#[derive(Debug)]
struct Sim {
    data: Data,
    /// [`Locomotion::progress`] as the next step will see it "before". Gymnasium reads it from
    /// `xpos`/`xipos`, which `mj_step` leaves at the last substep's start; a restored snapshot cannot
    /// recompute that from `qpos`, so it is kept.
    progress: f64,
}

/// A [`Task`] simulated by MuJoCo: implements [`Dynamics`] exactly as Gymnasium's `MujocoEnv`.
#[derive(Debug)]
pub struct Locomotion {
    task: Task,
    model: Arc<MjModel>,
    /// The simulation; `Dynamics` takes `&self`, and one environment steps one at a time.
    sim: Mutex<Sim>,
    nq: usize,
    nv: usize,
    /// The time one environment step covers: `timestep · frame_skip`.
    dt: f64,
    obs_dims: usize,
    action: BoxSpace,
    /// The total mass, for [`Progress::MassCenterX`].
    total_mass: f64,
}

/// MuJoCo's warnings go to the console only: by default it also appends them to `MUJOCO_LOG.TXT`
/// in whatever directory era runs in.
pub(crate) fn configure_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let config = mujoco_rs::wrappers::mj_logging::log_config().with_logto_file(false);
        // SAFETY: MuJoCo is only reached through `Locomotion::new_in` and `dmc::Suite::new_in`, which
        // call this first; the
        // `Once` makes every other thread wait here, so no MuJoCo call runs while the global
        // configuration is written.
        #[allow(unsafe_code)]
        unsafe {
            mujoco_rs::wrappers::mj_logging::set_log_config(config)
        };
    });
}

fn unavailable(id: &str, reason: String) -> EnvError {
    EnvError::Unavailable { id: id.to_string(), reason }
}

impl Locomotion {
    /// Loads the task's model from [`assets_dir`].
    pub fn new(task: Task) -> Result<Self, EnvError> {
        Self::new_in(task, &assets_dir())
    }

    /// Loads the task's model from the directory `assets`.
    pub fn new_in(task: Task, assets: &Path) -> Result<Self, EnvError> {
        configure_logging();
        let path = assets.join(task.xml);
        if !path.is_file() {
            return Err(unavailable(
                task.id,
                format!(
                    "model file {} not found: run scripts/setup-mujoco.sh, or set {ASSETS_VAR} to the directory of \
                     Gymnasium {GYMNASIUM_VERSION}'s MuJoCo XMLs",
                    path.display()
                ),
            ));
        }
        let model = MjModel::from_xml(&path).map_err(|e| unavailable(task.id, format!("{}: {e:?}", path.display())))?;
        let model = Arc::new(model);
        let data = MjData::try_new(model.clone()).map_err(|e| unavailable(task.id, format!("{e:?}")))?;
        let (nq, nv, nbody) = (model.nq() as usize, model.nv() as usize, model.nbody() as usize);
        let extra: usize = task
            .extras
            .iter()
            .map(|e| match e {
                Extra::Cinert => 10 * (nbody - 1),
                Extra::Cvel | Extra::CfrcExt(_) => 6 * (nbody - 1),
                Extra::QfrcActuator => nv - 6,
            })
            .sum();
        let ranges = model.actuator_ctrlrange();
        // Gymnasium's action space is float32: its bounds are the ranges rounded to f32.
        let action = BoxSpace {
            low: ranges.iter().map(|r| f64::from(r[0] as f32)).collect(),
            high: ranges.iter().map(|r| f64::from(r[1] as f32)).collect(),
        };
        let total_mass = model.body_mass().iter().sum();
        let dt = model.opt().timestep * task.frame_skip as f64;
        Ok(Self {
            obs_dims: nq - task.skip_qpos + nv + extra,
            task,
            sim: Mutex::new(Sim { data, progress: 0.0 }),
            model,
            nq,
            nv,
            dt,
            action,
            total_mass,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Sim> {
        // A panic elsewhere cannot leave MuJoCo's data half-written: every write here is whole.
        self.sim.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Gymnasium's `reset` after the noise is drawn: reset the data, set the state, `mj_forward`.
    fn set_state(&self, sim: &mut Sim, state: &[f64]) {
        let data = &mut sim.data;
        data.reset();
        data.qpos_mut().copy_from_slice(&state[..self.nq]);
        data.qvel_mut().copy_from_slice(&state[self.nq..]);
        data.forward();
        sim.progress = self.progress(&sim.data);
    }

    fn progress(&self, data: &Data) -> f64 {
        match self.task.progress {
            Progress::RootX => data.qpos()[0],
            Progress::BodyX(body) => data.xpos()[body][0],
            Progress::MassCenterX => {
                let mass = self.model.body_mass();
                data.xipos().iter().zip(mass).map(|(p, m)| m * p[0]).sum::<f64>() / self.total_mass
            }
        }
    }

    fn observation(&self, data: &Data) -> Vec<f32> {
        let mut obs = Vec::with_capacity(self.obs_dims);
        obs.extend(data.qpos()[self.task.skip_qpos..].iter().map(|&v| v as f32));
        let clip = self.task.clip_qvel.unwrap_or(f64::INFINITY);
        obs.extend(data.qvel().iter().map(|&v| v.clamp(-clip, clip) as f32));
        for extra in self.task.extras {
            match *extra {
                Extra::Cinert => obs.extend(data.cinert()[1..].iter().flatten().map(|&v| v as f32)),
                Extra::Cvel => obs.extend(data.cvel()[1..].iter().flatten().map(|&v| v as f32)),
                Extra::QfrcActuator => obs.extend(data.qfrc_actuator()[6..].iter().map(|&v| v as f32)),
                Extra::CfrcExt(range) => {
                    let (lo, hi) = range.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
                    obs.extend(data.cfrc_ext()[1..].iter().flatten().map(|&v| v.clamp(lo, hi) as f32));
                }
            }
        }
        obs
    }

    fn contact_cost(&self, data: &Data) -> f64 {
        let Some(c) = self.task.contact_cost else { return 0.0 };
        let (lo, hi) = c.force_range.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        let sum: f64 = data.cfrc_ext().iter().flatten().map(|&f| f.clamp(lo, hi).powi(2)).sum();
        let (lo, hi) = c.cost_range.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        (c.weight * sum).clamp(lo, hi)
    }

    /// Makes sure the simulation holds `state` (it does unless a caller changed the state behind
    /// the environment's back, e.g. a snapshot restored without its simulator state).
    fn sync(&self, sim: &mut Sim, state: &[f64]) {
        if sim.data.qpos() != &state[..self.nq] || sim.data.qvel() != &state[self.nq..] {
            self.set_state(sim, state);
        }
    }
}

impl Dynamics for Locomotion {
    fn spec(&self) -> EnvSpec {
        EnvSpec {
            id: self.task.id,
            observation: BoxSpace::uniform(self.obs_dims, f64::NEG_INFINITY, f64::INFINITY),
            action: self.action.clone(),
            max_episode_steps: 1000,
            state_layout: self.task.state_layout,
            summary: self.task.summary,
        }
    }

    fn initial_state(&self, rng: &mut EnvRng) -> Vec<f64> {
        use rand::Rng;
        let s = self.task.reset_noise_scale;
        let mut state: Vec<f64> = self.model.qpos0().iter().map(|q| q + rng.random_range(-s..=s)).collect();
        for _ in 0..self.nv {
            let v: f64 = if self.task.normal_qvel_noise {
                s * Distribution::<f64>::sample(&StandardNormal, rng)
            } else {
                rng.random_range(-s..=s)
            };
            state.push(v);
        }
        state
    }

    fn check_state(&self, _state: &[f64]) -> Result<(), EnvError> {
        // MuJoCo takes any finite qpos/qvel (quaternions are normalised where they are used).
        Ok(())
    }

    fn begin(&self, state: &[f64]) {
        self.set_state(&mut self.lock(), state);
    }

    fn observe(&self, state: &[f64]) -> Vec<f32> {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        self.observation(&sim.data)
    }

    fn step(&self, state: &mut [f64], action: &[f32]) -> (f64, bool) {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        let before = sim.progress;
        let data = &mut sim.data;
        for (c, &a) in data.ctrl_mut().iter_mut().zip(action) {
            *c = f64::from(a);
        }
        for _ in 0..self.task.frame_skip {
            data.step();
        }
        data.rne_post_constraint();
        let after = self.progress(data);
        let velocity = (after - before) / self.dt;
        let (qpos, qvel) = (data.qpos(), data.qvel());
        state[..self.nq].copy_from_slice(qpos);
        state[self.nq..].copy_from_slice(qvel);
        let healthy = self.task.is_healthy.is_none_or(|f| f(qpos, qvel));
        // Gymnasium squares the float32 action in float32.
        let ctrl_cost = self.task.ctrl_cost_weight * f64::from(action.iter().map(|a| a * a).sum::<f32>());
        let reward = self.task.forward_reward_weight * velocity + if healthy { self.task.healthy_reward } else { 0.0 }
            - ctrl_cost
            - self.contact_cost(data);
        sim.progress = after;
        (reward, !healthy)
    }

    /// MuJoCo's `mjSTATE_INTEGRATION` (time, qpos, qvel, warm start, controls, …) followed by the
    /// progress measure the next step starts from.
    fn sim_state(&self) -> Vec<f64> {
        let sim = self.lock();
        let mut state = sim.data.state(MjtState::mjSTATE_INTEGRATION as u32).into_vec();
        state.push(sim.progress);
        state
    }

    fn restore_sim_state(&self, saved: &[f64]) -> Result<(), EnvError> {
        let mut sim = self.lock();
        let spec = MjtState::mjSTATE_INTEGRATION as u32;
        let expected = self.model.state_size(spec) + 1;
        let Some((&progress, state)) = saved.split_last().filter(|_| saved.len() == expected) else {
            return Err(EnvError::Length {
                env: self.task.id,
                what: "simulator state",
                got: saved.len(),
                expected,
                layout: "MuJoCo's mjSTATE_INTEGRATION, then the progress measure",
            });
        };
        sim.data.set_state(state, spec).map_err(|e| unavailable(self.task.id, format!("{e:?}")))?;
        // The next step recomputes everything from the integration state, except "before".
        sim.progress = progress;
        Ok(())
    }

    fn scene(&self, state: &[f64]) -> Scene {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        side_view(&self.model, &sim.data)
    }

    #[cfg(feature = "render")]
    fn renderer(&self, width: u32, height: u32) -> Option<Result<mujoco_rs::renderer::MjRenderer, String>> {
        Some(super::render::renderer(&self.model, width, height))
    }

    #[cfg(feature = "render")]
    fn render(&self, state: &[f64], renderer: &mut mujoco_rs::renderer::MjRenderer) -> Result<(), String> {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        super::render::draw(&mut sim.data, renderer)
    }
}

/// A side view (x, z) of a MuJoCo body tree: a segment from each body to its parent, a circle at
/// each body's origin, the ground under the root.
pub(crate) fn side_view<M: mujoco_rs::wrappers::mj_model::traits::ModelType>(
    model: &MjModel,
    data: &MjData<M>,
) -> Scene {
    let xpos = data.xpos();
    let parents = model.body_parentid();
    let mut shapes = Vec::new();
    let root_x = xpos.get(1).map_or(0.0, |p| p[0]);
    shapes.push(Shape::Polyline { points: vec![[root_x - 3.0, 0.0], [root_x + 3.0, 0.0]], role: Role::Ground });
    for (body, p) in xpos.iter().enumerate().skip(1) {
        let parent = parents[body] as usize;
        if parent > 0 {
            let q = xpos[parent];
            shapes.push(Shape::Segment { from: [q[0], q[2]], to: [p[0], p[2]], width: 0.06, role: Role::Body });
        }
        shapes.push(Shape::Circle { center: [p[0], p[2]], radius: 0.04, role: Role::Joint });
    }
    Scene { view: [root_x - 2.0, root_x + 2.0, -0.5, 2.5], shapes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    #[test]
    fn the_registered_ids_are_the_tasks() {
        for id in crate::env::MUJOCO_ENV_IDS {
            assert_eq!(task(id).map(|t| t.id), Some(*id));
        }
    }

    #[test]
    fn every_task_has_gymnasiums_spaces() {
        // (id, obs, action) from Gymnasium 1.4.0's observation_space / action_space.
        for (id, obs, act) in [
            ("HalfCheetah-v5", 17, 6),
            ("Hopper-v5", 11, 3),
            ("Walker2d-v5", 17, 6),
            ("Ant-v5", 105, 8),
            ("Humanoid-v5", 348, 17),
        ] {
            let env = Env::make(id).unwrap();
            assert_eq!((env.spec().observation.dims(), env.spec().action.dims()), (obs, act), "{id}");
            assert_eq!(env.spec().max_episode_steps, 1000);
        }
    }

    #[test]
    fn missing_models_are_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = Locomotion::new_in(half_cheetah::task(), dir.path()).unwrap_err().to_string();
        assert!(err.contains("HalfCheetah-v5") && err.contains("half_cheetah.xml"), "{err}");
        assert!(err.contains("setup-mujoco.sh") && err.contains(ASSETS_VAR), "{err}");
    }
}
