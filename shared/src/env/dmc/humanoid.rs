//! `humanoid`: a 21-joint humanoid that stands, walks or runs (dm_control's `suite/humanoid.py`).
//!
//! Model `humanoid.xml` (timestep 0.005 s), control timestep 0.025 s (5 physics steps), 25 s
//! episodes (1 000 steps). Reset: `randomize_limited_and_rotational_joints` then `mj_forward`,
//! redrawn until nothing is in contact.
//! Observation (67): `joint_angles` (`qpos[7:]`, 21), `head_height`, `extremities` (both hands
//! and feet relative to the torso, in its frame, 12), `torso_vertical` (`zx zy zz` of the torso),
//! `com_velocity` (the torso subtree's linear velocity, 3), `velocity` (`qvel`, 27).
//! Reward: `small_control · stand · move`, with
//! `stand = tolerance(head z, (1.4, ∞), margin 0.35) · tolerance(zz, (0.9, ∞), linear, margin 1.9, value_at_margin 0)`,
//! `small_control = (4 + mean tolerance(ctrl, margin 1, quadratic, value_at_margin 0)) / 5`, and
//! `move` = for stand the mean of `tolerance(v, margin 2)` over the x and y velocities, else
//! `(5·tolerance(|v_xy|, (s, ∞), margin s, linear, value_at_margin 0) + 1) / 6` with `s` 1 or 10.

use std::ops::Range;

use super::physics::Physics;
use super::rewards::{Sigmoid, Tolerance};
use super::{Definition, Task};
use crate::env::EnvRng;

const STAND_HEIGHT: f64 = 1.4;
const WALK_SPEED: f64 = 1.0;
const RUN_SPEED: f64 = 10.0;
/// era's bound on the redraws (dm_control loops until one is contact-free).
const MAX_DRAWS: usize = 100_000;

const STAND: Definition = Definition {
    id: "dmc/humanoid-stand",
    xml: "humanoid.xml",
    summary: "DeepMind Control humanoid: stand up and stay still",
    state_layout: "qpos[28] then qvel[27]",
    time_limit: 25.0,
    control_timestep: Some(0.025),
    edit: None,
    make: |p| Ok(Box::new(Humanoid::new(p, 0.0)?)),
};

/// The domain's tasks.
pub const TASKS: &[Definition] = &[
    STAND,
    STAND.variant("dmc/humanoid-walk", "DeepMind Control humanoid: walk at 1 m/s", |p| {
        Ok(Box::new(Humanoid::new(p, WALK_SPEED)?))
    }),
    STAND.variant("dmc/humanoid-run", "DeepMind Control humanoid: run at 10 m/s", |p| {
        Ok(Box::new(Humanoid::new(p, RUN_SPEED)?))
    }),
];

/// dm_control's `Humanoid` task with `pure_state=False`.
#[derive(Debug)]
pub struct Humanoid {
    move_speed: f64,
    torso: usize,
    head: usize,
    /// left hand, left foot, right hand, right foot.
    extremities: [usize; 4],
    com_velocity: Range<usize>,
}

impl Humanoid {
    fn new(physics: &mut Physics, move_speed: f64) -> Result<Self, String> {
        Ok(Self {
            move_speed,
            torso: physics.body("torso")?,
            head: physics.body("head")?,
            extremities: [
                physics.body("left_hand")?,
                physics.body("left_foot")?,
                physics.body("right_hand")?,
                physics.body("right_foot")?,
            ],
            com_velocity: physics.sensor("torso_subtreelinvel")?,
        })
    }
}

impl Task for Humanoid {
    fn initialize_episode(&self, physics: &mut Physics, rng: &mut EnvRng) {
        for _ in 0..MAX_DRAWS {
            physics.randomize_limited_and_rotational_joints(rng);
            physics.after_reset();
            if physics.data().ncon() == 0 {
                break;
            }
        }
    }

    fn observation(&self, physics: &Physics, obs: &mut Vec<f64>) {
        let data = physics.data();
        obs.extend(&data.qpos()[7..]);
        obs.push(physics.xpos(self.head)[2]);
        for &limb in &self.extremities {
            obs.extend(physics.egocentric(self.torso, limb));
        }
        obs.extend(&physics.xmat(self.torso)[6..9]);
        obs.extend(&data.sensordata()[self.com_velocity.clone()]);
        obs.extend(data.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing =
            Tolerance::bounds(STAND_HEIGHT, f64::INFINITY).margin(STAND_HEIGHT / 4.0).value(physics.xpos(self.head)[2]);
        let upright = Tolerance::bounds(0.9, f64::INFINITY)
            .sigmoid(Sigmoid::Linear)
            .margin(1.9)
            .value_at_margin(0.0)
            .value(physics.xmat(self.torso)[8]);
        let stand = standing * upright;
        let control = Tolerance::DEFAULT.margin(1.0).value_at_margin(0.0).sigmoid(Sigmoid::Quadratic);
        let small_control = (4.0 + control.mean(physics.data().ctrl())) / 5.0;
        let v = &physics.data().sensordata()[self.com_velocity.clone()];
        let moving = if self.move_speed == 0.0 {
            Tolerance::DEFAULT.margin(2.0).mean(&v[..2])
        } else {
            let speed = (v[0] * v[0] + v[1] * v[1]).sqrt();
            let m = Tolerance::bounds(self.move_speed, f64::INFINITY)
                .margin(self.move_speed)
                .value_at_margin(0.0)
                .sigmoid(Sigmoid::Linear)
                .value(speed);
            (5.0 * m + 1.0) / 6.0
        };
        small_control * stand * moving
    }
}
