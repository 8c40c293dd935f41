//! Replay of run logs written by `era`: open files (picker or drag-and-drop, several at once), or the
//! bundled examples, and see every metric charted with the runs' ERA targets, a step scrubber and play.

use era_shared::examples::EXAMPLES;
use era_shared::runlog::{lines_of, text_of};
use era_web::figure::{Figure, Lines};
use era_web::replay::{self, Chart, ChartOptions, LoadedRun, Loader};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::browser::{fetch_bytes, file_bytes, now_ms, sleep};
use crate::widgets::FigureCanvas;

/// Where the bundled example runs are served from.
const EXAMPLES_DIR: &str = "assets/runs/";

/// How long the page parses before it lets the browser paint and handle input again (a 60 Hz frame
/// is 16 ms).
const SLICE_MS: f64 = 12.0;

/// Parses a log's bytes in slices of about [`SLICE_MS`], reporting the fraction read, so that a
/// log of a million records neither freezes the page nor hides how far it got.
async fn load_in_slices(name: &str, bytes: &[u8], progress: impl Fn(f64)) -> Result<LoadedRun, String> {
    let text = text_of(bytes, name).map_err(|e| e.to_string())?;
    let mut loader = Loader::new(name);
    let mut slice_start = now_ms();
    let mut read = 0usize;
    for (i, (line, unterminated)) in lines_of(text).enumerate() {
        loader.feed(line, unterminated)?;
        read += line.len() + 1;
        if i % 256 == 255 && now_ms() - slice_start > SLICE_MS {
            progress(read as f64 / text.len() as f64);
            sleep(0).await;
            slice_start = now_ms();
        }
    }
    loader.finish()
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
    // Files being read: `(id, name, fraction read)`; ids tell apart two files of the same name
    // (every run's log is a run.jsonl).
    let reading = RwSignal::new(Vec::<(u64, String, f64)>::new());
    let next_id = StoredValue::new(0u64);
    // Bumped by Clear: a file still being read when the page was cleared is dropped, not added.
    let generation = StoredValue::new(0u64);
    // Reads one log (bytes from a file or a URL) in slices, then adds it or its error.
    let add = move |name: String, bytes: Result<Vec<u8>, String>| {
        let id = next_id.get_value();
        next_id.set_value(id + 1);
        let started_in = generation.get_value();
        spawn_local(async move {
            reading.update(|r| r.push((id, name.clone(), 0.0)));
            let set_progress = |f: f64| {
                reading.update(|r| {
                    if let Some(entry) = r.iter_mut().find(|e| e.0 == id) {
                        entry.2 = f;
                    }
                })
            };
            let loaded = match bytes {
                Ok(b) => load_in_slices(&name, &b, set_progress).await,
                Err(e) => Err(e),
            };
            reading.update(|r| r.retain(|e| e.0 != id));
            if generation.get_value() != started_in {
                return;
            }
            match loaded {
                Ok(run) => {
                    runs.update(|r| r.push(run));
                    cursor.set(runs.with_untracked(|r| replay::max_step(r)) as f64);
                }
                Err(e) => errors.update(|v| v.push(e)),
            }
        });
    };
    let open_urls = move |list: Vec<String>| {
        for url in list {
            sources.update(|s| s.push(url.clone()));
            spawn_local(async move {
                let bytes = fetch_bytes(&url).await;
                add(url.rsplit('/').next().unwrap_or(&url).to_string(), bytes);
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
                    let bytes = file_bytes(&file).await;
                    add(file.name(), bytes);
                });
            }
        }
    };
    // The commands that made the open runs, when they are one of the bundled examples (by a button
    // or a link), so that a class sees which settings it is looking at.
    let made_with = Memo::new(move |_| {
        sources.with(|open| {
            EXAMPLES
                .iter()
                .find(|e| {
                    let files: Vec<String> = e.files().map(|f| format!("{EXAMPLES_DIR}{f}")).collect();
                    files.len() == open.len() && files.iter().all(|f| open.contains(f))
                })
                .map(|e| e.arms.iter().map(|a| a.command).collect::<Vec<_>>())
        })
    });
    let clear = move |_| {
        generation.update_value(|g| *g += 1);
        runs.set(Vec::new());
        errors.set(Vec::new());
        sources.set(Vec::new());
        playing.set(false);
    };
    let all_metrics = RwSignal::new(false);
    let each_seed = RwSignal::new(false);
    let charts = Memo::new(move |_| {
        let options = ChartOptions { all_metrics: all_metrics.get(), each_seed: each_seed.get() };
        runs.with(|r| replay::charts(r, options))
    });
    let metric_count = Memo::new(move |_| runs.with(|r| replay::metric_keys(r).len()));
    let x_label = Memo::new(move |_| runs.with(|r| replay::step_label(r)));
    let max_step = Memo::new(move |_| runs.with(|r| replay::max_step(r)) as f64);
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
        let label = c.key.clone();
        let figure = move || -> Result<Figure, String> {
            Ok(Figure::Lines(Lines {
                title: title.clone(),
                x_label: x_label.get().into(),
                y_label: c2.unit.clone(),
                series: c2.series.iter().map(|s| s.line.clone()).collect(),
                hlines: c2.targets.clone(),
                cursor: Some(cursor.get()),
                log_x: false,
            }))
        };
        let readout = move || {
            let at = cursor.get();
            // A run's value from its full-resolution column, not the downsampled points drawn; a
            // mean over seeds from its own points.
            runs.with(|r| {
                c.series
                    .iter()
                    .map(|s| {
                        let points = match s.run {
                            Some(i) => r.get(i).and_then(|run| run.columns.get(&c.key)).map(Vec::as_slice),
                            None => Some(s.line.points.as_slice()),
                        };
                        match points.and_then(|p| replay::value_at(p, at)) {
                            Some(v) => format!("{}: {v:.4}", s.line.label),
                            None => format!("{}: –", s.line.label),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
        };
        view! {
            <div class="replay-chart">
                <FigureCanvas id=id label=label figure=figure />
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
                    .map(|(i, example)| {
                        let urls: Vec<String> = example.files().map(|f| format!("{EXAMPLES_DIR}{f}")).collect();
                        view! {
                            <button type="button" id=format!("r-example-{i}") on:click=move |_| open_urls(urls.clone())>
                                {example.title}
                            </button>
                        }
                    })
                    .collect_view()}
                <button type="button" id="r-clear" on:click=clear>"Clear"</button>
            </div>
            {move || {
                made_with
                    .get()
                    .map(|commands| {
                        view! {
                            <div class="made-with" id="r-made-with">
                                "Made with (each arm's command; its seeds are the logs' seeds):"
                                <pre><code>{commands.join("\n")}</code></pre>
                            </div>
                        }
                    })
            }}
            <ul class="errors" role="alert">
                {move || errors.get().into_iter().map(|e| view! { <li class="error">{e}</li> }).collect_view()}
            </ul>
            <ul class="reading" id="r-reading" aria-live="polite">
                {move || {
                    reading
                        .get()
                        .into_iter()
                        .map(|(_, name, f)| view! { <li>"reading " {name} "… " {format!("{:.0} %", 100.0 * f)}</li> })
                        .collect_view()
                }}
            </ul>
            <ul class="runs" id="r-runs">
                {move || {
                    runs.with(|runs| {
                        runs.iter()
                            .map(|r| {
                                let (label, status, n) = (r.label.clone(), r.status_label(), r.steps.len());
                                view! { <li>{label} " — " {status} ", " {n} " records"</li> }
                            })
                            .collect_view()
                    })
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
            <Show when=move || !runs.with(Vec::is_empty)>
                <div class="chart-options">
                    <label>
                        <input type="checkbox" id="r-all" prop:checked=move || all_metrics.get() on:change=move |ev| all_metrics.set(event_target_checked(&ev)) />
                        {move || format!(" all metrics ({})", metric_count.get())}
                    </label>
                    <label>
                        <input type="checkbox" id="r-each-seed" prop:checked=move || each_seed.get() on:change=move |ev| each_seed.set(event_target_checked(&ev)) />
                        " each seed on its own (else a setting's seeds are drawn as their mean with a min–max band)"
                    </label>
                </div>
            </Show>
            <div class="charts" id="r-charts">{move || charts.get().into_iter().map(chart_view).collect_view()}</div>
        </section>
    }
}
