//! dm_control's `mujoco.Physics` as the suite uses it: loading (with the model edits some domains
//! make in code), reset, the legacy control step, and named reads of MuJoCo's data.
//!
//! The step is dm_control's default (`legacy_step=True`): the data already holds `mj_step1`'s
//! results for the current state, so a control step of `n` physics steps is
//!
//! ```text
//! mj_step2; (n − 1) × mj_step; mj_step1
//! ```
//!
//! which leaves positions, velocities and the sensors that depend on them in sync with the new
//! state. `reset` is `mj_resetData` followed by `mj_forward` with actuation disabled, and every
//! episode start ends with that `mj_forward` again (`after_reset`).

use std::ops::Range;
use std::path::Path;

use mujoco_rs::prelude::*;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::env::EnvRng;

/// The compiled model and its data, with dm_control's stepping.
#[derive(Debug)]
pub struct Physics {
    data: MjData<Box<MjModel>>,
}

/// A model edit made in code before compiling (dm_control's `make_model` functions).
pub type Edit = fn(&mut MjSpec) -> Result<(), String>;

impl Physics {
    /// Loads `path` (relative includes and meshes resolve from its directory), applies `edit` to
    /// the parsed model, and compiles it.
    pub fn load(path: &Path, edit: Option<Edit>) -> Result<Self, String> {
        let model = match edit {
            None => MjModel::from_xml(path).map_err(|e| format!("{}: {e:?}", path.display()))?,
            Some(edit) => {
                let mut spec = MjSpec::from_xml(path).map_err(|e| format!("{}: {e:?}", path.display()))?;
                edit(&mut spec)?;
                spec.compile().map_err(|e| format!("{} (edited): {e:?}", path.display()))?
            }
        };
        let data = MjData::try_new(Box::new(model)).map_err(|e| format!("{e:?}"))?;
        Ok(Self { data })
    }

    /// The model.
    pub fn model(&self) -> &MjModel {
        self.data.model()
    }

    /// The data.
    pub fn data(&self) -> &MjData<Box<MjModel>> {
        &self.data
    }

    /// The data, to write the state.
    pub fn data_mut(&mut self) -> &mut MjData<Box<MjModel>> {
        &mut self.data
    }

    /// `mj_forward` with actuation disabled (dm_control's `reset` and `after_reset`).
    pub fn after_reset(&mut self) {
        let flag = MjtDisableBit::mjDSBL_ACTUATION as i32;
        let old = self.data.model_opt_mut().disableflags;
        self.data.model_opt_mut().disableflags = old | flag;
        self.data.forward();
        self.data.model_opt_mut().disableflags = old;
    }

    /// `mj_resetData`, then [`Physics::after_reset`].
    pub fn reset(&mut self) {
        self.data.reset();
        self.after_reset();
    }

    /// One control step of `n ≥ 1` physics steps, dm_control's legacy stepping.
    pub fn step(&mut self, n: usize) {
        self.data.step2();
        for _ in 1..n {
            self.data.step();
        }
        self.data.step1();
    }

    /// The control input (`data.ctrl`), set from an action.
    pub fn set_control(&mut self, action: &[f32]) {
        for (c, &a) in self.data.ctrl_mut().iter_mut().zip(action) {
            *c = f64::from(a);
        }
    }

    /// The id of the named object of a kind, or what is missing.
    pub fn id(&self, kind: MjtObjBase, name: &str) -> Result<usize, String> {
        self.model().name_to_id(kind, name).ok_or_else(|| format!("the model has no {kind:?} named `{name}`"))
    }

    /// A body's id.
    pub fn body(&self, name: &str) -> Result<usize, String> {
        self.id(MjtObjBase::mjOBJ_BODY, name)
    }

    /// The slice of `sensordata` the named sensor writes.
    pub fn sensor(&self, name: &str) -> Result<Range<usize>, String> {
        let id = self.id(MjtObjBase::mjOBJ_SENSOR, name)?;
        Ok(self.sensor_range(id))
    }

    fn sensor_range(&self, id: usize) -> Range<usize> {
        let adr = self.model().sensor_adr()[id] as usize;
        adr..adr + self.model().sensor_dim()[id] as usize
    }

    /// The `sensordata` slices of every sensor of the given types, in sensor order (dm_control's
    /// `np.isin(sensor_type, types)`).
    pub fn sensors_of_types(&self, types: &[MjtSensor]) -> Vec<Range<usize>> {
        (0..self.model().sensor_type().len())
            .filter(|&i| types.contains(&self.model().sensor_type()[i]))
            .map(|i| self.sensor_range(i))
            .collect()
    }

    /// `qpos` addresses and `qvel` addresses of every hinge joint, in joint order.
    pub fn hinges(&self) -> (Vec<usize>, Vec<usize>) {
        let m = self.model();
        let ids = (0..m.jnt_type().len()).filter(|&j| m.jnt_type()[j] == MjtJoint::mjJNT_HINGE);
        ids.map(|j| (m.jnt_qposadr()[j] as usize, m.jnt_dofadr()[j] as usize)).unzip()
    }

    /// dm_control's `randomizers.randomize_limited_and_rotational_joints`: limited hinges and
    /// slides uniform in their range, limited balls a random rotation up to the range's upper
    /// end, unlimited hinges uniform in [−π, π], unlimited balls uniform on the unit 3-sphere, free
    /// joints' orientation a normalised uniform [0, 1)⁴ draw (sic, kept for its benchmarks); free
    /// joints' positions and unlimited slides are left alone.
    pub fn randomize_limited_and_rotational_joints(&mut self, rng: &mut EnvRng) {
        let m = self.data.model();
        let joints: Vec<(MjtJoint, bool, [f64; 2], usize)> = (0..m.jnt_type().len())
            .map(|j| (m.jnt_type()[j], m.jnt_limited()[j], m.jnt_range()[j], m.jnt_qposadr()[j] as usize))
            .collect();
        let qpos = self.data.qpos_mut();
        for (kind, limited, [lo, hi], adr) in joints {
            match (kind, limited) {
                (MjtJoint::mjJNT_HINGE | MjtJoint::mjJNT_SLIDE, true) => qpos[adr] = uniform(rng, lo, hi),
                (MjtJoint::mjJNT_BALL, true) => {
                    let axis = unit(&[normal(rng), normal(rng), normal(rng)]);
                    let angle = rng.random::<f64>() * hi;
                    let (s, c) = (angle / 2.0).sin_cos();
                    qpos[adr..adr + 4].copy_from_slice(&[c, axis[0] * s, axis[1] * s, axis[2] * s]);
                }
                (MjtJoint::mjJNT_HINGE, false) => qpos[adr] = uniform(rng, -std::f64::consts::PI, std::f64::consts::PI),
                (MjtJoint::mjJNT_BALL, false) => {
                    let q = unit(&[normal(rng), normal(rng), normal(rng), normal(rng)]);
                    qpos[adr..adr + 4].copy_from_slice(&q);
                }
                (MjtJoint::mjJNT_FREE, false) => {
                    let q = unit(&[rng.random(), rng.random(), rng.random(), rng.random()]);
                    qpos[adr + 3..adr + 7].copy_from_slice(&q);
                }
                _ => {}
            }
        }
    }

    /// `xmat` of a body, row-major (`xx xy xz yx yy yz zx zy zz`).
    pub fn xmat(&self, body: usize) -> [f64; 9] {
        self.data.xmat()[body]
    }

    /// `xpos` of a body.
    pub fn xpos(&self, body: usize) -> [f64; 3] {
        self.data.xpos()[body]
    }

    /// `v · R` for a body's frame `R` (dm_control's `vector.dot(xmat.reshape(3, 3))`): the world
    /// vector `v` in the body's frame.
    pub fn in_frame(&self, body: usize, v: [f64; 3]) -> [f64; 3] {
        let r = self.xmat(body);
        std::array::from_fn(|j| v[0] * r[j] + v[1] * r[3 + j] + v[2] * r[6 + j])
    }

    /// `xpos[to] − xpos[from]` in `from`'s frame.
    pub fn egocentric(&self, from: usize, to: usize) -> [f64; 3] {
        let (a, b) = (self.xpos(from), self.xpos(to));
        self.in_frame(from, [b[0] - a[0], b[1] - a[1], b[2] - a[2]])
    }
}

/// numpy's `RandomState.uniform(low, high)`: `low + (high − low)·U[0, 1)`.
pub fn uniform(rng: &mut EnvRng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// A standard normal draw (numpy's `randn`).
pub fn normal(rng: &mut EnvRng) -> f64 {
    StandardNormal.sample(rng)
}

fn unit<const N: usize>(v: &[f64; N]) -> [f64; N] {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    std::array::from_fn(|i| v[i] / norm)
}

/// Removes a named element from a parsed model (dm_control's `element.getparent().remove(element)`),
/// or says that `file` has no such element.
pub fn remove<T: SpecObject>(element: Option<&mut T>, file: &str, kind: &str, name: &str) -> Result<(), String> {
    let element = element.ok_or_else(|| format!("{file} has no {kind} named `{name}`"))?;
    // SAFETY: `element` borrows the spec mutably for this call only, so no other handle to it is
    // alive, and it is deleted once.
    #[allow(unsafe_code)]
    unsafe { element.delete() }.map_err(|e| format!("{file}: removing {kind} `{name}`: {e:?}"))
}
