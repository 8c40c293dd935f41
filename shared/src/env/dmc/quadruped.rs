//! `quadruped`: a four-legged body that runs forward (dm_control's `suite/quadruped.py`, `run`).
//!
//! Model `quadruped.xml` as `make_model(floor_size=20·5)` edits it in code: the floor 100 × 100 m,
//! no walls, ball, target, terrain height field or rangefinders. Timestep 0.005 s, control
//! timestep 0.02 s (4 physics steps), 20 s episodes (1 000 steps); actuators with activation
//! (`act`, 12). Reset: a random orientation (a normalised standard normal quaternion) at the
//! lowest height, from 0 in steps of 1 cm, where the body touches nothing.
//! Observation (78): `egocentric_state` (hinge `qpos`, hinge `qvel`, `act`; 44), `torso_velocity`
//! (velocimeter, 3), `torso_upright` (the torso's `zz`), `imu` (accelerometer and gyro readings in
//! sensor order, 6), `force_torque` (`arcsinh` of the toes' force and torque sensors, 24).
//! Reward: `tolerance(zz, (1, ∞), margin 2, linear, value_at_margin 0)` times
//! `tolerance(v_x, (5, ∞), margin 5, linear, value_at_margin 0.5)`, `v_x` the velocimeter's x.

use std::ops::Range;

use mujoco_rs::prelude::*;

use super::physics::{Physics, normal, remove};
use super::rewards::{Sigmoid, Tolerance};
use super::{Definition, Task};
use crate::env::EnvRng;

const TIME_LIMIT: f64 = 20.0;
const RUN_SPEED: f64 = 5.0;
/// `_find_non_contacting_height` gives up after this many heights.
const MAX_ATTEMPTS: usize = 10_000;

/// The domain's tasks.
pub const TASKS: &[Definition] = &[Definition {
    id: "dmc/quadruped-run",
    xml: XML,
    summary: "DeepMind Control quadruped: run forward at 5 m/s",
    state_layout: "qpos[23] then qvel[22] then act[12]",
    time_limit: TIME_LIMIT,
    control_timestep: Some(0.02),
    edit: Some(|spec| make_model(spec, TIME_LIMIT * RUN_SPEED)),
    make: |p| Ok(Box::new(Quadruped::new(p, RUN_SPEED)?)),
}];

const XML: &str = "quadruped.xml";

/// dm_control's `make_model(floor_size, terrain=False, rangefinders=False, walls_and_ball=False)`.
fn make_model(spec: &mut MjSpec, floor_size: f64) -> Result<(), String> {
    let floor = spec.geom_mut("floor").ok_or_else(|| format!("{XML} has no geom named `floor`"))?;
    *floor.size_mut() = [floor_size, floor_size, 0.5];
    for geom in ["wall_px", "wall_py", "wall_nx", "wall_ny", "terrain"] {
        remove(spec.geom_mut(geom), XML, "geom", geom)?;
    }
    remove(spec.body_mut("ball"), XML, "body", "ball")?;
    remove(spec.site_mut("target"), XML, "site", "target")?;
    // The rangefinders are rf_00 … rf_34 (rows 0–3, columns 0–4).
    for row in 0..4 {
        for col in 0..5 {
            let name = format!("rf_{row}{col}");
            remove(spec.sensor_mut(&name), XML, "sensor", &name)?;
        }
    }
    Ok(())
}

/// dm_control's `Move` task.
#[derive(Debug)]
pub struct Quadruped {
    desired_speed: f64,
    torso: usize,
    /// The root free joint's `qpos` address.
    root: usize,
    hinge_qpos: Vec<usize>,
    hinge_qvel: Vec<usize>,
    velocimeter: Range<usize>,
    imu: Vec<Range<usize>>,
    force_torque: Vec<Range<usize>>,
}

impl Quadruped {
    fn new(physics: &mut Physics, desired_speed: f64) -> Result<Self, String> {
        let root = physics.id(MjtObjBase::mjOBJ_JOINT, "root")?;
        let (hinge_qpos, hinge_qvel) = physics.hinges();
        Ok(Self {
            desired_speed,
            torso: physics.body("torso")?,
            root: physics.model().jnt_qposadr()[root] as usize,
            hinge_qpos,
            hinge_qvel,
            velocimeter: physics.sensor("velocimeter")?,
            imu: physics.sensors_of_types(&[MjtSensor::mjSENS_GYRO, MjtSensor::mjSENS_ACCELEROMETER]),
            force_torque: physics.sensors_of_types(&[MjtSensor::mjSENS_FORCE, MjtSensor::mjSENS_TORQUE]),
        })
    }

    /// dm_control's `_find_non_contacting_height` at x = y = 0.
    fn find_non_contacting_height(&self, physics: &mut Physics, orientation: [f64; 4]) {
        let mut z = 0.0;
        for _ in 0..MAX_ATTEMPTS {
            physics.reset();
            let qpos = physics.data_mut().qpos_mut();
            qpos[self.root..self.root + 3].copy_from_slice(&[0.0, 0.0, z]);
            qpos[self.root + 3..self.root + 7].copy_from_slice(&orientation);
            physics.after_reset();
            if physics.data().ncon() == 0 {
                return;
            }
            z += 0.01;
        }
    }
}

impl Task for Quadruped {
    fn initialize_episode(&self, physics: &mut Physics, rng: &mut EnvRng) {
        let q = [normal(rng), normal(rng), normal(rng), normal(rng)];
        let norm = q.iter().map(|x| x * x).sum::<f64>().sqrt();
        self.find_non_contacting_height(physics, q.map(|x| x / norm));
    }

    fn observation(&self, physics: &Physics, obs: &mut Vec<f64>) {
        let data = physics.data();
        obs.extend(self.hinge_qpos.iter().map(|&i| data.qpos()[i]));
        obs.extend(self.hinge_qvel.iter().map(|&i| data.qvel()[i]));
        obs.extend(data.act());
        let s = data.sensordata();
        obs.extend(&s[self.velocimeter.clone()]);
        obs.push(physics.xmat(self.torso)[8]);
        for r in &self.imu {
            obs.extend(&s[r.clone()]);
        }
        for r in &self.force_torque {
            obs.extend(s[r.clone()].iter().map(|v| v.asinh()));
        }
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let upright = Tolerance::bounds(1.0, f64::INFINITY)
            .sigmoid(Sigmoid::Linear)
            .margin(2.0)
            .value_at_margin(0.0)
            .value(physics.xmat(self.torso)[8]);
        let moving = Tolerance::bounds(self.desired_speed, f64::INFINITY)
            .margin(self.desired_speed)
            .value_at_margin(0.5)
            .sigmoid(Sigmoid::Linear)
            .value(physics.data().sensordata()[self.velocimeter.start]);
        upright * moving
    }
}
