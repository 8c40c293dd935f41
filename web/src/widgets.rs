//! The building blocks every explorer uses: a labelled slider, a canvas that redraws itself, and a
//! chart with its downloads.

use era_web::figure::Figure;
use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::HtmlCanvasElement;

use crate::browser::{download_png, download_text};
use crate::chart::Draw;

/// A labelled range slider with its value shown beside it. A native `<input type="range">`, so arrow
/// keys, Page Up/Down and Home/End work and screen readers announce it by its label.
#[component]
pub fn Slider(
    /// The element id (also what tests and labels point at).
    id: String,
    /// What the value is, e.g. `H₀ (nats)`.
    #[prop(into)]
    label: String,
    /// Lowest value.
    #[prop(into)]
    min: Signal<f64>,
    /// Highest value.
    #[prop(into)]
    max: Signal<f64>,
    /// Step between values.
    step: f64,
    /// The value, read and written.
    value: RwSignal<f64>,
    /// Decimals shown.
    #[prop(default = 3)]
    decimals: usize,
) -> impl IntoView {
    let out_id = format!("{id}-value");
    view! {
        <div class="slider">
            <label for=id.clone()>{label}</label>
            <input
                type="range"
                id=id.clone()
                min=move || min.get().to_string()
                max=move || max.get().to_string()
                step=step.to_string()
                prop:value=move || value.get().to_string()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        value.set(v);
                    }
                }
            />
            <output id=out_id for=id>{move || format!("{:.*}", decimals, value.get())}</output>
        </div>
    }
}

/// A slider over element `index` of a list signal; the list's other elements are left alone.
#[component]
pub fn ListSlider(
    /// The element id.
    id: String,
    /// The label.
    #[prop(into)]
    label: String,
    /// Lowest value.
    min: f64,
    /// Highest value.
    max: f64,
    /// Step between values.
    step: f64,
    /// The list.
    list: RwSignal<Vec<f64>>,
    /// Which element.
    index: usize,
) -> impl IntoView {
    let value = move || list.with(|v| v.get(index).copied().unwrap_or(0.0));
    view! {
        <div class="slider">
            <label for=id.clone()>{label}</label>
            <input
                type="range"
                id=id.clone()
                min=min.to_string()
                max=max.to_string()
                step=step.to_string()
                prop:value=move || value().to_string()
                on:input=move |ev| {
                    if let Ok(x) = event_target_value(&ev).parse::<f64>() {
                        list.update(|v| {
                            if let Some(slot) = v.get_mut(index) {
                                *slot = x;
                            }
                        });
                    }
                }
            />
            <output for=id>{move || format!("{:.2}", value())}</output>
        </div>
    }
}

/// A canvas that `draw` paints whenever a signal it reads changes; a drawing error is shown under it.
/// `data-draws` counts the redraws (the browser tests watch it).
#[component]
pub fn ChartCanvas(
    /// The canvas id.
    id: String,
    /// Accessible description of the chart.
    #[prop(into)]
    label: String,
    /// Paints the chart; runs again when what it reads changes.
    draw: impl Fn(&HtmlCanvasElement) -> Result<(), String> + 'static,
    /// Drawing width in pixels (the page scales it to its column).
    #[prop(default = 640)]
    width: u32,
    /// Drawing height in pixels.
    #[prop(default = 300)]
    height: u32,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let error = RwSignal::new(None::<String>);
    let draws = RwSignal::new(0u64);
    // Drawing is the one effect here: it syncs the canvas, outside Leptos, with the signals `draw` reads.
    Effect::new(move |_| {
        if let Some(c) = canvas.get() {
            error.set(draw(&c).err());
            draws.update(|n| *n += 1);
        }
    });
    view! {
        <figure class="chart">
            <canvas
                node_ref=canvas
                id=id
                width=width
                height=height
                role="img"
                aria-label=label
                data-draws=move || draws.get().to_string()
            ></canvas>
            {move || error.get().map(|e| view! { <p class="error">"chart: " {e}</p> })}
        </figure>
    }
}

/// A chart that redraws when what `figure` reads changes, with buttons that download it as PNG (the
/// pixels shown), SVG (drawn again as vectors) and CSV (its data). Files are named after `id`.
#[component]
pub fn FigureCanvas(
    /// The canvas id; downloads are `ID.png`, `ID.svg`, `ID.csv`.
    id: String,
    /// Accessible description of the chart.
    #[prop(into)]
    label: String,
    /// The chart to show; runs again when what it reads changes.
    figure: impl Fn() -> Result<Figure, String> + 'static,
) -> impl IntoView {
    let shown = StoredValue::new(None::<Figure>);
    let failed = RwSignal::new(None::<String>);
    // The category labels drawn, also written out for screen readers (and the browser tests).
    let labelled = RwSignal::new(Vec::<String>::new());
    let draw = move |c: &HtmlCanvasElement| {
        let f = figure()?;
        let labels = f.draw(c)?;
        if labelled.with_untracked(|l| *l != labels) {
            labelled.set(labels);
        }
        shown.set_value(Some(f));
        Ok(())
    };
    let desc_id = format!("{id}-labels");
    let (png_id, svg_id, csv_id) = (format!("{id}-png"), format!("{id}-svg"), format!("{id}-csv"));
    let name = id.clone();
    let canvas_id = id.clone();
    let save = move |kind: &'static str| {
        let result = shown.with_value(|f| -> Result<(), String> {
            let f = f.as_ref().ok_or("nothing drawn yet")?;
            match kind {
                "png" => {
                    let canvas = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| d.get_element_by_id(&canvas_id))
                        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<HtmlCanvasElement>(e).ok())
                        .ok_or("the chart's canvas is gone")?;
                    download_png(&canvas, &format!("{name}.png"))
                }
                "svg" => download_text(&format!("{name}.svg"), "image/svg+xml", &f.svg(960, 450)?),
                _ => download_text(&format!("{name}.csv"), "text/csv", &f.csv()),
            }
        });
        failed.set(result.err());
    };
    view! {
        <div class="figure">
            <ChartCanvas id=id label=label draw=draw />
            <p class="sr-only" id=desc_id>
                {move || labelled.with(|l| if l.is_empty() { String::new() } else { format!("categories: {}", l.join(", ")) })}
            </p>
            <div class="downloads" role="group" aria-label="download this chart">
                "Download: "
                <button type="button" id=png_id on:click={
                    let save = save.clone();
                    move |_| save("png")
                }>"PNG"</button>
                <button type="button" id=svg_id on:click={
                    let save = save.clone();
                    move |_| save("svg")
                }>"SVG"</button>
                <button type="button" id=csv_id on:click=move |_| save("csv")>"CSV"</button>
            </div>
            {move || failed.get().map(|e| view! { <p class="error">"download: " {e}</p> })}
        </div>
    }
}
