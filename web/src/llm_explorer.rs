//! The LLM logit-scaling explorer: GRPO with ERA sharpens or softens a positive-advantage response
//! whose entropy leaves the band [ω_low, ω_high], and rescales its advantage the other way.

use era_shared::llm_scaling::{LlmEra, Regime};
use era_web::explore;
use era_web::params::LlmParams;
use leptos::prelude::*;
use plotters::style::RGBColor;

use era_web::figure::{Bars, Figure, Line, Lines, Role};
use era_web::guide::{self, LlmState};

use crate::chart;
use crate::guided_steps::GuidedSteps;
use crate::widgets::{ChartCanvas, FigureCanvas, Slider};

/// An example next-token distribution to show what the scale does.
const TOKEN_LOGITS: [f64; 8] = [3.0, 2.2, 1.5, 1.0, 0.4, 0.0, -0.5, -1.0];

/// The explorer; `initial` comes from the URL, and every change is reported through `on_change`.
#[component]
pub fn LlmExplorer(initial: LlmParams, on_change: Callback<LlmParams>) -> impl IntoView {
    let entropies = RwSignal::new(initial.entropies);
    let advantage = RwSignal::new(initial.advantage);
    let omega_low = RwSignal::new(initial.omega_low);
    let omega_high = RwSignal::new(initial.omega_high);
    let k = RwSignal::new(initial.k);
    let top = RwSignal::new(initial.top_fraction);
    let text = RwSignal::new(String::new());
    let params = Memo::new(move |_| LlmParams {
        entropies: entropies.get(),
        advantage: advantage.get(),
        omega_low: omega_low.get(),
        omega_high: omega_high.get(),
        k: k.get(),
        top_fraction: top.get(),
    });
    Effect::new(move |_| on_change.run(params.get()));
    let era = Memo::new(move |_| {
        let p = params.get();
        LlmEra::new(p.omega_low, p.omega_high, p.k, p.top_fraction, true).map_err(|e| e.to_string())
    });
    let result = Memo::new(move |_| {
        let p = params.get();
        explore::llm(&p.entropies, p.advantage, &era.get()?)
    });
    let parse_error = RwSignal::new(None::<String>);
    let apply_text = move |_| {
        let parsed: Result<Vec<f64>, _> = text
            .get()
            .split([',', ' ', '\n'])
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().parse::<f64>())
            .collect();
        match parsed {
            Ok(v)
                if !v.is_empty()
                    && v.len() <= LlmParams::MAX_TOKENS
                    && v.iter().all(|x| x.is_finite() && *x >= 0.0) =>
            {
                parse_error.set(None);
                entropies.set(v);
            }
            _ => parse_error.set(Some(format!(
                "token entropies must be 1–{} numbers ≥ 0, separated by commas or spaces",
                LlmParams::MAX_TOKENS
            ))),
        }
    };
    let sample = move |_| {
        let seed = (js_sys::Math::random() * 1e9) as u64;
        entropies.set(explore::sample_entropies(40, 4.0, seed));
    };
    let sequence_chart = move || -> Result<Figure, String> {
        let p = params.get();
        let r = result.get()?;
        let points = p.entropies.iter().enumerate().map(|(i, e)| ((i + 1) as f64, *e)).collect();
        Ok(Figure::Lines(Lines {
            title: "token entropies of the response".into(),
            x_label: "token position".into(),
            y_label: "entropy (nats)".into(),
            series: vec![Line::new("token entropy", Role::Other(0), points)],
            hlines: vec![("H_resp".into(), r.h_resp), ("ω_low".into(), p.omega_low), ("ω_high".into(), p.omega_high)],
            cursor: None,
            log_x: false,
        }))
    };
    let map_chart = move |c: &web_sys::HtmlCanvasElement| {
        let e = era.get()?;
        let r = result.get()?;
        let hi = (params.get().omega_high * 1.5).max(1.0);
        chart::draw_map(
            c,
            "regime map: sharpen (blue), keep (grey), soften (orange)",
            ("H_resp (nats)", "advantage A"),
            (0.0, hi, -2.0, 2.0),
            |h, a| match e.regime(h, a) {
                Regime::Sharpen => RGBColor(160, 200, 235),
                Regime::Keep => RGBColor(225, 225, 225),
                Regime::Soften => RGBColor(245, 190, 140),
            },
            (r.h_resp.min(hi), params.get().advantage.clamp(-2.0, 2.0)),
        )
    };
    let token_chart = move || -> Result<Figure, String> {
        let r = result.get()?;
        let (before, after) = explore::scaled_distribution(&TOKEN_LOGITS, r.logit_scale);
        Ok(Figure::Bars(Bars {
            title: format!("an example next-token distribution, logits × {:.3}", r.logit_scale),
            y_label: "probability".into(),
            categories: (1..=TOKEN_LOGITS.len()).map(|i| format!("t{i}")).collect(),
            series: vec![("before".into(), Role::Baseline, before), ("after ERA's scaling".into(), Role::Era, after)],
            hlines: vec![],
            y_range: Some((0.0, 1.0)),
        }))
    };
    view! {
        <section class="explorer" aria-labelledby="llm-title">
            <h2 id="llm-title">"LLM logit scaling (GRPO)"</h2>
            <p>
                "For each sampled response, ERA averages the top share of its token entropies into H_resp. A response "
                "with a positive advantage whose H_resp is below ω_low is sharpened (logits × k) and one above ω_high is "
                "softened (logits ÷ k); its advantage is divided by the same factor, so the update's size is kept "
                "while the sampling entropy is pushed back into the band."
            </p>
            <p class="formula">"A > 0: H_resp < ω_low → z′ = k·z, A′ = A/k;  H_resp > ω_high → z′ = z/k, A′ = k·A;  otherwise unchanged"</p>
            <div class="controls">
                <Slider id="l-wl".into() label="ω_low (nats)" min=0.0 max=6.0 step=0.05 value=omega_low decimals=2 />
                <Slider id="l-wh".into() label="ω_high (nats)" min=0.0 max=12.0 step=0.05 value=omega_high decimals=2 />
                <Slider id="l-k".into() label="k" min=1.0 max=8.0 step=0.05 value=k decimals=2 />
                <Slider id="l-top".into() label="top fraction" min=0.01 max=1.0 step=0.01 value=top decimals=2 />
                <Slider id="l-a".into() label="advantage A" min=-3.0 max=3.0 step=0.05 value=advantage decimals=2 />
                <button type="button" on:click=sample>"Sample a response"</button>
            </div>
            <div class="entropy-input">
                <label for="l-text">"Token entropies (nats, comma or space separated)"</label>
                <textarea id="l-text" rows="2" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <button type="button" id="l-apply" on:click=apply_text>"Use these"</button>
                {move || parse_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </div>
            <GuidedSteps id="l-guide" steps=guide::LLM state=Memo::new(move |_| LlmState::of(params.get())) />
            <p class="readout" id="l-readout" aria-live="polite">
                {move || match result.get() {
                    Ok(r) => format!(
                        "H_resp = {:.4} nats over the top {} of {} tokens → {}: logits × {:.3}, advantage {:.3} → {:.3}",
                        r.h_resp,
                        r.top_count,
                        params.get().entropies.len(),
                        r.regime.as_str(),
                        r.logit_scale,
                        params.get().advantage,
                        r.advantage
                    ),
                    Err(e) => e,
                }}
            </p>
            <div class="charts">
                <FigureCanvas id="l-sequence".into() label="token entropies with H_resp and the band" figure=sequence_chart />
                <ChartCanvas id="l-map".into() label="regime map over H_resp and advantage" draw=map_chart />
                <FigureCanvas id="l-token".into() label="what the scale does to a token distribution" figure=token_chart />
            </div>
        </section>
    }
}
