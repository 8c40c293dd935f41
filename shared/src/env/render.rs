//! MuJoCo's own offscreen renderer for the MuJoCo tasks (feature `render`): the frames of
//! `era eval control --video`, drawn as dm_control's `physics.render` and Gymnasium's `rgb_array`
//! draw them. The OpenGL context comes from EGL (mujoco-rs's headless path), so no display is
//! needed; on a machine without a GPU, Mesa's software rasteriser draws (`scripts/setup-render.sh`
//! installs Mesa's EGL from Debian's packages).
//!
//! The camera is the model's first camera where it has one (every DeepMind Control task: dm_control
//! renders with `camera_id=0` in its suite videos, the tracking side view of walker, cheetah and
//! hopper), else a camera that tracks the root body (Gymnasium's tasks, as their `rgb_array` does)
//! from 3 units away.

use mujoco_rs::prelude::*;
use mujoco_rs::renderer::MjRenderer;

use super::Env;

/// A renderer for one MuJoCo task's model.
pub struct Offscreen {
    renderer: MjRenderer,
}

impl std::fmt::Debug for Offscreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offscreen").finish_non_exhaustive()
    }
}

impl Offscreen {
    /// A `width × height` renderer of `env`'s model; fails for tasks that are not MuJoCo's, for a size
    /// beyond the model's offscreen buffer, or where no EGL display opens (the message says which).
    pub fn new(env: &Env, width: u32, height: u32) -> Result<Self, String> {
        let id = env.spec().id;
        let renderer = env.dynamics().renderer(width, height).ok_or_else(|| format!("{id} is not a MuJoCo task"))??;
        Ok(Self { renderer })
    }

    /// The current state of `env`, as RGB bytes row by row from the top.
    pub fn frame(&mut self, env: &Env) -> Result<Vec<u8>, String> {
        env.dynamics().render(env.state(), &mut self.renderer)?;
        self.renderer.rgb_flat().map(<[u8]>::to_vec).ok_or_else(|| "the renderer gave no RGB image".into())
    }
}

/// A renderer of `model`, `width × height`, through the camera described above.
pub(crate) fn renderer(model: &MjModel, width: u32, height: u32) -> Result<MjRenderer, String> {
    let global = &model.vis().global;
    let (ow, oh) = (global.offwidth.max(0) as u32, global.offheight.max(0) as u32);
    if width > ow || height > oh {
        return Err(format!(
            "a {width}x{height} frame is larger than this model's offscreen buffer ({ow}x{oh}); ask for a smaller --video-size"
        ));
    }
    let camera = if model.ffi().ncam > 0 {
        MjvCamera::new_fixed(0)
    } else {
        let mut camera = MjvCamera::new_tracking(1);
        camera.distance = 3.0;
        camera.elevation = -20.0;
        camera.azimuth = 90.0;
        camera
    };
    MjRenderer::builder().width(width).height(height).camera(camera).build(model).map_err(|e| {
        format!(
            "MuJoCo's offscreen renderer could not start ({e}): it needs EGL and an OpenGL driver, e.g. Debian's \
             libegl1, libegl-mesa0 and libgl1-mesa-dri (scripts/setup-render.sh)"
        )
    })
}

/// Brings `data` to `state`'s kinematics (done by the caller) and draws it into `renderer`.
pub(crate) fn draw<M: mujoco_rs::wrappers::mj_model::traits::ModelType>(
    data: &mut MjData<M>,
    renderer: &mut MjRenderer,
) -> Result<(), String> {
    renderer.sync_data(data).map_err(|e| format!("the renderer could not take the state: {e}"))?;
    renderer.render().map_err(|e| format!("the renderer failed: {e}"))
}
