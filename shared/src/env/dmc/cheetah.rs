//! `cheetah`: a planar biped-like cheetah that runs (dm_control's `suite/cheetah.py`).
//!
//! Model `cheetah.xml` (timestep 0.01 s), one physics step per action, 10 s episodes (1 000 steps).
//! Reset: limited joints uniform in their ranges, then 200 physics steps with no control to let
//! the body settle, and the clock back to 0.
//! Observation (17): `position` = `qpos[1:]` (8, without the root's x), `velocity` = `qvel` (9).
//! Reward: `tolerance(v, bounds=(10, ∞), margin=10, linear, value_at_margin=0)`, with `v` the
//! torso subtree's linear velocity along x (sensor `torso_subtreelinvel`), so `min(v, 10)/10` for
//! `v ≥ 0`.

use std::ops::Range;

use super::physics::{Physics, uniform};
use super::rewards::{Sigmoid, Tolerance};
use super::{Definition, Task};
use crate::env::EnvRng;

/// The target speed, m/s.
const RUN_SPEED: f64 = 10.0;
const RUN: Tolerance =
    Tolerance::bounds(RUN_SPEED, f64::INFINITY).margin(RUN_SPEED).value_at_margin(0.0).sigmoid(Sigmoid::Linear);

/// The domain's tasks.
pub const TASKS: &[Definition] = &[Definition {
    id: "dmc/cheetah-run",
    xml: "cheetah.xml",
    summary: "DeepMind Control cheetah: run forward (up to 10 m/s)",
    state_layout: "qpos[9] then qvel[9]",
    time_limit: 10.0,
    control_timestep: None,
    edit: None,
    make: |p| Ok(Box::new(Cheetah::new(p)?)),
}];

/// dm_control's `Cheetah` task.
#[derive(Debug)]
pub struct Cheetah {
    speed: Range<usize>,
}

impl Cheetah {
    fn new(physics: &mut Physics) -> Result<Self, String> {
        Ok(Self { speed: physics.sensor("torso_subtreelinvel")? })
    }
}

impl Task for Cheetah {
    fn initialize_episode(&self, physics: &mut Physics, rng: &mut EnvRng) {
        let m = physics.model();
        let limited: Vec<(usize, [f64; 2])> = (0..m.jnt_limited().len())
            .filter(|&j| m.jnt_limited()[j])
            .map(|j| (m.jnt_qposadr()[j] as usize, m.jnt_range()[j]))
            .collect();
        for (adr, [lo, hi]) in limited {
            physics.data_mut().qpos_mut()[adr] = uniform(rng, lo, hi);
        }
        physics.step(200);
        physics.data_mut().set_time(0.0);
    }

    fn observation(&self, physics: &Physics, obs: &mut Vec<f64>) {
        let data = physics.data();
        obs.extend(&data.qpos()[1..]);
        obs.extend(data.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        RUN.value(physics.data().sensordata()[self.speed.start])
    }
}
