//! `hopper`: a planar one-legged hopper that hops forward (dm_control's `suite/hopper.py`).
//!
//! Model `hopper.xml` (timestep 0.005 s), control timestep 0.02 s (4 physics steps), 20 s episodes
//! (1 000 steps). Reset: `randomize_limited_and_rotational_joints`.
//! Observation (15): `position` = `qpos[1:]` (6), `velocity` = `qvel` (7), `touch` =
//! `log1p` of the toe and heel touch sensors (2).
//! Reward (hop): `tolerance(h, (0.6, 2))` (a step: 1 inside, 0 outside) with `h` the torso's
//! centre of mass height above the foot's, times
//! `tolerance(v, (2, ∞), margin 1, linear, value_at_margin 0.5)`, `v` the torso subtree's x velocity.

use std::ops::Range;

use super::physics::Physics;
use super::rewards::{Sigmoid, Tolerance};
use super::{Definition, Task};
use crate::env::EnvRng;

const STAND_HEIGHT: f64 = 0.6;
const HOP_SPEED: f64 = 2.0;

/// The domain's tasks.
pub const TASKS: &[Definition] = &[Definition {
    id: "dmc/hopper-hop",
    xml: "hopper.xml",
    summary: "DeepMind Control planar hopper: hop forward at 2 m/s",
    state_layout: "qpos[7] then qvel[7]",
    time_limit: 20.0,
    control_timestep: Some(0.02),
    edit: None,
    make: |p| Ok(Box::new(Hopper::new(p)?)),
}];

/// dm_control's `Hopper` task with `hopping=True`.
#[derive(Debug)]
pub struct Hopper {
    torso: usize,
    foot: usize,
    speed: Range<usize>,
    toe: Range<usize>,
    heel: Range<usize>,
}

impl Hopper {
    fn new(physics: &mut Physics) -> Result<Self, String> {
        Ok(Self {
            torso: physics.body("torso")?,
            foot: physics.body("foot")?,
            speed: physics.sensor("torso_subtreelinvel")?,
            toe: physics.sensor("touch_toe")?,
            heel: physics.sensor("touch_heel")?,
        })
    }
}

impl Task for Hopper {
    fn initialize_episode(&self, physics: &mut Physics, rng: &mut EnvRng) {
        physics.randomize_limited_and_rotational_joints(rng);
    }

    fn observation(&self, physics: &Physics, obs: &mut Vec<f64>) {
        let data = physics.data();
        obs.extend(&data.qpos()[1..]);
        obs.extend(data.qvel());
        let s = data.sensordata();
        obs.extend([s[self.toe.start].ln_1p(), s[self.heel.start].ln_1p()]);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let xipos = physics.data().xipos();
        let height = xipos[self.torso][2] - xipos[self.foot][2];
        let standing = Tolerance::bounds(STAND_HEIGHT, 2.0).value(height);
        let hopping = Tolerance::bounds(HOP_SPEED, f64::INFINITY)
            .margin(HOP_SPEED / 2.0)
            .value_at_margin(0.5)
            .sigmoid(Sigmoid::Linear)
            .value(physics.data().sensordata()[self.speed.start]);
        standing * hopping
    }
}
