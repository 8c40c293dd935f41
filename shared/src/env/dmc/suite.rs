//! [`Suite`]: one dm_control task as era's [`Dynamics`], and the registry of task definitions.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use mujoco_rs::prelude::*;

use super::physics::{Edit, Physics};
use super::{ASSETS_VAR, DM_CONTROL_VERSION};
use crate::env::{BoxSpace, Dynamics, EnvError, EnvRng, EnvSpec, Scene};

/// What a dm_control task does at reset, what it observes and what it rewards.
pub trait Task: Send + Sync + std::fmt::Debug {
    /// dm_control's `initialize_episode`, run after `physics.reset()` (the reset's closing
    /// `after_reset` is [`Suite`]'s).
    fn initialize_episode(&self, physics: &mut Physics, rng: &mut EnvRng);
    /// The observation dict's values in its order, flattened into `obs`.
    fn observation(&self, physics: &Physics, obs: &mut Vec<f64>);
    /// The reward after a step.
    fn reward(&self, physics: &Physics) -> f64;
}

/// A task's constants, as its dm_control loader function sets them.
#[derive(Clone, Copy)]
pub struct Definition {
    /// The id, `dmc/DOMAIN-TASK`.
    pub id: &'static str,
    /// The model file in [`assets_dir`].
    pub xml: &'static str,
    /// One line about the task.
    pub summary: &'static str,
    /// `qpos`, `qvel` and `act` with their sizes (for `--state`).
    pub state_layout: &'static str,
    /// Seconds an episode lasts.
    pub time_limit: f64,
    /// Seconds between actions; `None`: one physics step per action.
    pub control_timestep: Option<f64>,
    /// The model edits the task's `make_model` makes.
    pub edit: Option<Edit>,
    /// Builds the task on the loaded physics (reads the ids and constants it needs).
    pub make: fn(&mut Physics) -> Result<Box<dyn Task>, String>,
}

impl Definition {
    /// Another task of the same domain: this definition with its own id, summary and task.
    pub const fn variant(
        self,
        id: &'static str,
        summary: &'static str,
        make: fn(&mut Physics) -> Result<Box<dyn Task>, String>,
    ) -> Self {
        Definition { id, summary, make, ..self }
    }
}

impl std::fmt::Debug for Definition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Definition").field("id", &self.id).field("xml", &self.xml).finish_non_exhaustive()
    }
}

/// The definition registered under `id`.
pub fn definition(id: &str) -> Option<Definition> {
    [super::cheetah::TASKS, super::walker::TASKS, super::hopper::TASKS, super::quadruped::TASKS]
        .into_iter()
        .chain([super::humanoid::TASKS, super::dog::TASKS])
        .flatten()
        .find(|d| d.id == id)
        .copied()
}

/// Where the suite's XMLs are read from: `$ERA_DMC_ASSETS`, else `dm-control-1.0.50/suite` beside the
/// program or in the setup script's cache (`$ERA_CACHE_DIR`, `$XDG_CACHE_HOME/era` or `~/.cache/era`;
/// see [`crate::env::mujoco::models_dir`]).
pub fn assets_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(ASSETS_VAR) {
        return dir.into();
    }
    crate::env::mujoco::models_dir(&Path::new(&format!("dm-control-{DM_CONTROL_VERSION}")).join("suite"))
}

/// dm_control's `compute_n_steps`: the control timestep must be a whole number of physics steps.
fn n_sub_steps(id: &str, control: f64, physics: f64) -> Result<usize, String> {
    let ratio = control / physics;
    if control < physics || (ratio - ratio.round()).abs() > 1e-8 {
        return Err(format!(
            "{id}: control timestep {control} is not a whole multiple of the physics timestep {physics}"
        ));
    }
    Ok(ratio.round() as usize)
}

/// The simulation and whether it holds a reset that [`Dynamics::begin`] can keep.
#[derive(Debug)]
struct Sim {
    physics: Physics,
    /// Set by `initial_state`: the data holds the state just drawn, warm start and all.
    fresh: bool,
}

/// A dm_control task simulated by MuJoCo: implements [`Dynamics`] as `control.Environment` does.
#[derive(Debug)]
pub struct Suite {
    def: Definition,
    task: Box<dyn Task>,
    sim: Mutex<Sim>,
    nq: usize,
    nv: usize,
    na: usize,
    n_sub_steps: usize,
    max_episode_steps: u32,
    obs_dims: usize,
    action: BoxSpace,
}

fn unavailable(id: &str, reason: String) -> EnvError {
    EnvError::Unavailable { id: id.to_string(), reason }
}

impl Suite {
    /// Loads the task's model from [`assets_dir`].
    pub fn new(def: Definition) -> Result<Self, EnvError> {
        Self::new_in(def, &assets_dir())
    }

    /// Loads the task's model from the directory `assets` (dm_control's `suite/`).
    pub fn new_in(def: Definition, assets: &Path) -> Result<Self, EnvError> {
        crate::env::mujoco::configure_logging();
        let path = assets.join(def.xml);
        if !path.is_file() {
            return Err(unavailable(
                def.id,
                format!(
                    "model file {} not found: run scripts/setup-mujoco.sh (it unpacks dm-control {DM_CONTROL_VERSION}'s \
                     suite), or set {ASSETS_VAR} to the directory of dm_control/suite",
                    path.display()
                ),
            ));
        }
        let mut physics = Physics::load(&path, def.edit).map_err(|e| unavailable(def.id, e))?;
        physics.reset();
        let task = (def.make)(&mut physics).map_err(|e| unavailable(def.id, e))?;
        let model = physics.model();
        let (nq, nv, na) = (model.nq() as usize, model.nv() as usize, model.na() as usize);
        let timestep = model.opt().timestep;
        let n_sub_steps = match def.control_timestep {
            Some(control) => n_sub_steps(def.id, control, timestep).map_err(|e| unavailable(def.id, e))?,
            None => 1,
        };
        // control.Environment ends an episode once the step count reaches this (a float there).
        let max_episode_steps = (def.time_limit / (timestep * n_sub_steps as f64)).ceil() as u32;
        // dm_control's action_spec: the control range where limited, ±mjMAXVAL elsewhere.
        let (limited, ranges) = (model.actuator_ctrllimited(), model.actuator_ctrlrange());
        let bound = |i: usize, side: usize| if limited[i] { ranges[i][side] } else { [-1e10, 1e10][side] };
        let action = BoxSpace {
            low: (0..ranges.len()).map(|i| bound(i, 0)).collect(),
            high: (0..ranges.len()).map(|i| bound(i, 1)).collect(),
        };
        let mut obs = Vec::new();
        task.observation(&physics, &mut obs);
        Ok(Self {
            def,
            task,
            obs_dims: obs.len(),
            sim: Mutex::new(Sim { physics, fresh: false }),
            nq,
            nv,
            na,
            n_sub_steps,
            max_episode_steps,
            action,
        })
    }

    /// Physics steps per control step.
    pub fn n_sub_steps(&self) -> usize {
        self.n_sub_steps
    }

    fn lock(&self) -> MutexGuard<'_, Sim> {
        // Every write to the simulation is whole: a panic elsewhere cannot leave it half-written.
        self.sim.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The raw state the data holds: `qpos ⊕ qvel ⊕ act`.
    fn read_state(&self, physics: &Physics, state: &mut [f64]) {
        let (nq, nv) = (self.nq, self.nv);
        let data = physics.data();
        state[..nq].copy_from_slice(data.qpos());
        state[nq..nq + nv].copy_from_slice(data.qvel());
        state[nq + nv..].copy_from_slice(data.act());
    }

    fn holds(&self, physics: &Physics, state: &[f64]) -> bool {
        let (nq, nv) = (self.nq, self.nv);
        let data = physics.data();
        data.qpos() == &state[..nq] && data.qvel() == &state[nq..nq + nv] && data.act() == &state[nq + nv..]
    }

    /// `with physics.reset_context(): qpos, qvel, act = state`.
    fn set_state(&self, sim: &mut Sim, state: &[f64]) {
        let (nq, nv) = (self.nq, self.nv);
        let physics = &mut sim.physics;
        physics.reset();
        let data = physics.data_mut();
        data.qpos_mut().copy_from_slice(&state[..nq]);
        data.qvel_mut().copy_from_slice(&state[nq..nq + nv]);
        data.act_mut().copy_from_slice(&state[nq + nv..]);
        physics.after_reset();
        sim.fresh = false;
    }

    fn sync(&self, sim: &mut Sim, state: &[f64]) {
        if !self.holds(&sim.physics, state) {
            self.set_state(sim, state);
        }
    }
}

impl Dynamics for Suite {
    fn spec(&self) -> EnvSpec {
        EnvSpec {
            id: self.def.id,
            observation: BoxSpace::uniform(self.obs_dims, f64::NEG_INFINITY, f64::INFINITY),
            action: self.action.clone(),
            max_episode_steps: self.max_episode_steps,
            state_layout: self.def.state_layout,
            summary: self.def.summary,
        }
    }

    fn initial_state(&self, rng: &mut EnvRng) -> Vec<f64> {
        let mut sim = self.lock();
        sim.physics.reset();
        self.task.initialize_episode(&mut sim.physics, rng);
        sim.physics.after_reset();
        sim.fresh = true;
        let mut state = vec![0.0; self.nq + self.nv + self.na];
        self.read_state(&sim.physics, &mut state);
        state
    }

    fn check_state(&self, _state: &[f64]) -> Result<(), EnvError> {
        // MuJoCo takes any finite state (quaternions are normalised where they are used).
        Ok(())
    }

    fn begin(&self, state: &[f64]) {
        let mut sim = self.lock();
        // A state `initial_state` just drew is already in the data, with the warm start and time
        // dm_control's reset leaves; any other is set as `reset_context` does.
        if !(sim.fresh && self.holds(&sim.physics, state)) {
            self.set_state(&mut sim, state);
        }
        sim.fresh = false;
    }

    fn observe(&self, state: &[f64]) -> Vec<f32> {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        let mut obs = Vec::with_capacity(self.obs_dims);
        self.task.observation(&sim.physics, &mut obs);
        obs.into_iter().map(|v| v as f32).collect()
    }

    fn step(&self, state: &mut [f64], action: &[f32]) -> (f64, bool) {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        sim.fresh = false;
        sim.physics.set_control(action);
        sim.physics.step(self.n_sub_steps);
        self.read_state(&sim.physics, state);
        (self.task.reward(&sim.physics), false)
    }

    /// MuJoCo's `mjSTATE_INTEGRATION` (time, qpos, qvel, act, warm start, controls, …).
    fn sim_state(&self) -> Vec<f64> {
        self.lock().physics.data().state(MjtState::mjSTATE_INTEGRATION as u32).into_vec()
    }

    fn restore_sim_state(&self, saved: &[f64]) -> Result<(), EnvError> {
        let mut sim = self.lock();
        let spec = MjtState::mjSTATE_INTEGRATION as u32;
        let expected = sim.physics.model().state_size(spec);
        if saved.len() != expected {
            return Err(EnvError::Length {
                env: self.def.id,
                what: "simulator state",
                got: saved.len(),
                expected,
                layout: "MuJoCo's mjSTATE_INTEGRATION",
            });
        }
        let data = sim.physics.data_mut();
        data.set_state(saved, spec).map_err(|e| unavailable(self.def.id, format!("{e:?}")))?;
        // The legacy step starts from mj_step1's results, as the last step left them.
        data.step1();
        sim.fresh = false;
        Ok(())
    }

    fn scene(&self, state: &[f64]) -> Scene {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        crate::env::mujoco::side_view(sim.physics.model(), sim.physics.data())
    }

    #[cfg(feature = "render")]
    fn renderer(&self, width: u32, height: u32) -> Option<Result<mujoco_rs::renderer::MjRenderer, String>> {
        Some(crate::env::render::renderer(self.lock().physics.model(), width, height))
    }

    #[cfg(feature = "render")]
    fn render(&self, state: &[f64], renderer: &mut mujoco_rs::renderer::MjRenderer) -> Result<(), String> {
        let mut sim = self.lock();
        self.sync(&mut sim, state);
        crate::env::render::draw(sim.physics.data_mut(), renderer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{DMC_ENV_IDS, Env};

    #[test]
    fn every_registered_id_has_its_definition() {
        for id in DMC_ENV_IDS {
            assert_eq!(definition(id).map(|d| d.id), Some(*id));
        }
        assert!(definition("dmc/cheetah-walk").is_none());
    }

    #[test]
    fn every_task_has_dm_controls_spaces_and_episode_length() {
        // (id, obs, action) as dm_control 1.0.50's observation_spec (flattened) and action_spec give them.
        for (id, obs, act) in [
            ("dmc/cheetah-run", 17, 6),
            ("dmc/walker-walk", 24, 6),
            ("dmc/walker-run", 24, 6),
            ("dmc/hopper-hop", 15, 4),
            ("dmc/quadruped-run", 78, 12),
            ("dmc/humanoid-stand", 67, 21),
            ("dmc/humanoid-walk", 67, 21),
            ("dmc/humanoid-run", 67, 21),
            ("dmc/dog-stand", 223, 38),
            ("dmc/dog-walk", 223, 38),
            ("dmc/dog-trot", 223, 38),
            ("dmc/dog-run", 223, 38),
        ] {
            let env = Env::make(id).unwrap();
            assert_eq!((env.spec().observation.dims(), env.spec().action.dims()), (obs, act), "{id}");
            assert_eq!(env.spec().max_episode_steps, 1000, "{id}");
        }
    }

    #[test]
    fn the_state_layout_names_the_models_sizes() {
        for id in DMC_ENV_IDS {
            let def = definition(id).unwrap();
            let suite = Suite::new(def).unwrap();
            let mut layout = format!("qpos[{}] then qvel[{}]", suite.nq, suite.nv);
            if suite.na > 0 {
                layout += &format!(" then act[{}]", suite.na);
            }
            assert_eq!(def.state_layout, layout, "{id}");
        }
    }

    #[test]
    fn a_missing_model_names_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = Suite::new_in(definition("dmc/dog-walk").unwrap(), dir.path()).unwrap_err().to_string();
        assert!(err.contains("dmc/dog-walk") && err.contains("dog.xml"), "{err}");
        assert!(err.contains("scripts/setup-mujoco.sh") && err.contains(ASSETS_VAR), "{err}");
    }

    #[test]
    fn whole_multiples_of_the_physics_step_only() {
        assert_eq!(n_sub_steps("t", 0.025, 0.0025), Ok(10));
        let e = n_sub_steps("t", 0.026, 0.0025).unwrap_err();
        assert!(e.contains("not a whole multiple"), "{e}");
        assert!(n_sub_steps("t", 0.001, 0.0025).is_err());
    }
}
