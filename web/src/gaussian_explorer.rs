//! The Gaussian σ explorer: how ERA fixes a D-dimensional Gaussian policy's entropy and lets the
//! network only choose how to spread it over dimensions.

use era_web::explore;
use era_web::params::GaussianParams;
use leptos::prelude::*;

use era_web::figure::{Bars, Figure, Role};
use era_web::guide::{self, GaussianState};

use crate::guided_steps::GuidedSteps;
use crate::widgets::{FigureCanvas, ListSlider, Slider};

/// The explorer; `initial` comes from the URL, and every change is reported through `on_change`.
#[component]
pub fn GaussianExplorer(initial: GaussianParams, on_change: Callback<GaussianParams>) -> impl IntoView {
    let raw = RwSignal::new(initial.raw);
    let h0 = RwSignal::new(initial.h0);
    let delta = RwSignal::new(initial.delta);
    let log_std_min = RwSignal::new(initial.log_std_min);
    let log_std_max = RwSignal::new(initial.log_std_max);
    let dims = Memo::new(move |_| raw.with(Vec::len));
    let params = Memo::new(move |_| GaussianParams {
        raw: raw.get(),
        h0: h0.get(),
        delta: delta.get(),
        log_std_min: log_std_min.get(),
        log_std_max: log_std_max.get(),
    });
    Effect::new(move |_| on_change.run(params.get()));
    let result = Memo::new(move |_| {
        let p = params.get();
        explore::gaussian(&p.raw, p.h0, p.delta, p.log_std_min, p.log_std_max)
    });
    // The slider for H₀ spans the range where H₀ + δ is reachable for these bounds.
    let valid =
        Memo::new(move |_| era_shared::GaussianEra::valid_range(dims.get(), log_std_min.get(), log_std_max.get()));
    // A change of D also moves H₀ into what D dimensions can reach.
    let set_dims = move |d: usize| {
        let p = params.get_untracked().with_dims(d);
        h0.set(p.h0);
        raw.set(p.raw);
    };
    let randomise = move |_| {
        let seed = (js_sys::Math::random() * 1e9) as u64;
        raw.update(|v| {
            let n = v.len();
            *v = explore::sample_entropies(n, 6.0, seed).into_iter().map(|x| x - 3.0).collect();
        });
    };
    let sigma_chart = move || -> Result<Figure, String> {
        let r = result.get()?;
        let p = params.get();
        // On the log scale the clip is visible: both bounds are lines, and moving either slider moves one.
        Ok(Figure::Bars(Bars {
            title: "log σ′ per action dimension: ERA vs a plain clip of log σ".into(),
            y_label: "log σ (nats)".into(),
            categories: (1..=p.raw.len()).map(|i| format!("a{i}")).collect(),
            series: vec![
                ("ERA log σ′".into(), Role::Era, r.log_std.clone()),
                ("plain clip log σ".into(), Role::Baseline, r.clip_log_std.clone()),
            ],
            hlines: vec![("log σ_max".into(), p.log_std_max), ("log σ_min".into(), p.log_std_min)],
            y_range: Some((p.log_std_min - 0.5, p.log_std_max + 0.5)),
        }))
    };
    let entropy_chart = move || -> Result<Figure, String> {
        let r = result.get()?;
        Ok(Figure::Bars(Bars {
            title: "Gaussian entropy against the target".into(),
            y_label: "entropy (nats)".into(),
            categories: vec!["Gaussian entropy".into()],
            series: vec![
                ("ERA".into(), Role::Era, vec![r.entropy]),
                ("plain clip".into(), Role::Baseline, vec![r.clip_entropy]),
            ],
            hlines: vec![("H₀ + δ".into(), r.target)],
            y_range: None,
        }))
    };
    view! {
        <section class="explorer" aria-labelledby="gaussian-title">
            <h2 id="gaussian-title">"Gaussian σ (continuous control)"</h2>
            <p>
                "A policy's network outputs raw scores ŝ, one per action dimension. ERA turns them into log-stds whose "
                "Gaussian entropy is exactly H₀ + δ: the network decides only how to share that budget between "
                "dimensions. The clip to [log σ_min, log σ_max] can only raise the entropy. A plain clip of ŝ leaves "
                "the entropy free to collapse or explode."
            </p>
            <p class="formula">
                "log σ′ᵢ = clip(log σ_max + (H₀ + δ − D·log√(2πe) − D·log σ_max)·softmax(ŝ)ᵢ, log σ_min, log σ_max)"
            </p>
            <div class="controls">
                <div class="slider">
                    <label for="g-dims">"D (action dimensions)"</label>
                    <input
                        type="range"
                        id="g-dims"
                        min="1"
                        max=GaussianParams::MAX_DIMS.to_string()
                        step="1"
                        prop:value=move || dims.get().to_string()
                        on:input=move |ev| {
                            if let Ok(d) = event_target_value(&ev).parse::<usize>() {
                                set_dims(d);
                            }
                        }
                    />
                    <output for="g-dims">{move || dims.get()}</output>
                </div>
                <Slider
                    id="g-h0".into()
                    label="H₀ (nats, whole action)"
                    min=Signal::derive(move || (valid.get().0 * 10.0).ceil() / 10.0)
                    max=Signal::derive(move || (valid.get().1 * 10.0).floor() / 10.0)
                    step=0.05
                    value=h0
                />
                <Slider id="g-delta".into() label="δ (compensation, nats)" min=0.0 max=5.0 step=0.05 value=delta />
                <Slider id="g-lmin".into() label="log σ_min" min=-10.0 max=-0.5 step=0.1 value=log_std_min />
                <Slider id="g-lmax".into() label="log σ_max" min=-0.4 max=2.0 step=0.1 value=log_std_max />
                <button type="button" on:click=randomise>"Randomise ŝ"</button>
            </div>
            <details open>
                <summary>"Raw scores ŝ"</summary>
                <div class="controls">
                    {move || {
                        (0..dims.get())
                            .map(|i| view! {
                                <ListSlider id=format!("g-s{i}") label=format!("ŝ{}", i + 1) min=-5.0 max=5.0 step=0.05 list=raw index=i />
                            })
                            .collect_view()
                    }}
                </div>
            </details>
            <GuidedSteps id="g-guide" steps=guide::GAUSSIAN state=Memo::new(move |_| GaussianState::of(params.get())) />
            <p class="readout" id="g-readout" aria-live="polite">
                {move || match result.get() {
                    Ok(r) => format!(
                        "ERA entropy {:.4} nats (target H₀ + δ = {:.4}); plain clip {:.4} nats. Valid H₀ + δ: [{:.2}, {:.2}].",
                        r.entropy, r.target, r.clip_entropy, r.valid.0, r.valid.1
                    ),
                    Err(e) => e,
                }}
            </p>
            <div class="charts">
                <FigureCanvas id="g-sigma".into() label="sigma per dimension" figure=sigma_chart />
                <FigureCanvas id="g-entropy".into() label="entropy against the target" figure=entropy_chart />
            </div>
        </section>
    }
}
