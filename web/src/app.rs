//! The page: a tab per explorer, the state of the open one mirrored into the URL so a link reopens it.

use era_web::params::{self, GaussianParams, LlmParams, Query, Reader, SoftmaxParams, TrainParams, View};
use leptos::prelude::*;

use crate::gaussian_explorer::GaussianExplorer;
use crate::llm_explorer::LlmExplorer;
use crate::replay_explorer::ReplayExplorer;
use crate::softmax_explorer::SoftmaxExplorer;
use crate::training_explorer::TrainingExplorer;

/// The page's query string as it was loaded.
fn initial_query() -> Query {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    Query::parse(&search)
}

/// Replaces the URL's query without reloading (the browser's history is the outside world).
fn write_url(q: &Query) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&q.to_search()));
    }
}

/// Each explorer's latest parameters as URL pairs; the open one's go into the URL.
#[derive(Clone, Copy)]
struct ViewState {
    gaussian: RwSignal<Vec<(String, String)>>,
    softmax: RwSignal<Vec<(String, String)>>,
    llm: RwSignal<Vec<(String, String)>>,
    train: RwSignal<Vec<(String, String)>>,
    replay: RwSignal<Vec<(String, String)>>,
}

impl ViewState {
    /// The parameters of view `v`.
    fn of(&self, v: View) -> RwSignal<Vec<(String, String)>> {
        match v {
            View::Gaussian => self.gaussian,
            View::Softmax => self.softmax,
            View::Llm => self.llm,
            View::Train => self.train,
            View::Replay => self.replay,
        }
    }
}

/// The explorer page.
#[component]
pub fn App() -> impl IntoView {
    let query = initial_query();
    let view = RwSignal::new(query.view());
    let present = RwSignal::new(query.present());
    let mut reader = Reader::new(&query);
    let gaussian = GaussianParams::read(&mut reader);
    let softmax = SoftmaxParams::read(&mut reader);
    let llm = LlmParams::read(&mut reader);
    let train = TrainParams::read(&mut reader);
    let runs: Vec<String> = query
        .get("runs")
        .map(|r| r.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    // Only the open view's parameters are meant for it; corrections of the others would be noise.
    let notes = if query.get("view").is_some() { reader.notes.clone() } else { Vec::new() };
    let state = ViewState {
        gaussian: RwSignal::new(gaussian.write()),
        softmax: RwSignal::new(softmax.write()),
        llm: RwSignal::new(llm.write()),
        train: RwSignal::new(train.write()),
        replay: RwSignal::new(vec![("runs".into(), runs.join(","))]),
    };
    Effect::new(move |_| {
        let v = view.get();
        write_url(&params::query(v, state.of(v).get(), present.get()));
    });
    // Presentation mode styles the whole document (the root element is outside the app).
    Effect::new(move |_| {
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.class_list().toggle_with_force("present", present.get());
        }
    });
    let on_gaussian = Callback::new(move |p: GaussianParams| state.gaussian.set(p.write()));
    let on_softmax = Callback::new(move |p: SoftmaxParams| state.softmax.set(p.write()));
    let on_llm = Callback::new(move |p: LlmParams| state.llm.set(p.write()));
    let on_train = Callback::new(move |p: TrainParams| state.train.set(p.write()));
    let on_runs = Callback::new(move |r: Vec<String>| state.replay.set(vec![("runs".into(), r.join(","))]));
    view! {
        <header>
            <h1>"era explorer"</h1>
            <p class="lede">
                "ERA (Entropy Regularizing Activation) keeps a policy's entropy above a floor with an activation on the "
                "model's outputs instead of an entropy bonus in the loss. Move the sliders; the link in the address bar "
                "reopens exactly this view."
            </p>
            <nav role="tablist" aria-label="explorers">
                {View::ALL
                    .into_iter()
                    .map(|v| {
                        view! {
                            <button
                                type="button"
                                role="tab"
                                id=format!("tab-{}", v.key())
                                aria-selected=move || (view.get() == v).to_string()
                                on:click=move |_| view.set(v)
                            >
                                {v.title()}
                            </button>
                        }
                    })
                    .collect_view()}
            </nav>
            <button
                type="button"
                id="present"
                class="present-toggle"
                aria-pressed=move || present.get().to_string()
                on:click=move |_| present.update(|p| *p = !*p)
            >
                {move || if present.get() { "Leave presentation mode" } else { "Presentation mode" }}
            </button>
            {(!notes.is_empty())
                .then(|| {
                    view! {
                        <div class="notes" role="status" id="url-notes">
                            "Some link parameters were corrected: " {notes.join("; ")}
                        </div>
                    }
                })}
        </header>
        <main>
            // Every explorer stays mounted, so switching tabs keeps what a visitor set.
            <div hidden=move || view.get() != View::Gaussian>
                <GaussianExplorer initial=gaussian on_change=on_gaussian />
            </div>
            <div hidden=move || view.get() != View::Softmax>
                <SoftmaxExplorer initial=softmax on_change=on_softmax />
            </div>
            <div hidden=move || view.get() != View::Llm>
                <LlmExplorer initial=llm on_change=on_llm />
            </div>
            <div hidden=move || view.get() != View::Train>
                <TrainingExplorer initial=train on_change=on_train />
            </div>
            <div hidden=move || view.get() != View::Replay>
                <ReplayExplorer urls=runs on_change=on_runs />
            </div>
        </main>
        <footer>
            <p>
                "Kang, Liao, Xu, Xu (2025), Entropy Regularizing Activation, arXiv 2510.08549. Computed in your browser "
                "with era-shared, the same code as the era command line."
            </p>
        </footer>
    }
}
