//! `era eval control --video FILE.gif|FILE.mp4`: the first evaluation episode as a video.
//!
//! Frames are what the task itself shows: the pure-Rust tasks' scenes (`era_shared::env::Scene`),
//! painted with tiny-skia the way the explorer paints them on its canvas, and the MuJoCo tasks
//! through MuJoCo's own offscreen renderer (EGL; on a machine without a GPU, Mesa's software
//! rasteriser) when era is built with `--features render`, or else their side-view scene.
//!
//! Two containers, chosen by the file's extension:
//! - **GIF**, always: a pure-Rust encoder, no system library; frames are quantised to 256 colours
//!   each (NeuQuant), which the flat colours of a scene survive unchanged.
//! - **MP4** (H.264, 4:2:0, BT.601 limited range), with `--features mp4`: Cisco's OpenH264 encoder,
//!   compiled from the source the `openh264` crate carries (a C++ compiler, no system library), in
//!   an MP4 written by the `mp4` crate. A tenth of a GIF's size for MuJoCo's shaded frames, and
//!   what slides and papers' supplementary pages take. A feature, not the default, because it compiles a
//!   C++ codec and because H.264 is patent-encumbered: Cisco's patent licence covers the binaries
//!   Cisco ships, not one compiled from source, so whoever distributes such a build answers for it.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use era_shared::env::{Env, Role, Scene, Shape};
use tiny_skia::{FillRule, LineCap, Paint, PathBuilder, Pixmap, Stroke, Transform};

#[cfg(feature = "mp4")]
mod mp4;

/// How the frames of a video are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Renderer {
    /// MuJoCo's offscreen renderer for MuJoCo tasks (needs `--features render`), the scene elsewhere.
    Auto,
    /// The task's scene, painted in 2-D (every task has one; MuJoCo's is a side view of the bodies).
    Scene,
    /// MuJoCo's offscreen renderer (MuJoCo tasks, `--features render`).
    Mujoco,
}

/// What `--video` asks for.
#[derive(Debug, Clone)]
pub struct VideoSpec {
    /// The video to write: `.gif`, or `.mp4` with `--features mp4`.
    pub path: PathBuf,
    /// Frame width and height in pixels.
    pub size: (u32, u32),
    /// Frames per second of playback.
    pub fps: f64,
    /// Keep every n-th environment step (1: all).
    pub every: usize,
    /// How frames are made.
    pub renderer: Renderer,
}

impl VideoSpec {
    /// Refuses sizes, rates and files the container cannot hold, naming the option.
    pub fn check(&self) -> anyhow::Result<()> {
        let (w, h) = self.size;
        if !(16..=4096).contains(&w) || !(16..=4096).contains(&h) {
            bail!("--video-size {w}x{h}: each side must be 16 to 4096 pixels");
        }
        if !(self.fps.is_finite() && (1.0..=100.0).contains(&self.fps)) {
            bail!("--video-fps {}: must be 1 to 100 (a GIF counts frame times in hundredths of a second)", self.fps);
        }
        if self.every == 0 {
            bail!("--video-every 0: must be at least 1 (1 keeps every step)");
        }
        match self.container()? {
            Container::Gif => {}
            Container::Mp4 if !cfg!(feature = "mp4") => return Err(no_mp4(&self.path)),
            Container::Mp4 if w % 2 == 1 || h % 2 == 1 => {
                bail!("--video-size {w}x{h}: an MP4 (H.264, 4:2:0) needs even sides, e.g. {}x{}", w + w % 2, h + h % 2)
            }
            Container::Mp4 => {}
        }
        Ok(())
    }

    /// The container the file's extension names.
    fn container(&self) -> anyhow::Result<Container> {
        match self.path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
            Some("gif") => Ok(Container::Gif),
            Some("mp4") => Ok(Container::Mp4),
            _ => bail!("--video {}: era writes GIF or MP4 files; name it FILE.gif or FILE.mp4", self.path.display()),
        }
    }
}

/// Why an MP4 cannot be written by an era built without the `mp4` feature.
fn no_mp4(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "--video {}: this era was built without MP4 support; build it with --features mp4 \
         (H.264 through OpenH264, compiled from source), or name the file FILE.gif",
        path.display()
    )
}

/// The video formats era writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    /// An animated GIF, looping.
    Gif,
    /// H.264 in MP4 (`--features mp4`).
    Mp4,
}

/// Parses `WxH` (`--video-size 320x240`).
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("'{s}': expected WIDTHxHEIGHT, e.g. 320x240"))?;
    let side = |v: &str| v.trim().parse::<u32>().map_err(|_| format!("'{s}': expected WIDTHxHEIGHT, e.g. 320x240"));
    Ok((side(w)?, side(h)?))
}

/// Paints frames of one task.
enum Painter {
    Scene(Pixmap),
    #[cfg(feature = "render")]
    Mujoco(Box<era_shared::env::render::Offscreen>),
}

/// Collects the frames of an episode, then writes them as a GIF.
pub struct Recorder {
    spec: VideoSpec,
    painter: Painter,
    frames: Vec<Vec<u8>>,
    seen: usize,
    error: Option<anyhow::Error>,
}

impl Recorder {
    /// A recorder for `env`'s task, with the renderer `spec` asks for.
    pub fn new(env: &Env, spec: VideoSpec) -> anyhow::Result<Self> {
        spec.check()?;
        let (w, h) = spec.size;
        let id = env.spec().id;
        let mujoco = era_shared::env::is_mujoco(id);
        let painter = match (spec.renderer, mujoco) {
            (Renderer::Mujoco, false) => bail!("--video-renderer mujoco: {id} is not a MuJoCo task (use scene)"),
            (Renderer::Scene, _) | (Renderer::Auto, false) => Painter::Scene(blank(w, h)?),
            #[cfg(feature = "render")]
            (Renderer::Mujoco | Renderer::Auto, true) => Painter::Mujoco(Box::new(
                era_shared::env::render::Offscreen::new(env, w, h).map_err(|e| anyhow::anyhow!("--video: {e}"))?,
            )),
            #[cfg(not(feature = "render"))]
            (Renderer::Mujoco, true) => bail!(
                "--video-renderer mujoco: this era was built without MuJoCo's renderer; build with --features render \
                 (scripts/setup-render.sh installs Mesa's EGL), or use --video-renderer scene"
            ),
            #[cfg(not(feature = "render"))]
            (Renderer::Auto, true) => Painter::Scene(blank(w, h)?),
        };
        Ok(Self { spec, painter, frames: Vec::new(), seen: 0, error: None })
    }

    /// Which renderer makes the frames, in words.
    pub fn renderer_name(&self) -> &'static str {
        match self.painter {
            Painter::Scene(_) => "the task's scene",
            #[cfg(feature = "render")]
            Painter::Mujoco(_) => "MuJoCo's offscreen renderer",
        }
    }

    /// Takes a frame of `env` now (every `--video-every`-th call). A failure is kept and reported by
    /// [`Recorder::finish`], so the episode itself is not cut short.
    pub fn capture(&mut self, env: &Env) {
        let keep = self.seen.is_multiple_of(self.spec.every);
        self.seen += 1;
        if !keep || self.error.is_some() {
            return;
        }
        let frame = match &mut self.painter {
            Painter::Scene(pixmap) => {
                paint(pixmap, &env.scene());
                Ok(rgb_of(pixmap))
            }
            #[cfg(feature = "render")]
            Painter::Mujoco(offscreen) => offscreen.frame(env).map_err(|e| anyhow::anyhow!("--video: {e}")),
        };
        match frame {
            Ok(f) => self.frames.push(f),
            Err(e) => self.error = Some(e),
        }
    }

    /// Writes the video; returns how many frames it holds.
    pub fn finish(self) -> anyhow::Result<usize> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let VideoSpec { path, size, fps, .. } = &self.spec;
        if self.frames.is_empty() {
            bail!("--video {}: the episode gave no frame", path.display());
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("--video: cannot create {}", dir.display()))?;
        }
        match self.spec.container()? {
            Container::Gif => write_gif(path, *size, *fps, &self.frames)?,
            #[cfg(feature = "mp4")]
            Container::Mp4 => mp4::write(path, *size, *fps, &self.frames)?,
            #[cfg(not(feature = "mp4"))]
            Container::Mp4 => return Err(no_mp4(path)),
        }
        Ok(self.frames.len())
    }
}

fn blank(w: u32, h: u32) -> anyhow::Result<Pixmap> {
    Pixmap::new(w, h).with_context(|| format!("--video-size {w}x{h}: cannot allocate the frame"))
}

/// The RGB bytes of a pixmap (opaque: every frame starts from a white background).
fn rgb_of(pixmap: &Pixmap) -> Vec<u8> {
    pixmap.data().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
}

/// Paints `scene` over white, the view fitted and centred as the explorer does.
fn paint(pixmap: &mut Pixmap, scene: &Scene) {
    pixmap.fill(tiny_skia::Color::WHITE);
    let fit = scene.fit(f64::from(pixmap.width()), f64::from(pixmap.height()));
    let px = |p: [f64; 2]| {
        let (x, y) = fit.to_pixels(p);
        (x as f32, y as f32)
    };
    let paint_of = |role: Role| {
        let [r, g, b] = role.rgb();
        let mut paint = Paint::default();
        paint.set_color_rgba8(r, g, b, 255);
        paint.anti_alias = true;
        paint
    };
    for shape in &scene.shapes {
        match shape {
            Shape::Segment { from, to, width, role } => {
                let mut pb = PathBuilder::new();
                let (a, b) = (px(*from), px(*to));
                pb.move_to(a.0, a.1);
                pb.line_to(b.0, b.1);
                if let Some(path) = pb.finish() {
                    let stroke = Stroke {
                        width: (width * fit.scale).max(1.0) as f32,
                        line_cap: LineCap::Round,
                        ..Stroke::default()
                    };
                    pixmap.stroke_path(&path, &paint_of(*role), &stroke, Transform::identity(), None);
                }
            }
            Shape::Circle { center, radius, role } => {
                let c = px(*center);
                if let Some(path) = PathBuilder::from_circle(c.0, c.1, (radius * fit.scale).max(1.5) as f32) {
                    pixmap.fill_path(&path, &paint_of(*role), FillRule::Winding, Transform::identity(), None);
                }
            }
            Shape::Polyline { points, role } => {
                let mut pb = PathBuilder::new();
                for (i, p) in points.iter().enumerate() {
                    let q = px(*p);
                    if i == 0 { pb.move_to(q.0, q.1) } else { pb.line_to(q.0, q.1) }
                }
                if let Some(path) = pb.finish() {
                    let stroke = Stroke { width: 2.0, ..Stroke::default() };
                    pixmap.stroke_path(&path, &paint_of(*role), &stroke, Transform::identity(), None);
                }
            }
        }
    }
}

/// Writes RGB `frames` of `size` as a looping GIF at `fps`.
fn write_gif(path: &Path, size: (u32, u32), fps: f64, frames: &[Vec<u8>]) -> anyhow::Result<()> {
    let (w, h) = (size.0 as u16, size.1 as u16);
    let file = File::create(path).with_context(|| format!("--video: cannot create {}", path.display()))?;
    let mut encoder = gif::Encoder::new(BufWriter::new(file), w, h, &[])
        .with_context(|| format!("--video: cannot write {}", path.display()))?;
    encoder.set_repeat(gif::Repeat::Infinite)?;
    // Frame times are whole hundredths of a second.
    for (rgb, delay) in frames.iter().zip(durations(fps, 100)) {
        let mut frame = gif::Frame::from_rgb_speed(w, h, rgb, 10);
        frame.delay = delay as u16;
        encoder.write_frame(&frame).with_context(|| format!("--video: cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Frame after frame, how long each is shown in ticks of `1 / per_second` s: `per_second / fps`
/// rounded, at least one tick, with the rounding error carried to the next frame so that the video
/// keeps `fps` on average.
fn durations(fps: f64, per_second: u32) -> impl Iterator<Item = u32> {
    let mut carried = 0.0;
    std::iter::repeat_with(move || {
        let exact = f64::from(per_second) / fps + carried;
        let ticks = exact.round().max(1.0);
        carried = exact - ticks;
        ticks as u32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_are_named() {
        assert_eq!(parse_size("320x240"), Ok((320, 240)));
        assert!(parse_size("320").unwrap_err().contains("WIDTHxHEIGHT"));
        let spec =
            |size, fps, every, path: &str| VideoSpec { path: path.into(), size, fps, every, renderer: Renderer::Auto };
        assert!(spec((320, 240), 30.0, 1, "a.gif").check().is_ok());
        assert!(spec((8, 240), 30.0, 1, "a.gif").check().unwrap_err().to_string().contains("16 to 4096"));
        assert!(spec((320, 240), 0.5, 1, "a.gif").check().unwrap_err().to_string().contains("--video-fps"));
        assert!(spec((320, 240), 30.0, 0, "a.gif").check().unwrap_err().to_string().contains("--video-every"));
        assert!(spec((320, 240), 30.0, 1, "a.avi").check().unwrap_err().to_string().contains("FILE.gif or FILE.mp4"));
        let mp4 = |size| spec(size, 30.0, 1, "a.MP4").check();
        if cfg!(feature = "mp4") {
            assert!(mp4((320, 240)).is_ok());
            assert!(mp4((321, 240)).unwrap_err().to_string().contains("even sides, e.g. 322x240"));
        } else {
            assert!(mp4((320, 240)).unwrap_err().to_string().contains("--features mp4"));
        }
    }

    #[test]
    fn frame_durations_keep_the_rate_on_average() {
        // 100 / 30 = 3.33…: 3 (⅓ carried), 3.67 → 4 (−⅓ carried), 3, and again.
        assert_eq!(durations(30.0, 100).take(6).collect::<Vec<_>>(), [3, 4, 3, 3, 4, 3]);
        // 100 fps is one hundredth each; never below one tick.
        assert!(durations(100.0, 100).take(5).all(|d| d == 1));
        let total: u32 = durations(7.0, 90_000).take(7).sum();
        assert_eq!(total, 90_000, "7 frames at 7 per second last one second");
    }

    #[test]
    fn a_scene_is_painted_in_its_roles_colours_over_white() {
        let mut pixmap = blank(100, 100).unwrap();
        // A body segment across the middle of a 2 × 2 view: 50 px per unit.
        let scene = Scene {
            view: [-1.0, 1.0, -1.0, 1.0],
            shapes: vec![Shape::Segment { from: [-0.5, 0.0], to: [0.5, 0.0], width: 0.2, role: Role::Body }],
        };
        paint(&mut pixmap, &scene);
        let rgb = rgb_of(&pixmap);
        let at = |x: usize, y: usize| &rgb[(y * 100 + x) * 3..(y * 100 + x) * 3 + 3];
        assert_eq!(at(50, 50), Role::Body.rgb(), "the segment's middle");
        assert_eq!(at(50, 10), [255, 255, 255], "background above it");
        assert_eq!(at(5, 50), [255, 255, 255], "beyond its end (x = -0.9)");
    }
}
