//! Training live in the page: the `era-shared` SAC or PPO agent, with or without ERA, on one of the
//! pure-Rust environments, on WebGPU when the browser gives an adapter and on the CPU otherwise. The
//! environment is drawn as it trains, and H₀ can be changed mid-run.

use std::cell::Cell;
use std::rc::Rc;

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::AutodiffBackend;
use era_shared::control::AgentConfig;
use era_shared::control::ppo::PpoConfig;
use era_shared::control::sac::SacConfig;
use era_shared::control::{Algo, ControlConfig, ControlTrainer};
use era_shared::env::scene::{Role, Scene, Shape};
use era_shared::env::{ENV_IDS, Env};
use era_shared::metrics;
use era_shared::train::Trainer;
use era_web::figure::{Figure, Line, Lines, Role as SeriesRole};
use era_web::params::TrainParams;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::browser::{now_ms, sleep};

use crate::widgets::{ChartCanvas, FigureCanvas, Slider};

/// Series the page charts, by metric key.
const CHARTED: [&str; 4] =
    [metrics::EPISODIC_RETURN, metrics::GAUSSIAN_ENTROPY, metrics::STD_MEAN, metrics::EVAL_RETURN];

/// Which compute backend the page trains on.
#[derive(Debug, Clone, PartialEq)]
enum Device {
    /// Still asking the browser.
    Probing,
    /// WebGPU, with the adapter's description.
    WebGpu(String),
    /// The CPU, with the reason WebGPU is not used.
    Cpu(String),
}

/// Asks `navigator.gpu` for an adapter; its description, or why there is none.
async fn webgpu_adapter() -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let gpu = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("gpu")).map_err(|_| "no navigator.gpu")?;
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser has no WebGPU (navigator.gpu is missing)".into());
    }
    let request: js_sys::Function = js_sys::Reflect::get(&gpu, &JsValue::from_str("requestAdapter"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise: js_sys::Promise =
        request.call0(&gpu).ok().and_then(|p| p.dyn_into().ok()).ok_or("requestAdapter failed")?;
    let adapter = JsFuture::from(promise).await.map_err(|e| format!("requestAdapter: {e:?}"))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("WebGPU gave no adapter".into());
    }
    let info = js_sys::Reflect::get(&adapter, &JsValue::from_str("info")).unwrap_or(JsValue::UNDEFINED);
    let field = |k: &str| {
        js_sys::Reflect::get(&info, &JsValue::from_str(k)).ok().and_then(|v| v.as_string()).unwrap_or_default()
    };
    let name = [field("vendor"), field("architecture"), field("description")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>();
    Ok(if name.is_empty() { "adapter".into() } else { name.join(" ") })
}

/// `(metric key, (step, value) points)` per charted metric.
type Series = Vec<(String, Vec<(f64, f64)>)>;

/// What the page shows of a run, written by the training loop.
#[derive(Clone, Copy)]
struct View {
    step: RwSignal<u64>,
    steps_per_sec: RwSignal<f64>,
    series: RwSignal<Series>,
    scene: RwSignal<Option<Scene>>,
    status: RwSignal<String>,
    target: RwSignal<Option<f64>>,
    /// The step of the first update (SAC: after its random warm-up; PPO: after its first rollout).
    first_update: RwSignal<u64>,
}

/// The settings a run starts with.
#[derive(Clone)]
struct Settings {
    env: String,
    algo: Algo,
    era: bool,
}

fn config(s: &Settings, h0_per_dim: f64) -> ControlConfig {
    // Small networks and short warm-ups: the page should show learning within a minute or two.
    let agent = match s.algo {
        Algo::Sac => {
            let mut c =
                SacConfig::standard(s.era).with_hidden(vec![64, 64]).with_batch_size(64).with_learning_starts(1000);
            c.era.h0_per_dim = h0_per_dim;
            AgentConfig::Sac(c)
        }
        Algo::Ppo => {
            let mut c = PpoConfig::standard(s.era).with_num_steps(512).with_num_minibatches(8);
            c.era.h0_per_dim = h0_per_dim;
            AgentConfig::Ppo(c)
        }
    };
    ControlConfig::new(s.env.clone(), agent)
        .with_total_steps(10_000_000)
        .with_log_every(250)
        .with_eval_every(2500)
        .with_eval_episodes(2)
}

/// One side of a chart: its ERA switch, target entropy, first update and points so far.
struct Side {
    era: bool,
    target: Option<f64>,
    first: u64,
    points: Vec<(f64, f64)>,
}

/// The step of a run's first update: SAC's after its random warm-up, PPO's after its first rollout.
fn first_update(c: &ControlConfig) -> u64 {
    match &c.agent {
        AgentConfig::Sac(a) => a.learning_starts,
        AgentConfig::Ppo(a) => (a.num_steps * c.num_envs) as u64,
    }
}

/// Trains every side until `alive` turns false, sharing each frame's time between them; `running`
/// pauses, `h0_per_dim` is applied to the sides with ERA as it changes.
async fn train<B: AutodiffBackend>(
    device: B::Device,
    sides: Vec<(Settings, View)>,
    h0_per_dim: RwSignal<f64>,
    running: RwSignal<bool>,
    alive: Rc<Cell<bool>>,
) -> Result<(), String> {
    let mut applied = h0_per_dim.get_untracked();
    let mut trainers = Vec::with_capacity(sides.len());
    for (settings, view) in &sides {
        let trainer = ControlTrainer::<B>::new(config(settings, applied), &device).map_err(|e| e.to_string())?;
        let dims = trainer.env_spec().action.dims() as f64;
        view.target.set(settings.era.then_some(applied * dims));
        view.first_update.set(first_update(trainer.config()));
        trainers.push((trainer, dims, (now_ms(), 0u64)));
    }
    // Each side gets its share of about one frame, then the browser gets its turn.
    let budget = 14.0 / sides.len().max(1) as f64;
    while alive.get() {
        if !running.get_untracked() {
            sleep(100).await;
            continue;
        }
        let h = h0_per_dim.get_untracked();
        let changed = (h - applied).abs() > 1e-12;
        for ((settings, view), (trainer, dims, window)) in sides.iter().zip(&mut trainers) {
            if settings.era && changed {
                trainer.set_h0(h * *dims).map_err(|e| e.to_string())?;
                view.target.set(Some(h * *dims));
            }
            let start = now_ms();
            while now_ms() - start < budget && alive.get() {
                for l in trainer.advance().await.map_err(|e| e.to_string())? {
                    view.series.update(|series| {
                        for (k, v) in &l.metrics {
                            if let Some(s) = series.iter_mut().find(|(key, _)| key == k) {
                                s.1.push((l.step as f64, *v));
                            }
                        }
                    });
                }
            }
            let step = trainer.step();
            view.step.set(step);
            if now_ms() - window.0 > 500.0 {
                view.steps_per_sec.set((step - window.1) as f64 / ((now_ms() - window.0) / 1000.0));
                *window = (now_ms(), step);
            }
            view.scene.set(Some(trainer.scene()));
        }
        applied = h;
        sleep(0).await;
    }
    Ok(())
}

/// Paints a scene: world coordinates mapped into the canvas, y up.
fn draw_scene(canvas: &web_sys::HtmlCanvasElement, scene: &Scene) -> Result<(), String> {
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or("the canvas has no 2D context")?;
    let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, w, h);
    let fit = scene.fit(w, h);
    let scale = fit.scale;
    let px = |p: [f64; 2]| fit.to_pixels(p);
    let colour = |r: Role| r.css();
    for shape in &scene.shapes {
        match shape {
            Shape::Segment { from, to, width, role } => {
                ctx.set_stroke_style_str(&colour(*role));
                ctx.set_line_width((width * scale).max(1.0));
                ctx.set_line_cap("round");
                ctx.begin_path();
                let (a, b) = (px(*from), px(*to));
                ctx.move_to(a.0, a.1);
                ctx.line_to(b.0, b.1);
                ctx.stroke();
            }
            Shape::Circle { center, radius, role } => {
                ctx.set_fill_style_str(&colour(*role));
                ctx.begin_path();
                let c = px(*center);
                let _ = ctx.arc(c.0, c.1, (radius * scale).max(1.5), 0.0, std::f64::consts::TAU);
                ctx.fill();
            }
            Shape::Polyline { points, role } => {
                ctx.set_stroke_style_str(&colour(*role));
                ctx.set_line_width(2.0);
                ctx.begin_path();
                for (i, p) in points.iter().enumerate() {
                    let q = px(*p);
                    if i == 0 { ctx.move_to(q.0, q.1) } else { ctx.line_to(q.0, q.1) }
                }
                ctx.stroke();
            }
        }
    }
    Ok(())
}

/// The live-training panel; `initial` comes from the URL, and every change is reported through `on_change`.
#[component]
pub fn TrainingExplorer(initial: TrainParams, on_change: Callback<TrainParams>) -> impl IntoView {
    let env = RwSignal::new(initial.env);
    let algo = RwSignal::new(if initial.algo == "ppo" { Algo::Ppo } else { Algo::Sac });
    let era = RwSignal::new(initial.era);
    let h0_per_dim = RwSignal::new(initial.h0_per_dim);
    let pair = RwSignal::new(initial.pair);
    Effect::new(move |_| {
        on_change.run(TrainParams {
            env: env.get(),
            algo: if algo.get() == Algo::Ppo { "ppo" } else { "sac" }.into(),
            era: era.get(),
            h0_per_dim: h0_per_dim.get(),
            pair: pair.get(),
        })
    });
    let running = RwSignal::new(false);
    let device = RwSignal::new(Device::Probing);
    let alive: StoredValue<Option<Rc<Cell<bool>>>, LocalStorage> = StoredValue::new_local(None);
    let new_view = || View {
        step: RwSignal::new(0),
        steps_per_sec: RwSignal::new(0.0),
        series: RwSignal::new(Vec::new()),
        scene: RwSignal::new(None),
        status: RwSignal::new(String::new()),
        target: RwSignal::new(None),
        first_update: RwSignal::new(0),
    };
    // The first side is the single agent, or ERA when two train side by side; the second is the
    // baseline (ERA off) of a pair.
    let views = [new_view(), new_view()];
    let view = views[0];
    // The sides of the run in progress: ERA on or off for each.
    let trained = RwSignal::new(Vec::<bool>::new());
    spawn_local(async move {
        device.set(match webgpu_adapter().await {
            Ok(name) => Device::WebGpu(name),
            Err(why) => Device::Cpu(why),
        });
    });
    let start = move |_| {
        if let Some(a) = alive.get_value() {
            a.set(false);
        }
        let flag = Rc::new(Cell::new(true));
        alive.set_value(Some(flag.clone()));
        let eras = if pair.get_untracked() { vec![true, false] } else { vec![era.get_untracked()] };
        let sides: Vec<(Settings, View)> = eras
            .iter()
            .zip(views)
            .map(|(&era, v)| {
                v.series.set(CHARTED.iter().map(|k| (k.to_string(), Vec::new())).collect());
                v.step.set(0);
                v.scene.set(None);
                (Settings { env: env.get_untracked(), algo: algo.get_untracked(), era }, v)
            })
            .collect();
        trained.set(eras);
        view.status.set(String::new());
        running.set(true);
        let on_gpu = matches!(device.get_untracked(), Device::WebGpu(_));
        spawn_local(async move {
            let result = if on_gpu {
                use burn::backend::wgpu::{WgpuDevice, graphics};
                let d = WgpuDevice::default();
                // The synchronous setup blocks, which a browser cannot do.
                burn::backend::wgpu::init_setup_async::<graphics::WebGpu>(&d, Default::default()).await;
                train::<Autodiff<burn::backend::Wgpu>>(d, sides, h0_per_dim, running, flag).await
            } else {
                train::<Autodiff<NdArray>>(Default::default(), sides, h0_per_dim, running, flag).await
            };
            if let Err(e) = result {
                view.status.set(format!("training stopped: {e}"));
                running.set(false);
            }
        });
    };
    // ERA's colour for a side with ERA on, the baseline's otherwise, as in every other view.
    let chart_of = move |key: &'static str, title: &'static str, y_label: &'static str| {
        move || -> Result<Figure, String> {
            let mut series = Vec::new();
            let mut hlines = Vec::new();
            let mut starts = 0;
            // Each side's ERA switch, target and first update: of the run in progress, or, before
            // Start, of the run the settings would start (so the target is there from the outset).
            let sides: Vec<Side> = if trained.with(Vec::is_empty) {
                let eras = if pair.get() { vec![true, false] } else { vec![era.get()] };
                let dims = Env::make(&env.get()).map(|e| e.spec().action.dims() as f64).unwrap_or(1.0);
                eras.into_iter()
                    .map(|era| {
                        let settings = Settings { env: env.get(), algo: algo.get(), era };
                        let c = config(&settings, h0_per_dim.get());
                        Side {
                            era,
                            target: era.then(|| h0_per_dim.get() * dims),
                            first: first_update(&c),
                            points: Vec::new(),
                        }
                    })
                    .collect()
            } else {
                trained
                    .get()
                    .iter()
                    .zip(&views)
                    .map(|(&era, v)| {
                        let points = v
                            .series
                            .with(|s| s.iter().find(|(k, _)| k == key).map(|(_, p)| p.clone()).unwrap_or_default());
                        Side { era, target: v.target.get(), first: v.first_update.get(), points }
                    })
                    .collect()
            };
            for Side { era, target, first, points } in sides {
                starts = starts.max(first);
                let (label, role) =
                    if era { ("with ERA", SeriesRole::Era) } else { ("without ERA", SeriesRole::Baseline) };
                series.push(Line::new(label, role, points));
                if let (metrics::GAUSSIAN_ENTROPY, Some(h)) = (key, target) {
                    hlines.push(("H₀".to_string(), h));
                }
            }
            let first_update = starts;
            // Before the first update there is nothing to draw but the target: say when lines begin,
            // and mark that step.
            let waiting = first_update > 0 && series.iter().all(|l| l.points.is_empty());
            Ok(Figure::Lines(Lines {
                title: if waiting { format!("{title}: updates start at step {first_update}") } else { title.into() },
                x_label: "environment steps".into(),
                y_label: y_label.into(),
                series,
                hlines,
                cursor: waiting.then_some(first_update as f64),
                log_x: false,
            }))
        }
    };
    let scene_of = move |side: usize| {
        move |c: &web_sys::HtmlCanvasElement| match views[side].scene.get() {
            Some(s) => draw_scene(c, &s),
            None => Ok(()),
        }
    };
    let side_name = move |side: usize| match trained.get().get(side) {
        Some(true) => "with ERA",
        Some(false) => "without ERA",
        None => "",
    };
    let status = move || {
        let s = view.status.get();
        if !s.is_empty() {
            return s;
        }
        let sides = trained.get();
        let line = |v: &View| format!("step {} · {:.0} steps/s", v.step.get(), v.steps_per_sec.get());
        if sides.len() < 2 {
            line(&views[0])
        } else {
            format!("with ERA: {} — without ERA: {}", line(&views[0]), line(&views[1]))
        }
    };
    view! {
        <section class="explorer" aria-labelledby="train-title">
            <h2 id="train-title">"Train live"</h2>
            <p>
                "The same SAC and PPO agents as era train control, compiled for the browser, learning on a pure-Rust "
                "environment while you watch (the authors' released settings with small 64-unit networks so it moves "
                "quickly). With ERA on the Gaussian's entropy is H₀ at every step (δ = 0, as released; it rises above "
                "H₀ only where a log-std meets its lower clip); change H₀ mid-run and watch exploration widen or "
                "narrow. With ERA off, SAC's temperature and PPO's free log-std decide it."
            </p>
            <p id="t-device" class="readout">
                {move || match device.get() {
                    Device::Probing => "Looking for WebGPU…".to_string(),
                    Device::WebGpu(name) => format!("Training on WebGPU ({name})."),
                    Device::Cpu(why) => format!("Training on the CPU backend ({why})."),
                }}
            </p>
            <div class="controls">
                <label>"environment "
                    <select id="t-env" on:change=move |ev| env.set(event_target_value(&ev))>
                        {ENV_IDS.iter().map(|id| view! { <option value=*id selected=move || env.get() == *id>{*id}</option> }).collect_view()}
                    </select>
                </label>
                <label>"algorithm "
                    <select id="t-algo" on:change=move |ev| algo.set(if event_target_value(&ev) == "ppo" { Algo::Ppo } else { Algo::Sac })>
                        <option value="sac" selected=move || algo.get() == Algo::Sac>"SAC"</option>
                        <option value="ppo" selected=move || algo.get() == Algo::Ppo>"PPO"</option>
                    </select>
                </label>
                <label><input type="checkbox" id="t-era" prop:checked=move || era.get() prop:disabled=move || pair.get() on:change=move |ev| era.set(event_target_checked(&ev)) />" ERA"</label>
                <label><input type="checkbox" id="t-pair" prop:checked=move || pair.get() on:change=move |ev| pair.set(event_target_checked(&ev)) />" ERA and without ERA side by side"</label>
                <Slider id="t-h0".into() label="H₀ per dimension (nats)" min=-3.0 max=1.4 step=0.05 value=h0_per_dim decimals=2 />
                <button type="button" id="t-start" on:click=start disabled=move || device.get() == Device::Probing>"Start"</button>
                <button type="button" id="t-pause" on:click=move |_| running.update(|r| *r = !*r)>
                    {move || if running.get() { "Pause" } else { "Resume" }}
                </button>
            </div>
            <p class="readout" id="t-status" aria-live="polite">{status}</p>
            <div class="charts">
                <figure class="scene">
                    <ChartCanvas id="t-scene".into() label="the environment" draw=scene_of(0) width=480 height=300 />
                    <figcaption>{move || side_name(0)}</figcaption>
                </figure>
                <Show when=move || trained.with(|t| t.len() > 1)>
                    <figure class="scene">
                        <ChartCanvas id="t-scene-2".into() label="the environment, second agent" draw=scene_of(1) width=480 height=300 />
                        <figcaption>{move || side_name(1)}</figcaption>
                    </figure>
                </Show>
                <FigureCanvas id="t-return".into() label="episodic return" figure=chart_of(metrics::EPISODIC_RETURN, "episodic return", "return") />
                <FigureCanvas id="t-entropy".into() label="Gaussian entropy" figure=chart_of(metrics::GAUSSIAN_ENTROPY, "Gaussian entropy", "entropy (nats)") />
                <FigureCanvas id="t-std".into() label="mean sigma" figure=chart_of(metrics::STD_MEAN, "mean σ over action dimensions", "σ") />
            </div>
        </section>
    }
}
