//! The era explorer in the browser (built with trunk from `index.html`).
//!
//! For now one placeholder page that computes with `era-shared`: the valid `H₀` range of the softmax
//! floor for the number of classes a visitor picks, and the floor applied to an example.

#[cfg(target_arch = "wasm32")]
mod app;

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
