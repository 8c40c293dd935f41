//! The era explorer in the browser (built with trunk from `index.html`): three activation explorers,
//! training live in the page and a replay of logged runs, one component file each.

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod chart;
#[cfg(target_arch = "wasm32")]
mod gaussian_explorer;
#[cfg(target_arch = "wasm32")]
mod guided_steps;
#[cfg(target_arch = "wasm32")]
mod llm_explorer;
#[cfg(target_arch = "wasm32")]
mod replay_explorer;
#[cfg(target_arch = "wasm32")]
mod softmax_explorer;
#[cfg(target_arch = "wasm32")]
mod training_explorer;
#[cfg(target_arch = "wasm32")]
mod widgets;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

/// The explorer only runs in a browser; host builds exist so the workspace builds and lints as one.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("era-web runs in the browser: build it with `trunk build` (see README.md)");
}
