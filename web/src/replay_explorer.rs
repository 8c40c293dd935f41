//! Replay of run logs written by `era`: open files (picker or drag-and-drop, several at once), or the
//! bundled examples, and see every metric charted with the runs' ERA targets, a step scrubber and play.

use era_web::replay::{self, Chart, EXAMPLES, LoadedRun};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::chart::{self, Lines};
use crate::widgets::ChartCanvas;

/// Where the bundled example runs are served from.
const EXAMPLES_DIR: &str = "assets/runs/";

/// Fetches `url` as text.
async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| format!("{url}: {e:?}"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|e| format!("{url}: {e:?}"))?)
        .await
        .map_err(|e| format!("{url}: {e:?}"))?;
    text.as_string().ok_or_else(|| format!("{url}: not text"))
}

/// Reads a file the visitor chose as text.
async fn file_text(file: web_sys::File) -> Result<String, String> {
    let name = file.name();
    let text = JsFuture::from(file.text()).await.map_err(|e| format!("{name}: {e:?}"))?;
    text.as_string().ok_or_else(|| format!("{name}: not text"))
}

/// The replay page; `urls` (from the URL's `runs=`) are opened on arrival.
#[component]
pub fn ReplayExplorer(urls: Vec<String>, on_change: Callback<Vec<String>>) -> impl IntoView {
    let runs = RwSignal::new(Vec::<LoadedRun>::new());
    let errors = RwSignal::new(Vec::<String>::new());
    let sources = RwSignal::new(Vec::<String>::new());
    let cursor = RwSignal::new(0.0f64);
    let playing = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    let add = move |name: String, text: Result<String, String>| match text.and_then(|t| replay::load(&name, &t)) {
        Ok(run) => {
            runs.update(|r| r.push(run));
            cursor.set(replay::max_step(&runs.get_untracked()) as f64);
        }
        Err(e) => errors.update(|v| v.push(e)),
    };
    let open_urls = move |list: Vec<String>| {
        for url in list {
            sources.update(|s| s.push(url.clone()));
            spawn_local(async move {
                let text = fetch_text(&url).await;
                add(url.rsplit('/').next().unwrap_or(&url).to_string(), text);
            });
        }
    };
    // Links may only name logs served beside the page (relative paths), never another site.
    let (allowed, refused): (Vec<String>, Vec<String>) =
        urls.into_iter().partition(|u| !u.contains("://") && !u.starts_with("//"));
    for u in refused {
        errors.update(|v| v.push(format!("{u}: only run logs served beside the page can be opened from a link")));
    }
    open_urls(allowed);
    Effect::new(move |_| on_change.run(sources.get()));
    let open_files = move |files: Option<web_sys::FileList>| {
        let Some(files) = files else { return };
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                spawn_local(async move {
                    let name = file.name();
                    add(name, file_text(file).await);
                });
            }
        }
    };
    let clear = move |_| {
        runs.set(Vec::new());
        errors.set(Vec::new());
        sources.set(Vec::new());
        playing.set(false);
    };
    let charts = Memo::new(move |_| replay::charts(&runs.get()));
    let max_step = Memo::new(move |_| replay::max_step(&runs.get()) as f64);
    // Play: the cursor walks to the end in about ten seconds. The interval is the outside world.
    Effect::new(move |_| {
        if !playing.get() {
            return;
        }
        if cursor.get_untracked() >= max_step.get_untracked() {
            cursor.set(0.0);
        }
        let handle = set_interval_with_handle(
            move || {
                let end = max_step.get_untracked();
                let next = cursor.get_untracked() + (end / 200.0).max(1.0);
                if next >= end {
                    cursor.set(end);
                    playing.set(false);
                } else {
                    cursor.set(next);
                }
            },
            std::time::Duration::from_millis(50),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
    let chart_view = move |c: Chart| {
        let id = format!("r-{}", c.key.replace(['/', '@'], "-"));
        let title = if c.description.is_empty() { c.key.clone() } else { format!("{} — {}", c.key, c.description) };
        let c2 = c.clone();
        let draw = move |canvas: &web_sys::HtmlCanvasElement| {
            chart::draw_lines(
                canvas,
                &Lines {
                    title: title.clone(),
                    x_label: "step".into(),
                    series: c2.series.iter().map(|s| (s.label.clone(), s.points.clone())).collect(),
                    hlines: c2.targets.clone(),
                    cursor: Some(cursor.get()),
                    log_x: false,
                },
            )
        };
        let readout = move || {
            let at = cursor.get();
            c.series
                .iter()
                .map(|s| match replay::value_at(&s.points, at) {
                    Some(v) => format!("{}: {v:.4}", s.label),
                    None => format!("{}: –", s.label),
                })
                .collect::<Vec<_>>()
                .join(" · ")
        };
        view! {
            <div class="replay-chart">
                <ChartCanvas id=id label=c.key.clone() draw=draw />
                <p class="values">{readout}</p>
            </div>
        }
    };
    view! {
        <section class="explorer" aria-labelledby="replay-title">
            <h2 id="replay-title">"Replay runs"</h2>
            <p>
                "Open run logs (run.jsonl) written by era train, several at once to compare them, e.g. ERA against "
                "its baseline. Every metric is charted with the ERA targets the runs had; move the step scrubber or "
                "press play to walk through training."
            </p>
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                on:dragover=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    open_files(ev.data_transfer().and_then(|d| d.files()));
                }
            >
                <label for="r-files">"Open run logs (or drop them here): "</label>
                <input
                    type="file"
                    id="r-files"
                    multiple
                    accept=".jsonl,.json,application/json"
                    on:change=move |ev| {
                        let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
                        open_files(input.and_then(|i| i.files()));
                    }
                />
            </div>
            <div class="examples">
                "Examples: "
                {EXAMPLES
                    .iter()
                    .enumerate()
                    .map(|(i, (title, files))| {
                        let urls: Vec<String> = files.split(',').map(|f| format!("{EXAMPLES_DIR}{f}")).collect();
                        view! {
                            <button type="button" id=format!("r-example-{i}") on:click=move |_| open_urls(urls.clone())>
                                {*title}
                            </button>
                        }
                    })
                    .collect_view()}
                <button type="button" id="r-clear" on:click=clear>"Clear"</button>
            </div>
            <ul class="errors" role="alert">
                {move || errors.get().into_iter().map(|e| view! { <li class="error">{e}</li> }).collect_view()}
            </ul>
            <ul class="runs" id="r-runs">
                {move || {
                    runs.get()
                        .into_iter()
                        .map(|r| {
                            let status = r.log.status_label();
                            view! { <li>{r.label.clone()} " — " {status} ", " {r.log.records.len()} " records"</li> }
                        })
                        .collect_view()
                }}
            </ul>
            <Show when=move || !runs.with(Vec::is_empty)>
                <div class="scrubber">
                    <button type="button" id="r-play" on:click=move |_| playing.update(|p| *p = !*p)>
                        {move || if playing.get() { "Pause" } else { "Play" }}
                    </button>
                    <label for="r-step">"step"</label>
                    <input
                        type="range"
                        id="r-step"
                        min="0"
                        max=move || max_step.get().to_string()
                        step="1"
                        prop:value=move || cursor.get().to_string()
                        on:input=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                                cursor.set(v);
                            }
                        }
                    />
                    <output for="r-step">{move || format!("{:.0}", cursor.get())}</output>
                </div>
            </Show>
            <div class="charts" id="r-charts">{move || charts.get().into_iter().map(chart_view).collect_view()}</div>
        </section>
    }
}
