//! The placeholder page: one reactive example of the softmax floor.

use era_shared::prob;
use era_shared::softmax_floor::{DEFAULT_H0, DEFAULT_TAU, FloorMode, SoftmaxFloor};
use leptos::prelude::*;

/// Example logits, confident in class 0.
const EXAMPLE: [f64; 4] = [6.0, 1.0, 0.5, -2.0];

/// The page: `H₀` in; the valid range for the fixed 4-class example and its floored distribution out.
#[component]
pub fn App() -> impl IntoView {
    let (h0, set_h0) = signal(DEFAULT_H0);
    // Depends only on constants: computed once, not per render.
    let range = match SoftmaxFloor::valid_range(EXAMPLE.len(), DEFAULT_TAU) {
        Ok((lo, hi)) => format!("valid for {} classes: {lo:.4} < H₀ < {hi:.4}", EXAMPLE.len()),
        Err(e) => e.to_string(),
    };
    let result = Memo::new(move |_| {
        let floor =
            SoftmaxFloor::new(EXAMPLE.len(), h0.get(), DEFAULT_TAU, FloorMode::Exact).map_err(|e| e.to_string())?;
        let z = floor.apply(&EXAMPLE).map_err(|e| e.to_string())?;
        let mut p = vec![0.0; z.len()];
        prob::softmax(&z, &mut p);
        Ok::<_, String>((p, prob::entropy_from_logits(&z)))
    });
    view! {
        <main>
            <h1>"era explorer"</h1>
            <p>"ERA's softmax floor keeps the entropy of a classifier's prediction at or above H₀ (τ = " {DEFAULT_TAU} ")."</p>
            <label>
                "H₀ (nats): "
                <input
                    id="h0"
                    type="number"
                    step="0.05"
                    prop:value=move || h0.get()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                            set_h0.set(v);
                        }
                    }
                />
            </label>
            <p id="range">{range}</p>
            <p id="result">
                {move || match result.get() {
                    Ok((p, h)) => format!(
                        "logits {EXAMPLE:?} → probabilities [{}], entropy {h:.4} nats",
                        p.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ")
                    ),
                    Err(e) => e,
                }}
            </p>
        </main>
    }
}
