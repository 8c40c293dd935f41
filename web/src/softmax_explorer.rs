//! The softmax floor explorer: logits through ERA's activation keep the prediction's entropy at or
//! above H₀ however confident the logits get, and keep the top class.

use era_shared::softmax_floor::{FloorMode, SoftmaxFloor};
use era_web::explore;
use era_web::params::SoftmaxParams;
use leptos::prelude::*;

use era_web::figure::{Bars, Figure, Line, Lines, Role};
use era_web::guide::{self, SoftmaxState};

use crate::guided_steps::GuidedSteps;
use crate::widgets::{FigureCanvas, ListSlider, Slider};

/// The H₀ slider's step; its ends sit on multiples of it so keyboard steps land on round values.
const H0_STEP: f64 = 0.005;

/// The explorer; `initial` comes from the URL, and every change is reported through `on_change`.
#[component]
pub fn SoftmaxExplorer(initial: SoftmaxParams, on_change: Callback<SoftmaxParams>) -> impl IntoView {
    let logits = RwSignal::new(initial.logits);
    let h0 = RwSignal::new(initial.h0);
    let tau = RwSignal::new(initial.tau);
    let mode = RwSignal::new(initial.mode);
    let classes = Memo::new(move |_| logits.with(Vec::len));
    let valid = Memo::new(move |_| SoftmaxFloor::valid_range(classes.get(), tau.get()).unwrap_or((0.0, 1.0)));
    // H₀ is enforced inside its open valid range: the slider cannot leave it, and a URL value outside
    // it is pulled in (a reported correction, not an error).
    let inside = move |h: f64| {
        let (lo, hi) = valid.get();
        let margin = (hi - lo) * 1e-3;
        h.clamp(lo + margin, hi - margin)
    };
    let params = Memo::new(move |_| SoftmaxParams {
        logits: logits.get(),
        h0: inside(h0.get()),
        tau: tau.get(),
        mode: mode.get(),
    });
    Effect::new(move |_| on_change.run(params.get()));
    let result = Memo::new(move |_| {
        let p = params.get();
        explore::softmax(&p.logits, p.h0, p.tau, p.mode)
    });
    let other = move |m: FloorMode| match m {
        FloorMode::Exact => FloorMode::Official,
        FloorMode::Official => FloorMode::Exact,
    };
    let gap = Memo::new(move |_| {
        let p = params.get();
        let a = explore::softmax(&p.logits, p.h0, p.tau, p.mode).ok()?;
        let b = explore::softmax(&p.logits, p.h0, p.tau, other(p.mode)).ok()?;
        Some(b.entropy_after - a.entropy_after)
    });
    let sweep = Memo::new(move |_| {
        let p = params.get();
        explore::temperature_sweep(&p.logits, p.h0, p.tau, 61)
    });
    let probs_chart = move || -> Result<Figure, String> {
        let r = result.get()?;
        Ok(Figure::Bars(Bars {
            title: "class probabilities before and after the floor".into(),
            y_label: "probability".into(),
            categories: (0..r.before.len()).map(|i| format!("class {i}")).collect(),
            series: vec![
                ("softmax(z)".into(), Role::Baseline, r.before.clone()),
                ("softmax(z′), ERA".into(), Role::Era, r.after.clone()),
            ],
            hlines: vec![],
            y_range: Some((0.0, 1.0)),
        }))
    };
    let sweep_chart = move || -> Result<Figure, String> {
        let s = sweep.get()?;
        let p = params.get();
        Ok(Figure::Lines(Lines {
            title: "entropy against logit scale (1/temperature)".into(),
            x_label: "scale s: logits s·z (log axis)".into(),
            y_label: "entropy (nats)".into(),
            series: vec![
                Line::new("plain softmax", Role::Baseline, s.iter().map(|q| (q.scale, q.plain)).collect()),
                Line::new("ERA exact", Role::Era, s.iter().map(|q| (q.scale, q.exact)).collect()),
                Line::new("ERA official", Role::Other(0), s.iter().map(|q| (q.scale, q.official)).collect()),
            ],
            hlines: vec![("H₀".into(), p.h0)],
            cursor: Some(1.0),
            log_x: true,
        }))
    };
    view! {
        <section class="explorer" aria-labelledby="softmax-title">
            <h2 id="softmax-title">"Softmax floor (classification)"</h2>
            <p>
                "ERA maps a classifier's logits z to z′ whose softmax entropy is at least H₀, whatever the scale of z: "
                "the prediction can grow confident but never collapse to one-hot. The class order is kept, so top-1 "
                "accuracy is untouched. exact solves Lambert W₋₁ to precision (the floor is guaranteed); official is "
                "the authors' closed-form approximation."
            </p>
            <p class="formula">"hᵢ = u_b + (e^(H₀−1) − n·u_b)(1 − pᵢ)/(n − 1),  z′ᵢ = W₋₁(−hᵢ),  u_b = ln τ / τ"</p>
            <div class="controls">
                <div class="slider">
                    <label for="s-n">"n (classes)"</label>
                    <input
                        type="range"
                        id="s-n"
                        min="2"
                        max=SoftmaxParams::MAX_CLASSES.to_string()
                        step="1"
                        prop:value=move || classes.get().to_string()
                        on:input=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse::<usize>() {
                                logits.update(|v| v.resize(n.clamp(2, SoftmaxParams::MAX_CLASSES), 0.0));
                            }
                        }
                    />
                    <output for="s-n">{move || classes.get()}</output>
                </div>
                <Slider
                    id="s-h0".into()
                    label="H₀ (nats)"
                    min=Signal::derive(move || (inside(f64::NEG_INFINITY) / H0_STEP).ceil() * H0_STEP)
                    max=Signal::derive(move || (inside(f64::INFINITY) / H0_STEP).floor() * H0_STEP)
                    step=H0_STEP
                    value=h0
                />
                <Slider id="s-tau".into() label="τ" min=2.75 max=20.0 step=0.05 value=tau decimals=2 />
                <fieldset class="mode">
                    <legend>"inverse"</legend>
                    <label>
                        <input type="radio" name="s-mode" id="s-exact" prop:checked=move || mode.get() == FloorMode::Exact on:change=move |_| mode.set(FloorMode::Exact) />
                        "exact"
                    </label>
                    <label>
                        <input type="radio" name="s-mode" id="s-official" prop:checked=move || mode.get() == FloorMode::Official on:change=move |_| mode.set(FloorMode::Official) />
                        "official"
                    </label>
                </fieldset>
            </div>
            <p class="range" id="s-range">
                {move || {
                    let (lo, hi) = valid.get();
                    format!("valid for n = {}, τ = {:.2}: {lo:.4} < H₀ < {hi:.4}", classes.get(), tau.get())
                }}
            </p>
            <details open>
                <summary>"Logits z"</summary>
                <div class="controls">
                    {move || {
                        (0..classes.get())
                            .map(|i| view! {
                                <ListSlider id=format!("s-z{i}") label=format!("z{i}") min=-20.0 max=20.0 step=0.1 list=logits index=i />
                            })
                            .collect_view()
                    }}
                </div>
            </details>
            <GuidedSteps id="s-guide" steps=guide::SOFTMAX state=Memo::new(move |_| SoftmaxState::of(params.get())) />
            <p class="readout" id="s-readout" aria-live="polite">
                {move || match result.get() {
                    Ok(r) => format!(
                        "entropy before {:.4} nats, after {:.4} nats (floor H₀ = {:.4}); {} − {} gap: {}",
                        r.entropy_before,
                        r.entropy_after,
                        params.get().h0,
                        other(mode.get()).as_str(),
                        mode.get().as_str(),
                        gap.get().map(|g| format!("{g:+.4} nats")).unwrap_or_default()
                    ),
                    Err(e) => e,
                }}
            </p>
            <div class="charts">
                <FigureCanvas id="s-probs".into() label="probabilities before and after" figure=probs_chart />
                <FigureCanvas id="s-sweep".into() label="entropy against logit scale" figure=sweep_chart />
            </div>
        </section>
    }
}
