//! `walker`: a planar walker that stands, walks or runs (dm_control's `suite/walker.py`).
//!
//! Model `walker.xml` (timestep 0.0025 s), control timestep 0.025 s (10 physics steps), 25 s
//! episodes (1 000 steps). Reset: `randomize_limited_and_rotational_joints`.
//! Observation (24): `orientations` (`xx`, `xz` of each body's `xmat` but the world's, 14),
//! `height` (the torso's z), `velocity` = `qvel` (9).
//! Reward: `stand = (3·tolerance(h, (1.2, ∞), margin 0.6) + (1 + zz)/2) / 4` with `zz` the torso's
//! z-axis projection on the world's; moving tasks multiply by
//! `(5·tolerance(v, (s, ∞), margin s/2, linear, value_at_margin 0.5) + 1) / 6`, `v` the torso
//! subtree's x velocity and `s` 1 (walk) or 8 (run).

use std::ops::Range;

use super::physics::Physics;
use super::rewards::{Sigmoid, Tolerance};
use super::{Definition, Task};
use crate::env::EnvRng;

const STAND_HEIGHT: f64 = 1.2;
const WALK_SPEED: f64 = 1.0;
const RUN_SPEED: f64 = 8.0;

const WALK: Definition = Definition {
    id: "dmc/walker-walk",
    xml: "walker.xml",
    summary: "DeepMind Control planar walker: walk at 1 m/s",
    state_layout: "qpos[9] then qvel[9]",
    time_limit: 25.0,
    control_timestep: Some(0.025),
    edit: None,
    make: |p| Ok(Box::new(Walker::new(p, WALK_SPEED)?)),
};

/// The domain's tasks.
pub const TASKS: &[Definition] = &[
    WALK,
    WALK.variant("dmc/walker-run", "DeepMind Control planar walker: run at 8 m/s", |p| {
        Ok(Box::new(Walker::new(p, RUN_SPEED)?))
    }),
];

/// dm_control's `PlanarWalker` task.
#[derive(Debug)]
pub struct Walker {
    move_speed: f64,
    torso: usize,
    speed: Range<usize>,
}

impl Walker {
    fn new(physics: &mut Physics, move_speed: f64) -> Result<Self, String> {
        Ok(Self { move_speed, torso: physics.body("torso")?, speed: physics.sensor("torso_subtreelinvel")? })
    }
}

impl Task for Walker {
    fn initialize_episode(&self, physics: &mut Physics, rng: &mut EnvRng) {
        physics.randomize_limited_and_rotational_joints(rng);
    }

    fn observation(&self, physics: &Physics, obs: &mut Vec<f64>) {
        let data = physics.data();
        obs.extend(data.xmat()[1..].iter().flat_map(|r| [r[0], r[2]]));
        obs.push(physics.xpos(self.torso)[2]);
        obs.extend(data.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing = Tolerance::bounds(STAND_HEIGHT, f64::INFINITY).margin(STAND_HEIGHT / 2.0);
        let upright = (1.0 + physics.xmat(self.torso)[8]) / 2.0;
        let stand = (3.0 * standing.value(physics.xpos(self.torso)[2]) + upright) / 4.0;
        if self.move_speed == 0.0 {
            return stand;
        }
        let moving = Tolerance::bounds(self.move_speed, f64::INFINITY)
            .margin(self.move_speed / 2.0)
            .value_at_margin(0.5)
            .sigmoid(Sigmoid::Linear)
            .value(physics.data().sensordata()[self.speed.start]);
        stand * (5.0 * moving + 1.0) / 6.0
    }
}
