//! `dog`: a 38-actuator dog (filtered actuators, 73 hinges) that stands, walks, trots or runs
//! (dm_control's `suite/dog.py`).
//!
//! Model `dog.xml` with its meshes (`dog_assets/`), edited in code as `make_model(floor_size,
//! remove_ball=True)` does: the floor `s·15` metres square (`s` the task's speed, 1 for stand) and
//! 0.1 thick, no ball, target, ball and head cameras, or walls. Timestep 0.005 s, control
//! timestep 0.015 s (3 physics steps), 15 s episodes (1 000 steps).
//! Reset: the model's default pose with a random heading (uniform azimuth about z), root
//! velocities x, y and yaw rate each `2·N(0, 1)`, and every actuator's activation uniform in its
//! control range.
//! Observation (223): `joint_angles` and `joint_velocites` of the hinges (73 each),
//! `torso_pelvis_height` (2), `z_projection` (`zx zy zz` of skull, torso and pelvis, 9),
//! `torso_com_velocity` (the torso's linear velocity sensor in the torso's frame, 3),
//! `inertial_sensors` (accelerometer, velocimeter, gyro, 9), `foot_forces` (feet and hands, 12),
//! `touch_sensors` (palms and soles, 4), `actuator_state` (`act`, 38).
//! Reward: the product of `tolerance(z, (0.9·z₀, ∞), margin 0.9·z₀)` for torso and pelvis (`z₀`
//! their heights in the default pose), `tolerance(zz, (cos 30°, ∞), linear, margin cos 30° + 1,
//! value_at_margin 0)` for each of the three `zz`, `tolerance(Σ touch, (W, ∞), margin W, linear,
//! value_at_margin 0.9)` with `W` the body's weight, and for moving tasks
//! `(4·tolerance(v, (s, 2s), margin max(1, s), linear, value_at_margin 0) + 1) / 5` with `v` the
//! forward (torso-frame x) velocity.

use std::ops::Range;

use mujoco_rs::prelude::*;

use super::physics::{Physics, normal, remove, uniform};
use super::rewards::{Sigmoid, Tolerance};
use super::{Definition, Task};
use crate::env::EnvRng;

const XML: &str = "dog.xml";
const TIME_LIMIT: f64 = 15.0;
const STAND_HEIGHT_FRACTION: f64 = 0.9;
const MAX_UPRIGHT_ANGLE_DEG: f64 = 30.0;
const WALK_SPEED: f64 = 1.0;
const TROT_SPEED: f64 = 3.0;
const RUN_SPEED: f64 = 9.0;

/// dm_control's `make_model(floor_size, remove_ball=True)`.
fn make_model(spec: &mut MjSpec, floor_size: f64) -> Result<(), String> {
    let floor = spec.geom_mut("floor").ok_or_else(|| format!("{XML} has no geom named `floor`"))?;
    *floor.size_mut() = [floor_size, floor_size, 0.1];
    remove(spec.body_mut("ball"), XML, "body", "ball")?;
    remove(spec.geom_mut("target"), XML, "geom", "target")?;
    remove(spec.camera_mut("ball"), XML, "camera", "ball")?;
    remove(spec.camera_mut("head"), XML, "camera", "head")?;
    for wall in ["wall_px", "wall_nx", "wall_py", "wall_ny"] {
        remove(spec.geom_mut(wall), XML, "geom", wall)?;
    }
    Ok(())
}

macro_rules! dog_task {
    ($id:literal, $summary:literal, $speed:expr, $floor_speed:expr) => {
        Definition {
            id: $id,
            xml: XML,
            summary: $summary,
            state_layout: "qpos[80] then qvel[79] then act[38]",
            time_limit: TIME_LIMIT,
            control_timestep: Some(0.015),
            edit: Some(|spec| make_model(spec, $floor_speed * TIME_LIMIT)),
            make: |p| Ok(Box::new(Dog::new(p, $speed)?)),
        }
    };
}

/// The domain's tasks.
pub const TASKS: &[Definition] = &[
    // Stand has the walk task's floor.
    dog_task!("dmc/dog-stand", "DeepMind Control dog: stand up", 0.0, WALK_SPEED),
    dog_task!("dmc/dog-walk", "DeepMind Control dog: walk at 1 m/s", WALK_SPEED, WALK_SPEED),
    dog_task!("dmc/dog-trot", "DeepMind Control dog: trot at 3 m/s", TROT_SPEED, TROT_SPEED),
    dog_task!("dmc/dog-run", "DeepMind Control dog: run at 9 m/s", RUN_SPEED, RUN_SPEED),
];

/// dm_control's `Stand` (speed 0) and `Move` tasks.
#[derive(Debug)]
pub struct Dog {
    move_speed: f64,
    /// `qpos` address of the root free joint.
    root: usize,
    skull: usize,
    torso: usize,
    pelvis: usize,
    hinge_qpos: Vec<usize>,
    hinge_qvel: Vec<usize>,
    torso_linvel: Range<usize>,
    inertial: [Range<usize>; 3],
    foot_forces: [Range<usize>; 4],
    touch: [Range<usize>; 4],
    /// `0.9 ×` the torso's and pelvis's heights in the default pose.
    stand_height: [f64; 2],
    /// The body's weight, `−g_z · subtree mass of the torso`.
    body_weight: f64,
    /// Each actuator's control range, where its activation is drawn at reset.
    ctrl_range: Vec<[f64; 2]>,
}

impl Dog {
    fn new(physics: &mut Physics, move_speed: f64) -> Result<Self, String> {
        let (hinge_qpos, hinge_qvel) = physics.hinges();
        let root = physics.id(MjtObjBase::mjOBJ_JOINT, "root")?;
        let (torso, pelvis) = (physics.body("torso")?, physics.body("pelvis")?);
        let m = physics.model();
        if m.nu() != m.na() {
            return Err(format!("{XML}: every actuator must have an activation (nu {} ≠ na {})", m.nu(), m.na()));
        }
        // Stand's initialize_episode reads these after `physics.reset()`: the default pose.
        physics.reset();
        let stand_height = [torso, pelvis].map(|b| physics.xpos(b)[2] * STAND_HEIGHT_FRACTION);
        let m = physics.model();
        Ok(Self {
            move_speed,
            root: m.jnt_qposadr()[root] as usize,
            skull: physics.body("skull")?,
            torso,
            pelvis,
            hinge_qpos,
            hinge_qvel,
            torso_linvel: physics.sensor("torso_linvel")?,
            inertial: [physics.sensor("accelerometer")?, physics.sensor("velocimeter")?, physics.sensor("gyro")?],
            foot_forces: [
                physics.sensor("foot_L")?,
                physics.sensor("foot_R")?,
                physics.sensor("hand_L")?,
                physics.sensor("hand_R")?,
            ],
            touch: [
                physics.sensor("palm_L")?,
                physics.sensor("palm_R")?,
                physics.sensor("sole_L")?,
                physics.sensor("sole_R")?,
            ],
            stand_height,
            body_weight: -m.opt().gravity[2] * m.body_subtreemass()[torso],
            ctrl_range: m.actuator_ctrlrange().to_vec(),
        })
    }

    /// The torso's linear velocity in the torso's frame.
    fn torso_com_velocity(&self, physics: &Physics) -> [f64; 3] {
        let v = &physics.data().sensordata()[self.torso_linvel.clone()];
        physics.in_frame(self.torso, [v[0], v[1], v[2]])
    }
}

impl Task for Dog {
    fn initialize_episode(&self, physics: &mut Physics, rng: &mut EnvRng) {
        physics.reset();
        let azimuth = uniform(rng, 0.0, 2.0 * std::f64::consts::PI);
        let (s, c) = (azimuth / 2.0).sin_cos();
        let data = physics.data_mut();
        data.qpos_mut()[self.root + 3..self.root + 7].copy_from_slice(&[c, 0.0, 0.0, s]);
        for i in [0, 1, 5] {
            data.qvel_mut()[i] = 2.0 * normal(rng);
        }
        for (a, &[lo, hi]) in data.act_mut().iter_mut().zip(&self.ctrl_range) {
            *a = uniform(rng, lo, hi);
        }
    }

    fn observation(&self, physics: &Physics, obs: &mut Vec<f64>) {
        let data = physics.data();
        obs.extend(self.hinge_qpos.iter().map(|&i| data.qpos()[i]));
        obs.extend(self.hinge_qvel.iter().map(|&i| data.qvel()[i]));
        obs.extend([physics.xpos(self.torso)[2], physics.xpos(self.pelvis)[2]]);
        for body in [self.skull, self.torso, self.pelvis] {
            obs.extend(&physics.xmat(body)[6..9]);
        }
        obs.extend(self.torso_com_velocity(physics));
        let s = data.sensordata();
        for r in self.inertial.iter().chain(&self.foot_forces).chain(&self.touch) {
            obs.extend(&s[r.clone()]);
        }
        obs.extend(data.act());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let heights = [physics.xpos(self.torso)[2], physics.xpos(self.pelvis)[2]];
        let mut reward: f64 = heights
            .iter()
            .zip(self.stand_height)
            .map(|(&z, h)| Tolerance::bounds(h, f64::INFINITY).margin(h).value(z))
            .product();
        let min_cos = MAX_UPRIGHT_ANGLE_DEG.to_radians().cos();
        let upright = Tolerance::bounds(min_cos, f64::INFINITY)
            .sigmoid(Sigmoid::Linear)
            .margin(min_cos + 1.0)
            .value_at_margin(0.0);
        for body in [self.skull, self.torso, self.pelvis] {
            reward *= upright.value(physics.xmat(body)[8]);
        }
        let s = physics.data().sensordata();
        let touch: f64 = self.touch.iter().map(|r| s[r.start]).sum();
        reward *= Tolerance::bounds(self.body_weight, f64::INFINITY)
            .margin(self.body_weight)
            .sigmoid(Sigmoid::Linear)
            .value_at_margin(0.9)
            .value(touch);
        if self.move_speed > 0.0 {
            let forward = Tolerance::bounds(self.move_speed, 2.0 * self.move_speed)
                .margin(self.move_speed.max(1.0))
                .value_at_margin(0.0)
                .sigmoid(Sigmoid::Linear)
                .value(self.torso_com_velocity(physics)[0]);
            reward *= (4.0 * forward + 1.0) / 5.0;
        }
        reward
    }
}
